"""Guided-Grounded-InstructPix2Pix evaluation set: human-written photo-editing instructions.

Repository: z-esmaily/guided_grounded_instructpix2pix at commit
5e405b1151884b430b6b6aa341954803f6a60762.
Licence: Apache-2.0 (LICENSE at the repository root; the metadata file is part of the
repository and was written by its authors for their evaluation).

Read: image_instruction_pairs_info/All_img_instruct_info.csv, the 226 instruction-target pairs
of the paper's evaluation (README: "The complete metadata, including source links and
instruction types, is available in the /image_instruction_pairs_info directory"). The text is
the `instruct` column, verbatim ("change the cat on the left to a tiger"). The label is the
`Type` column (Absolute Direction, Relative Direction, Pronoun, Neutral), which says how the
instruction locates its target. datasets/instruct_target.json is not used: its provenance is
not documented in the repository.

Every type maps to image_generation: each text asks for an edit of a given photo.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

PATH = "image_instruction_pairs_info/All_img_instruct_info.csv"


def read(tree: GitTree) -> Iterator[Raw]:
    rows = csv.DictReader(io.StringIO(tree.read_text(PATH).lstrip("\ufeff")))
    for number, row in enumerate(rows, start=2):
        text = (row.get("instruct") or "").strip()
        if text:
            yield Raw((row.get("Type") or "").strip(), text, "en", f"{PATH}:{number}")


IMAGE = ("image_generation",)
MAPPING: dict[str, tuple[str, ...] | None] = {
    "Absolute Direction": IMAGE,
    "Relative Direction": IMAGE,
    "Pronoun": IMAGE,
    "Neutral": IMAGE,
}

SOURCE = Source(
    name="ggip2p_edits",
    repo="z-esmaily/guided_grounded_instructpix2pix",
    commit="5e405b1151884b430b6b6aa341954803f6a60762",
    licence="Apache-2.0",
    description="Guided-Grounded-InstructPix2Pix: human-written instructions for editing a given photo",
    read=read,
    mapping=MAPPING,
    max_per_label=80,
    max_per_target=150,
    notes=(
        "All instruction types -> image_generation (photo edits). The requests assume an attached photo "
        "('Add sunset to the bottom', 'make him wear glasses'); the photo itself is not part of the text.",
        "Instructions come in pairs that differ only in direction ('to the top' / 'to the bottom'); "
        "both are kept (they are distinct texts).",
    ),
)
