"""Training: library examples + labelled cases -> a LearnedModel whose per-class thresholds
meet a recall target on out-of-fold predictions while saving as many tokens as possible.

Thresholds are fitted through the served decision rule (`routing.DecisionRule`) on the
served evidence (the real keyword router's matches plus out-of-fold scores), so the recall and
savings fitted here are those of the decisions the router makes. Cases are split into folds
by a hash of their id, so the split is reproducible."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..builder import PromptBuilder
from ..evaluation.cases import REPLAY_CONTEXT, Case
from ..evaluation.runner import SHIFTS
from ..library import ModuleLibrary
from ..routing import (
    DEFAULT_PLACE,
    NEVER,
    NONE,
    PLACE,
    DecisionRule,
    Evidence,
    FeatureConfig,
    KeywordRouter,
    LearnedModel,
    Vectorizer,
    features,
)
from ..routing.model import FloatArray, score_rows
from ..tokens import TokenCounter
from .logistic import train_logistic

GRID = tuple(round(float(x), 3) for x in np.linspace(0.02, 0.98, 49)) + (NEVER,)


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


def fit_model(examples: Sequence[Example], classes: list[str], config: FeatureConfig, l2: float,
              iterations: int) -> tuple[Vectorizer, FloatArray, FloatArray]:
    documents = [features(ex.query, ex.history, config) for ex in examples]
    vectorizer = Vectorizer.fit(documents, config)
    rows = [vectorizer.row(doc) for doc in documents]
    weights, bias = train_logistic(rows, _labels(examples, classes), len(vectorizer.vocabulary), l2=l2,
                                   iterations=iterations)
    return vectorizer, weights, bias


class DecisionSimulator:
    """Recall and mean token reduction of the served rule over fixed evidence, for many
    threshold settings (what fitting searches over)."""

    def __init__(self, library: ModuleLibrary, cases: Sequence[Case], scores: FloatArray, classes: Sequence[str],
                 *, mode: str = "hybrid", fallback: str | None = None) -> None:
        self.library, self.cases, self.classes, self.mode = library, list(cases), list(classes), mode
        self.fallback = fallback
        self.scores = scores
        keyword = KeywordRouter(library)
        self.evidence = [
            Evidence(keyword.evidence(c.query, c.history).hits if mode == "hybrid" else (),
                     tuple(zip(self.classes, map(float, row))))
            for c, row in zip(self.cases, scores)
        ]
        self._hit_keys = [frozenset(m for m, _ in e.hits) for e in self.evidence]
        self._builder = PromptBuilder(library, TokenCounter())
        self.full = self._builder.full(REPLAY_CONTEXT).tokens
        self._tokens: dict[tuple[str, ...], int] = {}
        self._modules: dict[tuple[frozenset[str], bytes], tuple[str, ...]] = {}
        self.parameters = [NONE, PLACE, *(c for c in self.classes if c != NONE)]  # what fitting searches

    def rule(self, thresholds: dict[str, float], shift: float = 0.0) -> DecisionRule:
        return DecisionRule(self.library, router=self.mode, fallback=self.fallback,  # type: ignore[arg-type]
                            thresholds=thresholds, shift=shift)

    def decisions(self, thresholds: dict[str, float], shift: float = 0.0) -> list[tuple[str, ...]]:
        """The modules the rule serves each case. Decisions depend only on which modules
        matched and which classes cleared their thresholds, so they are memoised by that."""
        rule = self.rule(thresholds, shift)
        limits = np.array([rule.thresholds.get(c, NEVER) for c in self.classes])
        passing = self.scores >= limits
        confident = self.scores >= rule.thresholds[PLACE]
        out = []
        for i, evidence in enumerate(self.evidence):
            key = (self._hit_keys[i], passing[i].tobytes() + confident[i].tobytes())
            modules = self._modules.get(key)
            if modules is None:
                modules = self._modules[key] = rule.decide(evidence).modules
            out.append(modules)
        return out

    def tokens(self, modules: tuple[str, ...]) -> int:
        if modules not in self._tokens:
            self._tokens[modules] = self._builder.build(modules, REPLAY_CONTEXT).tokens
        return self._tokens[modules]

    def evaluate(self, thresholds: dict[str, float], shift: float = 0.0) -> tuple[float, float]:
        """(recall, mean reduction) of the served decisions on every case."""
        passed, reduction = 0, 0.0
        for case, modules in zip(self.cases, self.decisions(thresholds, shift)):
            chosen = set(modules)
            passed += all(m in chosen for m in case.needs)
            reduction += 1 - self.tokens(modules) / self.full
        n = max(len(self.cases), 1)
        return passed / n, reduction / n


def fit_thresholds(sim: DecisionSimulator, target: float, passes: int = 4) -> dict[str, float]:
    """Coordinate search over a grid: for each class in turn, the threshold with the most
    savings that keeps recall at or above `target` (or the most recall if none does)."""
    thresholds = {**dict.fromkeys(sim.classes, NEVER), PLACE: DEFAULT_PLACE}  # start from keyword-only + fallback
    order = sim.parameters
    for _ in range(passes):
        changed = False
        for cls in order:
            best_key: tuple[bool, float, float] | None = None
            best_value = thresholds[cls]
            for value in GRID:
                recall, reduction = sim.evaluate({**thresholds, cls: value})
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
        held = [i for i, f in enumerate(fold_of) if f == fold]
        if not held:
            continue
        train_set = base + [ex for ex, f in zip(labelled, fold_of) if f != fold]
        vectorizer, weights, bias = fit_model(train_set, classes, config, l2, iterations)
        oof[held] = score_rows([vectorizer.transform(cases[i].query, cases[i].history) for i in held], weights, bias)
    sim = DecisionSimulator(library, cases, oof, classes)
    thresholds = fit_thresholds(sim, target_recall)
    recall, reduction = sim.evaluate(thresholds)
    curve = [{"shift": s, "recall": r, "reduction": d} for s in SHIFTS for r, d in [sim.evaluate(thresholds, s)]]
    keyword_recall, keyword_reduction = sim.evaluate(dict.fromkeys(classes, NEVER))
    learned_sim = DecisionSimulator(library, cases, oof, classes, mode="learned")
    learned_thresholds = fit_thresholds(learned_sim, target_recall)
    learned_recall, learned_reduction = learned_sim.evaluate(learned_thresholds)
    vectorizer, weights, bias = fit_model(base + labelled, classes, config, l2, iterations)
    info: dict[str, Any] = {
        "technique": "one-vs-rest logistic regression on word 1-2-grams + char 3-5-grams (binary, L2-normalised)",
        "cases": len(cases), "library_examples": len(base), "folds": folds, "target_recall": target_recall,
        "out_of_fold": {"hybrid_recall": recall, "hybrid_reduction": reduction,
                        "learned_recall": learned_recall, "learned_reduction": learned_reduction,
                        "keyword_recall": keyword_recall, "keyword_reduction": keyword_reduction},
        "curve": curve, "l2": l2, "iterations": iterations, "vocabulary": len(vectorizer.vocabulary),
    }
    return LearnedModel(library.version, library.name, tuple(classes), vectorizer, weights, bias,
                        {"hybrid": thresholds, "learned": learned_thresholds}, info)
