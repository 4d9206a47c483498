"""Writing a proposal as a module library, a review sheet and a starter case file.

The library loads with `load_library` as written (checked before `init` returns): module
bodies are the prompt's own text, with any Jinja delimiter in it (`{{`, `{%`, `{#`) escaped,
so the text renders to itself.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from ..library import GROUPS, ModuleLibrary, load_library
from ..storage import write_atomic
from ..triggers import compile_trigger
from .proposal import ModuleProposal

_JINJA = re.compile(r"\{[{%#]")
REVIEW_FILE = "REVIEW.md"
CASES_FILE = "cases.jsonl"
UNREVIEWED = "unreviewed"


@dataclass(frozen=True)
class WrittenLibrary:
    root: Path
    library: ModuleLibrary
    modules: tuple[ModuleProposal, ...]
    review: Path
    cases: Path


def escape_jinja(text: str) -> str:
    """Text that renders to itself as a Jinja template."""
    return _JINJA.sub(lambda m: "{{ " + repr(m.group()) + " }}", text)


def _usable(trigger: str) -> bool:
    try:
        compile_trigger(trigger)
    except ValueError:
        return False
    return True


def module_file(module: ModuleProposal, source: str) -> str:
    section = module.section
    verdict = f"a guess ({module.reason})" if module.guessed else module.reason
    lines = [
        "---",
        f"# prompt-router init: lines {section.first_line}-{section.last_line} of {source}, {module.tokens:,} tokens",
        f"# group {module.group}: {verdict}. Review it, the triggers and the description.",
        f"description: {json.dumps(module.description, ensure_ascii=False)}",
        f"order: {module.order}",
    ]
    triggers = [t for t in module.triggers if _usable(t)]
    if triggers:
        lines.append(f"triggers: {json.dumps(triggers, ensure_ascii=False)}")
    lines += ["---", escape_jinja(section.text), ""]
    return "\n".join(lines)


def starter_cases(modules: Sequence[ModuleProposal]) -> list[dict[str, object]]:
    """One synthetic case per tool module (a question made of its own top words) and one that
    needs no tool. They show the format and smoke-test the triggers; the recall they give is
    high by construction. Real cases come from real queries (`prompt-router label`)."""
    cases: list[dict[str, object]] = [
        {"id": "starter-no-tools", "query": "thanks, that helps!", "category": f"{UNREVIEWED}:synthetic", "needs": []}]
    for module in modules:
        if module.group == "tools" and module.triggers:
            words = " and ".join(module.triggers[:2])
            cases.append({"id": f"starter-{module.id}", "query": f"can you help me with the {words}?",
                          "category": f"{UNREVIEWED}:synthetic", "needs": [module.id]})
    return cases


def review_sheet(modules: Sequence[ModuleProposal], source: str, prompt_tokens: int) -> str:
    by_group = {g: [m for m in modules if m.group == g] for g in GROUPS}
    always = sum(m.tokens for m in modules if m.group != "tools")
    out = [
        f"# Review: the module library proposed for {source}",
        "",
        f"{len(modules)} modules from a {prompt_tokens:,}-token prompt: "
        + ", ".join(f"{len(by_group[g])} {g}" for g in GROUPS)
        + f". Core + response, sent with every request: {always:,} tokens.",
        "",
        "Check each module's group (a *guess* below means no word of its title decided it), its",
        "triggers (words a user's request would contain when it needs the module) and its description.",
        "Modules are assembled core, tools, response, each in the prompt's own order, so a section",
        "that sat between tool sections moves: read the full prompt once (`prompt-router build x --static`).",
        "",
        "| # | module | group | why | tokens | triggers | lines |",
        "| ---: | --- | --- | --- | ---: | --- | --- |",
    ]
    for number, m in enumerate(modules, 1):
        why = f"**guess**: {m.reason}" if m.guessed else m.reason
        out.append(f"| {number} | `{m.id}` | {m.group} | {why} | {m.tokens:,} | {', '.join(m.triggers) or '—'} "
                   f"| {m.section.first_line}-{m.section.last_line} |")
    out += [
        "",
        "## Next",
        "",
        "1. Edit the modules (move a file between `core/`, `tools/` and `response/` to change its group).",
        "2. `prompt-router validate DIR` checks the library and lists token counts.",
        "3. `prompt-router label QUERIES --modules DIR --out cases.jsonl` turns real user queries into cases with the",
        f"   router's guess prefilled (category `{UNREVIEWED}:...`); correct `needs`, drop the prefix, and replay them with",
        "   `prompt-router ab-test --library-a DIR --library-b DIR --cases cases.jsonl`.",
        f"4. `{CASES_FILE}` here is a synthetic starter: it shows the format, not how real users ask.",
        "",
    ]
    return "\n".join(out)


def write_library(modules: Sequence[ModuleProposal], out: Path, *, name: str, source: str, prompt_tokens: int,
                  ) -> WrittenLibrary:
    """Write the library into `out` (new or empty) and load it back."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} already exists and is not empty: choose a new directory for the library")
    for group in GROUPS:
        (out / group).mkdir(parents=True, exist_ok=True)
    write_atomic(out / "library.yaml", f"name: {json.dumps(name)}\nfallback: all\n")
    for module in modules:
        write_atomic(out / module.group / f"{module.id}.md", module_file(module, source))
    review = out / REVIEW_FILE
    write_atomic(review, review_sheet(modules, source, prompt_tokens))
    cases = out / CASES_FILE
    write_atomic(cases, "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in starter_cases(modules)))
    return WrittenLibrary(out, load_library(out), tuple(modules), review, cases)
