"""The keyword router: tool modules whose triggers occur in the query or recent earlier turns."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from ..cache import ENTRY_OVERHEAD, memoize, text_bytes
from ..library import FallbackMode, ModuleLibrary
from ..normalize import clip
from .decision import DecisionRule, Evidence, ModuleReason, RoutingDecision, first_reasons, recent_turns


def _decision_bytes(args: tuple[Any, ...], decision: RoutingDecision) -> int:
    hits, earlier, _small_talk, sticky = args
    return ENTRY_OVERHEAD + 8 * (len(hits) + len(earlier)) + text_bytes(sticky) + 120 * len(decision.modules)


class KeywordRouter:
    """Selects tool modules by trigger matches; the library's fallback covers the rest."""

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
        self.rule = DecisionRule(library, router=self.name, fallback=fallback)
        self.history_turns = history_turns
        self.max_scan_chars = max_scan_chars
        triggers = library.matcher.triggers
        # Reasons are immutable: make each one once, not per request.
        self._trigger_module = tuple(t.module for t in triggers)
        self._trigger_text = tuple(t.text for t in triggers)
        self._trigger_reason = tuple(ModuleReason("trigger", t.text) for t in triggers)
        self._history_reason = tuple(ModuleReason("history", t.text) for t in triggers)
        # Bounded in entries and bytes: distinct trigger combinations are few, but the sticky
        # sets that are part of the key come from the caller.
        self._decide = memoize(self._decide_uncached, max_entries=decision_cache_size, max_bytes=8 * 1024 * 1024,
                               size=_decision_bytes)

    @property
    def fallback_mode(self) -> FallbackMode:
        return self.rule.fallback_mode

    def _scan(self, text: str) -> list[int]:
        return self.library.matcher.match(clip(text, self.max_scan_chars))

    def hits(self, query: str, history: Sequence[str] = ()) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Indices of the triggers that fired in the query, and in the recent earlier turns
        (most recent first, so its trigger is the one a module's reason names)."""
        earlier = tuple(i for turn in reversed(recent_turns(history, self.history_turns)) for i in self._scan(turn))
        return tuple(self._scan(query)), earlier

    def evidence(self, query: str, history: Sequence[str] = ()) -> Evidence:
        hits, earlier = self.hits(query, history)
        return self._evidence(hits, earlier, not hits and self.library.is_small_talk(query))

    def _evidence(self, hits: tuple[int, ...], earlier: tuple[int, ...], small_talk: bool) -> Evidence:
        module_of = self._trigger_module
        pairs = [(module_of[i], self._trigger_reason[i]) for i in hits]
        pairs += [(module_of[i], self._history_reason[i]) for i in earlier]
        return Evidence(first_reasons(pairs), (), tuple(self._trigger_text[i] for i in hits), small_talk)

    def route(self, query: str, history: Sequence[str] = (), sticky: Collection[str] = ()) -> RoutingDecision:
        hits, earlier = self.hits(query, history)
        small_talk = not hits and self.library.is_small_talk(query)
        return self._decide(hits, earlier, small_talk, frozenset(sticky))

    def _decide_uncached(self, hits: tuple[int, ...], earlier: tuple[int, ...], small_talk: bool,
                         sticky: frozenset[str]) -> RoutingDecision:
        return self.rule.decide(self._evidence(hits, earlier, small_talk), sticky)
