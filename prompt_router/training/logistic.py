"""One-vs-rest logistic regression on sparse binary rows, trained with numpy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..routing.features import IntArray
from ..routing.model import FloatArray


def train_logistic(rows: Sequence[IntArray], labels: FloatArray, n_features: int, *, l2: float = 1e-3,
                   iterations: int = 400, learning_rate: float = 0.5) -> tuple[FloatArray, FloatArray]:
    """Full-batch gradient descent with Adam on the mean log-loss + L2. Deterministic: no
    randomness anywhere, so the same data gives the same weights."""
    n, k = labels.shape
    weights = np.zeros((n_features, k))
    bias = np.zeros(k)
    lengths = np.array([max(len(r), 1) for r in rows], dtype=np.float64)
    flat = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    owner = np.repeat(np.arange(n), [len(r) for r in rows])
    scale = (1.0 / np.sqrt(lengths))[owner][:, None]
    m_w, v_w = np.zeros_like(weights), np.zeros_like(weights)
    m_b, v_b = np.zeros_like(bias), np.zeros_like(bias)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    starts = np.concatenate([[0], np.cumsum([len(r) for r in rows])[:-1]]).astype(np.int64)
    nonempty = np.array([len(r) > 0 for r in rows], dtype=bool)
    for step in range(1, iterations + 1):
        contributions = weights[flat] * scale
        z = np.zeros((n, k))
        if flat.size:
            z[nonempty] = np.add.reduceat(contributions, starts[nonempty], axis=0)
        z += bias
        p = 1.0 / (1.0 + np.exp(-z))
        error = (p - labels) / n
        grad_w = np.zeros_like(weights)
        np.add.at(grad_w, flat, error[owner] * scale)
        grad_w += l2 * weights
        grad_b = error.sum(axis=0)
        for param, grad, m, v in ((weights, grad_w, m_w, v_w), (bias, grad_b, m_b, v_b)):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            param -= learning_rate * (m / (1 - beta1**step)) / (np.sqrt(v / (1 - beta2**step)) + eps)
    # The artefact stores float16 weights: round now, so the model in memory scores exactly
    # like the one loaded from disk (same artefact + query -> same decision).
    return weights.astype(np.float16).astype(np.float64), np.round(bias, 6)
