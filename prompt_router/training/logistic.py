"""One-vs-rest logistic regression on the router's sparse rows, fitted with scikit-learn
(liblinear: exact, deterministic, seconds for thousands of cases). Training only: the fitted
weights go into the artefact and the runtime scores them with numpy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import UsageError
from ..routing.features import FloatArray, Row


def _matrix(rows: Sequence[Row], n_features: int) -> object:
    from scipy import sparse

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r.columns) for r in rows])
    columns = np.concatenate([r.columns for r in rows]) if rows else np.zeros(0, dtype=np.int64)
    values = np.concatenate([r.values for r in rows]) if rows else np.zeros(0)
    return sparse.csr_matrix((values, columns, indptr), shape=(len(rows), n_features))


def train_logistic(rows: Sequence[Row], labels: FloatArray, n_features: int, *, c: float = 10.0
                   ) -> tuple[FloatArray, FloatArray]:
    """Weights (features x classes) and biases; a class with no positive example gets a
    large negative bias (it is never predicted)."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:
        raise UsageError("training needs scikit-learn: pip install 'prompt-router[train]'") from None
    matrix = _matrix(rows, n_features)
    weights = np.zeros((n_features, labels.shape[1]))
    bias = np.full(labels.shape[1], -20.0)
    for k in range(labels.shape[1]):
        y = labels[:, k]
        if 0 < y.sum() < len(y):
            # liblinear shuffles its coordinates: a fixed seed makes training reproducible
            model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=0)
            model.fit(matrix, y)
            weights[:, k] = model.coef_[0]
            bias[k] = model.intercept_[0]
    # The artefact stores float16 weights: round now, so the model in memory scores exactly
    # like the one loaded from disk (same artefact + query -> same decision).
    return weights.astype(np.float16).astype(np.float64), np.round(bias, 6)
