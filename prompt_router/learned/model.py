"""One-vs-rest logistic regression on sparse binary rows, trained with numpy, and its
versioned artefact (a small JSON file bound to the library's content hash)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PromptRouterError
from .features import FeatureConfig, Vectorizer

FORMAT = "prompt-router.learned-router/1"
NONE = "(no tools)"  # the extra class: the request needs no tool module


class ModelError(PromptRouterError):
    """A learned-router artefact is missing, malformed, or for another library version."""


def _scores(rows: Sequence[np.ndarray], weights: np.ndarray, bias: np.ndarray) -> np.ndarray:
    out = np.empty((len(rows), weights.shape[1]), dtype=np.float64)
    for i, columns in enumerate(rows):
        # binary features, L2-normalised: each present column weighs 1/sqrt(n)
        z = weights[columns].sum(axis=0) / np.sqrt(max(len(columns), 1)) if len(columns) else np.zeros(weights.shape[1])
        out[i] = z + bias
    return 1.0 / (1.0 + np.exp(-out))


def train_logistic(rows: Sequence[np.ndarray], labels: np.ndarray, n_features: int, *, l2: float = 1e-3,
                   iterations: int = 400, learning_rate: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Full-batch gradient descent with Adam on the mean log-loss + L2. Deterministic: no
    randomness anywhere, so the same data gives the same weights."""
    n, k = labels.shape
    weights = np.zeros((n_features, k))
    bias = np.zeros(k)
    lengths = np.array([max(len(r), 1) for r in rows], dtype=np.float64)
    flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(n), [len(r) for r in rows])
    scale = (1.0 / np.sqrt(lengths))[owner][:, None]
    m_w = np.zeros_like(weights); v_w = np.zeros_like(weights)  # noqa: E702
    m_b = np.zeros_like(bias); v_b = np.zeros_like(bias)  # noqa: E702
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    starts = np.concatenate([[0], np.cumsum([len(r) for r in rows])[:-1]]).astype(np.int64)
    nonempty = np.array([len(r) > 0 for r in rows], dtype=bool)
    for step in range(1, iterations + 1):
        contributions = weights[flat] * scale
        z = np.zeros((n, k))
        if flat.size:
            summed = np.add.reduceat(contributions, starts[nonempty], axis=0)
            z[nonempty] = summed
        z += bias
        p = 1.0 / (1.0 + np.exp(-z))
        error = (p - labels) / n
        grad_w = np.zeros_like(weights)
        np.add.at(grad_w, flat, error[owner] * scale)
        grad_w += l2 * weights
        grad_b = error.sum(axis=0)
        for param, grad, m, v in ((weights, grad_w, m_w, v_w), (bias, grad_b, m_b, v_b)):
            m *= beta1; m += (1 - beta1) * grad  # noqa: E702
            v *= beta2; v += (1 - beta2) * grad * grad  # noqa: E702
            param -= learning_rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
    # The artefact stores float16 weights: round now, so the model in memory scores exactly
    # like the one loaded from disk (same artefact + query -> same decision).
    return weights.astype(np.float16).astype(np.float64), np.round(bias, 6)


@dataclass
class LearnedModel:
    """A fitted scorer: vectorizer, weights, per-class thresholds, and where it came from."""

    library_version: str
    library_name: str
    classes: list[str]  # tool module ids, then NONE
    vectorizer: Vectorizer
    weights: np.ndarray
    bias: np.ndarray
    thresholds: dict[str, dict[str, float]]  # per router mode ("hybrid", "learned"): class -> threshold
    info: dict[str, Any] = field(default_factory=dict)

    def scores(self, query: str, history: Sequence[str] = ()) -> dict[str, float]:
        row = self.vectorizer.transform(query, history)
        values = _scores([row], self.weights, self.bias)[0]
        return {c: float(v) for c, v in zip(self.classes, values)}

    def score_rows(self, rows: Sequence[np.ndarray]) -> np.ndarray:
        return _scores(rows, self.weights, self.bias)

    # --- the artefact ----------------------------------------------------------------------------

    def to_json(self) -> str:
        weights = self.weights.astype(np.float16)
        return json.dumps({
            "format": FORMAT,
            "library_name": self.library_name,
            "library_version": self.library_version,
            "classes": self.classes,
            "features": self.vectorizer.config.as_dict(),
            "vocabulary": self.vectorizer.vocabulary,
            "weights_float16_base64": base64.b64encode(weights.tobytes()).decode(),
            "bias": [round(float(b), 6) for b in self.bias],
            "thresholds": {mode: {k: round(float(v), 6) for k, v in t.items()} for mode, t in self.thresholds.items()},
            "info": self.info,
        }, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n", encoding="utf-8")

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
        if library_version is not None and data["library_version"] != library_version:
            raise ModelError(
                f"{path}: stale: trained for library version {data['library_version']}, but the library is now "
                f"{library_version}; retrain with `prompt-router train`")
        config = FeatureConfig(**data["features"])
        vocabulary = data["vocabulary"]
        weights = np.frombuffer(base64.b64decode(data["weights_float16_base64"]), dtype=np.float16).astype(np.float64)
        weights = weights.reshape(len(vocabulary), len(data["classes"]))
        return cls(data["library_version"], data["library_name"], data["classes"], Vectorizer(vocabulary, config),
                   weights, np.asarray(data["bias"]), {m: dict(t) for m, t in data["thresholds"].items()}, data.get("info", {}))
