"""ComplexBench-Edit: multi-step instructions for editing a given photo.

Repository: llllly26/ComplexBench-Edit at commit a84e08325da847f1a694cea1dd3bc7a298f54342.
Licence: MIT (LICENSE at the repository root, "Copyright (c) 2025 lllliy"; the instruction
files are part of the repository).

Read: data/instructions/<subset>/final_update_v2.json for the five subsets
(COCO-obj-attr-global, COCO-three-obj, COCO-two-obj-one-attr, two-chain, three-chain). Each
entry edits one COCO photo; the text is its `new_ins` field verbatim (two or three edit steps
on separate lines, e.g. "change the cat to white dog / add a collar on the white dog / delete
the keyboard"; the build joins the lines with spaces). The label is the subset.

Every subset maps to image_generation: each text asks for edits of a given photo.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

SUBSETS = ("COCO-obj-attr-global", "COCO-three-obj", "COCO-two-obj-one-attr", "two-chain", "three-chain")


def read(tree: GitTree) -> Iterator[Raw]:
    for subset in SUBSETS:
        path = f"data/instructions/{subset}/final_update_v2.json"
        for key, entry in json.loads(tree.read_text(path)).items():
            text = (entry.get("new_ins") or "").strip()
            if text:
                yield Raw(subset, text, "en", f"{path}#{key}")


IMAGE = ("image_generation",)
MAPPING: dict[str, tuple[str, ...] | None] = dict.fromkeys(SUBSETS, IMAGE)

SOURCE = Source(
    name="complexbench_edit",
    repo="llllly26/ComplexBench-Edit",
    commit="a84e08325da847f1a694cea1dd3bc7a298f54342",
    licence="MIT",
    description="ComplexBench-Edit: multi-step instructions for editing a given photo (add, change, delete objects)",
    read=read,
    mapping=MAPPING,
    max_per_label=30,
    max_per_target=150,
    notes=(
        "All subsets -> image_generation (photo edits on an attached photo).",
        "The texts are terse edit lists written for an image editor, not chat requests; they assume "
        "the photo is attached.",
    ),
)
