"""Decisions, and the one rule that makes them.

A router only gathers *evidence* for a request: which keyword triggers fired (in the query or
in earlier turns) and, for learned routers, a score per module and for "no tools needed".
`DecisionRule.decide` turns evidence into a `RoutingDecision`, and it is the only code that
does: model thresholds (with the recall-vs-savings shift), the no-tools judgement, thread
stickiness, the fallback, the `requires` closure and the always-sent modules all live here.
The keyword, learned and hybrid routers call it per request, and training calls it to fit
thresholds, so fitted thresholds describe exactly what is served.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..library import FallbackMode, ModuleLibrary

ReasonKind = Literal["always", "trigger", "history", "required", "fallback", "static", "sticky", "model"]
NONE = "(no tools)"  # the learned model's extra class: the request needs no tool module
# Not a class: the score a module needs to place a request on its own. Below it (and with no
# trigger), a module the model adds does not cancel the safe fallback.
PLACE = "(place)"
DEFAULT_PLACE = 0.5
NEVER = 1.01  # a threshold no score reaches
_T = TypeVar("_T")


@dataclass(frozen=True)
class ModuleReason:
    """Why one module is in the prompt."""

    kind: ReasonKind
    trigger: str | None = None
    required_by: str | None = None
    score: float | None = None  # learned routers: the module's score and threshold
    threshold: float | None = None

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
            return f"model score {self.score or 0.0:.2f} >= threshold {self.threshold or 0.0:.2f}"
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
    scores: Mapping[str, float] = field(default_factory=dict)  # learned routers: every class's score
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
    probabilities per class, `NONE` included."""

    hits: tuple[tuple[str, ModuleReason], ...] = ()
    scores: tuple[tuple[str, float], ...] = ()
    matched_triggers: tuple[str, ...] = ()
    small_talk: bool = False  # the message is only the library's small-talk words


def recent_turns(history: Sequence[_T], turns: int) -> tuple[_T, ...]:
    """The last `turns` earlier turns (oldest first): the only history any router reads."""
    return tuple(history[-turns:]) if turns > 0 and history else ()


def shift_threshold(threshold: float, shift: float) -> float:
    """Move a threshold in logit space by `shift` (positive = lower = more recall)."""
    if shift == 0.0 or threshold >= 1.0 or threshold <= 0.0:
        return threshold  # exactly as fitted
    logit = math.log(threshold / (1 - threshold)) - shift
    return 1 / (1 + math.exp(-logit))


def shifted_thresholds(thresholds: Mapping[str, float], shift: float) -> dict[str, float]:
    """Per-class thresholds at another point of the recall-vs-savings curve: a positive shift
    lowers module thresholds and raises the no-tools and placement thresholds, so all three
    add recall."""
    return {c: shift_threshold(t, -shift if c in (NONE, PLACE) else shift) for c, t in thresholds.items()}


_STICKY = ModuleReason("sticky")
_FALLBACK = ModuleReason("fallback")


class DecisionRule:
    """Evidence (+ a thread's kept modules) -> RoutingDecision, for one library and one
    configuration. Immutable after construction; `decide` is pure."""

    def __init__(
        self,
        library: ModuleLibrary,
        *,
        router: str,
        fallback: FallbackMode | None = None,
        thresholds: Mapping[str, float] | None = None,
        shift: float = 0.0,
    ) -> None:
        self.library = library
        self.router = router
        self.fallback_mode: FallbackMode = fallback or library.fallback
        self.fitted_thresholds = {PLACE: DEFAULT_PLACE, **(thresholds or {})}
        self.shift = shift
        self.thresholds = shifted_thresholds(self.fitted_thresholds, shift)
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
                            thresholds=self.fitted_thresholds, shift=shift)

    def decide(self, evidence: Evidence, sticky: Collection[str] = ()) -> RoutingDecision:
        """The decision for `evidence`, in this order:

        1. every keyword match is kept;
        2. the model adds each module scoring at or above its threshold;
        3. a request is *placed* by a keyword match, by a model module scoring at or above the
           placement threshold, or by the thread's kept modules (stickiness); a module below
           it never cancels the fallback on its own;
        4. "no tools needed" applies only when nothing at all was claimed: a message that is
           only small talk (greetings, thanks, acknowledgements) needs no tools whatever the
           model scores; otherwise the model's no-tools judgement decides;
        5. otherwise an unplaced request gets the fallback (the full prompt, or core);
        6. then the `requires` closure and the always-sent modules."""
        selected: dict[str, ModuleReason] = dict(evidence.hits)
        placed = bool(selected)
        thresholds = self.thresholds
        no_tools = small_talk = evidence.small_talk and not selected
        if evidence.scores and not small_talk:
            place = thresholds[PLACE]
            for module, score in evidence.scores:
                if module != NONE and module not in selected and score >= thresholds.get(module, NEVER):
                    selected[module] = ModuleReason("model", score=round(score, 4), threshold=round(thresholds[module], 4))
                    placed = placed or score >= place
            # "No tools" is a judgement about a request nothing else claimed: a trigger or a
            # module clearing its own threshold always wins over it.
            if not selected:
                no_tools = dict(evidence.scores).get(NONE, 0.0) >= thresholds.get(NONE, NEVER)
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
