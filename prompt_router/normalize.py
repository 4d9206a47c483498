"""Query and trigger text normalisation.

Triggers and queries go through the same rules, so whatever the rules are, a trigger matches
the text it was written for. A *token* is a run of letters, digits, `+` and `#` (so `c++`
and `c#` stay words; `_` and all other punctuation separate words), or a single emoji.
Normalised text is the tokens, lower-case and accent-free, joined by single spaces and padded
with one space at each end: whole-word matching is then a substring test for `" word "`.

ASCII text (most queries) takes a byte-level fast path, ~20x quicker than a regex; the
Unicode path gives the same result on ASCII input (a property test holds them together).
"""

from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(r"(?:[^\W_]|[+#])+|[\U0001F000-\U0001FAFF\u2600-\u27BF]")
_ASCII_TOKEN_CHARS = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789+#")
# Upper-case letters to lower case, every non-token byte to a space.
_ASCII_TABLE = bytes(
    (c | 0x20) if 65 <= c <= 90 else (c if c in _ASCII_TOKEN_CHARS else 32) for c in range(256)
)


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
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_TABLE).decode("ascii").split()
    return _TOKEN.findall(_fold_unicode(text))


def normalized_tokens(text: str) -> list[bytes]:
    """The normalised tokens of `text` as UTF-8 bytes: what the trigger matcher looks up."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_TABLE).split()
    return [t.encode("utf-8") for t in _TOKEN.findall(_fold_unicode(text))]


def normalize(text: str) -> str:
    """`text` as space-separated normalised tokens, padded with one space at each end."""
    found = tokens(text)
    if not found:
        return " "
    return " " + " ".join(found) + " "
