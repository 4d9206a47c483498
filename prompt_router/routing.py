"""Routing: a user query (and optionally earlier turns) -> which modules, and why."""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from .library import FallbackMode, ModuleLibrary
from .normalize import clip

ReasonKind = Literal["always", "trigger", "history", "required", "fallback", "static", "sticky", "model"]


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
            return f"model score {self.score:.2f} >= threshold {self.threshold:.2f}"
        return "always sent"


@dataclass(frozen=True)
class RoutingDecision:
    """The modules a query gets, in canonical order, with a reason for each.

    `matched_triggers` are trigger texts from the library (never user text), safe to log.
    A decision depends only on which triggers fired, so equal decisions are shared."""

    modules: tuple[str, ...]
    reasons: Mapping[str, ModuleReason]
    fallback: bool
    library_version: str
    router: str
    matched_triggers: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)  # learned routers: every class's score
    no_tools: bool = False  # a learned router judged that the request needs no tool module

    @property
    def tool_modules(self) -> tuple[str, ...]:
        return tuple(m for m in self.modules if self.reasons[m].kind != "always")

    def to_dict(self) -> dict[str, Any]:
        return {
            "modules": list(self.modules),
            "reasons": {m: str(self.reasons[m]) for m in self.modules},
            "fallback": self.fallback,
            "matched_triggers": list(self.matched_triggers),
            "router": self.router,
            "library_version": self.library_version,
            **({"scores": {k: round(v, 4) for k, v in self.scores.items()}, "no_tools": self.no_tools} if self.scores else {}),
        }


class Router(Protocol):
    """Anything that turns a query into a RoutingDecision for a given library."""

    name: str
    library: ModuleLibrary

    def route(self, query: str, history: Sequence[str] = ()) -> RoutingDecision: ...


_STICKY = ModuleReason("sticky")


def with_sticky(decision: RoutingDecision, kept: Collection[str], library: ModuleLibrary) -> RoutingDecision:
    """`decision` plus the tool modules a thread already used. A fallback is replaced by the
    thread's modules: the conversation is better context than "everything" or "nothing"."""
    kept = [m for m in kept if m in library]
    if not kept:
        return decision
    if decision.fallback:
        reasons = {m: r for m, r in decision.reasons.items() if r.kind == "always"}
    else:
        reasons = dict(decision.reasons)
    for module_id in kept:
        reasons.setdefault(module_id, _STICKY)
    return replace(decision, modules=library.canonical(reasons), reasons=reasons, fallback=False, no_tools=False)


def static_decision(library: ModuleLibrary) -> RoutingDecision:
    """The decision behind the full prompt: every module."""
    reasons = {m.id: ModuleReason("always" if m.group != "tools" else "static") for m in library.modules}
    return RoutingDecision(library.ids, reasons, False, library.version, "static")


class KeywordRouter:
    """Selects tool modules whose triggers occur in the query or in recent earlier turns."""

    name = "keyword"

    def __init__(
        self,
        library: ModuleLibrary,
        *,
        fallback: FallbackMode | None = None,
        history_turns: int = 3,
        max_scan_chars: int = 32_000,
        decision_cache_size: int = 4096,
    ) -> None:
        self.library = library
        self.fallback_mode: FallbackMode = fallback or library.fallback
        self.history_turns = history_turns
        self.max_scan_chars = max_scan_chars
        triggers = library.matcher.triggers
        # Reasons are immutable: make each one once, not per request.
        self._trigger_module = tuple(t.module for t in triggers)
        self._trigger_text = tuple(t.text for t in triggers)
        self._trigger_reason = tuple(ModuleReason("trigger", t.text) for t in triggers)
        self._history_reason = tuple(ModuleReason("history", t.text) for t in triggers)
        self._required_reason = {
            (dep, module_id): ModuleReason("required", required_by=module_id)
            for module_id, deps in library.closure.items()
            for dep in deps
        }
        self._always = {m: ModuleReason("always") for m in library.always_ids}
        fallback_reason = ModuleReason("fallback")
        self._fallback = {m: fallback_reason for m in library.tool_ids} if self.fallback_mode == "all" else {}
        # Bounded: the number of distinct trigger combinations seen in traffic is small.
        self._decide = functools.lru_cache(maxsize=decision_cache_size)(self._decide_uncached)

    def _scan(self, text: str) -> list[int]:
        return self.library.matcher.match(clip(text, self.max_scan_chars))

    def route(self, query: str, history: Sequence[str] = ()) -> RoutingDecision:
        hits = tuple(self._scan(query))
        earlier: tuple[int, ...] = ()
        if self.history_turns and history:
            # most recent turn first, so its trigger is the one a module's reason names
            earlier = tuple(i for turn in reversed(history[-self.history_turns :]) for i in self._scan(turn))
        return self._decide(hits, earlier)

    def _decide_uncached(self, hits: tuple[int, ...], earlier: tuple[int, ...]) -> RoutingDecision:
        module_of = self._trigger_module
        selected: dict[str, ModuleReason] = {}
        for index in hits:
            if module_of[index] not in selected:
                selected[module_of[index]] = self._trigger_reason[index]
        for index in earlier:
            if module_of[index] not in selected:
                selected[module_of[index]] = self._history_reason[index]
        fallback = not selected
        if fallback:
            selected = dict(self._fallback)
        closure, required = self.library.closure, self._required_reason
        for module_id in list(selected):
            for dep in closure.get(module_id, ()):
                if dep not in selected:
                    selected[dep] = required[dep, module_id]
        reasons = {**self._always, **selected}
        text = self._trigger_text
        return RoutingDecision(
            modules=self.library.canonical(reasons),
            reasons=reasons,
            fallback=fallback,
            library_version=self.library.version,
            router=self.name,
            matched_triggers=tuple(text[i] for i in hits),
        )
