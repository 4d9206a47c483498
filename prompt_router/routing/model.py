"""The learned router's scorer: one-vs-rest logistic regression over sparse binary rows, each
class's score calibrated (Platt scaling fitted on out-of-fold scores), and its versioned
artefact (a JSON file bound to the library's content hash). Loading checks every field, so a
damaged artefact is a clear ModelError, never a crash or a NaN score."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from .decision import NONE
from .features import FeatureConfig, FloatArray, Row, Vectorizer

FORMAT = "prompt-router.learned-router/2"
MODES = ("hybrid", "learned")


def calibrated(logits: FloatArray, calibration: FloatArray) -> FloatArray:
    """Calibrated probabilities from raw logits: one (scale, offset) pair per class."""
    return np.asarray(1.0 / (1.0 + np.exp(-(logits * calibration[:, 0] + calibration[:, 1]))))


def score_rows(rows: Sequence[Row], weights: FloatArray, bias: FloatArray,
               calibration: FloatArray | None = None) -> FloatArray:
    """Probabilities per class for each sparse row; with `calibration`, calibrated ones."""
    out = np.empty((len(rows), weights.shape[1]), dtype=np.float64)
    for i, row in enumerate(rows):
        out[i] = row.values @ weights[row.columns] + bias if len(row.columns) else bias
    if calibration is not None:
        return calibrated(out, calibration)
    return 1.0 / (1.0 + np.exp(-out))


@dataclass(frozen=True)
class LearnedModel:
    """A fitted scorer: vectorizer, weights, per-class calibration, the miss budget per router
    mode, and where it came from."""

    library_version: str
    library_name: str
    classes: tuple[str, ...]  # tool module ids, then NONE
    vectorizer: Vectorizer = field(repr=False)
    weights: FloatArray = field(repr=False)
    bias: FloatArray = field(repr=False)
    calibration: FloatArray = field(repr=False)  # per class: (scale, offset) applied to the logit
    miss_budget: Mapping[str, float]  # per router mode ("hybrid", "learned"): see DecisionRule
    info: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def scores(self, query: str, history: Sequence[str] = ()) -> dict[str, float]:
        row = self.vectorizer.transform(query, history)
        values = score_rows([row], self.weights, self.bias, self.calibration)[0]
        return {c: float(v) for c, v in zip(self.classes, values)}

    @classmethod
    def load(cls, path: str | Path, library_version: str | None = None) -> LearnedModel:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"{path}: no learned-router artefact (train one: prompt-router train --cases FILE)") from None
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: not a learned-router artefact ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelError(f"{path}: not a {FORMAT} artefact")
        return _parse(data, path, library_version)


def _field(data: Mapping[str, Any], path: Path, key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in data:
        raise ModelError(f"{path}: field {key!r} is missing")
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ModelError(f"{path}: field {key!r} has the wrong type")
    return value


def _parse(data: Mapping[str, Any], path: Path, library_version: str | None) -> LearnedModel:
    version = _field(data, path, "library_version", str)
    if library_version is not None and version != library_version:
        raise ModelError(
            f"{path}: stale: trained for library version {version}, but the library is now "
            f"{library_version}; retrain with `prompt-router train`")
    name = _field(data, path, "library_name", str)
    classes = _field(data, path, "classes", list)
    if not classes or not all(isinstance(c, str) for c in classes) or classes[-1] != NONE or len(set(classes)) != len(classes):
        raise ModelError(f"{path}: field 'classes' must list distinct module ids and end with {NONE!r}")
    raw_features = _field(data, path, "features", dict)
    known = set(FeatureConfig.__dataclass_fields__)
    unknown = sorted(set(raw_features) - known)
    if unknown:
        raise ModelError(f"{path}: field 'features' has unknown key(s): {', '.join(unknown)}")
    try:
        config = FeatureConfig(**raw_features)
    except TypeError as exc:
        raise ModelError(f"{path}: field 'features' is invalid ({exc})") from None
    vocabulary = _field(data, path, "vocabulary", list)
    if not all(isinstance(v, str) for v in vocabulary):
        raise ModelError(f"{path}: field 'vocabulary' must be a list of strings")
    encoded = _field(data, path, "weights_float16_base64", str)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ModelError(f"{path}: field 'weights_float16_base64' is not valid base64") from None
    expected = len(vocabulary) * len(classes) * 2
    if len(raw) != expected:
        raise ModelError(f"{path}: field 'weights_float16_base64' holds {len(raw) // 2} weights, "
                         f"expected {len(vocabulary)} features x {len(classes)} classes")
    weights = np.frombuffer(raw, dtype=np.float16).astype(np.float64).reshape(len(vocabulary), len(classes))
    idf: FloatArray | None = None
    if "idf_float32_base64" in data:
        try:
            idf_raw = base64.b64decode(_field(data, path, "idf_float32_base64", str), validate=True)
        except (binascii.Error, ValueError):
            raise ModelError(f"{path}: field 'idf_float32_base64' is not valid base64") from None
        if len(idf_raw) != len(vocabulary) * 4:
            raise ModelError(f"{path}: field 'idf_float32_base64' must hold one value per feature")
        idf = np.frombuffer(idf_raw, dtype=np.float32).astype(np.float64)
        if not np.isfinite(idf).all() or (idf <= 0).any():
            raise ModelError(f"{path}: field 'idf_float32_base64' must hold positive finite values")
    bias_list = _field(data, path, "bias", list)
    if len(bias_list) != len(classes) or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bias_list):
        raise ModelError(f"{path}: field 'bias' must hold one number per class")
    bias = np.asarray(bias_list, dtype=np.float64)
    if not np.isfinite(weights).all() or not np.isfinite(bias).all():
        raise ModelError(f"{path}: weights or bias contain NaN or infinity")
    raw_calibration = _field(data, path, "calibration", list)
    if len(raw_calibration) != len(classes) or not all(
            isinstance(pair, list) and len(pair) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in pair)
            for pair in raw_calibration):
        raise ModelError(f"{path}: field 'calibration' must hold one finite (scale, offset) pair per class")
    calibration = np.asarray(raw_calibration, dtype=np.float64)
    raw_budget = _field(data, path, "miss_budget", dict)
    budgets: dict[str, float] = {}
    for mode in MODES:
        value = raw_budget.get(mode)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= len(classes):
            raise ModelError(f"{path}: field 'miss_budget.{mode}' must be a number in [0, {len(classes)}]")
        budgets[mode] = float(value)
    info = data.get("info", {})
    return LearnedModel(version, name, tuple(classes), Vectorizer(vocabulary, config, idf), weights, bias,
                        calibration, budgets, info if isinstance(info, dict) else {})
