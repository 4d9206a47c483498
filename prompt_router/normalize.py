"""Query and trigger text normalisation.

Triggers and queries go through the same function, so whatever the rules are, a trigger
matches the text it was written for. The result is the text's word tokens, lower-case,
accent-free, joined by single spaces and padded with one space at each end: whole-word
matching is then a plain substring test for `" word "`.
"""

from __future__ import annotations

import re
import unicodedata

# A token is a run of letters/digits (underscore splits: `read_csv` -> `read csv`), keeping
# trailing `+`/`#` so that `c++` and `c#` stay distinct words; or a single emoji/pictograph.
_TOKEN = re.compile(r"[^\W_]+[+#]*|[\U0001F000-\U0001FAFF\u2600-\u27BF]")


def _fold_unicode(text: str) -> str:
    # Lone surrogates cannot be encoded; replace them rather than fail.
    text = text.encode("utf-8", "replace").decode("utf-8")
    # NFKC folds full-width forms and ligatures (ｃｈａｒｔ -> chart, ﬁle -> file).
    text = unicodedata.normalize("NFKC", text).casefold()
    # Drop combining marks so that `café` and `cafe`, `análisis` and `analisis` agree.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def clip(text: str, max_chars: int) -> str:
    """Keep the head and the tail of a huge message: a pasted document usually comes
    with the actual request before or after it."""
    if max_chars <= 0 or len(text) <= max_chars:
        return text
    half = max_chars // 2
    return text[:half] + "\n" + text[-(max_chars - half) :]


def tokens(text: str) -> list[str]:
    """The normalised word tokens of `text`."""
    text = _fold_unicode(text) if not text.isascii() else text.lower()
    return _TOKEN.findall(text)


def normalize(text: str) -> str:
    """`text` as space-separated normalised tokens, padded with one space at each end."""
    found = tokens(text)
    if not found:
        return " "
    return " " + " ".join(found) + " "
