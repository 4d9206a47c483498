"""Replaying labelled cases through two configurations (arms) and aggregating the figures.

Aggregation is streaming: per-case results are folded into counters as they come, latency
percentiles come from a fixed-size reservoir sample, and only the first failing cases are
kept verbatim, so a million-case file runs in flat memory.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..pipeline import PromptRouter
from ..routing import KeywordRouter, LearnedRouter, RoutingDecision
from .cases import REPLAY_CONTEXT, Case

MAX_FAILURES_KEPT = 1000
# Points of the recall-vs-savings curve (shifts of the miss budget; 0 is the fitted operating point).
SHIFTS = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class Arm:
    """One configuration under test: a router (library, fallback, strategy) and its mode."""

    label: str
    router: PromptRouter
    dynamic: bool

    @property
    def description(self) -> dict[str, Any]:
        library = self.router.library
        router = self.router.router
        out: dict[str, Any] = {
            "label": self.label,
            "mode": "dynamic" if self.dynamic else "static (full prompt)",
            "library": library.name,
            "library_dir": library.root,
            "library_version": library.version,
            "router": router.name if self.dynamic else "static",
            "fallback": (router.rule.fallback_mode if isinstance(router, (LearnedRouter, KeywordRouter))
                         else library.fallback) if self.dynamic else None,
        }
        if self.dynamic and isinstance(router, LearnedRouter):
            out["learned_model"] = {"trained_cases": router.model.info.get("cases"),
                                    "target_recall": router.model.info.get("target_recall"),
                                    "threshold_shift": router.shift}
        return out


@dataclass(frozen=True)
class Outcome:
    """What one arm did with one case."""

    tokens: int
    decision: RoutingDecision
    missing: tuple[str, ...]
    wasted_tokens: int
    latency_us: float

    @property
    def passed(self) -> bool:
        return not self.missing

    @property
    def modules(self) -> tuple[str, ...]:
        return self.decision.modules

    @property
    def fallback(self) -> bool:
        return self.decision.fallback


def run_case(arm: Arm, case: Case) -> Outcome:
    router = arm.router
    start = time.perf_counter()
    result = router.system_prompt(case.query, history=case.history, context=REPLAY_CONTEXT, dynamic=arm.dynamic)
    latency = (time.perf_counter() - start) * 1e6
    selected = set(result.decision.modules)
    missing = tuple(m for m in case.needs if m not in selected)
    library = router.library
    useful = set(case.needs).union(*(library.closure.get(m, ()) for m in case.needs))
    wasted = sum(
        router.builder.module_tokens(m, REPLAY_CONTEXT) for m in result.decision.modules if m in library.tool_ids and m not in useful
    )
    return Outcome(result.prompt.tokens, result.decision, missing, wasted, latency)


class Reservoir:
    """A uniform sample of at most `size` items from a stream (Algorithm R, seeded)."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size, self.seen = size, 0
        self.items: list[Any] = []
        self._rng = random.Random(seed)

    def add(self, item: Any) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(item)
        else:
            slot = self._rng.randrange(self.seen)
            if slot < self.size:
                self.items[slot] = item


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def counter_quantile(counter: Counter[int], q: float) -> float:
    total = sum(counter.values())
    if not total:
        return 0.0
    target, running = q * (total - 1), 0
    for value in sorted(counter):
        running += counter[value]
        if running > target:
            return float(value)
    return float(max(counter))


@dataclass
class ArmStats:
    """Streaming figures for one arm over one group of cases."""

    cases: int = 0
    passed: int = 0
    fallbacks: int = 0
    tokens: Counter[int] = field(default_factory=Counter)
    wasted_tokens: int = 0
    latency: Reservoir = field(default_factory=lambda: Reservoir(20_000, seed=7))

    def add(self, outcome: Outcome) -> None:
        self.cases += 1
        self.passed += outcome.passed
        self.fallbacks += outcome.fallback
        self.tokens[outcome.tokens] += 1
        self.wasted_tokens += outcome.wasted_tokens
        self.latency.add(outcome.latency_us)

    def summary(self) -> dict[str, Any]:
        n = max(self.cases, 1)
        total_tokens = sum(t * c for t, c in self.tokens.items())
        ordered = sorted(self.latency.items)
        return {
            "cases": self.cases,
            "recall": self.passed / n,
            "passed": self.passed,
            "failed": self.cases - self.passed,
            "fallback_rate": self.fallbacks / n,
            "tokens_mean": total_tokens / n,
            "tokens_median": counter_quantile(self.tokens, 0.5),
            "tokens_p90": counter_quantile(self.tokens, 0.9),
            "wasted_tokens_mean": self.wasted_tokens / n,
            "wasted_share": self.wasted_tokens / total_tokens if total_tokens else 0.0,
            "latency_us": {"p50": percentile(ordered, 0.5), "p95": percentile(ordered, 0.95), "p99": percentile(ordered, 0.99)},
        }


@dataclass
class GroupStats:
    """Both arms over one group (a case file, a category, or everything)."""

    a: ArmStats = field(default_factory=ArmStats)
    b: ArmStats = field(default_factory=ArmStats)
    reductions: Counter[int] = field(default_factory=Counter)  # reduction in 0.1% steps -> cases
    saved_tokens: int = 0

    def add(self, a: Outcome, b: Outcome) -> None:
        self.a.add(a)
        self.b.add(b)
        reduction = 1 - b.tokens / a.tokens if a.tokens else 0.0
        self.reductions[round(reduction * 1000)] += 1
        self.saved_tokens += a.tokens - b.tokens

    def summary(self) -> dict[str, Any]:
        n = max(self.a.cases, 1)
        total = sum(self.reductions.values())
        mean = sum(k * c for k, c in self.reductions.items()) / 1000 / total if total else 0.0
        return {
            "cases": self.a.cases,
            "a": self.a.summary(),
            "b": self.b.summary(),
            "reduction_mean": mean,
            "reduction_median": counter_quantile(self.reductions, 0.5) / 1000,
            "reduction_p10": counter_quantile(self.reductions, 0.1) / 1000,
            "tokens_saved_per_request": self.saved_tokens / n,
        }


@dataclass
class ModuleStats:
    needed: int = 0
    selected_when_needed: int = 0
    selected: int = 0


@dataclass
class ABRun:
    """Everything the report needs, accumulated over the stream."""

    arm_a: Arm
    arm_b: Arm
    overall: GroupStats = field(default_factory=GroupStats)
    by_set: dict[str, GroupStats] = field(default_factory=dict)
    by_category: dict[str, GroupStats] = field(default_factory=dict)
    by_set_category: dict[tuple[str, str], GroupStats] = field(default_factory=dict)
    modules_b: dict[str, ModuleStats] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)
    failure_count: int = 0
    sample: Reservoir = field(default_factory=lambda: Reservoir(5000, seed=11))
    seconds: float = 0.0

    def add(self, case: Case, a: Outcome, b: Outcome) -> None:
        self.overall.add(a, b)
        self.by_set.setdefault(case.source, GroupStats()).add(a, b)
        self.by_category.setdefault(case.category, GroupStats()).add(a, b)
        self.by_set_category.setdefault((case.source, case.category), GroupStats()).add(a, b)
        chosen = set(b.modules)
        for module in self.arm_b.router.library.tool_ids:
            stats = self.modules_b.setdefault(module, ModuleStats())
            stats.selected += module in chosen
            if module in case.needs:
                stats.needed += 1
                stats.selected_when_needed += module in chosen
        self.sample.add(case)
        if not b.passed:
            self.failure_count += 1
            if len(self.failures) < MAX_FAILURES_KEPT:
                self.failures.append(self._failure(case, b))

    def _failure(self, case: Case, outcome: Outcome) -> dict[str, Any]:
        decision = outcome.decision  # the decision the case was actually served with
        reasons = {m: str(decision.reasons[m]) for m in decision.tool_modules}
        return {
            "id": case.id,
            "where": f"{case.source}:{case.line}",
            "category": case.category,
            "query": case.query,
            "history": list(case.history),
            "needs": list(case.needs),
            "missing": list(outcome.missing),
            "selected": [m for m in outcome.modules if m in self.arm_b.router.library.tool_ids],
            "why": reasons or {"(none)": "fallback: no trigger matched" if decision.fallback
                               else "model: every tool module fits in the miss budget (no tools needed)" if decision.no_tools
                               else "no trigger matched"},
        }


def run_ab(
    cases: Iterable[Case],
    arm_a: Arm,
    arm_b: Arm,
    progress: Callable[[Case], None] | None = None,
) -> ABRun:
    run = ABRun(arm_a, arm_b)
    start = time.perf_counter()
    for case in cases:
        a, b = run_case(arm_a, case), run_case(arm_b, case)
        run.add(case, a, b)
        if progress is not None:
            progress(case)
    run.seconds = time.perf_counter() - start
    return run


def recall_reduction_curve(sample: list[Case], arm_a: Arm, arm_b: Arm) -> list[dict[str, Any]]:
    """For a learned/hybrid arm B: recall and mean reduction at each shift (the
    recall-vs-savings knob), on the sampled cases; shift 0 is the fitted operating point."""
    router = arm_b.router.router
    if not arm_b.dynamic or not isinstance(router, LearnedRouter):
        return []
    points = []
    for shift in SHIFTS:
        shifted = PromptRouter(arm_b.router.library, router=router.with_shift(router.shift + shift),
                               settings=arm_b.router.settings)
        stats = GroupStats()
        for case in sample:
            stats.add(run_case(arm_a, case), run_case(Arm("B", shifted, True), case))
        summary = stats.summary()
        points.append({"shift": router.shift + shift, "recall": summary["b"]["recall"],
                       "reduction": summary["reduction_mean"], "operating_point": shift == 0.0})
    return points
