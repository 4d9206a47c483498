"""OpenTelemetry metrics, read back with the SDK's InMemoryMetricReader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anthropic.types as anthropic_types
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from prompt_router import ConversationRouter, PromptRouter, RouterSettings
from prompt_router.telemetry.metrics import OpenTelemetryMetrics

from ..conftest import DATE

ROOT = Path(__file__).resolve().parents[2]
SECRET_QUERY = "deploy the flask app for jane.doe@example.com"


def points(reader: InMemoryMetricReader) -> dict[str, list[tuple[dict, object]]]:
    """Instrument name -> [(attributes, value or histogram point)]."""
    out: dict[str, list[tuple[dict, object]]] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = point.value if hasattr(point, "value") else point
                    out.setdefault(metric.name, []).append((dict(point.attributes), value))
    return out


def total(series: list[tuple[dict, object]], **where: object) -> float:
    return sum(v for attrs, v in series if all(attrs.get(k) == w for k, w in where.items()))  # type: ignore[misc]


@pytest.fixture
def metered(bundled):
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    router = PromptRouter(bundled, settings=RouterSettings(_env_file=None, router="keyword", route_cache_size=0),
                          observers=[OpenTelemetryMetrics(provider)])
    yield router, reader
    provider.shutdown()


def test_requests_modules_tokens_and_latency(metered):
    router, reader = metered
    results = [router.system_prompt(q, context=DATE) for q in
               (SECRET_QUERY, "deploy it again", "and what about that one", "plot sales.csv by month")]
    router.system_prompt("deploy", context=DATE, dynamic=False)
    got = points(reader)
    requests = got["prompt_router.requests"]
    assert total(requests) == 5
    assert total(requests, mode="dynamic", fallback=True) == 1  # "and what about that one" matches no trigger
    assert total(requests, mode="static") == 1
    selections = got["prompt_router.module.selections"]
    assert total(selections, module="deployment", reason="trigger") == 2
    assert total(selections, module="data_processing", reason="trigger") == 1
    assert total(selections, module="data_processing", reason="fallback") == 1
    sent = sum(r.prompt.tokens for r in results)
    saved = sum(r.tokens_saved for r in results)
    assert total(got["prompt_router.tokens.sent"], mode="dynamic") == sent
    assert total(got["prompt_router.tokens.saved"], mode="dynamic") == saved > 0
    [(_, route)] = got["prompt_router.route.duration"]
    assert route.count == 4 and route.sum == pytest.approx(sum(r.route_seconds for r in results))
    assert route.explicit_bounds[0] == 1e-6  # microsecond buckets, not the SDK's millisecond ones
    histogram = {attrs["mode"]: p for attrs, p in got["prompt_router.prompt.tokens"]}
    assert histogram["dynamic"].sum == sent and histogram["static"].count == 1
    # attributes are module ids, modes and router names: never the user's text
    rendered = json.dumps({name: [attrs for attrs, _ in series] for name, series in got.items()})
    assert "jane" not in rendered and "flask" not in rendered and "example.com" not in rendered


def test_no_tools_judgement_and_rollout_arm_are_attributes(bundled):
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    router = PromptRouter(bundled, settings=RouterSettings(_env_file=None), observers=[OpenTelemetryMetrics(provider)])
    assert router.router.name == "hybrid"
    conversation = ConversationRouter(router, policy="sticky")
    prepared = conversation.prepare("t1", [{"role": "user", "content": "thanks, that was great!"}], context=DATE)
    assert prepared.decision.no_tools
    got = points(reader)
    assert total(got["prompt_router.requests"], no_tools=True, arm="dynamic", router="hybrid") == 1


class ExplodingRouter:
    name = "exploding"

    def __init__(self, library):
        self.library = library

    def route(self, query, history=(), sticky=()):
        raise RuntimeError("boom")


def test_faults_are_counted_by_type(bundled):
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    router = PromptRouter(bundled, router=ExplodingRouter(bundled), settings=RouterSettings(_env_file=None),
                          observers=[OpenTelemetryMetrics(provider)])
    assert router.system_prompt("deploy", context=DATE).mode == "error"
    got = points(reader)
    assert total(got["prompt_router.errors"], error_type="RuntimeError") == 1
    assert total(got["prompt_router.requests"], mode="error") == 1
    assert "prompt_router.route.duration" not in got  # a fault has no timing worth plotting


def test_provider_usage_gives_the_real_cache_hit_rate_and_cost(metered):
    router, reader = metered
    conversation = ConversationRouter(router)
    first = anthropic_types.Usage(input_tokens=200, output_tokens=40, cache_read_input_tokens=0, cache_creation_input_tokens=3000)
    second = anthropic_types.Usage(input_tokens=150, output_tokens=60, cache_read_input_tokens=3000, cache_creation_input_tokens=0)
    conversation.record_provider_request("claude-sonnet-5", usage=first, cost=0.0123, labels={"arm": "dynamic"})
    conversation.record_provider_request("claude-sonnet-5", usage=second, cost=0.0021, labels={"arm": "dynamic"})
    got = points(reader)
    inputs = got["prompt_router.provider.input_tokens"]
    assert total(inputs, kind="uncached") == 350
    assert total(inputs, kind="cache_write") == 3000
    assert total(inputs, kind="cache_read") == 3000
    hit_rate = total(inputs, kind="cache_read") / total(inputs)
    assert hit_rate == pytest.approx(3000 / 6350)
    requests = got["prompt_router.provider.requests"]
    assert total(requests, cache="hit", arm="dynamic") == 1 and total(requests, cache="miss") == 1
    assert total(got["prompt_router.provider.output_tokens"], model="claude-sonnet-5") == 100
    assert total(got["prompt_router.provider.cost"]) == pytest.approx(0.0144)
    [(_, ratio)] = got["prompt_router.provider.cache_hit_ratio"]
    assert ratio.count == 2 and ratio.sum == pytest.approx(3000 / 3150)


OFF = """
import sys
from prompt_router import PromptRouter, RouterSettings
router = PromptRouter.from_settings(RouterSettings(_env_file=None, router="keyword"))
router.system_prompt("deploy the app", context={"current_date": "2026-01-01"})
print(sorted(m for m in sys.modules if m.startswith(("opentelemetry", "prompt_router.telemetry.metrics"))))
"""

ON = """
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prompt_router import PromptRouter, RouterSettings
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))  # what the host application does
router = PromptRouter.from_settings(RouterSettings(_env_file=None, router="keyword", metrics_enabled=True))
for query in ("deploy the app", "hello"):
    router.system_prompt(query, context={"current_date": "2026-01-01"})
names = {m.name: sum(p.value for p in m.data.data_points) for r in reader.get_metrics_data().resource_metrics
         for s in r.scope_metrics for m in s.metrics if m.name == "prompt_router.requests"}
print(names)
"""


def _run(code: str) -> str:
    env = {"PATH": "", "HOME": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_off_by_default_costs_not_even_the_import_and_one_setting_turns_it_on():
    assert _run(OFF) == "[]"
    assert _run(ON) == "{'prompt_router.requests': 2}"


def test_thread_figures_for_the_cost_model_are_metrics_labels_and_event_contexts(bundled):
    """Per user turn: whether the routed module set changed from the previous turn's, and how
    many tool modules the thread has needed so far; never on a tool step, never user text."""
    from prompt_router.telemetry.events import routing_event

    reader = InMemoryMetricReader()
    router = PromptRouter(bundled, settings=RouterSettings(_env_file=None, router="keyword"),
                          observers=[OpenTelemetryMetrics(MeterProvider(metric_readers=[reader]))])
    conversation = ConversationRouter(router, policy="catalogue")
    turns = ["search the web for the ECB decision", "thanks", "now chart the rates", "and the week after", SECRET_QUERY]
    messages: list[dict] = []
    results = []
    for turn in turns:
        messages.append({"role": "user", "content": turn})
        results.append(conversation.prepare("t", messages, context=DATE).result)
        messages.append({"role": "assistant", "content": "Done."})
    messages[-1] = {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "run_shell", "input": {}}]}
    messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "ok"}]})
    step = conversation.prepare("t", messages, context=DATE).result
    assert step.thread.module_set is None and "module_set" not in step.labels  # a tool step is not a turn
    expected = ["first"]
    for n in range(1, len(turns)):  # routed on their own, as per-request routing would serve them
        now, before = router.route(turns[n], turns[:n]), router.route(turns[n - 1], turns[:n - 1])
        expected.append("same" if now.modules == before.modules else "changed")
    assert [r.labels["module_set"] for r in results] == expected and {"same", "changed"} <= set(expected)
    needed = [r.thread.tool_modules for r in results]
    assert needed == sorted(needed) and needed[-1] == len(conversation.thread_state("t").modules) < len(bundled.tool_ids)
    assert all(r.thread.library_tool_modules == len(bundled.tool_ids) for r in results)

    got = points(reader)
    for change in ("first", "same", "changed"):
        assert total(got["prompt_router.thread.turns"], module_set=change, policy="catalogue") == expected.count(change)
    [(attributes, histogram)] = got["prompt_router.thread.tool_modules"]
    assert attributes == {"policy": "catalogue"} and histogram.count == len(turns) and histogram.sum == sum(needed)
    assert total(got["prompt_router.tokens.sent"]) == sum(r.tokens_sent for r in [*results, step])
    event = routing_event(results[-1])
    assert event["contexts"]["prompt_router_thread"] == {
        "module_set": expected[-1], "tool_modules": needed[-1], "library_tool_modules": len(bundled.tool_ids),
        "library_share": round(needed[-1] / len(bundled.tool_ids), 4)}
    assert event["tags"]["prompt_router.policy"] == "catalogue" and event["tags"]["prompt_router.policy_reason"] == "configured"
    rendered = json.dumps([event, {name: [attrs for attrs, _ in series] for name, series in got.items()}])
    assert "jane" not in rendered and "ECB" not in rendered  # ("flask" is there: a trigger text of the library)
