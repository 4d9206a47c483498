"""The cost simulation serves every turn through the real ConversationRouter."""

from __future__ import annotations

from prompt_router import ConversationRouter, PromptRouter, RouterSettings, load_library
from prompt_router.evaluation import REPLAY_CONTEXT, Arm, conversation_for, thread_turns
from prompt_router.evaluation.cases import Case
from prompt_router.library import bundled_library_dir

LIBRARY = load_library(bundled_library_dir())
THREAD = [  # the first turn matches no trigger and falls back to the full prompt
    "hmm, where were we with this?", "plot sales.csv by month", "thanks, that's perfect", "now email it to the team", "great",
]


def _case(i: int, query: str) -> Case:
    return Case(f"c{i}", query, "misc", ())


def test_simulated_threads_are_what_the_conversation_router_serves():
    settings = RouterSettings(_env_file=None, router="keyword", delivery_policy="sticky")
    arm = Arm("B", PromptRouter(LIBRARY, settings=settings), True)
    simulated = thread_turns(conversation_for(arm, sticky=True), "t", [_case(i, q) for i, q in enumerate(THREAD)])
    direct = ConversationRouter(PromptRouter(LIBRARY, settings=settings))
    messages: list[dict[str, str]] = []
    served = []
    for query in THREAD:
        messages.append({"role": "user", "content": query})
        prepared = direct.prepare("t", messages, context=REPLAY_CONTEXT)
        served.append(((LIBRARY.version, *prepared.decision.modules), prepared.tokens))
        messages.append({"role": "assistant", "content": "(reply)"})
    assert [(t.system_key, t.system_tokens) for t in simulated] == served
    full = PromptRouter(LIBRARY, settings=settings).full_prompt(REPLAY_CONTEXT).tokens
    assert simulated[0].system_tokens == full  # the fallback turn
    assert simulated[1].system_tokens < full  # the fallback did not stick (the old simulation kept it)
    assert all(a.system_tokens <= b.system_tokens for a, b in zip(simulated[1:], simulated[2:]))  # only adds


def test_the_static_arm_sends_the_full_prompt_every_turn():
    arm = Arm("A", PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None)), False)
    turns = thread_turns(conversation_for(arm, sticky=False), "t", [_case(i, q) for i, q in enumerate(THREAD)])
    assert len({t.system_key for t in turns}) == 1 and turns[0].system_key == (LIBRARY.version, *LIBRARY.ids)
