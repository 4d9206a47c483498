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
from pathlib import Path
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
from ..routing.features import FloatArray
from ..routing.model import score_rows
from ..tokens import TokenCounter
from .logistic import train_logistic

GRID = (0.002, 0.005, 0.01, *(round(float(x), 3) for x in np.linspace(0.02, 0.98, 49)), NEVER)


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


def _served_evidence(keyword: Evidence, scores: FloatArray, classes: Sequence[str], hybrid: bool) -> Evidence:
    """The evidence the served router gathers for a case, with out-of-fold scores."""
    values = tuple(zip(classes, map(float, scores)))
    if hybrid:
        return Evidence(keyword.hits, values, keyword.matched_triggers, keyword.small_talk)
    return Evidence((), values, (), keyword.small_talk)


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
            _served_evidence(keyword.evidence(c.query, c.history), row, self.classes, mode == "hybrid")
            for c, row in zip(self.cases, scores)
        ]
        self._hit_keys = [(frozenset(m for m, _ in e.hits), e.small_talk) for e in self.evidence]
        self._builder = PromptBuilder(library, TokenCounter())
        self.full = self._builder.full(REPLAY_CONTEXT).tokens
        self._tokens: dict[tuple[str, ...], int] = {}
        self._modules: dict[tuple[tuple[frozenset[str], bool], bytes], tuple[str, ...]] = {}
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


def _search(sim: DecisionSimulator, target: float, start: dict[str, float], passes: int) -> dict[str, float]:
    """Coordinate search over a grid from `start`: for each parameter in turn, the value
    with the most savings that keeps recall at or above `target` (or the most recall while
    short of it), until nothing changes."""
    thresholds = dict(start)
    for _ in range(passes):
        changed = False
        for cls in sim.parameters:  # the no-tools judgement first: it is the biggest lever
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


def fit_thresholds(sim: DecisionSimulator, target: float, passes: int = 4) -> dict[str, float]:
    """Thresholds with the most savings at `target` recall (or the most recall if it cannot
    be met): coordinate search from three starting points (keyword-only, cautious, eager),
    keeping the best result, since one search can stop short of the target."""
    starts = (
        {**dict.fromkeys(sim.classes, NEVER), PLACE: DEFAULT_PLACE},
        {**dict.fromkeys(sim.classes, 0.1), PLACE: 0.8},
        {**dict.fromkeys(sim.classes, 0.5), PLACE: DEFAULT_PLACE},
    )
    best: tuple[bool, float] | None = None
    chosen: dict[str, float] = dict(starts[0])
    for start in starts:
        thresholds = _search(sim, target, start, passes)
        recall, reduction = sim.evaluate(thresholds)
        key = (recall >= target, reduction if recall >= target else recall)
        if best is None or key > best:
            best, chosen = key, thresholds
    return chosen


def fold_assignment(cases: Sequence[Case], folds: int) -> list[int]:
    """Cases of one source file share a fold, so out-of-fold scores measure how the model does
    on wording it never saw; with fewer source files than folds, cases are split one by one.
    Folds follow a hash of the file name (or case id): reproducible, order-independent."""
    sources = {c.source for c in cases}
    by_source = len(sources) >= folds
    return [zlib.crc32((Path(c.source).name if by_source else c.id).encode()) % folds for c in cases]


def per_source(sim: DecisionSimulator, thresholds: dict[str, float]) -> dict[str, dict[str, float]]:
    """Recall and mean reduction of the served decisions, per source file."""
    totals: dict[str, list[float]] = {}
    for case, modules in zip(sim.cases, sim.decisions(thresholds)):
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
    sim = DecisionSimulator(library, cases, oof, classes)
    thresholds = fit_thresholds(sim, target_recall)
    recall, reduction = sim.evaluate(thresholds)
    curve = [{"shift": s, "recall": r, "reduction": d} for s in SHIFTS for r, d in [sim.evaluate(thresholds, s)]]
    keyword = dict.fromkeys(classes, NEVER)
    keyword_recall, keyword_reduction = sim.evaluate(keyword)
    learned_sim = DecisionSimulator(library, cases, oof, classes, mode="learned")
    learned_thresholds = fit_thresholds(learned_sim, target_recall)
    learned_recall, learned_reduction = learned_sim.evaluate(learned_thresholds)
    vectorizer, weights, bias = fit_model(base + labelled, classes, config, c)
    info: dict[str, Any] = {
        "technique": "one-vs-rest logistic regression (liblinear) on word 1-2-grams + char 3-5-grams, "
                     "sublinear tf-idf, L2-normalised; thresholds fitted on out-of-fold scores, folds by source",
        "cases": len(cases), "library_examples": len(base), "folds": folds, "target_recall": target_recall,
        "sources": sorted({Path(c.source).name for c in cases}),
        "out_of_fold": {"hybrid_recall": recall, "hybrid_reduction": reduction,
                        "learned_recall": learned_recall, "learned_reduction": learned_reduction,
                        "keyword_recall": keyword_recall, "keyword_reduction": keyword_reduction},
        "out_of_fold_by_source": {"hybrid": per_source(sim, thresholds), "keyword": per_source(sim, keyword)},
        "curve": curve, "c": c, "vocabulary": len(vectorizer.vocabulary),
    }
    return LearnedModel(library.version, library.name, tuple(classes), vectorizer, weights, bias,
                        {"hybrid": thresholds, "learned": learned_thresholds}, info)
