"""Japanese MT-Bench: MT-bench adapted to Japanese by Stability AI.

Repository: Stability-AI/FastChat (default branch jp-stable) at commit
e37eb28ee490480f6f4989274ed47c55f7dfce82. Licence: Apache-2.0 (LICENSE at the repository
root; the README says the repository "provides Japanese MT-Bench questions and prompts" and
states no other terms).

Read: fastchat/llm_judge/data/japanese_mt_bench/question_full.jsonl (80 two-turn questions,
10 per MT-bench category; question.jsonl is the 60-question subset without coding and math).
Label = the question's `category`; text = the first turn, verbatim; `lang` = ja. Translated
and localised from the English MT-bench (some questions are rewritten around Japan), not
users' own wording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

PATH = "fastchat/llm_judge/data/japanese_mt_bench/question_full.jsonl"


def read(tree: GitTree) -> Iterator[Raw]:
    for number, line in enumerate(tree.read_text(PATH).split("\n"), start=1):
        if line.strip():
            item = json.loads(line)
            yield Raw(item["category"], item["turns"][0], "ja", f"{PATH}:{number}")


MAPPING: dict[str, tuple[str, ...] | None] = {
    "writing": ("content_creation",),
    "coding": ("code_development",),
    "reasoning": (),
    "math": (),
    "stem": (),
    "humanities": (),
    "roleplay": None,
    "extraction": None,
}

SOURCE = Source(
    name="mtbench_ja",
    repo="Stability-AI/FastChat",
    commit="e37eb28ee490480f6f4989274ed47c55f7dfce82",
    licence="Apache-2.0",
    description="Japanese MT-Bench (Stability AI): MT-bench first turns translated and localised into Japanese, by category",
    read=read,
    mapping=MAPPING,
    max_per_label=40,
    max_per_target=150,
    notes=(
        "Same category mapping as the English `mtbench` source: writing -> content_creation, coding -> "
        "code_development, reasoning/math/stem/humanities -> [], roleplay and extraction -> None.",
    ),
)
