"""Sentry events built from results: pure functions, no I/O.

Every event has a constant message template (`logentry.message` with `%s` parameters and
`formatted` filled in) and an explicit `fingerprint`, so one kind of event is one issue in
GlitchTip / Sentry / Bugsink whatever its numbers. Sizes go in `contexts`, a few
low-cardinality values in `tags`. Nothing here ever reads the user's text: results carry
module ids, trigger texts from the library, counts and timings only.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from sentry_sdk._types import Event

from sentry_sdk.consts import DEFAULT_OPTIONS
from sentry_sdk.utils import event_from_exception

from ..errors import PromptRouterError
from ..results import PromptResult, ProviderRequest

FINGERPRINT_ROUTING = ["prompt-router", "routing-decision"]
FINGERPRINT_PROMPT = ["prompt-router", "prompt-built"]
FINGERPRINT_PROVIDER = ["prompt-router", "provider-request"]
LOGGER = "prompt_router"


def _event(data: dict[str, Any]) -> Event:
    return cast("Event", data)


def _logentry(template: str, *params: Any) -> dict[str, Any]:
    return {"message": template, "params": list(params), "formatted": template % params}


def tags(result: PromptResult, extra: dict[str, str] | None = None) -> dict[str, str]:
    decision = result.decision
    out = {
        "prompt_router.module_count": str(len(decision.modules)),
        "prompt_router.fallback": "true" if decision.fallback else "false",
        "prompt_router.library_version": decision.library_version,
        "prompt_router.mode": result.mode,
        "prompt_router.router": decision.router,
        **{f"prompt_router.{k}": str(v)[:200] for k, v in result.labels.items()},
    }
    return {**out, **(extra or {})}


def _thread_context(result: PromptResult) -> dict[str, Any]:
    """What the thread has needed so far (counts only), for the cost model's real figures."""
    facts = result.thread
    if facts is None:
        return {}
    share = None
    if facts.tool_modules is not None and facts.library_tool_modules:
        share = round(facts.tool_modules / facts.library_tool_modules, 4)
    return {"prompt_router_thread": {"module_set": facts.module_set, "tool_modules": facts.tool_modules,
                                     "library_tool_modules": facts.library_tool_modules, "library_share": share}}


def routing_event(result: PromptResult, extra_tags: dict[str, str] | None = None) -> Event:
    decision = result.decision
    count = len(decision.modules)
    return _event({
        "level": "info",
        "logger": LOGGER,
        "logentry": _logentry("Routing: %s modules selected", count),
        "fingerprint": FINGERPRINT_ROUTING,
        "tags": tags(result, extra_tags),
        "contexts": {
            "prompt_router_routing": {
                "modules": list(decision.modules),
                "module_count": count,
                "tool_modules": list(decision.tool_modules),
                "triggers": list(decision.matched_triggers),  # trigger texts from the library
                "fallback": decision.fallback,
                "no_tools": decision.no_tools,
                "library_version": decision.library_version,
                "router": decision.router,
                "mode": result.mode,
                "query_chars": result.query_chars,
            },
            **_thread_context(result),
        },
    })


def prompt_event(result: PromptResult, extra_tags: dict[str, str] | None = None) -> Event:
    prompt = result.prompt
    return _event({
        "level": "info",
        "logger": LOGGER,
        "logentry": _logentry("Prompt built: %s tokens", prompt.tokens),
        "fingerprint": FINGERPRINT_PROMPT,
        "tags": tags(result, extra_tags),
        "contexts": {
            "prompt_router_prompt": {
                "modules": list(prompt.modules),
                "chars": prompt.chars,
                "tokens": prompt.tokens,
                "extra_tokens": result.extra_tokens,
                "stable_prefix_tokens": prompt.prefix_tokens,
                "full_tokens": result.full_tokens,
                "tokens_saved": result.tokens_saved,
                "route_ms": round(result.route_seconds * 1000, 4),
                "build_ms": round(result.build_seconds * 1000, 4),
                "library_version": prompt.library_version,
            }
        },
    })


def _ours(error: BaseException) -> bool:
    """Only prompt-router's own exception types have messages we wrote (no user text); a
    subclass defined elsewhere, e.g. in a custom router, may quote the query."""
    return isinstance(error, PromptRouterError) and type(error).__module__.split(".")[0] == "prompt_router"


def error_event(error: BaseException, result: PromptResult,
                client_options: dict[str, Any] | None) -> tuple[Event, dict[str, Any]]:
    """The fault that made a request fall back to the full prompt, with its traceback.

    Messages of exceptions that are not ours are withheld: a third-party router or a
    template filter may have put the user's text in them."""
    # The SDK reads several options while building the event; a client (or a stand-in) that
    # lacks some gets the SDK's defaults, never a KeyError on the telemetry thread.
    options = {**DEFAULT_OPTIONS, **(client_options or {}), "include_local_variables": False}
    event, hint = event_from_exception(
        (type(error), error, error.__traceback__), client_options=options,
        mechanism={"type": "prompt_router", "handled": True},
    )
    for exception in event.get("exception", {}).get("values", []):
        # chained causes too: each value is judged by its own type's module
        if not (_ours(error) and str(exception.get("module") or "").split(".")[0] == "prompt_router"):
            exception["value"] = "(message withheld: it may contain user text)"
    event.update({
        "level": "error",
        "logger": LOGGER,
        "fingerprint": ["prompt-router", "fallback-error", type(error).__name__],
        "tags": tags(result),
        "contexts": {"prompt_router_fallback": {"error_type": type(error).__name__, "served": "full prompt",
                                                "full_tokens": result.full_tokens}},
    })
    return event, hint


def transaction_event(result: PromptResult, finished_at: float, extra_tags: dict[str, str] | None = None) -> Event:
    """Route and build timing as a performance transaction with two spans."""
    end = dt.datetime.fromtimestamp(finished_at, dt.timezone.utc)
    build_start = end - dt.timedelta(seconds=result.build_seconds)
    start = build_start - dt.timedelta(seconds=result.route_seconds)
    trace_id, root = uuid.uuid4().hex, uuid.uuid4().hex[:16]

    def span(op: str, begin: dt.datetime, finish: dt.datetime) -> dict[str, Any]:
        return {"trace_id": trace_id, "span_id": uuid.uuid4().hex[:16], "parent_span_id": root, "op": op,
                "description": op.rsplit(".", 1)[-1], "start_timestamp": begin, "timestamp": finish, "status": "ok"}

    return _event({
        "type": "transaction",
        "transaction": "prompt_router.system_prompt",
        "transaction_info": {"source": "custom"},
        "start_timestamp": start,
        "timestamp": end,
        "tags": tags(result, extra_tags),
        "contexts": {"trace": {"trace_id": trace_id, "span_id": root, "op": "prompt_router.system_prompt", "status": "ok"}},
        "spans": [span("prompt_router.route", start, build_start), span("prompt_router.build", build_start, end)],
    })


def provider_request_event(request: ProviderRequest, extra_tags: dict[str, str] | None = None) -> Event:
    return _event({
        "level": "info",
        "logger": LOGGER,
        "logentry": _logentry("Provider request: %s prompt tokens", request.prompt_tokens),
        "fingerprint": FINGERPRINT_PROVIDER,
        "tags": {"prompt_router.model": request.model[:200],
                 **{f"prompt_router.{k}": str(v)[:200] for k, v in request.labels.items()}, **(extra_tags or {})},
        "contexts": {"prompt_router_provider": {
            "model": request.model, "prompt_tokens": request.prompt_tokens, "tools": request.tools,
            "cache_read_tokens": request.cache_read_tokens, "cache_write_tokens": request.cache_write_tokens,
            "output_tokens": request.output_tokens, "uncached_tokens": request.uncached_tokens,
            "cache_hit_rate": round(request.cache_hit_rate, 4),
            **({"cost_usd": round(request.cost, 8)} if request.cost is not None else {}),
        }},
    })
