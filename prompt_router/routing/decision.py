"""Decisions, and the one rule that makes them.

A router only gathers *evidence* for a request: which keyword triggers fired (in the query or
in earlier turns) and, for learned routers, a calibrated probability per module that the
request needs it. `DecisionRule.decide` turns evidence into a `RoutingDecision`, and it is the
only code that does: the miss budget (with the recall-vs-savings shift), small talk, thread
stickiness, the fallback, the `requires` closure and the always-sent modules all live here.
The keyword, learned and hybrid routers call it per request, and training calls it to fit the
budget, so the recall and savings fitted there are those of the decisions served.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..library import FallbackMode, ModuleLibrary

ReasonKind = Literal["always", "trigger", "history", "required", "fallback", "static", "sticky", "model"]
NONE = "(no tools)"  # the learned model's extra class: the request needs no tool module
_T = TypeVar("_T")


@dataclass(frozen=True)
class ModuleReason:
    """Why one module is in the prompt."""

    kind: ReasonKind
    trigger: str | None = None
    required_by: str | None = None
    score: float | None = None  # learned routers: the module's calibrated probability

    def __str__(self) -> str:
        if self.kind == "trigger":
            return f"trigger {self.trigger!r}"
        if self.kind == "history":
            return f"trigger {self.trigger!r} in an earlier turn"
        if self.kind == "required":
            return f"required by {self.required_by}"
        if self.kind == "fallback":
            return "fallback: no tool trigger matched"
        if self.kind == "static":
            return "static mode: full prompt"
        if self.kind == "sticky":
            return "kept from an earlier turn of this thread"
        if self.kind == "model":
            return f"model probability {self.score or 0.0:.2f}: leaving it out would exceed the miss budget"
        return "always sent"


@dataclass(frozen=True)
class RoutingDecision:
    """The modules a query gets, in canonical order, with a reason for each.

    `matched_triggers` are trigger texts from the library (never user text), safe to log."""

    modules: tuple[str, ...]
    reasons: Mapping[str, ModuleReason]
    fallback: bool
    library_version: str
    router: str
    matched_triggers: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)  # learned routers: every class's probability
    no_tools: bool = False  # judged to need no tool module (by the model, or as small talk)
    small_talk: bool = False  # ... because the message is only small talk

    @property
    def tool_modules(self) -> tuple[str, ...]:
        return tuple(m for m in self.modules if self.reasons[m].kind != "always")

    @property
    def kept_modules(self) -> frozenset[str]:
        """The tool modules a thread keeps from this decision (stickiness): fallback and static
        picks are a one-request safety net, not what the thread is about."""
        return frozenset(m for m in self.tool_modules if self.reasons[m].kind not in ("fallback", "static"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "modules": list(self.modules),
            "reasons": {m: str(self.reasons[m]) for m in self.modules},
            "fallback": self.fallback,
            "matched_triggers": list(self.matched_triggers),
            "router": self.router,
            "library_version": self.library_version,
            **({"scores": {k: round(v, 4) for k, v in self.scores.items()}} if self.scores else {}),
            **({"no_tools": self.no_tools} if self.scores or self.no_tools else {}),
            **({"small_talk": True} if self.small_talk else {}),
        }


@dataclass(frozen=True)
class Evidence:
    """What a router found for one request, before any rule is applied. Hashable, so a
    decision can be cached by its evidence.

    `hits` are keyword matches, one per module, the query's before earlier turns' (so a
    module's reason names the most relevant trigger). `scores` are a learned model's
    calibrated probabilities per class, `NONE` included."""

    hits: tuple[tuple[str, ModuleReason], ...] = ()
    scores: tuple[tuple[str, float], ...] = ()
    matched_triggers: tuple[str, ...] = ()
    small_talk: bool = False  # the message is only the library's small-talk words


def recent_turns(history: Sequence[_T], turns: int) -> tuple[_T, ...]:
    """The last `turns` earlier turns (oldest first): the only history any router reads."""
    return tuple(history[-turns:]) if turns > 0 and history else ()


def shift_budget(budget: float, shift: float) -> float:
    """The miss budget at another point of the recall-vs-savings curve: a positive shift
    shrinks it (more recall, smaller savings), each unit by a factor e."""
    return budget * math.exp(-shift)


_STICKY = ModuleReason("sticky")
_FALLBACK = ModuleReason("fallback")


class DecisionRule:
    """Evidence (+ a thread's kept modules) -> RoutingDecision, for one library and one
    configuration. Immutable after construction; `decide` is pure.

    `miss_budget` is what a learned router may risk per request: the expected number of needed
    modules left out, summed from the model's calibrated probabilities. Training fits it to
    the recall target; `shift` moves it (positive = smaller budget = more recall)."""

    def __init__(
        self,
        library: ModuleLibrary,
        *,
        router: str,
        fallback: FallbackMode | None = None,
        miss_budget: float = 0.0,
        shift: float = 0.0,
    ) -> None:
        if not (math.isfinite(miss_budget) and miss_budget >= 0):
            raise ValueError(f"miss_budget must be a finite number >= 0, not {miss_budget!r}")
        self.library = library
        self.router = router
        self.fallback_mode: FallbackMode = fallback or library.fallback
        self.fitted_budget = miss_budget
        self.shift = shift
        self.miss_budget = shift_budget(miss_budget, shift)
        self._tool_ids = frozenset(library.tool_ids)
        self._always = {m: ModuleReason("always") for m in library.always_ids}
        self._required = {
            (dep, module_id): ModuleReason("required", required_by=module_id)
            for module_id, deps in library.closure.items()
            for dep in deps
        }
        self._fallback = dict.fromkeys(library.tool_ids, _FALLBACK) if self.fallback_mode == "all" else {}

    def with_shift(self, shift: float) -> DecisionRule:
        """The same rule at another point of the recall-vs-savings curve."""
        return DecisionRule(self.library, router=self.router, fallback=self.fallback_mode,
                            miss_budget=self.fitted_budget, shift=shift)

    def _model_picks(self, scores: Sequence[tuple[str, float]], selected: Mapping[str, ModuleReason]) -> list[tuple[str, float]]:
        """The scored modules not yet selected that the budget cannot leave out: the least
        likely are left out, in order, while their summed probability stays within it."""
        candidates = sorted((p, m) for m, p in scores if m != NONE and m not in selected)
        risk, budget = 0.0, self.miss_budget
        for i, (p, _) in enumerate(candidates):
            risk += p
            if risk > budget:
                return [(m, q) for q, m in reversed(candidates[i:])]
        return []

    def decide(self, evidence: Evidence, sticky: Collection[str] = ()) -> RoutingDecision:
        """The decision for `evidence`, in this order:

        1. every keyword match is kept;
        2. a message that is only small talk (greetings, thanks, acknowledgements) adds nothing
           more, and if nothing matched it needs no tools;
        3. otherwise a learned model adds every module the miss budget cannot leave out: the
           least likely modules are left out while the sum of their probabilities (the expected
           number of needed modules missed) stays within the budget. A request with no
           trigger for which the model can leave nothing out is one it cannot place;
        4. the thread's kept modules are added (stickiness), and place the request;
        5. an unplaced request gets the fallback (the full prompt, or core): for the keyword
           router, any request no trigger matched;
        6. then the `requires` closure and the always-sent modules."""
        selected: dict[str, ModuleReason] = dict(evidence.hits)
        placed = bool(selected)
        small_talk = evidence.small_talk and not selected
        no_tools = small_talk
        # Small talk ("thanks!") brings in nothing new: the model, which also reads earlier
        # turns, is not asked; modules come only from triggers and the thread.
        if evidence.scores and not evidence.small_talk:
            picks = self._model_picks(evidence.scores, selected)
            for module, p in picks:
                selected[module] = ModuleReason("model", score=round(p, 4))
            scored = sum(1 for m, _ in evidence.scores if m != NONE)
            placed = placed or len(picks) < scored
            no_tools = not selected
        kept = [m for m in sticky if m in self._tool_ids and m not in selected]
        if kept:
            # The thread's modules are better context than "everything" or "nothing".
            for module_id in sorted(kept):
                selected[module_id] = _STICKY
            placed, no_tools, small_talk = True, False, False
        fallback = not placed and not no_tools
        if fallback:
            selected.update(self._fallback)
        closure, required = self.library.closure, self._required
        for module_id in list(selected):
            for dep in closure.get(module_id, ()):
                if dep not in selected:
                    selected[dep] = required[dep, module_id]
        reasons = {**self._always, **selected}
        return RoutingDecision(
            modules=self.library.canonical(reasons),
            reasons=reasons,
            fallback=fallback,
            library_version=self.library.version,
            router=self.router,
            matched_triggers=evidence.matched_triggers,
            scores={k: round(v, 4) for k, v in evidence.scores},
            no_tools=no_tools,
            small_talk=small_talk,
        )


def static_decision(library: ModuleLibrary) -> RoutingDecision:
    """The decision behind the full prompt: every module."""
    reasons = {m.id: ModuleReason("always" if m.group != "tools" else "static") for m in library.modules}
    return RoutingDecision(library.ids, reasons, False, library.version, "static")


def first_reasons(pairs: Iterable[tuple[str, ModuleReason]]) -> tuple[tuple[str, ModuleReason], ...]:
    """One (module, reason) per module: the first one given."""
    seen: dict[str, ModuleReason] = {}
    for module, reason in pairs:
        seen.setdefault(module, reason)
    return tuple(seen.items())
