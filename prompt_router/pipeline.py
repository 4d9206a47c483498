"""The entry point a chat backend calls: query in, system prompt and decision out.

Whatever goes wrong while routing or building, the caller still gets a prompt: the full
static one, with the error recorded and passed to observers.

Everything derived from the settings (library, router, builder, caches) lives in one
immutable `Engine`; a request reads it once, and `reload_settings` swaps in a new one, so a
request never sees half of an old configuration and half of a new one.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import logging
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from .builder import BuiltPrompt, Part, PromptBuilder
from .cache import CacheStats, Memoized, memoize, text_bytes
from .errors import ContextError, PromptRouterError, RenderError, SettingsError
from .library import ModuleLibrary, load_library
from .observers import observers_from_settings, reconcile
from .results import PromptResult, RouterObserver, ThreadFacts
from .routing import DecisionRule, Evidence, Router, RoutingDecision, recent_turns, router_from_settings, static_decision
from .settings import RouterSettings
from .tokens import TokenCounter

logger = logging.getLogger("prompt_router")

# Longer queries are routed but not cached: the cache must not pin megabytes of user text
# (and a long key is not even hashed). The cache's byte budget bounds the rest.
_MAX_CACHED_QUERY_CHARS = 4096
# What a cached decision holds besides the query text: its reasons, modules and scores.
_DECISION_BYTES = 2048


def _route_bytes(args: tuple[Any, ...], decision: RoutingDecision) -> int:
    query, recent, kept = args
    return text_bytes((query, *recent, *kept)) + _DECISION_BYTES


def _evidence_bytes(args: tuple[Any, ...], evidence: Evidence) -> int:
    query, recent = args
    return text_bytes((query, *recent)) + _DECISION_BYTES


def _decide_bytes(args: tuple[Any, ...], decision: RoutingDecision) -> int:
    return text_bytes(args[1]) + 2 * _DECISION_BYTES  # the evidence and the decision


@runtime_checkable
class EvidenceRouter(Protocol):
    """A router that gathers evidence and leaves the decision to its `DecisionRule` (the
    built-in ones): a thread's turn can then be decided with and without its kept modules
    from one gathering of evidence."""

    rule: DecisionRule

    def evidence(self, query: str, history: Sequence[str] = ()) -> Evidence: ...


@dataclass(frozen=True)
class Engine:
    """Everything a request needs, made from one library and one set of settings."""

    settings: RouterSettings
    library: ModuleLibrary
    router: Router
    builder: PromptBuilder
    static: RoutingDecision
    required: frozenset[str]
    route_cached: Memoized[RoutingDecision]  # router.route over (query, recent turns, sticky), bounded in bytes
    known: frozenset[str] = frozenset()  # every variable a context may set
    evidence_cached: Memoized[Evidence] | None = None  # evidence routers: over (query, recent turns)
    decide_cached: Memoized[RoutingDecision] | None = None  # evidence routers: over (evidence, sticky)

    @classmethod
    def make(cls, library: ModuleLibrary, settings: RouterSettings, router: Router | None = None) -> Engine:
        router = router if router is not None else router_from_settings(library, settings)
        builder = PromptBuilder(library, TokenCounter(settings.encoding), cache_size=settings.build_cache_size,
                                cache_bytes=settings.build_cache_max_bytes)
        entries, budget = settings.route_cache_size, settings.route_cache_max_bytes
        route = memoize(router.route, max_entries=entries, max_bytes=budget, size=_route_bytes)
        required = frozenset(v.name for v in library.variables if v.required)
        known = frozenset(v.name for v in library.variables) | {"current_date"}
        evidence = decide = None
        if isinstance(router, EvidenceRouter):
            evidence = memoize(router.evidence, max_entries=entries, max_bytes=budget, size=_evidence_bytes)
            decide = memoize(router.rule.decide, max_entries=entries, max_bytes=budget, size=_decide_bytes)
        return cls(settings, library, router, builder, static_decision(library), required, route, known, evidence, decide)


def _unknown_context(unknown: Collection[str], known: Collection[str]) -> str:
    """A mistyped variable would silently leave its default in the prompt: name it, and the
    declared one it was probably meant to be."""
    names = []
    for name in sorted(map(str, unknown)):
        close = difflib.get_close_matches(name, sorted(known), n=1)
        names.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    return (f"context has unknown variable(s): {', '.join(names)}; the library declares: {', '.join(sorted(known))} "
            "(PROMPT_ROUTER_STRICT_CONTEXT=false ignores unknown ones)")


@dataclass(frozen=True)
class Routed:
    """A query routed once, bound to the engine that routed it: `decide(sticky)` gives the
    decision for any set of kept modules without gathering the evidence again (a custom
    router without separate evidence is asked again, through the route cache)."""

    engine: Engine
    query: str
    history: tuple[str, ...]
    evidence: Evidence | None
    seconds: float  # spent gathering the evidence

    def decide(self, sticky: Collection[str] = ()) -> RoutingDecision:
        engine, kept = self.engine, frozenset(sticky)
        if self.evidence is None or engine.decide_cached is None:
            return PromptRouter._route(engine, self.query, self.history, kept)
        decision: RoutingDecision = engine.decide_cached(self.evidence, kept)
        return decision


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
        self._engine = Engine.make(library, settings, router)
        self._custom_router = router is not None
        self.use_dynamic_routing = settings.use_dynamic_routing
        self.observers: list[RouterObserver] = list(observers)
        self._owned: list[RouterObserver] = []  # made from settings, replaced on reload
        self._reload_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: RouterSettings | None = None, *,
                      observers: Sequence[RouterObserver] = (), router: Router | None = None) -> PromptRouter:
        """Load the configured library and attach the observers the settings configure
        (telemetry when a DSN is set)."""
        settings = settings or RouterSettings()
        library = load_library(settings.library_dir(), settings.library_limits())
        instance = cls(library, router=router, settings=settings, observers=observers)
        instance._owned = observers_from_settings(settings)
        instance.observers.extend(instance._owned)
        return instance

    # --- the engine's parts, read-only -------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def settings(self) -> RouterSettings:
        return self._engine.settings

    @property
    def library(self) -> ModuleLibrary:
        return self._engine.library

    @property
    def router(self) -> Router:
        return self._engine.router

    @property
    def builder(self) -> PromptBuilder:
        return self._engine.builder

    # --- requests ----------------------------------------------------------------------------------

    def route(self, query: str, history: Sequence[str] = (), sticky: Collection[str] = ()) -> RoutingDecision:
        """Route only (cached); raises on a router fault."""
        return self._route(self._engine, query, history, sticky)

    def routed(self, query: str, history: Sequence[str] = ()) -> Routed:
        """Route `query` once (cached), to decide it with and without a thread's kept modules:
        `routed.decide(sticky)`, or `system_prompt(query, routed=routed, sticky=...)`. Raises
        on a router fault."""
        engine = self._engine
        recent = recent_turns(history, engine.settings.history_turns)
        start = time.perf_counter()
        evidence = None
        if engine.evidence_cached is not None:
            if len(query) + sum(map(len, recent)) > _MAX_CACHED_QUERY_CHARS:
                # not cached: the cache must not pin megabytes of user text
                evidence = engine.evidence_cached.function(query, recent)
            else:
                evidence = engine.evidence_cached(query, recent)
        return Routed(engine, query, recent, evidence, time.perf_counter() - start)

    @staticmethod
    def _route(engine: Engine, query: str, history: Sequence[str], sticky: Collection[str]) -> RoutingDecision:
        recent = recent_turns(history, engine.settings.history_turns)
        kept = frozenset(sticky)
        if len(query) + sum(map(len, recent)) <= _MAX_CACHED_QUERY_CHARS:
            decision: RoutingDecision = engine.route_cached(query, recent, kept)
            return decision
        return engine.router.route(query, recent, kept)

    @staticmethod
    def _context(engine: Engine, context: Mapping[str, Any] | None) -> Mapping[str, Any]:
        values = {k: v for k, v in context.items() if v is not None} if context else {}
        if "current_date" not in values:
            # The one built-in variable: today's date, unless the caller pins it (tests, replays).
            values["current_date"] = _dt.date.today().isoformat()
        missing = engine.required - values.keys()
        if missing:
            raise ContextError(f"context is missing required variable(s): {', '.join(sorted(missing))}")
        if context and engine.settings.strict_context and not context.keys() <= engine.known:
            raise ContextError(_unknown_context(context.keys() - engine.known, engine.known))
        return values

    def full_prompt(self, context: Mapping[str, Any] | None = None) -> BuiltPrompt:
        engine = self._engine
        return engine.builder.full(self._context(engine, context))

    def module_parts(self, module_ids: Sequence[str], context: Mapping[str, Any] | None = None, *,
                     engine: Engine | None = None) -> tuple[Part, ...]:
        """Each module's text on its own, with exact token counts, rendered with `context` as
        `system_prompt` renders it (what a delivery policy puts inside the conversation).
        `engine` is the one that served the request (default: the current one). Raises
        ContextError like `system_prompt`, and KeyError for an id the library lacks."""
        engine = engine or self._engine
        ctx = self._context(engine, context)
        try:
            return tuple(engine.builder.part(m, ctx) for m in module_ids)
        except RenderError as exc:
            raise ContextError(f"the context cannot be rendered: {exc}") from None

    def system_prompt(
        self,
        query: str,
        *,
        history: Sequence[str] = (),
        context: Mapping[str, Any] | None = None,
        dynamic: bool | None = None,
        sticky: Collection[str] = (),
        labels: Mapping[str, str] | None = None,
        routed: Routed | None = None,
        modules: Sequence[str] | None = None,
        extra_tokens: int = 0,
        thread: ThreadFacts | None = None,
    ) -> PromptResult:
        """The system prompt for `query` (the latest user message). `history` holds earlier
        user messages, oldest first. `dynamic` overrides `use_dynamic_routing` for this call;
        `sticky` names modules the thread keeps whatever the routing says; `labels` are
        passed through to observers (telemetry tags); `routed` is `self.routed(query,
        history)` when the caller has routed already (its engine then serves the request).

        A delivery policy (`ConversationRouter`) may pass `modules`: the prompt then carries
        exactly these, in this order, while the decision is still made and reported;
        `extra_tokens` (sent besides the prompt) and `thread` are reported with the result.

        Raises ContextError only when the caller omits a required variable, names one the
        library does not declare (unless `strict_context` is off), passes a value that is
        not a string or number, or one a template cannot render (a bug in the caller, so it
        is not hidden); routing and building faults never raise."""
        engine = self._engine if routed is None else routed.engine
        ctx = self._context(engine, context)
        try:
            # The full prompt's size without assembling it: a routed request never sends it, and
            # a large library's full prompt is too big for the build cache to keep.
            full_tokens = engine.builder.full_tokens(ctx)
        except RenderError as exc:
            # Every template rendered at load with defaults or placeholders, so a failure now
            # comes from the caller's values (e.g. one too long for template_max_output_chars).
            raise ContextError(f"the context cannot be rendered: {exc}") from None
        labels = labels or {}
        if not (self.use_dynamic_routing if dynamic is None else dynamic):
            full = engine.builder.full(ctx)
            result = PromptResult(full, engine.static, "static", full_tokens, len(query), labels=labels,
                                  extra_tokens=extra_tokens, thread=thread)
            self._notify(result)
            return result
        try:
            start = time.perf_counter()
            if routed is None:
                decision = self._route(engine, query, history, sticky)
            else:
                decision, start = routed.decide(sticky), start - routed.seconds
            decided = time.perf_counter()
            prompt = engine.builder.build(decision, ctx) if modules is None else engine.builder.build_ordered(modules, ctx)
            built = time.perf_counter()
        except Exception as exc:
            # The log line names the type only: its message may quote the user (a custom router,
            # a template filter), and log lines travel (e.g. into the host's Sentry breadcrumbs).
            # The caller gets the whole message in `result.error`.
            logger.warning("prompt-router: routing failed (%s), sending the full prompt", type(exc).__name__)
            full = engine.builder.full(ctx)
            result = PromptResult(full, engine.static, "error", full_tokens, len(query),
                                  error=f"{type(exc).__name__}: {exc}", labels=labels, extra_tokens=extra_tokens,
                                  thread=thread)
            self._notify(result, exc)
            return result
        result = PromptResult(prompt, decision, "dynamic", full_tokens, len(query), decided - start, built - decided,
                              labels=labels, extra_tokens=extra_tokens, thread=thread)
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

    # --- caches, settings, lifetime ------------------------------------------------------------------

    @property
    def cache_stats(self) -> dict[str, CacheStats]:
        engine = self._engine
        return {"route": engine.route_cached.stats(), "build": engine.builder.cache_stats}

    def clear_caches(self) -> None:
        engine = self._engine
        for cache in (engine.route_cached, engine.evidence_cached, engine.decide_cached):
            if cache is not None:
                cache.cache_clear()

    def reload_settings(self, settings: RouterSettings | None = None) -> None:
        """Apply changed settings without a restart; re-reads the environment and `.env` when
        `settings` is not given. Every field applies: the library (if `modules_dir` changed),
        router, fallback, history turns, scan limit, recall-vs-savings shift, encoding and cache sizes
        are rebuilt and swapped in at once; observers are told (telemetry sample rates) or
        remade (a changed DSN). Raises SettingsError, and keeps the running configuration, if
        the new one cannot be built (e.g. a broken library or a missing artefact)."""
        settings = settings or RouterSettings()
        with self._reload_lock:
            old = self._engine
            try:
                same = (settings.library_dir(), settings.library_limits()) == (
                    old.settings.library_dir(), old.settings.library_limits())
                library = old.library if same else load_library(settings.library_dir(), settings.library_limits())
                router = old.router if self._custom_router else None
                engine = Engine.make(library, settings, router)
            except PromptRouterError as exc:
                raise SettingsError(f"the new settings cannot be applied; the running configuration stays: {exc}") from exc
            self._engine = engine
            self.use_dynamic_routing = settings.use_dynamic_routing
            owned = reconcile(self._owned, old.settings, settings)
            others = [o for o in self.observers if not any(o is mine for mine in self._owned)]
            for observer in others:
                try:
                    observer.apply_settings(settings)
                except Exception:
                    logger.exception("prompt-router observer %r failed to apply settings", observer)
            self._owned = owned
            self.observers = [*others, *owned]

    def reload_library(self) -> None:
        """Load the configured library again (e.g. after editing its files) and swap it in.
        A broken library raises SettingsError listing its problems; the old one keeps serving."""
        with self._reload_lock:
            old = self._engine
            try:
                library = load_library(old.settings.library_dir(), old.settings.library_limits())
                engine = Engine.make(library, old.settings, None if not self._custom_router else old.router)
            except PromptRouterError as exc:
                raise SettingsError(f"the library was not reloaded; the running one stays: {exc}") from exc
            self._engine = engine

    def close(self, timeout: float | None = None) -> None:
        """Flush and stop observers that hold resources (telemetry), within `timeout` seconds."""
        for observer in self.observers:
            try:
                observer.close(timeout)
            except Exception:
                logger.exception("prompt-router observer %r failed to close", observer)

    def __enter__(self) -> PromptRouter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
