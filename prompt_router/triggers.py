"""Trigger syntax and the compiled multi-trigger matcher.

A trigger, as written in a module's front matter, is one of:

- `chart`, `look up`: a word or phrase. Case-insensitive, whole words, accents ignored, and
  simple English inflections of its first and last word match too (`chart` also matches
  `charts`, `charted`, `charting`; `deploy` matches `deployed`).
- `analy*`: a prefix; matches any word starting with `analy` (`analyse`, `analytics`).
- `=go`: exactly this word or phrase, no inflections (for short words that inflect badly).
- `re:<pattern>`: a Python regular expression searched in the *normalised* query
  (lower-case tokens separated by single spaces). The escape hatch; each one costs a scan.

Word, phrase and prefix triggers are compiled into one Aho-Corasick automaton over the
normalised text, so matching cost depends on the query's length, not the number of triggers.
(One alternation regex of the same patterns was measured ~250x slower: benchmarks/.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ahocorasick_rs

from .normalize import normalize_bytes, tokens

_VOWELS = frozenset("aeiou")
# An inflected phrase is expanded into every combination of its words' forms; only the
# first and last word inflect ("sending emails"), so a phrase yields at most ~25 patterns.
_MAX_FORMS_PER_WORD = 6


@dataclass(frozen=True)
class Trigger:
    """A trigger as written, and where: the module it selects and its line in that file."""

    module: str
    text: str
    line: int | None = None


def inflections(word: str) -> tuple[str, ...]:
    """`word` and its simple English inflections (plural/3rd person, -ed, -ing).

    Rule-based and deliberately generous: an extra non-word form never matches real text,
    a missing real form loses a match.
    """
    forms = [word]
    if len(word) < 3 or not word.isascii() or not word.isalpha():
        return tuple(forms)
    last, before = word[-1], word[-2]
    if word.endswith(("s", "x", "z", "ch", "sh")):
        forms.append(word + "es")
    elif last == "y" and before not in _VOWELS:
        forms.append(word[:-1] + "ies")
    else:
        forms.append(word + "s")
    if last == "e":
        forms += [word + "d", word[:-1] + "ing"]
    elif last == "y" and before not in _VOWELS:
        forms += [word[:-1] + "ied", word + "ing"]
    else:
        forms += [word + "ed", word + "ing"]
        # consonant-vowel-consonant: plot -> plotted, plotting (also keeps `edited`).
        if last not in _VOWELS and last not in "wxy" and before in _VOWELS and word[-3] not in _VOWELS:
            forms += [word + last + "ed", word + last + "ing"]
    return tuple(dict.fromkeys(forms))[:_MAX_FORMS_PER_WORD]


def _phrase_patterns(words: list[str]) -> list[str]:
    if len(words) == 1:
        return [f" {w} " for w in inflections(words[0])]
    firsts, lasts, middle = inflections(words[0]), inflections(words[-1]), words[1:-1]
    return [" " + " ".join([f, *middle, l]) + " " for f in firsts for l in lasts]


@dataclass(frozen=True)
class CompiledTrigger:
    """A trigger reduced to what the matcher needs: automaton keys, or a regex."""

    patterns: tuple[str, ...] = ()
    regex: re.Pattern[str] | None = None


def compile_trigger(text: str) -> CompiledTrigger:
    """Parse one trigger. Raises ValueError with a message fit for the module author."""
    if not isinstance(text, str):
        raise ValueError(f"trigger {text!r} is not a string")
    if not text.strip():
        raise ValueError("empty trigger")
    if text.startswith("re:"):
        source = text[3:]
        if not source.strip():
            raise ValueError("empty regular expression after 're:'")
        try:
            regex = re.compile(source)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {source!r}: {exc}") from None
        if regex.search(" ") is not None:
            raise ValueError(f"regular expression {source!r} matches empty text, so it would match every query")
        return CompiledTrigger(regex=regex)
    exact = text.startswith("=")
    body = text[1:] if exact else text
    prefix = body.rstrip().endswith("*")
    if prefix:
        body = body.rstrip()[:-1]
        if "*" in body:
            raise ValueError(f"trigger {text!r}: '*' is only allowed at the end")
    words = tokens(body)
    if not words:
        raise ValueError(f"trigger {text!r} has no letters or digits to match")
    if prefix:
        if exact:
            raise ValueError(f"trigger {text!r}: '=' and '*' cannot be combined")
        if len(words) == 1 and len(words[0]) < 3:
            raise ValueError(f"prefix trigger {text!r} is shorter than 3 characters and would match too much")
        return CompiledTrigger(patterns=(" " + " ".join(words),))
    if exact:
        return CompiledTrigger(patterns=(" " + " ".join(words) + " ",))
    return CompiledTrigger(patterns=tuple(_phrase_patterns(words)))


class TriggerMatcher:
    """All triggers of a library, compiled once; `match` reports which fired."""

    def __init__(self, triggers: list[Trigger], compiled: list[CompiledTrigger]) -> None:
        self.triggers = tuple(triggers)
        owners: dict[str, list[int]] = {}
        self._regexes: list[tuple[int, re.Pattern[str]]] = []
        for index, spec in enumerate(compiled):
            for pattern in spec.patterns:
                owners.setdefault(pattern, []).append(index)
            if spec.regex is not None:
                self._regexes.append((index, spec.regex))
        # Patterns are matched as UTF-8 bytes: the ASCII fast path never builds a str.
        self._owners = [tuple(indices) for indices in owners.values()]
        self._automaton = (
            ahocorasick_rs.BytesAhoCorasick([p.encode("utf-8") for p in owners], matchkind=ahocorasick_rs.MatchKind.Standard)
            if owners
            else None
        )
        self.pattern_count = len(owners)

    def match(self, text: str) -> list[int]:
        """Indices of the triggers found in `text` (raw user text), each once, in the order
        they first occur."""
        normalized = normalize_bytes(text)
        found: dict[int, None] = {}
        if self._automaton is not None:
            owners = self._owners
            for pattern, _start, _end in self._automaton.find_matches_as_indexes(normalized, overlapping=True):
                for index in owners[pattern]:
                    found[index] = None
        if self._regexes:
            decoded = normalized.decode("utf-8")
            for index, regex in self._regexes:
                if regex.search(decoded) is not None:
                    found[index] = None
        return list(found)
