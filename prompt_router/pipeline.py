"""The entry point a chat backend calls: query in, system prompt and decision out.

Whatever goes wrong while routing or building, the caller still gets a prompt: the full
static one, with the error recorded and passed to observers.
"""

from __future__ import annotations

import datetime as _dt
import functools
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from .builder import BuiltPrompt, CacheStats, PromptBuilder, cache_stats
from .errors import ContextError
from .library import ModuleLibrary, bundled_library_dir, load_library
from .routing import Router, RoutingDecision, static_decision, with_sticky
from .settings import RouterSettings
from .tokens import TokenCounter

logger = logging.getLogger("prompt_router")

Mode = Literal["dynamic", "static", "error"]
# Longer queries are routed but not cached: the cache must not pin megabytes of user text.
_MAX_CACHED_QUERY_CHARS = 4096


@dataclass(frozen=True)
class PromptResult:
    """What one request gets: the prompt, the decision behind it, and how it was made."""

    prompt: BuiltPrompt
    decision: RoutingDecision
    mode: Mode
    full_tokens: int
    query_chars: int = 0
    route_seconds: float = 0.0
    build_seconds: float = 0.0
    error: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)  # e.g. the rollout arm; reported as tags

    @property
    def text(self) -> str:
        return self.prompt.text

    @property
    def tokens_saved(self) -> int:
        return self.full_tokens - self.prompt.tokens


class RouterObserver(Protocol):
    """Receives every result (and every fault that forced the full prompt). Telemetry
    implements this. An observer's own failure is logged and never reaches the caller."""

    def on_result(self, result: PromptResult) -> None: ...

    def on_error(self, error: BaseException, result: PromptResult) -> None: ...


class PromptRouter:
    """Routes queries and builds prompts for one library."""

    def __init__(
        self,
        library: ModuleLibrary,
        *,
        router: Router | None = None,
        settings: RouterSettings | None = None,
        observers: Sequence[RouterObserver] = (),
    ) -> None:
        settings = settings or RouterSettings()
        self.settings = settings
        self.library = library
        self.use_dynamic_routing = settings.use_dynamic_routing
        if router is None:
            from .learned.router import router_from_settings

            router = router_from_settings(library, settings)
        self.router: Router = router
        self.builder = PromptBuilder(library, TokenCounter(settings.encoding), cache_size=settings.build_cache_size)
        self.observers = list(observers)
        self._static_decision = static_decision(library)
        self._required = frozenset(v.name for v in library.variables if v.required)
        self._route_cached = functools.lru_cache(maxsize=settings.route_cache_size)(self._route_uncached)

    @classmethod
    def from_settings(cls, settings: RouterSettings | None = None, **kwargs: Any) -> PromptRouter:
        """Load the configured library; attach telemetry when a DSN is configured."""
        settings = settings or RouterSettings()
        library = load_library(settings.modules_dir or bundled_library_dir())
        from .telemetry import SentryTelemetry

        telemetry = SentryTelemetry.from_settings(settings)
        observers = [*kwargs.pop("observers", ()), *([telemetry] if telemetry else [])]
        return cls(library, settings=settings, observers=observers, **kwargs)

    def close(self, timeout: float | None = None) -> None:
        """Flush and stop observers that hold resources (telemetry), within `timeout` seconds."""
        for observer in self.observers:
            close = getattr(observer, "close", None)
            if close is not None:
                try:
                    close(timeout)
                except Exception:
                    logger.exception("prompt-router observer %r failed to close", observer)

    def _route_uncached(self, query: str, history: tuple[str, ...]) -> RoutingDecision:
        return self.router.route(query, history)

    def route(self, query: str, history: Sequence[str] = ()) -> RoutingDecision:
        """Route only (cached); raises on a router fault."""
        history = tuple(history[-self.settings.history_turns :]) if self.settings.history_turns else ()
        if len(query) + sum(map(len, history)) <= _MAX_CACHED_QUERY_CHARS:
            return self._route_cached(query, history)
        return self.router.route(query, history)

    def _context(self, context: Mapping[str, Any] | None) -> Mapping[str, Any]:
        context = dict(context) if context else {}
        if "current_date" not in context:
            # The one built-in variable: today's date, unless the caller pins it (tests, replays).
            context["current_date"] = _dt.date.today().isoformat()
        missing = self._required - context.keys()
        if missing:
            raise ContextError(f"context is missing required variable(s): {', '.join(sorted(missing))}")
        return context

    def full_prompt(self, context: Mapping[str, Any] | None = None) -> BuiltPrompt:
        return self.builder.full(self._context(context))

    def system_prompt(
        self,
        query: str,
        *,
        history: Sequence[str] = (),
        context: Mapping[str, Any] | None = None,
        dynamic: bool | None = None,
        sticky: Collection[str] = (),
        labels: Mapping[str, str] | None = None,
    ) -> PromptResult:
        """The system prompt for `query` (the latest user message). `history` holds earlier
        user messages, oldest first. `dynamic` overrides `use_dynamic_routing` for this call;
        `sticky` names modules to keep whatever the routing says (thread stickiness);
        `labels` are passed through to observers (telemetry tags).

        Raises ContextError only when the caller omits a required variable (a bug in the
        caller, so it is not hidden); routing and building faults never raise."""
        ctx = self._context(context)
        full = self.builder.full(ctx)
        labels = labels or {}
        if not (self.use_dynamic_routing if dynamic is None else dynamic):
            result = PromptResult(full, self._static_decision, "static", full.tokens, len(query), labels=labels)
            self._notify(result)
            return result
        try:
            start = time.perf_counter()
            decision = self.route(query, history)
            if sticky:
                decision = with_sticky(decision, sticky, self.library)
            routed = time.perf_counter()
            prompt = self.builder.build(decision, ctx)
            built = time.perf_counter()
        except Exception as exc:
            logger.warning("routing failed, sending the full prompt: %s: %s", type(exc).__name__, exc)
            result = PromptResult(
                full, self._static_decision, "error", full.tokens, len(query),
                error=f"{type(exc).__name__}: {exc}", labels=labels,
            )
            self._notify(result, exc)
            return result
        result = PromptResult(prompt, decision, "dynamic", full.tokens, len(query), routed - start, built - routed,
                              labels=labels)
        self._notify(result)
        return result

    def _notify(self, result: PromptResult, error: BaseException | None = None) -> None:
        for observer in self.observers:
            try:
                if error is not None:
                    observer.on_error(error, result)
                observer.on_result(result)
            except Exception:
                logger.exception("prompt-router observer %r failed", observer)

    @property
    def cache_stats(self) -> dict[str, CacheStats]:
        return {"route": cache_stats(self._route_cached), "build": self.builder.cache_stats}

    def clear_caches(self) -> None:
        self._route_cached.cache_clear()

    def reload_settings(self, settings: RouterSettings | None = None) -> None:
        """Apply changed runtime settings (the dynamic-routing flag, rollout percentage,
        stickiness, tool filtering) without a restart: re-reads the environment and `.env`
        when `settings` is not given. The library, encoding and cache sizes stay as loaded;
        changing those needs a new router."""
        settings = settings or RouterSettings()
        self.settings = settings
        self.use_dynamic_routing = settings.use_dynamic_routing
