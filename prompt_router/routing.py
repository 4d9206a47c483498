"""Routing: a user query (and optionally earlier turns) -> which modules, and why."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from .library import FallbackMode, ModuleLibrary
from .normalize import clip

ReasonKind = Literal["always", "trigger", "history", "required", "fallback", "static"]


@dataclass(frozen=True)
class ModuleReason:
    """Why one module is in the prompt."""

    kind: ReasonKind
    trigger: str | None = None
    required_by: str | None = None

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
    query_chars: int = 0
    clipped: bool = False

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
        }


class Router(Protocol):
    """Anything that turns a query into a RoutingDecision for a given library."""

    name: str
    library: ModuleLibrary

    def route(self, query: str, history: Sequence[str] = ()) -> RoutingDecision: ...


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

    def _scan(self, text: str) -> list[int]:
        return self.library.matcher.match(clip(text, self.max_scan_chars))

    def route(self, query: str, history: Sequence[str] = ()) -> RoutingDecision:
        module_of, reason_of = self._trigger_module, self._trigger_reason
        hits = self._scan(query)
        selected: dict[str, ModuleReason] = {}
        for index in hits:
            if module_of[index] not in selected:
                selected[module_of[index]] = reason_of[index]
        if self.history_turns and history:
            reason_of = self._history_reason
            for turn in reversed(history[-self.history_turns :]):  # most recent turn first
                for index in self._scan(turn):
                    if module_of[index] not in selected:
                        selected[module_of[index]] = reason_of[index]
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
            query_chars=len(query),
            clipped=0 < self.max_scan_chars < len(query),
        )
