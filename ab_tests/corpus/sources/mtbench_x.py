"""MT-Bench-X: MT-bench translated into German, Spanish, French and Italian.

Repository: Modalities/MT-Bench-X at commit f8972dc70595a7e981ada7f2ac5e7c191ab12441.
Licence: Apache-2.0 (LICENSE at the repository root; the README states no other terms for the
data). Paper: Weber et al., "Investigating Multilingual Instruction-Tuning: Do Polyglot Models
Demand for Multilingual Instructions?" (arXiv 2402.13703).

Read: data/mt_bench_{DE,ES,FR,IT}/question.jsonl, the corrected translations (the
repository keeps the uncorrected ones as question_original.jsonl). 80 two-turn questions per
language, 10 in each MT-bench category. Label = `<lang>:` + the question's `category`; text =
the first turn, verbatim; `lang` = de, es, fr, it. The texts are machine/human translations of
the English MT-bench questions (see the `mtbench` source), not users' own wording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

LANGS = {"DE": "de", "ES": "es", "FR": "fr", "IT": "it"}


def read(tree: GitTree) -> Iterator[Raw]:
    for folder, lang in LANGS.items():
        path = f"data/mt_bench_{folder}/question.jsonl"
        for number, line in enumerate(tree.read_text(path).split("\n"), start=1):
            if line.strip():
                item = json.loads(line)
                yield Raw(f"{lang}:{item['category']}", item["turns"][0], lang, f"{path}:{number}")


CATEGORIES: dict[str, tuple[str, ...] | None] = {
    "writing": ("content_creation",),
    "coding": ("code_development",),
    "reasoning": (),
    "math": (),
    "stem": (),
    "humanities": (),
    "roleplay": None,
    "extraction": None,
}
MAPPING = {f"{lang}:{category}": needs for lang in LANGS.values() for category, needs in CATEGORIES.items()}

SOURCE = Source(
    name="mtbench_x",
    repo="Modalities/MT-Bench-X",
    commit="f8972dc70595a7e981ada7f2ac5e7c191ab12441",
    licence="Apache-2.0",
    description="MT-Bench-X: MT-bench first turns translated into German, Spanish, French and Italian, by category",
    read=read,
    mapping=MAPPING,
    max_per_label=40,
    max_per_target=200,
    notes=(
        "Same category mapping as the English `mtbench` source: writing -> content_creation, coding -> "
        "code_development, reasoning/math/stem/humanities -> [], roleplay and extraction -> None.",
        "Translations of the same 80 English questions: parallel items across languages, not independent requests.",
    ),
)
