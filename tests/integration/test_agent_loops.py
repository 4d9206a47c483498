"""Agent loops through the real anthropic and openai SDKs on a loopback server: native
content passes through untouched, every request the SDK sends matches the SDK's own request
types, routing reads the user's text (never a tool result), and every step of a loop gets
the modules of the turn that started it, with or without the thread's state."""

from __future__ import annotations

import json

import anthropic
import openai
import pytest
from werkzeug import Response

from prompt_router import PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.integration import (
    ConversationRouter,
    anthropic_request,
    openai_messages,
    read_conversation,
)

from ..conftest import DATE
from .sdk_schema import anthropic_problems, openai_problems

LIBRARY = load_library(bundled_library_dir())
TASK = "Find the latest ECB interest rate decisions and chart the last five rate changes"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
# The model's side of the loop: five tool calls, then the answer.
ANTHROPIC_STEPS = [
    ("web_search", {"query": "ECB rate decision"}),
    ("fetch_url", {"url": "https://example.org/ecb"}),
    ("run_python", {"code": "import pandas as pd"}),
    ("run_python", {"code": "plot()"}),
    ("write_file", {"path": "rates.md", "content": "..."}),
]


def conversation(route_tool_calls: bool = False, **settings) -> ConversationRouter:
    settings.setdefault("delivery_policy", "sticky")  # sticky routing is what these loops check
    return ConversationRouter(PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, **settings)),
                              route_tool_calls=route_tool_calls)


# --- reading a conversation ------------------------------------------------------------------


def test_routing_reads_the_latest_user_text_not_tool_results():
    messages = [
        {"role": "user", "content": "plot sales.csv by month"},
        {"role": "assistant", "content": "Here it is."},
        {"role": "user", "content": [{"type": "text", "text": TASK}, {"type": "image", "source": {}}]},
        {"role": "assistant", "content": [{"type": "text", "text": "Searching."},
                                          {"type": "tool_use", "id": "a", "name": "web_search", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "deploy kubernetes now"}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "b", "type": "function", "function": {"name": "run_python", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "b", "content": "email the team"},
    ]
    seen = read_conversation(messages, history_turns=3)
    assert seen.query == TASK and seen.history == ("plot sales.csv by month",)
    assert seen.tools_used == ("web_search", "run_python") and seen.loop_steps == 2
    assert read_conversation(messages, history_turns=0).history == ()
    # no user text at all: the only case with an empty query
    assert read_conversation([{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a"}]}], 3).query == ""


def test_a_tool_step_is_routed_like_the_turn_that_started_the_loop():
    start = [{"role": "user", "content": TASK}]
    loop = start + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "web_search", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "..."}]},
    ] * 3
    first = conversation().prepare("a", start, context=DATE)
    # a process that has never seen the thread (another worker, a restart): same modules, not the full prompt
    fresh = conversation().prepare("b", loop, context=DATE)
    assert fresh.decision.modules == first.decision.modules and not fresh.decision.fallback
    assert fresh.tokens == first.tokens < conversation().router.full_prompt(DATE).tokens


def test_tool_calls_as_evidence_add_the_governing_modules_from_the_next_step():
    messages: list = [{"role": "user", "content": TASK}]
    for n, name in enumerate(["web_search", "write_file", "read_file"]):
        messages += [{"role": "assistant", "content": [{"type": "tool_use", "id": f"t{n}", "name": name, "input": {}}]},
                     {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"t{n}", "content": "ok"}]}]
    plain = conversation(router="keyword").prepare("a", messages, context=DATE).decision
    assert not {"file_operations", "content_creation"} & set(plain.modules)  # the user text asks for neither
    with_tools = conversation(route_tool_calls=True, router="keyword").prepare("b", messages, context=DATE).decision
    # write_file is governed by both: both come (recall over savings); web_search was covered already
    assert set(with_tools.modules) - set(plain.modules) == {"file_operations", "content_creation"}
    conv = conversation(route_tool_calls=True, router="keyword")
    sizes = [conv.prepare("c", messages[: 1 + 2 * k], context=DATE).tokens for k in range(4)]
    assert sizes[0] == sizes[1] < sizes[2] == sizes[3]  # grows once, after the first write_file, never shrinks


# --- Anthropic -----------------------------------------------------------------------------------


def _anthropic_server(httpserver, steps):
    bodies: list[dict] = []

    def handler(request):
        body = json.loads(request.get_data())
        bodies.append(body)
        n = len(bodies) - 1
        if n < len(steps):
            name, arguments = steps[n]
            content = [{"type": "text", "text": f"Step {n}."},
                       {"type": "tool_use", "id": f"toolu_{n}", "name": name, "input": arguments}]
            stop = "tool_use"
        else:
            content, stop = [{"type": "text", "text": "Done: five rate changes charted."}], "end_turn"
        reply = {"id": f"msg_{n}", "type": "message", "role": "assistant", "model": body["model"], "content": content,
                 "stop_reason": stop, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 5}}
        return Response(json.dumps(reply), status=200, content_type="application/json")

    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(handler)
    return bodies


def _tool_result(block, n: int) -> dict:
    content: list[dict] = [{"type": "text", "text": f"result {n}: " + "rate data " * 50}]
    if block.name == "run_python":
        content.append({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}})
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block.id, "content": content}]}


@pytest.mark.parametrize("model", ["claude-sonnet-5", "claude-haiku-4-5"])
def test_anthropic_tool_loop_keeps_its_modules_and_sends_valid_requests(httpserver, model):
    bodies = _anthropic_server(httpserver, ANTHROPIC_STEPS)
    client = anthropic.Anthropic(base_url=httpserver.url_for(""), api_key="test-key", max_retries=0)
    conv = conversation()
    messages: list = [{"role": "user", "content": [
        {"type": "text", "text": TASK},
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "ECB press releases"}}]}]
    sent, prepared_steps = [], []
    while True:
        prepared = conv.prepare("loop", messages, context=DATE)
        prepared_steps.append(prepared)
        request = anthropic_request(prepared, messages, model=model, core_ttl="1h")
        sent.append(json.loads(json.dumps(messages, default=lambda o: o.model_dump(exclude_unset=True))))
        reply = client.messages.create(model=model, max_tokens=256, **request)
        messages.append({"role": "assistant", "content": reply.content})  # the SDK's own objects, as apps do
        tool_uses = [b for b in reply.content if b.type == "tool_use"]
        if not tool_uses:
            break
        messages.append(_tool_result(tool_uses[0], len(prepared_steps)))
    assert len(bodies) == len(ANTHROPIC_STEPS) + 1 >= 6
    first = prepared_steps[0].decision.modules
    for n, (body, prepared) in enumerate(zip(bodies, prepared_steps)):
        assert anthropic_problems(body) == [], n
        assert prepared.decision.modules == first  # every step: the loop's modules, nothing lost or added
        assert "".join(b["text"] for b in body["system"]) == prepared.text
        # native content arrives untouched: tool_use ids and inputs, tool results, images, documents
        expected = sent[n]
        assert len(body["messages"]) == len(expected) == 2 * n + 1
        for got, want in zip(body["messages"][:-1], expected[:-1]):
            assert got == want
        last = body["messages"][-1]["content"][-1]
        assert last == {**expected[-1]["content"][-1], "cache_control": {"type": "ephemeral"}}  # the conversation breakpoint
    assert {"web_search", "data_processing"} <= set(first)
    tool_blocks = [b for m in bodies[-1]["messages"] if m["role"] == "assistant" for b in m["content"] if b["type"] == "tool_use"]
    assert [(b["name"], b["input"]) for b in tool_blocks] == ANTHROPIC_STEPS
    images = [c for m in bodies[-1]["messages"] if m["role"] == "user" for b in m["content"] if b["type"] == "tool_result"
              for c in b["content"] if c["type"] == "image"]
    assert [i["source"]["data"] for i in images] == [PNG, PNG]


def test_the_schema_check_catches_what_the_api_rejects():
    """The checker the loop tests rely on fails on the old flattening's output."""
    assert anthropic_problems({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": ""}]})
    block = {"type": "tool_result", "tool_use_id": "x", "content": "ok", "cache_contorl": {"type": "ephemeral"}}
    assert anthropic_problems({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [block]}]})
    marks = [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", **ttl}} for ttl in ({}, {"ttl": "1h"})]
    assert "out of order" in " ".join(anthropic_problems({"model": "m", "max_tokens": 1, "system": marks,
                                                          "messages": [{"role": "user", "content": "hi"}]}))
    assert openai_problems({"model": "m", "messages": [{"role": "user", "content": "x", "name": 3}]})


# --- OpenAI --------------------------------------------------------------------------------------

OPENAI_STEPS = [("web_search", '{"query": "ECB"}'), ("fetch_url", '{"url": "https://example.org"}'),
                ("run_python", '{"code": "1"}'), ("run_python", '{"code": "2"}'), ("write_file", '{"path": "a"}')]


@pytest.mark.parametrize("model", ["gpt-4o", "gpt-5.6"])
def test_openai_tool_loop_keeps_its_modules_and_sends_valid_requests(httpserver, model):
    bodies: list[dict] = []

    def handler(request):
        body = json.loads(request.get_data())
        bodies.append(body)
        n = len(bodies) - 1
        if n < len(OPENAI_STEPS):
            name, arguments = OPENAI_STEPS[n]
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{n}", "type": "function", "function": {"name": name, "arguments": arguments}}]}
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": "Done."}, "stop"
        reply = {"id": f"c{n}", "object": "chat.completion", "created": 0, "model": model,
                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return Response(json.dumps(reply), status=200, content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    client = openai.OpenAI(base_url=httpserver.url_for("/v1"), api_key="test-key", max_retries=0)
    conv = conversation()
    messages: list = [{"role": "system", "content": "host text, replaced"}, {"role": "user", "content": TASK}]
    prepared_steps = []
    while True:
        prepared = conv.prepare("loop", messages, context=DATE)
        prepared_steps.append(prepared)
        reply = client.chat.completions.create(model=model, messages=openai_messages(prepared, messages, model=model))
        message = reply.choices[0].message
        messages.append(message.model_dump(exclude_none=True))
        if not message.tool_calls:
            break
        for call in message.tool_calls:
            messages.append({"role": "tool", "tool_call_id": call.id, "content": f"result of {call.function.name}"})
    assert len(bodies) == len(OPENAI_STEPS) + 1
    explicit = model == "gpt-5.6"
    for n, (body, prepared) in enumerate(zip(bodies, prepared_steps)):
        assert openai_problems(body) == [], n
        assert prepared.decision.modules == prepared_steps[0].decision.modules
        system = body["messages"][0]
        assert system["role"] == "system"
        text = system["content"] if not explicit else "".join(p["text"] for p in system["content"])
        assert text == prepared.text
        rest = body["messages"][1:]
        assert [m["role"] for m in rest] == ["user"] + ["assistant", "tool"] * n
        assert all(m["tool_calls"][0]["function"]["name"] == OPENAI_STEPS[i][0]
                   for i, m in enumerate(m for m in rest if m["role"] == "assistant"))
        marks = repr(body).count("prompt_cache_breakpoint")
        assert marks == (3 if explicit else 0)  # core, routed modules and the conversation's end
        if explicit:
            assert "prompt_cache_breakpoint" in rest[-1]["content"][-1]
