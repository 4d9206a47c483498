"""ruMT-Bench: MT-bench translated into Russian.

Repository: NLP-Core-Team/FastChat at commit a19736c35122b45e1e2b553bed6685b9d12cb442.
Licence: Apache-2.0 (LICENSE at the repository root of this FastChat fork; no other terms
for the data in the repository). The fork's fastchat/llm_judge/README.md describes the set:
"The English version of MT-bench has been translated into Russian", 8 topics.

Read: fastchat/llm_judge/data/ru_mt_bench/question.jsonl (80 two-turn questions, 10 per
MT-bench category). Label = the question's `category`; text = the first turn, verbatim;
`lang` = ru. Translations of the English MT-bench questions, not users' own wording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

PATH = "fastchat/llm_judge/data/ru_mt_bench/question.jsonl"


def read(tree: GitTree) -> Iterator[Raw]:
    for number, line in enumerate(tree.read_text(PATH).split("\n"), start=1):
        if line.strip():
            item = json.loads(line)
            yield Raw(item["category"], item["turns"][0], "ru", f"{PATH}:{number}")


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
    name="mtbench_ru",
    repo="NLP-Core-Team/FastChat",
    commit="a19736c35122b45e1e2b553bed6685b9d12cb442",
    licence="Apache-2.0",
    description="ruMT-Bench: MT-bench first turns translated into Russian, by category",
    read=read,
    mapping=MAPPING,
    max_per_label=40,
    max_per_target=150,
    notes=(
        "Same category mapping as the English `mtbench` source: writing -> content_creation, coding -> "
        "code_development, reasoning/math/stem/humanities -> [], roleplay and extraction -> None.",
    ),
)
