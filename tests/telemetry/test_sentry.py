"""Telemetry with the real sentry-sdk, sending HTTP to loopback servers (never further)."""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time

import pytest
import sentry_sdk
from pytest_httpserver import HTTPServer

from prompt_router import PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.telemetry import SentryTelemetry, scrub_event

from ..conftest import DATE
from .sentry_support import Collector, dsn_for

LIBRARY = load_library(bundled_library_dir())
QUERY_WITH_SECRETS = "email jane.doe@example.com the sales chart, token sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a"


@pytest.fixture
def collector(httpserver: HTTPServer) -> Collector:
    collector = Collector()
    httpserver.expect_request("/api/1/envelope/", method="POST").respond_with_handler(collector.handler)
    return collector


def telemetry_router(dsn: str, **settings) -> PromptRouter:
    values = {"sentry_dsn": dsn, "route_cache_size": 0, "telemetry_sample_rate": 1.0, **settings}
    return PromptRouter.from_settings(RouterSettings(_env_file=None, **values))


def test_routing_and_prompt_events_have_fingerprint_template_and_sizes(httpserver, collector):
    router = telemetry_router(dsn_for(httpserver))
    result = router.system_prompt("plot sales.csv by month", context=DATE)
    router.close(5)
    events = collector.wait_for(2)
    routing = next(e for e in events if e["fingerprint"] == ["prompt-router", "routing-decision"])
    prompt = next(e for e in events if e["fingerprint"] == ["prompt-router", "prompt-built"])
    count = len(result.decision.modules)
    assert routing["logentry"] == {"message": "Routing: %s modules selected", "params": [count],
                                   "formatted": f"Routing: {count} modules selected"}
    context = routing["contexts"]["prompt_router_routing"]
    assert context["modules"] == list(result.decision.modules) and "plot" in context["triggers"]
    assert context["query_chars"] == len("plot sales.csv by month") and context["fallback"] is False
    assert routing["tags"]["prompt_router.module_count"] == str(count)
    assert routing["tags"]["prompt_router.library_version"] == LIBRARY.version
    sizes = prompt["contexts"]["prompt_router_prompt"]
    assert prompt["logentry"]["message"] == "Prompt built: %s tokens"
    assert sizes["tokens"] == result.prompt.tokens and sizes["tokens_saved"] == result.tokens_saved
    assert sizes["stable_prefix_tokens"] == result.prompt.prefix_tokens and sizes["chars"] == len(result.text)
    for event in (routing, prompt):
        assert "server_name" not in event and "user" not in event and event["level"] == "info"


def test_user_text_and_host_data_never_leave(httpserver, collector):
    host_server = HTTPServer(host="127.0.0.1", port=0)
    host_server.start()
    host = Collector()
    host_server.expect_request("/api/2/envelope/", method="POST").respond_with_handler(host.handler)
    try:
        sentry_sdk.init(dsn=dsn_for(host_server, 2), default_integrations=False)
        sentry_sdk.set_tag("host_tag", "host-value")
        sentry_sdk.set_user({"email": "host-user@example.org"})
        sentry_sdk.add_breadcrumb(message="host breadcrumb")
        router = telemetry_router(dsn_for(httpserver), telemetry_traces_sample_rate=1.0)
        for query in (QUERY_WITH_SECRETS, "hello " + QUERY_WITH_SECRETS):
            router.system_prompt(query, history=[QUERY_WITH_SECRETS], context=DATE)
        sentry_sdk.capture_message("host message")
        router.close(5)
        sentry_sdk.flush(5)
        collector.wait_for(4)
        sent = collector.everything()
        assert len(collector.events()) == 4 and len(collector.events("transaction")) == 2
        for secret in ("jane.doe", "example.com", "sk-live", "4f9a8b7c6d5e", "host_tag", "host-value",
                       "host-user", "host breadcrumb", "host message", socket.gethostname()):
            assert secret not in sent, secret
        # and the host's own Sentry got its event, with none of ours
        [host_event] = host.wait_for(1)
        assert host_event["tags"]["host_tag"] == "host-value"
        assert "prompt_router" not in host.everything()
    finally:
        sentry_sdk.get_client().close(timeout=0)
        sentry_sdk.get_global_scope().set_client(None)
        sentry_sdk.get_isolation_scope().clear()
        host_server.clear()
        host_server.stop()


class ExplodingRouter:
    name = "exploding"
    library = LIBRARY

    def route(self, query, history=(), sticky=()):
        raise RuntimeError(f"cannot route {query!r}")  # a careless router puts user text in errors


def test_fallback_error_is_reported_with_traceback_and_request_succeeds(httpserver, collector):
    settings = RouterSettings(_env_file=None, sentry_dsn=dsn_for(httpserver), telemetry_sample_rate=1.0)
    telemetry = SentryTelemetry.from_settings(settings)
    router = PromptRouter(LIBRARY, router=ExplodingRouter(), settings=settings, observers=[telemetry])
    result = router.system_prompt(QUERY_WITH_SECRETS, context=DATE)
    assert result.mode == "error" and result.text == router.full_prompt(DATE).text
    router.close(5)
    events = collector.wait_for(3)
    error = next(e for e in events if e.get("level") == "error")
    assert error["fingerprint"] == ["prompt-router", "fallback-error", "RuntimeError"]
    [exception] = error["exception"]["values"]
    assert exception["type"] == "RuntimeError" and "withheld" in exception["value"]
    assert any(frame["function"] == "route" for frame in exception["stacktrace"]["frames"])
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])
    assert "jane.doe" not in collector.everything() and "sk-live" not in collector.everything()


def test_sampling_and_transactions(httpserver, collector):
    router = telemetry_router(dsn_for(httpserver), telemetry_sample_rate=0.0, telemetry_traces_sample_rate=1.0)
    router.system_prompt("deploy the site", context=DATE)
    router.close(5)
    [transaction] = collector.wait_for(1, "transaction")
    assert collector.events() == []  # events sampled out, timing kept
    assert transaction["transaction"] == "prompt_router.system_prompt"
    assert [s["op"] for s in transaction["spans"]] == ["prompt_router.route", "prompt_router.build"]
    assert transaction["tags"]["prompt_router.fallback"] == "false"


def test_no_dsn_means_nothing_attached_and_bad_dsn_is_a_settings_error():
    assert PromptRouter.from_settings(RouterSettings(_env_file=None)).observers == []
    assert SentryTelemetry.from_settings(RouterSettings(_env_file=None, sentry_dsn="http://k@127.0.0.1:9/1",
                                                        telemetry_enabled=False)) is None
    with pytest.raises(Exception) as info:
        RouterSettings(_env_file=None, sentry_dsn="ftp:/secret-token-value")
    assert "not a valid DSN" in str(info.value) and "secret-token-value" not in str(info.value)
    assert "secret" not in repr(RouterSettings(_env_file=None, sentry_dsn="http://secretkey@127.0.0.1:9/1"))


def test_host_client_reuse_sends_only_our_data(httpserver, collector):
    try:
        sentry_sdk.init(dsn=dsn_for(httpserver), default_integrations=False)
        sentry_sdk.set_tag("host_tag", "host-value")
        router = PromptRouter.from_settings(RouterSettings(_env_file=None, telemetry_use_host_client=True,
                                                           telemetry_sample_rate=1.0))
        [telemetry] = router.observers
        assert telemetry.client is sentry_sdk.get_client()
        router.system_prompt("email my landlord", context=DATE)
        router.close(5)
        sentry_sdk.flush(5)
        events = collector.wait_for(2)
        assert {tuple(e["fingerprint"]) for e in events} == {("prompt-router", "routing-decision"), ("prompt-router", "prompt-built")}
        assert all("host_tag" not in e.get("tags", {}) for e in events)
    finally:
        sentry_sdk.get_client().close(timeout=0)
        sentry_sdk.get_global_scope().set_client(None)
        sentry_sdk.get_isolation_scope().clear()


def test_cli_route_sends_and_flushes_before_exit(httpserver, collector):
    env = {**os.environ, "PROMPT_ROUTER_SENTRY_DSN": dsn_for(httpserver), "PROMPT_ROUTER_TELEMETRY_SAMPLE_RATE": "1"}
    proc = subprocess.run([sys.executable, "-m", "prompt_router.cli", "route", "--json", "chart the sales"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(collector.events()) == 2  # already there when the process has exited


def test_scrubber_redacts_and_drops():
    event = {"server_name": "host1", "user": {"id": 1}, "message": "mail a.b@c.org key ghp_abcdefghijklmnop1234",
             "contexts": {"trace": {"trace_id": "a" * 32}}, "exception": {"values": [{"stacktrace": {"frames": [{"vars": {"q": "x"}}]}}]}}
    cleaned = scrub_event(event)
    assert "server_name" not in cleaned and "user" not in cleaned
    assert cleaned["message"] == "mail [redacted] key [redacted]"
    assert cleaned["contexts"]["trace"]["trace_id"] == "a" * 32
    assert cleaned["exception"]["values"][0]["stacktrace"]["frames"] == [{}]


def test_full_queue_drops_and_counts_without_raising():
    class StuckClient:
        options: dict = {}

        def __init__(self):
            self.release = threading.Event()

        def capture_event(self, *a, **k):
            self.release.wait(5)

        def flush(self, timeout=None):
            pass

        def close(self, timeout=None):
            pass

    client = StuckClient()
    telemetry = SentryTelemetry(client, queue_size=3, max_per_second=1e9)
    router = PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None), observers=[telemetry])
    for _ in range(20):
        assert router.system_prompt("deploy", context=DATE).mode == "dynamic"
    assert telemetry.dropped >= 15
    client.release.set()
    telemetry.close(1)


# --- never in the way -------------------------------------------------------------------------


class HangingServer:
    """Accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_rate_cap_bounds_what_is_reported():
    class CountingClient:
        options: dict = {}
        sent = 0

        def capture_event(self, *a, **k):
            CountingClient.sent += 1

        def flush(self, timeout=None):
            pass

        def close(self, timeout=None):
            pass

    telemetry = SentryTelemetry(CountingClient(), max_per_second=50)
    router = PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None), observers=[telemetry])
    start = time.monotonic()
    for _ in range(2000):
        router.system_prompt("deploy", context=DATE)
    elapsed = time.monotonic() - start
    telemetry.close(2)
    admitted = CountingClient.sent // 2  # two events per reported request
    assert admitted <= 50 + 50 * elapsed + 1 and telemetry.dropped == 2000 - admitted


def _median_us(router: PromptRouter, queries: list[str]) -> float:
    times = []
    for query in queries:
        start = time.perf_counter()
        router.system_prompt(query, context=DATE)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def test_unreachable_or_hanging_tracker_costs_the_request_path_nothing():
    hanging = HangingServer()
    try:
        baseline = PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, route_cache_size=0))
        routers = {
            "hanging": telemetry_router(f"http://k@127.0.0.1:{hanging.port}/1"),
            "closed port": telemetry_router(f"http://k@127.0.0.1:{_closed_port()}/1"),
        }
        queries = [f"plot the sales for region {i} and email the chart" for i in range(400)]
        ratios: dict[str, list[float]] = {name: [] for name in routers}
        for _ in range(5):  # interleave rounds so drift on a shared machine hits both sides
            for name, router in routers.items():
                base = _median_us(baseline, queries)
                ratios[name].append(_median_us(router, queries) / base)
        for name, router in routers.items():
            start = time.monotonic()
            router.close(1.0)
            assert time.monotonic() - start < 3.0  # shutdown flush is bounded
            # A send on the request path would wait on the network (a 100x slowdown or worse);
            # the margin only absorbs the telemetry thread sharing the GIL on a noisy machine.
            assert statistics.median(ratios[name]) < 2.5, (name, ratios[name])
    finally:
        hanging.close()


def test_default_sampling_reports_a_few_requests_every_fault_and_provider_usage_separately():
    class CountingClient:
        options = dict(sentry_sdk.Client(default_integrations=False, auto_enabling_integrations=False).options)

        def __init__(self):
            self.events: list = []

        def capture_event(self, event, *a, **k):
            self.events.append(event)

        def flush(self, timeout=None):
            pass

        def close(self, timeout=None):
            pass

    defaults = RouterSettings(_env_file=None)
    assert (defaults.telemetry_sample_rate, defaults.telemetry_provider_sample_rate) == (0.01, 0.01)
    settings = defaults.model_copy(update={"router": "keyword"})
    client = CountingClient()
    telemetry = SentryTelemetry(client, sample_rate=settings.telemetry_sample_rate,
                                provider_sample_rate=1.0, max_per_second=1e9)
    telemetry._random = random.Random(7).random
    router = PromptRouter(LIBRARY, settings=settings, observers=[telemetry])
    for i in range(1000):
        router.system_prompt(f"deploy site {i}", context=DATE)
    exploding = PromptRouter(LIBRARY, router=ExplodingRouter(), settings=settings, observers=[telemetry])
    for _ in range(5):
        exploding.system_prompt("deploy", context=DATE)
    from prompt_router import ConversationRouter

    ConversationRouter(router).record_provider_request(
        "gpt-4o", usage={"prompt_tokens": 2048, "prompt_tokens_details": {"cached_tokens": 1536}, "completion_tokens": 9},
        cost=0.004)
    telemetry.flush(5)
    kinds = [tuple(e["fingerprint"][:2]) for e in client.events]
    routing = kinds.count(("prompt-router", "routing-decision"))
    assert 3 <= routing <= 25  # about 1% of 1,005 requests
    assert kinds.count(("prompt-router", "fallback-error")) == 5  # faults are never sampled away
    [provider] = [e for e in client.events if e["fingerprint"] == ["prompt-router", "provider-request"]]
    usage = provider["contexts"]["prompt_router_provider"]
    assert usage["cache_read_tokens"] == 1536 and usage["uncached_tokens"] == 512
    assert usage["cache_hit_rate"] == 0.75 and usage["cost_usd"] == 0.004
    telemetry.close(1)
