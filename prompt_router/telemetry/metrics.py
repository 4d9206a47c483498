"""OpenTelemetry metrics: counters and histograms a dashboard can plot.

An observer like the Sentry one, fed the same results one way. It records through a
`MeterProvider`: the one passed in, or the global one the host application set up (with its
own exporter: OTLP, Prometheus...). Recording is an in-memory aggregation (no I/O on the
request path); the host's metric reader exports in its own thread.

Attributes are module ids, router and model names, modes, error type names and the
result's labels (the rollout arm): bounded sets, never user text and never a thread id.

| instrument | kind | unit | attributes |
| --- | --- | --- | --- |
| `prompt_router.requests` | counter | request | mode, router, fallback, no_tools, labels |
| `prompt_router.module.selections` | counter | selection | module, reason (trigger, model, always, fallback...) |
| `prompt_router.prompt.tokens` | histogram | token | mode |
| `prompt_router.tokens.sent`, `prompt_router.tokens.saved` | counter | token | mode, router, labels |
| `prompt_router.route.duration`, `prompt_router.build.duration` | histogram | s | router |
| `prompt_router.errors` | counter | error | error_type |
| `prompt_router.provider.requests` | counter | request | model, cache (hit, miss), labels |
| `prompt_router.provider.input_tokens` | counter | token | model, kind (uncached, cache_read, cache_write) |
| `prompt_router.provider.output_tokens` | counter | token | model |
| `prompt_router.provider.cache_hit_ratio` | histogram | 1 | model |
| `prompt_router.provider.cost` | counter | USD | model (only when the cost is known) |
| `prompt_router.thread.turns` | counter | turn | module_set (first, same, changed), policy |
| `prompt_router.thread.tool_modules` | histogram | module | policy |
| `prompt_router.thread.library_share` | histogram | 1 | policy |

The real cache hit rate is `input_tokens{kind=cache_read} / input_tokens` (all kinds). The
per-turn module-set change rate is `thread.turns{module_set=changed} / thread.turns{module_set!=first}`;
`thread.tool_modules` (recorded once per user turn of a thread with known state) is how many
tool modules the thread has needed so far, `thread.library_share` that count over the library's.
`tokens.sent` counts everything a delivery policy sends (system prompt, catalogue, attached modules).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

from opentelemetry import metrics

from ..results import Observer, PromptResult, ProviderRequest

# Route and build take microseconds: the SDK's default buckets (in ms-sized steps) would put
# every request in the first one.
_SECONDS_BUCKETS = (1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1, 1.0)
_TOKEN_BUCKETS = (250, 500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000)
_RATIO_BUCKETS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)
_MODULE_BUCKETS = (0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100)
_MAX_ATTRIBUTE_CHARS = 200


def _version() -> str:
    try:
        return version("prompt-router")
    except PackageNotFoundError:
        return "unknown"


def _labels(labels: Mapping[str, str]) -> dict[str, str]:
    return {str(k): str(v)[:_MAX_ATTRIBUTE_CHARS] for k, v in labels.items()}


class OpenTelemetryMetrics(Observer):
    """A RouterObserver that records metrics through OpenTelemetry."""

    def __init__(self, meter_provider: metrics.MeterProvider | None = None) -> None:
        provider = meter_provider or metrics.get_meter_provider()
        meter = provider.get_meter("prompt_router", _version())
        self.requests = meter.create_counter("prompt_router.requests", "{request}", "requests served")
        self.selections = meter.create_counter("prompt_router.module.selections", "{selection}",
                                               "modules sent, by module and the reason it was sent")
        self.prompt_tokens = meter.create_histogram("prompt_router.prompt.tokens", "{token}", "system prompt size sent",
                                                    explicit_bucket_boundaries_advisory=_TOKEN_BUCKETS)
        self.tokens_sent = meter.create_counter("prompt_router.tokens.sent", "{token}", "system prompt tokens sent")
        self.tokens_saved = meter.create_counter("prompt_router.tokens.saved", "{token}",
                                                 "system prompt tokens not sent, against the full prompt")
        self.route_duration = meter.create_histogram("prompt_router.route.duration", "s", "routing time",
                                                     explicit_bucket_boundaries_advisory=_SECONDS_BUCKETS)
        self.build_duration = meter.create_histogram("prompt_router.build.duration", "s", "prompt assembly time",
                                                     explicit_bucket_boundaries_advisory=_SECONDS_BUCKETS)
        self.errors = meter.create_counter("prompt_router.errors", "{error}",
                                           "faults that made a request fall back to the full prompt")
        self.provider_requests = meter.create_counter("prompt_router.provider.requests", "{request}",
                                                      "provider responses recorded, by whether the prompt cache was hit")
        self.provider_input = meter.create_counter("prompt_router.provider.input_tokens", "{token}",
                                                   "input tokens as the provider billed them, by cache treatment")
        self.provider_output = meter.create_counter("prompt_router.provider.output_tokens", "{token}", "output tokens")
        self.cache_hit_ratio = meter.create_histogram("prompt_router.provider.cache_hit_ratio", "1",
                                                      "share of a request's input tokens read from the cache",
                                                      explicit_bucket_boundaries_advisory=_RATIO_BUCKETS)
        self.cost = meter.create_counter("prompt_router.provider.cost", "USD", "what the provider billed")
        self.thread_turns = meter.create_counter("prompt_router.thread.turns", "{turn}",
                                                 "user turns, by whether the routed module set changed from the previous turn")
        self.thread_modules = meter.create_histogram("prompt_router.thread.tool_modules", "{module}",
                                                     "tool modules a thread has needed so far",
                                                     explicit_bucket_boundaries_advisory=_MODULE_BUCKETS)
        self.thread_share = meter.create_histogram("prompt_router.thread.library_share", "1",
                                                   "share of the library's tool modules a thread has needed so far",
                                                   explicit_bucket_boundaries_advisory=_RATIO_BUCKETS)

    def on_result(self, result: PromptResult) -> None:
        decision = result.decision
        labels = _labels(result.labels)
        self.requests.add(1, {"mode": result.mode, "router": decision.router, "fallback": decision.fallback,
                              "no_tools": decision.no_tools, **labels})
        for module in decision.modules:
            self.selections.add(1, {"module": module, "reason": decision.reasons[module].kind})
        self.prompt_tokens.record(result.prompt.tokens, {"mode": result.mode})
        totals = {"mode": result.mode, "router": decision.router, **labels}
        self.tokens_sent.add(result.tokens_sent, totals)
        self.tokens_saved.add(max(0, result.tokens_saved), totals)
        facts = result.thread
        if facts is not None and facts.module_set is not None:  # once per user turn, never per tool step
            policy = {"policy": labels.get("policy", "")}
            self.thread_turns.add(1, {"module_set": facts.module_set, **policy})
            if facts.tool_modules is not None:
                self.thread_modules.record(facts.tool_modules, policy)
                if facts.library_tool_modules:
                    self.thread_share.record(facts.tool_modules / facts.library_tool_modules, policy)
        if result.mode == "dynamic":
            self.route_duration.record(result.route_seconds, {"router": decision.router})
            self.build_duration.record(result.build_seconds, {"router": decision.router})

    def on_error(self, error: BaseException, result: PromptResult) -> None:
        self.errors.add(1, {"error_type": type(error).__name__})

    def on_provider_request(self, request: ProviderRequest) -> None:
        model = request.model[:_MAX_ATTRIBUTE_CHARS]
        cache = "hit" if request.cache_read_tokens > 0 else "miss"
        self.provider_requests.add(1, {"model": model, "cache": cache, **_labels(request.labels)})
        for kind, tokens in (("uncached", request.uncached_tokens), ("cache_read", request.cache_read_tokens),
                             ("cache_write", request.cache_write_tokens)):
            self.provider_input.add(tokens, {"model": model, "kind": kind})
        self.provider_output.add(request.output_tokens, {"model": model})
        if request.prompt_tokens > 0:
            self.cache_hit_ratio.record(request.cache_hit_rate, {"model": model})
        if request.cost is not None and request.cost >= 0:
            self.cost.add(request.cost, {"model": model})
