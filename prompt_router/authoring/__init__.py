"""Authoring a module library: from one monolithic system prompt to modules (`init`), and from
real queries to labelled cases (`label`). On top of the runtime and the evaluation harness; the
command line uses it, nothing below imports it."""

from .labelling import LabelStats, QueryRecord, guess, label_cases, read_queries
from .library_writer import WrittenLibrary, escape_jinja, write_library
from .onboarding import init_library
from .proposal import CORE_WORDS, RESPONSE_WORDS, ModuleProposal, propose, slug
from .sections import Section, split_sections
from .vocabulary import distinctive_terms, words

__all__ = [
    "CORE_WORDS",
    "RESPONSE_WORDS",
    "LabelStats",
    "ModuleProposal",
    "QueryRecord",
    "Section",
    "WrittenLibrary",
    "distinctive_terms",
    "escape_jinja",
    "guess",
    "init_library",
    "label_cases",
    "propose",
    "read_queries",
    "slug",
    "split_sections",
    "words",
    "write_library",
]
