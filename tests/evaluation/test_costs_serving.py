"""The cost model serves every simulated request through the real ConversationRouter: the
system blocks it bills are exactly the ones a deployment's ConversationRouter sends."""

from __future__ import annotations

import random

from prompt_router import ConversationRouter, PromptRouter, RouterSettings, load_library
from prompt_router.evaluation import REPLAY_CONTEXT
from prompt_router.evaluation.cases import Case
from prompt_router.evaluation.costs import MODELS, POLICIES, PROFILES, _filler, _key, policy_stream, thread_templates
from prompt_router.integration.pricing import ANTHROPIC, NO_CACHE
from prompt_router.library import bundled_library_dir
from prompt_router.tokens import TokenCounter

LIBRARY = load_library(bundled_library_dir())
SETTINGS = RouterSettings(_env_file=None, router="keyword")
THREAD = [  # the first turn matches no trigger and falls back to the full prompt
    "hmm, where were we with this?", "plot sales.csv by month", "thanks, that's perfect", "now email it to the team", "great",
]
CASES = [Case(f"c{i}", q, "misc", ()) for i, q in enumerate(THREAD)]
PROFILE = PROFILES["5 turns"]


# Policies that never offer the load tool: the simulated thread is exactly the user's turns.
SERVED_AS_IS = [name for name, policy in POLICIES.items() if not policy.load_tool]


def _served_directly(policy: str, provider=NO_CACHE) -> list[list[tuple[str, int]]]:
    """Each turn's system blocks from a ConversationRouter a host would build, fed the same
    messages the simulation sends (the user's turn, then a reply of the profile's size)."""
    settings = SETTINGS.model_copy(update={"rollout_percent": 100.0, "delivery_pricing": provider.name})
    direct = ConversationRouter(PromptRouter(LIBRARY, settings=settings), policy=policy)
    messages: list[dict[str, str]] = []
    served = []
    for query in THREAD:
        messages.append({"role": "user", "content": query})
        prepared = direct.prepare("t", messages, context=REPLAY_CONTEXT, model=MODELS[provider.name])
        served.append([(_key(b.text), b.tokens) for b in prepared.blocks])
        messages.append({"role": "assistant", "content": _filler(PROFILE.reply_tokens)})
    return served


def _simulated(policy: str, provider=NO_CACHE) -> list[list[tuple[str, int]]]:
    [thread] = policy_stream(PromptRouter(LIBRARY, settings=SETTINGS), POLICIES[policy], [CASES], PROFILE, provider,
                             MODELS[provider.name], TokenCounter(), lambda case: 0, seed=1)
    return [[(b.key[1], b.tokens) for b in t.blocks[: t.shared]] for t in thread]


def test_simulated_threads_are_what_the_conversation_router_serves():
    assert {"static", "per_request", "sticky"} <= set(SERVED_AS_IS)
    for policy in SERVED_AS_IS:
        for provider in (NO_CACHE, ANTHROPIC):  # the provider format changes marks, never the blocks
            assert _simulated(policy, provider) == _served_directly(policy, provider), (policy, provider.name)
    sticky = [sum(tokens for _, tokens in turn) for turn in _simulated("sticky")]
    full = PromptRouter(LIBRARY, settings=SETTINGS).full_prompt(REPLAY_CONTEXT).tokens
    assert sticky[0] >= full  # the fallback turn carries the whole library
    assert sticky[1] < sticky[0]  # the fallback did not stick
    assert all(a <= b for a, b in zip(sticky[1:], sticky[2:]))  # then modules are only added


def test_the_static_policy_sends_the_full_prompt_every_turn():
    turns = _simulated("static")
    assert len({tuple(t) for t in turns}) == 1
    assert sum(tokens for _, tokens in turns[0]) >= PromptRouter(LIBRARY, settings=SETTINGS).full_prompt(REPLAY_CONTEXT).tokens


def test_messages_follow_the_system_blocks_in_order():
    conversation = ConversationRouter(PromptRouter(LIBRARY, settings=SETTINGS.model_copy(update={"rollout_percent": 100.0})),
                                      policy="sticky")
    templates = thread_templates(conversation, "t", CASES, PROFILE, NO_CACHE, "self-hosted", TokenCounter().count,
                                 lambda case: 0, random.Random(1))
    assert [len(t.blocks) - t.shared for t in templates] == [1, 3, 5, 7, 9]  # user, reply, user, ...
    assert all(b.key[0] == "message" for t in templates for b in t.blocks[t.shared:])
    assert all(a.offset < b.offset for a, b in zip(templates, templates[1:]))
