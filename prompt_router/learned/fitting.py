"""Training: library examples + labelled cases -> a LearnedModel whose per-class thresholds
meet a recall target on out-of-fold predictions while saving as many tokens as possible.

Thresholds are fitted for the hybrid router (keyword hits always kept, the model adds modules
and decides whether an unmatched request needs no tools), which is how the model is used by
default. Cases are split into folds by a hash of their id, so the split is reproducible."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..ab.cases import Case
from ..builder import PromptBuilder
from ..library import ModuleLibrary
from ..routing import KeywordRouter
from ..tokens import TokenCounter
from .features import FeatureConfig, Vectorizer, features
from .model import NONE, LearnedModel, train_logistic

GRID = tuple(round(x, 3) for x in np.linspace(0.02, 0.98, 49)) + (1.01,)  # 1.01 = never
SHIFTS = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class Example:
    query: str
    history: tuple[str, ...]
    needs: tuple[str, ...]
    id: str = ""


def library_examples(library: ModuleLibrary, classes: Sequence[str] | None = None) -> list[Example]:
    """Each module's example requests and description, labelled with the module."""
    out = []
    for module in library.group("tools"):
        if classes is not None and module.id not in classes:
            continue
        for i, text in enumerate((*module.examples, *( [module.description] if module.description else []))):
            out.append(Example(text, (), (module.id,), f"{module.id}#example{i}"))
    return out


def _labels(examples: Sequence[Example], classes: list[str]) -> np.ndarray:
    y = np.zeros((len(examples), len(classes)))
    for i, ex in enumerate(examples):
        for module in ex.needs:
            y[i, classes.index(module)] = 1.0
        if not ex.needs:
            y[i, classes.index(NONE)] = 1.0
    return y


def _fit(examples: Sequence[Example], classes: list[str], config: FeatureConfig, l2: float, iterations: int):
    documents = [features(ex.query, ex.history, config) for ex in examples]
    vectorizer = Vectorizer.fit(documents, config)
    rows = [vectorizer.row(doc) for doc in documents]
    weights, bias = train_logistic(rows, _labels(examples, classes), len(vectorizer.vocabulary), l2=l2, iterations=iterations)
    return vectorizer, weights, bias


def shift_threshold(threshold: float, shift: float) -> float:
    """Move a threshold in logit space; positive shifts are safer (more recall)."""
    if threshold >= 1.0:
        return threshold
    logit = math.log(threshold / (1 - threshold)) - shift
    return 1 / (1 + math.exp(-logit))


class DecisionSimulator:
    """Fast hybrid decisions for many threshold settings over fixed scores (for fitting)."""

    def __init__(self, library: ModuleLibrary, cases: Sequence[Case], scores: np.ndarray, classes: list[str],
                 hybrid: bool = True) -> None:
        self.library, self.cases, self.classes = library, cases, classes
        self.scores = [dict(zip(classes, map(float, row))) for row in scores]
        builder = PromptBuilder(library, TokenCounter())
        context = {"current_date": "2026-01-01"}
        self.cost = {m: builder.module_tokens(m, context) + 1 for m in library.tool_ids}
        self.full = builder.full(context).tokens
        self.base = self.full - sum(self.cost.values())
        keyword = KeywordRouter(library, fallback="core")
        self.keyword = [frozenset(keyword.route(c.query, c.history).tool_modules) if hybrid else frozenset() for c in cases]
        self.fallback_all = library.fallback == "all"

    def evaluate(self, thresholds: dict[str, float], shift: float = 0.0) -> tuple[float, float]:
        """(recall, mean reduction) of the decisions on every case."""
        from .router import choose

        closure, tool_ids = self.library.closure, self.library.tool_ids
        shifted = {c: shift_threshold(t, -shift if c == NONE else shift) for c, t in thresholds.items()}
        passed, reduction = 0, 0.0
        for case, keyword, scores in zip(self.cases, self.keyword, self.scores):
            added, no_tools = choose(keyword, scores, shifted)
            chosen = set(keyword) | set(added)
            if not chosen and not no_tools and self.fallback_all:
                chosen = set(tool_ids)
            for module in list(chosen):
                chosen.update(closure.get(module, ()))
            passed += all(m in chosen for m in case.needs)
            reduction += 1 - (self.base + sum(self.cost[m] for m in chosen)) / self.full
        n = max(len(self.cases), 1)
        return passed / n, reduction / n


def fit_thresholds(sim: DecisionSimulator, target: float, passes: int = 4) -> dict[str, float]:
    """Coordinate search over a grid: for each class in turn, the threshold with the most
    savings that keeps recall at or above `target` (or the most recall if none does)."""
    thresholds = {c: 1.01 for c in sim.classes}  # start from keyword-only + fallback
    order = [NONE, *(c for c in sim.classes if c != NONE)]  # the no-tools judgement is the biggest lever
    for _ in range(passes):
        changed = False
        for cls in order:
            best_key, best_value = None, thresholds[cls]
            for value in GRID:
                trial = {**thresholds, cls: value}
                recall, reduction = sim.evaluate(trial)
                # Prefer meeting the target, then savings (or recall while short of it), then
                # the threshold nearest 0.5 among equals (the least arbitrary one).
                key = (recall >= target, reduction if recall >= target else recall, -abs(value - 0.5))
                if best_key is None or key > best_key:
                    best_key, best_value = key, value
            if best_value != thresholds[cls]:
                thresholds[cls], changed = best_value, True
        if not changed:
            break
    return thresholds


def train(library: ModuleLibrary, cases: Sequence[Case], *, target_recall: float = 0.99, folds: int = 5,
          config: FeatureConfig | None = None, l2: float = 1e-3, iterations: int = 300) -> LearnedModel:
    config = config or FeatureConfig()
    # A class per module that has examples or is needed by some case (not e.g. `toolkit`,
    # which only ever comes in through `requires`), plus "no tools needed".
    classes = [m for m in library.tool_ids if library[m].examples or any(m in c.needs for c in cases)] + [NONE]
    base = library_examples(library, classes)
    labelled = [Example(c.query, c.history, c.needs, c.id) for c in cases]
    fold_of = [zlib.crc32(c.id.encode()) % folds for c in cases]
    oof = np.zeros((len(cases), len(classes)))
    for fold in range(folds):
        train_set = base + [ex for ex, f in zip(labelled, fold_of) if f != fold]
        held = [i for i, f in enumerate(fold_of) if f == fold]
        if not held:
            continue
        vectorizer, weights, bias = _fit(train_set, classes, config, l2, iterations)
        model = LearnedModel(library.version, library.name, classes, vectorizer, weights, bias, {})
        oof[held] = model.score_rows([vectorizer.transform(cases[i].query, cases[i].history) for i in held])
    sim = DecisionSimulator(library, cases, oof, classes)
    thresholds = fit_thresholds(sim, target_recall)
    recall, reduction = sim.evaluate(thresholds)
    curve = [{"shift": s, "recall": r, "reduction": d} for s in SHIFTS for r, d in [sim.evaluate(thresholds, s)]]
    keyword_recall, keyword_reduction = sim.evaluate({c: 1.01 for c in classes})
    learned_sim = DecisionSimulator(library, cases, oof, classes, hybrid=False)
    learned_thresholds = fit_thresholds(learned_sim, target_recall)
    learned_recall, learned_reduction = learned_sim.evaluate(learned_thresholds)
    vectorizer, weights, bias = _fit(base + labelled, classes, config, l2, iterations)
    info = {
        "technique": "one-vs-rest logistic regression on word 1-2-grams + char 3-5-grams (binary, L2-normalised)",
        "cases": len(cases), "library_examples": len(base), "folds": folds, "target_recall": target_recall,
        "out_of_fold": {"hybrid_recall": recall, "hybrid_reduction": reduction,
                        "learned_recall": learned_recall, "learned_reduction": learned_reduction,
                        "keyword_recall": keyword_recall, "keyword_reduction": keyword_reduction},
        "curve": curve, "l2": l2, "iterations": iterations, "vocabulary": len(vectorizer.vocabulary),
    }
    return LearnedModel(library.version, library.name, classes, vectorizer, weights, bias,
                        {"hybrid": thresholds, "learned": learned_thresholds}, info)
