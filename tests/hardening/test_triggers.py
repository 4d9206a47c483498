"""Regex triggers run in linear time; invisible characters and look-alikes do not defeat
matching (finding 3 and the trigger items of issue 14)."""

from __future__ import annotations

import time

import pytest

from prompt_router import KeywordRouter, load_library
from prompt_router.normalize import normalize, tokens
from prompt_router.triggers import compile_trigger

from ..conftest import SMALL, write_library
from .support import no_hang


def _library(tmp_path, triggers: str):
    files = {**SMALL, "tools/regex.md": f"---\ntriggers: [{triggers}]\n---\nRegex guidance.\n"}
    return load_library(write_library(tmp_path / "lib", files))


def _fired(router: KeywordRouter, query: str) -> bool:
    decision = router.route(query)
    return decision.reasons["regex"].kind == "trigger"


def test_a_catastrophic_pattern_cannot_backtrack(tmp_path):
    """Finding 3: `re:(a+)+b` took 13 s on 28 characters and froze the process (GIL held)."""
    router = KeywordRouter(_library(tmp_path, "'re:(a+)+b'"))
    with no_hang(30):
        short = "a" * 28 + "!"
        start = time.perf_counter()
        assert not _fired(router, short)
        small = time.perf_counter() - start
        start = time.perf_counter()
        assert not _fired(router, "a" * 30_000 + "!")
        large = time.perf_counter() - start
        assert _fired(router, "aaab")
    # Linear: 1,000 times the text costs far less than 2^1000 times the time (here: a ratio,
    # not a wall-clock bound; the backtracking engine would not finish at all).
    assert large < max(small, 1e-4) * 30_000, (small, large)


@pytest.mark.parametrize("pattern", [r"\b", r"\w", r"\W*", r".", r"[a-z]", r"\S", r"(?:)", r"a*", r"[^0-9]", r"\b\w"])
def test_patterns_that_match_almost_everything_are_rejected(pattern):
    with pytest.raises(ValueError, match="matches (empty|almost any) text"):
        compile_trigger("re:" + pattern)


@pytest.mark.parametrize("pattern, message", [
    (r"(a)\1", "invalid regular expression"),
    (r"(?=a)b", "no backreferences or lookaround"),
    (r"\bпривет\b", "ASCII-only in RE2"),
    (r"(a", "missing )"),
])
def test_patterns_re2_cannot_run_are_clear_load_errors(pattern, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compile_trigger("re:" + pattern)


def test_ordinary_regex_triggers_still_match(tmp_path):
    router = KeywordRouter(_library(tmp_path, r"'re:\bv\d+\b', 're:\d{4} \d{2} \d{2}', 're: привет '"))
    assert _fired(router, "release v12 today")
    assert _fired(router, "due 2026-01-31")
    assert _fired(router, "Привет, мир")
    assert not _fired(router, "version twelve")


@pytest.mark.parametrize("query", [
    "c\u200bsv", "cs\u00adv", "c\u200dsv", "\ufeffcsv", "c\u2060sv", "\u200ecsv\u200f",  # invisible characters
    "\u0441sv", "cs\u0432".replace("\u0432", "v"),  # Cyrillic с
    "\u0441\u0455v",  # Cyrillic с and ѕ with a Latin v
    "CSV",
])
def test_invisible_characters_and_lookalikes_do_not_defeat_matching(query):
    assert tokens(query) == ["csv"], tokens(query)


def test_lookalikes_map_only_inside_mixed_script_words():
    assert tokens("р\u200blоt the sales") == ["plot", "the", "sales"]  # Cyrillic р, о mixed with Latin
    assert tokens("сор привет") == ["сор", "привет"]  # wholly Cyrillic words stay what they are
    assert tokens("αlpha κey") == ["alpha", "key"]  # Greek look-alikes inside Latin words
    assert normalize("naïve café") == " naive cafe "


def test_the_router_matches_through_invisible_characters(tmp_path):
    library = _library(tmp_path, "csv")
    router = KeywordRouter(library)
    for query in ("open the c\u200bsv", "open the \u0441sv file", "open the cs\u00adv"):
        assert _fired(router, query), query
