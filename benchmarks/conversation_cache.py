"""What the breakpoint on the conversation saves: the full prompt (static policy) served with
and without it, on Anthropic (the only caching here that needs a mark for the conversation:
OpenAI caches the longest matching prefix itself, and GPT-5.6+ puts an implicit breakpoint on
the latest message).

Both runs serve the same simulated threads through the real `ConversationRouter` and the
shipped provider formats (`anthropic_request`, `openai_messages`); the only difference is the
formats' `cache_conversation` option (without it, each turn re-sends the conversation so far
at the full input price, as prompt-router 0.1 did). Input cost only.

    python benchmarks/conversation_cache.py [--quick]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from prompt_router import PromptRouter, RouterSettings, load_library
from prompt_router.evaluation import read_cases
from prompt_router.evaluation.costs import MODELS, PROFILES, Policy, make_threads, policy_stream, simulate
from prompt_router.integration.pricing import PROVIDERS
from prompt_router.tokens import TokenCounter

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer threads and requests")
    args = parser.parse_args()
    library = load_library(ROOT / "modules")
    router = PromptRouter(library, settings=RouterSettings(_env_file=None))
    cases = list(read_cases([ROOT / "ab_tests" / "cases.jsonl"], [library]))
    counter = TokenCounter()
    threads, requests = (60, 600) if args.quick else (200, 2000)
    rate = 600.0
    print(f"full prompt, {rate:g} new threads/h, {requests} billed requests per row; cost in base-price input tokens")
    print(f"{'provider':20} {'thread':16} {'without':>10} {'with':>10} {'saving':>8}")
    for name in ("anthropic", "anthropic-opus-5.5"):
        provider = PROVIDERS[name]
        for profile in (PROFILES["1 turn"], PROFILES["5 turns"], PROFILES["20 turns"], PROFILES["agent loop"]):
            sampled = make_threads(cases, profile.turns, threads)
            costs = []
            for marked in (False, True):
                policy = Policy("static", cache_conversation=marked)
                stream = policy_stream(router, policy, sampled, profile, provider, MODELS[name], counter,
                                       lambda case: 0, seed=7)
                bill = simulate(stream, provider, rate, measured_requests=requests, seed=7).bill
                costs.append(bill.cost / max(bill.requests, 1))
            without, with_mark = costs
            print(f"{provider.name:20} {profile.name:16} {without:10,.0f} {with_mark:10,.0f} "
                  f"{(without - with_mark) / without:+8.1%}")


if __name__ == "__main__":
    main()
