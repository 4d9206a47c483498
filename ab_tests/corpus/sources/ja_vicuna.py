"""Japanese Vicuna QA Benchmark: the Vicuna-80 questions translated into Japanese.

Repository: ku-nlp/ja-vicuna-qa-benchmark at commit 128a862da6a4478c3e80ab3c3b716d1417380751.
Licence: Apache-2.0 (LICENSE at the repository root; the README states no other terms).

Read: data/jp_bench/question.jsonl (80 questions; categories generic, knowledge, roleplay,
common-sense, fermi, counterfactual, writing, coding, math as in Vicuna-80). Label = the
question's `category`; text = the first turn, verbatim; `lang` = ja. Translations of the
English Vicuna questions (see the `mtbench` source), not users' own wording.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

PATH = "data/jp_bench/question.jsonl"


def read(tree: GitTree) -> Iterator[Raw]:
    for number, line in enumerate(tree.read_text(PATH).split("\n"), start=1):
        if line.strip():
            item = json.loads(line)
            yield Raw(item["category"], item["turns"][0], "ja", f"{PATH}:{number}")


NONE: tuple[str, ...] = ()
MAPPING: dict[str, tuple[str, ...] | None] = {
    "writing": ("content_creation",),
    "coding": ("code_development",),
    "generic": NONE,
    "knowledge": NONE,
    "common-sense": NONE,
    "fermi": NONE,
    "counterfactual": NONE,
    "math": NONE,
    "roleplay": None,
}

SOURCE = Source(
    name="ja_vicuna",
    repo="ku-nlp/ja-vicuna-qa-benchmark",
    commit="128a862da6a4478c3e80ab3c3b716d1417380751",
    licence="Apache-2.0",
    description="Japanese Vicuna QA benchmark: the Vicuna-80 questions in Japanese, by category",
    read=read,
    mapping=MAPPING,
    max_per_label=40,
    max_per_target=150,
    notes=(
        "Same category mapping as Vicuna in the `mtbench` source: writing -> content_creation, coding -> "
        "code_development, generic/knowledge/common-sense/fermi/counterfactual/math -> [], roleplay -> None "
        "(in-character monologues: between small talk and creative writing).",
    ),
)
