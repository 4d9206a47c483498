"""Training: library examples + labelled cases -> a LearnedModel whose calibrated scores and
miss budget meet a recall target on out-of-fold predictions while saving as many tokens as
possible.

Each class's score is calibrated on out-of-fold scores (Platt scaling: a logistic fit of the
label on the logit), so a probability means the same for every module, including on wording
from sources the model never saw (folds are by source). The miss budget is then fitted through
the served decision rule (`routing.DecisionRule`) on the served evidence (the real keyword
router's matches plus calibrated out-of-fold scores), so the recall and savings fitted here
are those of the decisions the router makes. Folds are reproducible."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..builder import PromptBuilder
from ..evaluation.cases import REPLAY_CONTEXT, Case
from ..evaluation.runner import SHIFTS
from ..library import ModuleLibrary
from ..routing import (
    NONE,
    DecisionRule,
    Evidence,
    FeatureConfig,
    KeywordRouter,
    LearnedModel,
    Vectorizer,
    features,
)
from ..routing.features import FloatArray
from ..routing.model import calibrated, score_rows
from ..tokens import TokenCounter
from .logistic import train_logistic

# Miss budgets searched (expected needed modules left out per request): log-spaced.
BUDGETS = tuple(round(float(x), 6) for x in np.geomspace(1e-4, 2.0, 160))


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
        texts = (*module.examples, *([module.description] if module.description else []))
        for i, text in enumerate(texts):
            out.append(Example(text, (), (module.id,), f"{module.id}#example{i}"))
    return out


def _labels(examples: Sequence[Example], classes: list[str]) -> FloatArray:
    y = np.zeros((len(examples), len(classes)))
    for i, ex in enumerate(examples):
        for module in ex.needs:
            if module in classes:
                y[i, classes.index(module)] = 1.0
        if not ex.needs:
            y[i, classes.index(NONE)] = 1.0
    return y


def fit_model(examples: Sequence[Example], classes: list[str], config: FeatureConfig,
              c: float) -> tuple[Vectorizer, FloatArray, FloatArray]:
    documents = [features(ex.query, ex.history, config) for ex in examples]
    vectorizer = Vectorizer.fit(documents, config)
    rows = [vectorizer.row(doc) for doc in documents]
    weights, bias = train_logistic(rows, _labels(examples, classes), len(vectorizer.vocabulary), c=c)
    return vectorizer, weights, bias


def _served_evidence(keyword: Evidence, scores: FloatArray, classes: Sequence[str], mode: str) -> Evidence:
    """The evidence the served router gathers for a case, with out-of-fold scores."""
    values = tuple(zip(classes, map(float, scores)))
    if mode == "hybrid":
        return Evidence(keyword.hits, values, keyword.matched_triggers, keyword.small_talk)
    if mode == "learned":
        return Evidence((), values, (), keyword.small_talk)
    return keyword  # "keyword": the triggers alone, the baseline


def logits(probabilities: FloatArray) -> FloatArray:
    p = np.clip(probabilities, 1e-12, 1 - 1e-12)
    return np.asarray(np.log(p) - np.log1p(-p))


def fit_calibration(scores: FloatArray, labels: FloatArray) -> FloatArray:
    """Per class, the (scale, offset) on the logit that makes out-of-fold scores calibrated
    probabilities (Platt scaling). A class with only one label value out of fold, or whose
    scores rank against its labels, keeps its raw score (1, 0)."""
    from sklearn.linear_model import LogisticRegression

    z = logits(scores)
    out = np.tile([1.0, 0.0], (scores.shape[1], 1))
    for j in range(scores.shape[1]):
        y = labels[:, j]
        if y.min() == y.max():
            continue
        fit = LogisticRegression(C=1e4, solver="lbfgs", max_iter=1000).fit(z[:, j:j + 1], y)
        scale, offset = float(fit.coef_[0, 0]), float(fit.intercept_[0])
        if scale > 0:
            out[j] = scale, offset
    return np.round(out, 6)  # as the artefact stores it, so the model in memory scores exactly the same


def calibrate(scores: FloatArray, calibration: FloatArray) -> FloatArray:
    """Probabilities the served model would give, from the raw ones (`routing.model.calibrated`)."""
    return calibrated(logits(scores), calibration)


class DecisionSimulator:
    """Recall and mean token reduction of the served rule over fixed evidence, for any miss
    budget (what fitting searches over)."""

    def __init__(self, library: ModuleLibrary, cases: Sequence[Case], scores: FloatArray, classes: Sequence[str],
                 *, mode: str = "hybrid", fallback: str | None = None) -> None:
        self.library, self.cases, self.classes, self.mode = library, list(cases), list(classes), mode
        self.fallback = fallback
        self.scores = scores
        keyword = KeywordRouter(library)
        self.evidence = [
            _served_evidence(keyword.evidence(c.query, c.history), row, self.classes, mode)
            for c, row in zip(self.cases, scores)
        ]
        self._builder = PromptBuilder(library, TokenCounter())
        self.full = self._builder.full(REPLAY_CONTEXT).tokens
        self._tokens: dict[tuple[str, ...], int] = {}

    def rule(self, budget: float, shift: float = 0.0) -> DecisionRule:
        return DecisionRule(self.library, router=self.mode, fallback=self.fallback,  # type: ignore[arg-type]
                            miss_budget=budget, shift=shift)

    def decisions(self, budget: float, shift: float = 0.0) -> list[tuple[str, ...]]:
        """The modules the rule serves each case."""
        rule = self.rule(budget, shift)
        return [rule.decide(evidence).modules for evidence in self.evidence]

    def tokens(self, modules: tuple[str, ...]) -> int:
        if modules not in self._tokens:
            self._tokens[modules] = self._builder.build(modules, REPLAY_CONTEXT).tokens
        return self._tokens[modules]

    def evaluate(self, budget: float, shift: float = 0.0) -> tuple[float, float]:
        """(recall, mean reduction) of the served decisions on every case."""
        passed, reduction = 0, 0.0
        for case, modules in zip(self.cases, self.decisions(budget, shift)):
            chosen = set(modules)
            passed += all(m in chosen for m in case.needs)
            reduction += 1 - self.tokens(modules) / self.full
        n = max(len(self.cases), 1)
        return passed / n, reduction / n


def fit_budget(sim: DecisionSimulator, target: float) -> float:
    """The miss budget with the most savings at `target` recall: a larger budget leaves more
    out, so recall falls as it grows; the largest budget on the grid that keeps the target (or,
    if none does, the smallest)."""
    chosen = BUDGETS[0]
    for budget in BUDGETS:
        recall, _ = sim.evaluate(budget)
        if recall < target:
            break
        chosen = budget
    return chosen


def fold_assignment(cases: Sequence[Case], folds: int) -> list[int]:
    """Cases of one source file share a fold, so out-of-fold scores measure how the model does
    on wording it never saw; with fewer source files than folds, cases are split one by one.
    Folds follow a hash of the file name (or case id): reproducible, order-independent."""
    sources = {c.source for c in cases}
    by_source = len(sources) >= folds
    return [zlib.crc32((Path(c.source).name if by_source else c.id).encode()) % folds for c in cases]


def per_source(sim: DecisionSimulator, budget: float) -> dict[str, dict[str, float]]:
    """Recall and mean reduction of the served decisions, per source file."""
    totals: dict[str, list[float]] = {}
    for case, modules in zip(sim.cases, sim.decisions(budget)):
        row = totals.setdefault(Path(case.source).name, [0.0, 0.0, 0.0])
        chosen = set(modules)
        row[0] += 1
        row[1] += all(m in chosen for m in case.needs)
        row[2] += 1 - sim.tokens(modules) / sim.full
    return {name: {"cases": n, "recall": passed / n, "reduction": saved / n}
            for name, (n, passed, saved) in sorted(totals.items())}


def train(library: ModuleLibrary, cases: Sequence[Case], *, target_recall: float = 0.97, folds: int = 5,
          config: FeatureConfig | None = None, c: float = 10.0) -> LearnedModel:
    config = config or FeatureConfig()
    # A class per module that has examples or is needed by some case (not e.g. `toolkit`,
    # which only ever comes in through `requires`), plus "no tools needed".
    classes = [m for m in library.tool_ids if library[m].examples or any(m in c.needs for c in cases)] + [NONE]
    base = library_examples(library, classes)
    labelled = [Example(c.query, c.history, c.needs, c.id) for c in cases]
    fold_of = fold_assignment(cases, folds)
    oof = np.zeros((len(cases), len(classes)))
    for fold in range(folds):
        held = [i for i, f in enumerate(fold_of) if f == fold]
        if not held:
            continue
        train_set = base + [ex for ex, f in zip(labelled, fold_of) if f != fold]
        vectorizer, weights, bias = fit_model(train_set, classes, config, c)
        oof[held] = score_rows([vectorizer.transform(cases[i].query, cases[i].history) for i in held], weights, bias)
    calibration = fit_calibration(oof, _labels(labelled, classes))
    oof = calibrate(oof, calibration)
    sim = DecisionSimulator(library, cases, oof, classes)
    budget = fit_budget(sim, target_recall)
    recall, reduction = sim.evaluate(budget)
    curve = [{"shift": s, "recall": r, "reduction": d} for s in SHIFTS for r, d in [sim.evaluate(budget, s)]]
    keyword_sim = DecisionSimulator(library, cases, oof, classes, mode="keyword")
    keyword_recall, keyword_reduction = keyword_sim.evaluate(0.0)
    learned_sim = DecisionSimulator(library, cases, oof, classes, mode="learned")
    learned_budget = fit_budget(learned_sim, target_recall)
    learned_recall, learned_reduction = learned_sim.evaluate(learned_budget)
    vectorizer, weights, bias = fit_model(base + labelled, classes, config, c)
    info: dict[str, Any] = {
        "technique": "one-vs-rest logistic regression (liblinear) on word 1-2-grams + char 3-5-grams, "
                     "sublinear tf-idf, L2-normalised; scores Platt-calibrated and the miss budget fitted "
                     "on out-of-fold scores, folds by source",
        "cases": len(cases), "library_examples": len(base), "folds": folds, "target_recall": target_recall,
        "sources": sorted({Path(c.source).name for c in cases}),
        "out_of_fold": {"hybrid_recall": recall, "hybrid_reduction": reduction,
                        "learned_recall": learned_recall, "learned_reduction": learned_reduction,
                        "keyword_recall": keyword_recall, "keyword_reduction": keyword_reduction},
        "out_of_fold_by_source": {"hybrid": per_source(sim, budget), "keyword": per_source(keyword_sim, 0.0)},
        "curve": curve, "c": c, "vocabulary": len(vectorizer.vocabulary),
    }
    return LearnedModel(library.version, library.name, tuple(classes), vectorizer, weights, bias, calibration,
                        {"hybrid": budget, "learned": learned_budget}, info)
