"""Rakuda: open-ended Japanese questions about Japan (geography, politics, history, society).

Repository: yuzu-ai/japanese-llm-ranking at commit fae1ee79c69b0c3acf8e8a1994e43c7952e7bd9c.
Licence: Apache-2.0 (LICENSE at the repository root; the readme states no other terms).

Read: jrank/data/rakuda_v2/questions.jsonl (40 questions, 10 per category 地理 geography,
政治 politics, 歴史 history, 社会 society; v2 has the same questions as v1 in the `turns`
format, and rakuda_v3 is a one-question stub). Label = the question's `category`; text = the
first turn, verbatim; `lang` = ja. Written by the benchmark's authors. Labels are the
categories' English names (CATEGORY), so that case ids stay ASCII.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

PATH = "jrank/data/rakuda_v2/questions.jsonl"
# The file's Japanese category names, in English for the labels (and so the case ids).
CATEGORY = {"地理": "geography", "政治": "politics", "歴史": "history", "社会": "society"}


def read(tree: GitTree) -> Iterator[Raw]:
    for number, line in enumerate(tree.read_text(PATH).split("\n"), start=1):
        if line.strip():
            item = json.loads(line)
            yield Raw(CATEGORY[item["category"]], item["turns"][0], "ja", f"{PATH}:{number}")


MAPPING: dict[str, tuple[str, ...] | None] = {
    "geography": (),
    "history": (),
    "politics": None,
    "society": None,
}

SOURCE = Source(
    name="rakuda",
    repo="yuzu-ai/japanese-llm-ranking",
    commit="fae1ee79c69b0c3acf8e8a1994e43c7952e7bd9c",
    licence="Apache-2.0",
    description="Rakuda: Japanese general-knowledge questions about Japan's geography and history",
    read=read,
    mapping=MAPPING,
    max_per_label=40,
    max_per_target=150,
    notes=(
        "地理 (geography: prefectures and capitals, rivers, volcanoes) and 歴史 (history: Heian, Kamakura, "
        "Meiji...) -> []: general knowledge answered from memory.",
        "政治 (politics) and 社会 (society) -> None: they mix textbook explanations with questions about recent "
        "elections, the last ten years' income gap or current energy policy, which need live information.",
    ),
)
