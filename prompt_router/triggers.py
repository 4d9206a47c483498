"""Trigger syntax and the compiled multi-trigger matcher.

A trigger, as written in a module's front matter, is one of:

- `chart`, `look up`: a word or phrase. Case-insensitive, whole words, accents ignored, and
  simple English inflections of its words match too (`chart` also matches `charts`,
  `charted`, `charting`; `deploy` matches `deployed`; `look up` matches `looking up`).
- `analy*`: a prefix; matches any word starting with `analy` (`analyse`, `analytics`).
- `=go`: exactly this word or phrase, no inflections (for short words that inflect badly).
- `re:<pattern>`: a regular expression (RE2 syntax) searched in the *normalised* query
  (lower-case tokens separated by single spaces). The escape hatch; each one costs a scan.
  RE2 runs in time linear in the text whatever the pattern, so no trigger can backtrack
  catastrophically (`(a+)+b`); it has no backreferences or lookaround, and its `\\b`, `\\w`
  and `\\d` are ASCII-only. A pattern that matches (almost) any text is rejected.

Word, phrase and prefix triggers are indexed by their words (see TriggerMatcher), so
matching cost depends on the query's length, not the number of triggers.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import ahocorasick_rs
import re2

from .normalize import normalized_tokens, tokens

_VOWELS = frozenset("aeiou")
_MAX_FORMS_PER_WORD = 6
_MAX_NEEDLES = 64  # per trigger: combinations of its words' form classes


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


Kind = Literal["inflect", "exact", "prefix", "regex"]


@dataclass(frozen=True)
class CompiledTrigger:
    """A parsed trigger: its normalised words and how they match, or a regex."""

    kind: Kind
    words: tuple[str, ...] = ()
    regex: Any = None  # a compiled RE2 pattern; search it with str or UTF-8 bytes


def _re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False  # errors are reported to the module author, not logged by RE2
    options.never_capture = True
    return options


_RE2_OPTIONS = _re2_options()
# Normalised forms of short, unrelated queries: a pattern matching every one of them (`\w`,
# `\b`, `[a-z]`) would select its module for almost every request.
_ANY_TEXT_PROBES = (" ok ", " hi ", " q ", " zz ", " thanks ")


def _compile_regex(source: str) -> CompiledTrigger:
    if not source.strip():
        raise ValueError("empty regular expression after 're:'")
    try:
        regex = re2.compile(source, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(f"invalid regular expression {source!r}: {reason} "
                         "(RE2 syntax: no backreferences or lookaround)") from None
    if not source.isascii() and any(escape in source for escape in ("\\b", "\\w", "\\d", "\\B", "\\W")):
        raise ValueError(f"regular expression {source!r}: \\b, \\w and \\d are ASCII-only in RE2; "
                         "words in the normalised text are separated by single spaces, match those instead")
    if regex.search(" ") is not None:
        raise ValueError(f"regular expression {source!r} matches empty text, so it would match every query")
    if all(regex.search(probe) is not None for probe in _ANY_TEXT_PROBES):
        raise ValueError(f"regular expression {source!r} matches almost any text (it matches each of "
                         f"{', '.join(p.strip() for p in _ANY_TEXT_PROBES)}), so it would select its module for every query")
    return CompiledTrigger("regex", regex=regex)


def compile_trigger(text: str) -> CompiledTrigger:
    """Parse one trigger. Raises ValueError with a message fit for the module author."""
    if not isinstance(text, str):
        raise ValueError(f"trigger {text!r} is not a string")
    if not text.strip():
        raise ValueError("empty trigger")
    if text.startswith("re:"):
        return _compile_regex(text[3:])
    exact = text.startswith("=")
    body = text[1:] if exact else text
    prefix = body.rstrip().endswith("*")
    if prefix:
        body = body.rstrip()[:-1]
        if "*" in body:
            raise ValueError(f"trigger {text!r}: '*' is only allowed at the end")
        if exact:
            raise ValueError(f"trigger {text!r}: '=' and '*' cannot be combined")
    words = tuple(tokens(body))
    if not words:
        raise ValueError(f"trigger {text!r} has no letters or digits to match")
    if prefix and len(words[-1]) < 3:
        raise ValueError(f"prefix trigger {text!r} is shorter than 3 characters and would match too much")
    return CompiledTrigger("prefix" if prefix else "exact" if exact else "inflect", words)


def form_classes(words: Iterable[str]) -> tuple[dict[bytes, bytes], dict[str, tuple[bytes, ...]]]:
    """Inflection matching that goes one way: a query word matches a trigger word when it is
    one of that word's forms, never the reverse (`news` must not fire on `new`, `booking`
    not on `book`, `teams` not on `team`).

    Every form gets the set of trigger words it is a form of, and one class token for that
    set; a query's tokens are replaced by their class tokens, and a trigger word matches
    every class whose set contains it. Most words own all their forms alone, so they have one
    class, spelled as the word itself; a form shared by several words (`booking`, a form of
    `book` and the trigger word `booking`) gets a joint class that both words match. Returns
    (form -> class token, trigger word -> its class tokens); deterministic whatever the order."""
    owners: dict[str, set[str]] = {}
    for word in set(words):
        for form in inflections(word):
            owners.setdefault(form, set()).add(word)
    # `|` never occurs in a normalised token, so a joint class cannot equal a query word.
    token = {form: "|".join(sorted(ws)).encode() for form, ws in owners.items()}
    classes: dict[str, set[bytes]] = {}
    for form, ws in owners.items():
        for word in ws:
            classes.setdefault(word, set()).add(token[form])
    return {form.encode(): t for form, t in token.items()}, {w: tuple(sorted(c)) for w, c in classes.items()}


class _Automaton:
    """One Aho-Corasick automaton over space-delimited needles (`b" bar chart "`, or
    `b" machine learn"` for a prefix), each owned by one or more triggers."""

    def __init__(self, needles: dict[bytes, list[int]]) -> None:
        self._owners = [tuple(owners) for owners in needles.values()]
        self._automaton = (
            ahocorasick_rs.BytesAhoCorasick(list(needles), matchkind=ahocorasick_rs.MatchKind.Standard)
            if needles
            else None
        )

    def __bool__(self) -> bool:
        return self._automaton is not None

    def scan(self, stream: bytes, found: set[int]) -> None:
        owners = self._owners
        for pattern, _start, _end in self._automaton.find_matches_as_indexes(stream, overlapping=True):  # type: ignore[union-attr]
            found.update(owners[pattern])


class TriggerMatcher:
    """All triggers of a library, compiled once; `match` reports which fired.

    Inflections are handled by form classes, not by spelling out every form: each form of
    each trigger word maps to a class token (see `form_classes`), a query's tokens are mapped
    through the table (one C-level `map`) before an Aho-Corasick automaton scans the
    space-joined result. The automaton holds about one pattern per trigger, so it builds fast
    and a scan costs the same for 10 triggers or 50,000. Exact (`=`) and prefix (`*`) triggers
    get a second automaton over the unmapped tokens. (Spelling out forms made 590,000
    patterns and a 2 s build for 1,000 modules; one alternation regex scans ~100x slower:
    benchmarks/bench.py measures both.)"""

    def __init__(self, triggers: list[Trigger], compiled: list[CompiledTrigger]) -> None:
        self.triggers = tuple(triggers)
        self._lemmas, classes = form_classes(w for spec in compiled if spec.kind == "inflect" for w in spec.words)
        inflecting: dict[bytes, list[int]] = {}
        literal: dict[bytes, list[int]] = {}
        self._regexes: list[tuple[int, Any]] = []
        for index, spec in enumerate(compiled):
            words = [w.encode() for w in spec.words]
            if spec.kind == "regex":
                self._regexes.append((index, spec.regex))
            elif spec.kind == "inflect":
                # one needle per combination of its words' classes (almost always one)
                for combination in itertools.islice(itertools.product(*(classes[w] for w in spec.words)), _MAX_NEEDLES):
                    inflecting.setdefault(b" " + b" ".join(combination) + b" ", []).append(index)
            elif spec.kind == "exact" and not any(w in self._lemmas for w in words):
                # An exact word that no form maps to stands for itself in the class stream too,
                # so it can share the main automaton and spare a second scan.
                inflecting.setdefault(b" " + b" ".join(words) + b" ", []).append(index)
            else:
                needle = b" " + b" ".join(words) + (b"" if spec.kind == "prefix" else b" ")
                literal.setdefault(needle, []).append(index)
        self._inflecting, self._literal = _Automaton(inflecting), _Automaton(literal)
        self.pattern_count = len(inflecting) + len(literal) + len(self._regexes)

    def match(self, text: str) -> list[int]:
        """Indices of the triggers found in `text` (raw user text), each once, in library
        order (so the reason reported for a module is its first listed trigger that fired)."""
        toks = normalized_tokens(text)
        found: set[int] = set()
        if self._inflecting:
            self._inflecting.scan(b" " + b" ".join(map(self._lemmas.get, toks, toks)) + b" ", found)
        if self._literal or self._regexes:
            stream = b" " + b" ".join(toks) + b" "
            if self._literal:
                self._literal.scan(stream, found)
            if self._regexes:
                normalized = stream if toks else b" "  # RE2 reads the UTF-8 bytes as they are
                for index, regex in self._regexes:
                    if regex.search(normalized) is not None:
                        found.add(index)
        return sorted(found)
