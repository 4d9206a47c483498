"""Sections -> proposed modules: a group, an id, triggers and a description for each.

The group is a heuristic the user reviews, and the generated file says which rule made it:

1. the text before the first heading is `core` (an agent prompt opens with who it is);
2. a title with a word of `CORE_WORDS` (rules, guidelines, objective, capabilities, system...)
   is `core`: general guidance every request needs;
3. a title with a word of `RESPONSE_WORDS` (format, style, tone, output...) is `response` when
   the section sits in the last 40% of the prompt, else `core` (early "formatting" sections
   usually describe the syntax of tool calls, which every request needs);
4. anything else is `tools`, marked as a guess: a section about one capability is what
   routing is for, but only the user knows whether a request can do without it;
5. a would-be tool section with no distinctive word to trigger on is `core` (a guess too):
   a tool module no trigger can select would only ever be sent by the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from .sections import Section
from .vocabulary import distinctive_terms, words

Group = Literal["core", "tools", "response"]
_CORE_WORDS = """
identity role persona personality about rules rule guidelines guideline principles principle objective
objectives goal goals system environment capabilities capability overview introduction intro important
critical safety security policy policies constraints constraint context behavior behaviour behaviors mode
modes general conventions values ethics limitations
"""
CORE_WORDS = frozenset(_CORE_WORDS.split())
_RESPONSE_WORDS = """
response responses respond responding output outputs format formats formatting style styles tone answer
answers reply replies voice markdown presentation citation citations
"""
RESPONSE_WORDS = frozenset(_RESPONSE_WORDS.split())
_LATE = 0.6  # a section starting after 60% of the prompt counts as "at the end"
_MAX_ID = 40


@dataclass(frozen=True)
class ModuleProposal:
    id: str
    group: Group
    section: Section
    tokens: int
    triggers: tuple[str, ...]
    description: str
    order: int
    reason: str  # which rule chose the group
    guessed: bool  # the group is the default (rule 4 or 5), not a word of the title


def slug(text: str) -> str:
    """A module id: lower-case letters, digits and '_', starting with a letter."""
    value = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if not value or not value[0].isalpha():
        value = f"section_{value}".rstrip("_")
    return value[:_MAX_ID].rstrip("_")


def _ids(sections: Sequence[Section]) -> list[str]:
    """Titles as ids; a repeated title ("Purpose" under two tools) takes its parent's title too."""
    plain = [slug(s.title) for s in sections]
    out: list[str] = []
    taken: set[str] = set()
    for section, base in zip(sections, plain):
        candidate = base
        if plain.count(base) > 1 and len(section.path) > 1:
            candidate = slug(f"{section.path[-2]} {section.title}")
        unique, n = candidate, 2
        while unique in taken:
            unique, n = f"{candidate}_{n}", n + 1
        taken.add(unique)
        out.append(unique)
    return out


def _group(index: int, section: Section, position: float, terms: Sequence[str]) -> tuple[Group, str, bool]:
    title_words = set(words(section.title))
    if index == 0 and section.path == ("preamble",):
        return "core", "the text before the first heading (who the agent is)", False
    core = sorted(title_words & CORE_WORDS)
    if core:
        return "core", f"title word {core[0]!r}", False
    response = sorted(title_words & RESPONSE_WORDS)
    if response and position >= _LATE:
        return "response", f"title word {response[0]!r}, near the end of the prompt", False
    if response:
        return "core", f"title word {response[0]!r} early in the prompt (likely the syntax of tool calls)", True
    if not terms:
        return "core", "no distinctive word to trigger on", True
    return "tools", "no core or response word in the title", True


def propose(sections: Sequence[Section], count_tokens: Callable[[str], int], *, triggers_per_module: int = 6,
            ) -> list[ModuleProposal]:
    """One module per section, in the prompt's order."""
    terms = distinctive_terms([s.text for s in sections], [s.title for s in sections], limit=triggers_per_module)
    ids = _ids(sections)
    last_line = max((s.last_line for s in sections), default=1)
    out = []
    for index, (section, module_id, found) in enumerate(zip(sections, ids, terms)):
        group, reason, guessed = _group(index, section, (section.first_line - 1) / last_line, found)
        where = " > ".join(section.path)
        about = f": {', '.join(found[:4])}" if found else ""
        description = f"{where}{about} (lines {section.first_line}-{section.last_line})"
        out.append(ModuleProposal(module_id, group, section, count_tokens(section.text),
                                  tuple(found) if group == "tools" else (), description, 10 * (index + 1), reason, guessed))
    return out
