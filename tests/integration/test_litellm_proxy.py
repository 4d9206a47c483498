"""End to end: the openai SDK -> the real LiteLLM proxy on 127.0.0.1, loading our callback from
its config -> a fake OpenAI-compatible provider on loopback. We assert on what the provider
received, and on the usage telemetry the proxy's router sent to a loopback collector through
the real sentry-sdk. Nothing leaves 127.0.0.1. If the proxy cannot start, the test fails."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import openai
import pytest
from pytest_httpserver import HTTPServer

from prompt_router import ConversationRouter, HostSection, Observer, PromptRouter, RouterSettings
from prompt_router.integration.litellm import META_KEY, LiteLLMSettings, PromptRouterCallback

from ..telemetry.sentry_support import Collector, dsn_for
from .fake_provider import CACHE_WRITTEN, CACHED, COMPLETION, FakeProvider

pytestmark = pytest.mark.slow
DATE = {"current_date": "2026-11-22"}
HOST_SYSTEM = "You are the support bot of ACME. Be terse."
# Keep the proxy offline and quiet (each checked against litellm 1.108.7's source).
OFFLINE = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else a fetch of the cost map at import
    "LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS": "True",
    "LITELLM_LOCAL_BLOG_POSTS": "True",
    "LITELLM_LOCAL_POLICY_TEMPLATES": "True",
    "LITELLM_LOCAL_AUTOROUTER_PRESETS": "True",
    "LITELLM_MODE": "PRODUCTION",  # DEV runs load_dotenv() on any .env above site-packages
    "LITELLM_LOG": "ERROR",
    "LITELLM_DONT_SHOW_FEEDBACK_BOX": "True",
    "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
}
DROPPED = ("DATABASE_URL", "DIRECT_URL", "REDIS_HOST", "REDIS_URL", "REDIS_PORT", "LITELLM_MASTER_KEY", "OPENAI_API_KEY",
           "OPENAI_BASE_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy")
CONFIG = """
model_list:
  - model_name: fake-gpt
    litellm_params: {model: openai/fake-gpt, api_base: "os.environ/FAKE_PROVIDER_BASE", api_key: sk-fake-provider-key}
  - model_name: plain-gpt
    litellm_params: {model: openai/plain-gpt, api_base: "os.environ/FAKE_PROVIDER_BASE", api_key: sk-fake-provider-key}
litellm_settings:
  callbacks: prompt_router.integration.litellm.proxy_handler
  num_retries: 0
  request_timeout: 30
general_settings:
  master_key: os.environ/TEST_MASTER_KEY
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    def __init__(self, root: Path) -> None:
        self.provider = FakeProvider()
        self.tracker = HTTPServer(host="127.0.0.1", port=0)
        self.tracker.start()
        self.collector = Collector()
        self.tracker.expect_request("/api/1/envelope/", method="POST").respond_with_handler(self.collector.handler)
        self.key = f"sk-{secrets.token_hex(16)}"
        self.port = _free_port()
        (root / "config.yaml").write_text(CONFIG)
        env = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith("PROMPT_ROUTER_")}
        env.update(OFFLINE, FAKE_PROVIDER_BASE=f"http://127.0.0.1:{self.provider.port}/v1", TEST_MASTER_KEY=self.key,
                   PROMPT_ROUTER_ROUTER="keyword", PROMPT_ROUTER_DELIVERY_POLICY="sticky",
                   PROMPT_ROUTER_SENTRY_DSN=dsn_for(self.tracker),
                   PROMPT_ROUTER_TELEMETRY_SAMPLE_RATE="1", PROMPT_ROUTER_TELEMETRY_PROVIDER_SAMPLE_RATE="1",
                   PROMPT_ROUTER_LITELLM_MODELS="fake-*")
        self.log = root / "proxy.log"
        self.proxy = subprocess.Popen(
            [sys.executable, "-m", "litellm.proxy.proxy_cli", "--config", str(root / "config.yaml"),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=root, start_new_session=True)
        self.startup = self._wait_ready(120)

    def _wait_ready(self, timeout: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proxy.poll() is not None:
                pytest.fail(f"the LiteLLM proxy exited ({self.proxy.returncode}):\n{self.log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/readiness", timeout=1) as response:
                    if response.status == 200:
                        return time.monotonic() - start
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        pytest.fail(f"the LiteLLM proxy was not ready after {timeout}s:\n{self.log.read_text()[-4000:]}")

    def client(self, key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"http://127.0.0.1:{self.port}/v1", api_key=key or self.key, max_retries=0, timeout=30)

    def provider_events(self, count: int) -> list[dict]:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            found = [e for e in self.collector.events() if e["fingerprint"] == ["prompt-router", "provider-request"]]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        return found

    def stop(self) -> None:
        if self.proxy.poll() is None:
            os.killpg(self.proxy.pid, signal.SIGTERM)  # its own session: only the proxy's tree
            try:
                self.proxy.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proxy.pid, signal.SIGKILL)
                self.proxy.wait(5)
        self.provider.stop()
        self.tracker.clear()
        self.tracker.stop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("litellm"))
    print(f"\nLiteLLM proxy ready in {stack.startup:.1f}s")
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def local(bundled):
    """The same configuration in this process: what the proxy's hook must have produced."""
    return ConversationRouter(PromptRouter(bundled, settings=RouterSettings(_env_file=None, router="keyword")), policy="sticky")


def _context(**extra: object) -> dict:
    return {"metadata": {"prompt_router_context": DATE, **extra}}


def test_the_system_prompt_is_routed_per_thread_and_usage_comes_back(stack, local):
    client, before = stack.client(), len(stack.provider)
    turns = [[{"role": "system", "content": HOST_SYSTEM}, {"role": "user", "content": "deploy the flask app to production"}]]
    turns.append([*turns[0], {"role": "assistant", "content": "Which host?"}, {"role": "user", "content": "the usual one, thanks"}])
    for messages in turns:
        reply = client.chat.completions.create(model="fake-gpt", messages=messages, extra_headers={"x-thread-id": "t-1"},
                                               extra_body=_context())
        assert reply.choices[0].message.content.startswith("fake reply")
        assert reply.usage.prompt_tokens_details.cached_tokens == CACHED
    got = stack.provider.since(before)
    assert len(got) == 2
    for messages, request in zip(turns, got):
        expected = local.prepare("t-local", messages[1:], sections=[HostSection(HOST_SYSTEM)], context=DATE)
        sent = request["body"]["messages"]
        assert sent[0] == {"role": "system", "content": expected.text}
        assert sent[1:] == messages[1:]  # the conversation is untouched
        assert "# Deployment" in sent[0]["content"] and "# Image generation" not in sent[0]["content"]
        assert HOST_SYSTEM in sent[0]["content"]
        assert request["headers"]["authorization"] == "Bearer sk-fake-provider-key"
        assert "metadata" not in request["body"] and "x-thread-id" not in request["headers"]
    assert len(got[1]["body"]["messages"][0]["content"]) < len(local.router.full_prompt(DATE).text)

    events = stack.provider_events(2)
    usage = sorted((e["contexts"]["prompt_router_provider"] for e in events), key=lambda c: c["prompt_tokens"])[-2:]
    for context in usage:
        assert context["cache_read_tokens"] == CACHED and context["cache_write_tokens"] == CACHE_WRITTEN
        assert context["output_tokens"] == COMPLETION
        assert context["uncached_tokens"] == context["prompt_tokens"] - CACHED - CACHE_WRITTEN
        assert context["cache_hit_rate"] == round(CACHED / context["prompt_tokens"], 4)
    assert all(e["tags"]["prompt_router.arm"] == "dynamic" for e in events)


def test_thread_identity_from_metadata_and_no_system_message(stack, local):
    client, before = stack.client(), len(stack.provider)
    # each request carries only its latest message, so only the thread's state can link them
    for text, thread in (("plot sales.csv by month", "m-7"), ("great, thanks", "m-7"), ("great, thanks", "m-8")):
        client.chat.completions.create(model="fake-gpt", messages=[{"role": "user", "content": text}],
                                       extra_body=_context(thread_id=thread))
    first, same_thread, other_thread = (r["body"]["messages"] for r in stack.provider.since(before))
    assert first[0]["role"] == "system" and first[1:] == [{"role": "user", "content": "plot sales.csv by month"}]
    assert first[0]["content"] == local.prepare("m-local", first[1:], context=DATE).text
    # m-7 kept its module (stickiness wins over small talk); m-8 is small talk: core + response only
    assert "# Data processing" in same_thread[0]["content"] and "# Image generation" not in same_thread[0]["content"]
    assert other_thread[0]["content"] == local.router.system_prompt("great, thanks", context=DATE).text
    assert "# Data processing" not in other_thread[0]["content"] and "# Response format" in other_thread[0]["content"]


def test_a_fault_lets_the_request_through_unchanged_and_is_reported(stack):
    client, before = stack.client(), len(stack.provider)
    messages = [{"role": "system", "content": HOST_SYSTEM}, {"role": "user", "content": "deploy it"}]
    reply = client.chat.completions.create(model="fake-gpt", messages=messages,
                                           extra_body={"metadata": {"prompt_router_context": {"workspace_rot": "/srv"}}})
    assert reply.choices[0].message.content.startswith("fake reply")
    [request] = stack.provider.since(before)
    assert request["body"]["messages"] == messages
    deadline = time.monotonic() + 15
    errors: list = []
    while not errors and time.monotonic() < deadline:
        errors = [e for e in stack.collector.events() if e["fingerprint"][:2] == ["prompt-router", "fallback-error"]]
        time.sleep(0.05)
    assert errors and errors[0]["fingerprint"][2] == "ContextError"
    assert errors[0]["tags"]["prompt_router.integration"] == "litellm"


def test_other_models_and_bad_keys_are_left_alone(stack):
    client, before = stack.client(), len(stack.provider)
    messages = [{"role": "system", "content": HOST_SYSTEM}, {"role": "user", "content": "deploy it"}]
    client.chat.completions.create(model="plain-gpt", messages=messages)  # PROMPT_ROUTER_LITELLM_MODELS=fake-*
    assert stack.provider.since(before)[0]["body"]["messages"] == messages
    with pytest.raises(openai.APIStatusError):
        stack.client("sk-wrong").chat.completions.create(model="fake-gpt", messages=messages)
    assert len(stack.provider) == before + 1  # the proxy refused before the hook or the provider ran


def test_streaming_is_routed_and_its_usage_recorded(stack, local):
    client, before = stack.client(), len(stack.provider)
    events_before = len(stack.provider_events(0))
    stream = client.chat.completions.create(model="fake-gpt", stream=True, extra_body=_context(),
                                            messages=[{"role": "user", "content": "email my landlord about the rent"}],
                                            extra_headers={"x-thread-id": "s-1"})
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).startswith("fake reply")
    [request] = stack.provider.since(before)
    assert "# Communication" in request["body"]["messages"][0]["content"]
    events = stack.provider_events(events_before + 1)
    assert len(events) == events_before + 1
    assert events[-1]["contexts"]["prompt_router_provider"]["cache_read_tokens"] == CACHED


# --- the hook in-process: fail open on anything ---------------------------------------------------


class Faults(Observer):
    def __init__(self) -> None:
        self.errors: list = []

    def on_error(self, error, result) -> None:
        self.errors.append((type(error).__name__, result.mode))


def test_the_hook_fails_open_in_process(bundled, caplog):
    faults = Faults()
    router = PromptRouter(bundled, settings=RouterSettings(_env_file=None, router="keyword"), observers=[faults])
    hook = PromptRouterCallback(ConversationRouter(router, policy="sticky"), LiteLLMSettings(_env_file=None))
    odd = {"model": "m", "messages": [{"role": "user", "content": "deploy"}, "not a message"]}
    snapshot = repr(odd)
    assert asyncio.run(hook.async_pre_call_hook(None, None, odd, "acompletion")) is odd
    assert repr(odd) == snapshot and hook.faults == 1 and faults.errors == [("TypeError", "error")]
    assert "LiteLLM hook failed in pre-call (TypeError)" in caplog.text and "deploy" not in caplog.text
    # a success event with a usage we cannot read is reported, never raised
    kwargs = {"litellm_params": {"metadata": {META_KEY: {"arm": "dynamic", "tools": 0}}}, "model": "m"}
    asyncio.run(hook.async_log_success_event(kwargs, type("R", (), {"usage": "garbage"})(), 0, 0))
    assert hook.faults == 2 and faults.errors[-1] == ("TypeError", "error")
    # embeddings and other calls are not chat requests
    data = {"model": "m", "input": ["x"]}
    assert asyncio.run(hook.async_pre_call_hook(None, None, data, "aembedding")) == {"model": "m", "input": ["x"]}


def test_the_hook_puts_attached_modules_in_the_conversation_and_picks_auto_by_the_model(bundled):
    from prompt_router.integration import DeliveryPlan, PlanCell, Traffic

    plan = DeliveryPlan(bundled.version, (), (PlanCell("anthropic", 600.0, 5.0, 0.0, "catalogue", {"catalogue": 0.1}),))
    router = PromptRouter(bundled, settings=RouterSettings(_env_file=None, router="keyword"))
    hook = PromptRouterCallback(ConversationRouter(router, plan=plan, traffic=Traffic(600.0, 5.0, 0.0)),
                                LiteLLMSettings(_env_file=None))
    messages = [{"role": "system", "content": HOST_SYSTEM}, {"role": "user", "content": "search the web for the ECB decision"}]
    for model, policy in (("claude-sonnet-5", "catalogue"), ("my-proxy-alias", "static")):  # an alias names no model
        data = {"model": model, "messages": list(messages), "metadata": {"thread_id": model}}
        asyncio.run(hook.async_pre_call_hook(None, None, data, "acompletion"))
        assert data["metadata"][META_KEY]["policy"] == policy and data["messages"][0]["role"] == "system"
        user = data["messages"][1]["content"]
        if policy == "catalogue":
            assert "# Capability modules" in data["messages"][0]["content"] and HOST_SYSTEM in data["messages"][0]["content"]
            assert user.startswith('<prompt-module id="toolkit">') and user.endswith("\n\nsearch the web for the ECB decision")
        else:
            assert user == "search the web for the ECB decision"
    assert messages[1] == {"role": "user", "content": "search the web for the ECB decision"}  # the client's, untouched
