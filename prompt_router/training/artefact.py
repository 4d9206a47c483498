"""Writing the learned router's artefact (`routing.model` reads it)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np

from ..routing.model import FORMAT, LearnedModel
from ..storage import write_atomic


def to_json(model: LearnedModel) -> str:
    weights = model.weights.astype(np.float16)
    return json.dumps({
        "format": FORMAT,
        "library_name": model.library_name,
        "library_version": model.library_version,
        "classes": list(model.classes),
        "features": model.vectorizer.config.as_dict(),
        "vocabulary": model.vectorizer.vocabulary,
        "weights_float16_base64": base64.b64encode(weights.tobytes()).decode(),
        **({"idf_float32_base64": base64.b64encode(model.vectorizer.idf.astype(np.float32).tobytes()).decode()}
           if model.vectorizer.idf is not None else {}),
        "bias": [round(float(b), 6) for b in model.bias],
        "calibration": [[round(float(a), 6), round(float(b), 6)] for a, b in model.calibration],
        "miss_budget": {mode: round(float(v), 6) for mode, v in model.miss_budget.items()},
        "info": dict(model.info),
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def save(model: LearnedModel, path: str | Path) -> None:
    """Write the artefact atomically: a failed write never leaves half a file."""
    write_atomic(Path(path), to_json(model) + "\n")
