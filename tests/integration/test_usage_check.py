"""`auto` weighs the provider's own bills: when the usage figures of the requests it served by
a plan's policy add up to more than the full prompt would have cost, it serves the full
prompt for that pricing family, says so, and trusts the plan again after the hold."""

from __future__ import annotations

import logging

import pytest

from prompt_router import PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.integration import (
    PROVIDERS,
    ConversationRouter,
    DeliveryPlan,
    PlanCell,
    TokenUsage,
    Traffic,
    UsageCheck,
    request_cost,
)

from ..conftest import DATE, Clock

LIBRARY = load_library(bundled_library_dir())
ANTHROPIC, OPENAI = PROVIDERS["anthropic"], PROVIDERS["openai-5"]
QUERY = [{"role": "user", "content": "search the web for the ECB decision"}]
PLAN = DeliveryPlan(LIBRARY.version, (), (
    PlanCell("anthropic", 60.0, 5.0, 0.0, "per_request", {"static": 0.0, "per_request": 0.2}),
    PlanCell("openai-5", 60.0, 5.0, 0.0, "per_request", {"static": 0.0, "per_request": 0.2}),
))


def test_a_cold_routed_prompt_costs_more_than_the_warm_full_prompt_and_a_warm_one_less():
    # 3,000 routed system tokens, 2,000 conversation tokens; the full prompt is 8,600
    cold = request_cost(ANTHROPIC, TokenUsage(5_000, cache_read_tokens=0, cache_write_tokens=3_000),
                        system_tokens=3_000, attached_tokens=0, full_tokens=8_600)
    assert cold.served == pytest.approx(2_000 + 3_000 * 1.25)
    assert cold.static == pytest.approx(8_600 * 0.1 + 2_000)
    warm = request_cost(ANTHROPIC, TokenUsage(5_000, cache_read_tokens=4_000, cache_write_tokens=1_000),
                        system_tokens=3_000, attached_tokens=0, full_tokens=8_600)
    assert warm.served == pytest.approx(4_000 * 0.1 + 1_000 * 1.25)
    # the conversation is billed as it was (1,000 read, 1,000 written), the full prompt read warm
    assert warm.static == pytest.approx(860 + 100 + 1_250)
    assert warm.served < warm.static < cold.served
    # module texts attached to the conversation are not part of the full prompt's request
    attached = request_cost(ANTHROPIC, TokenUsage(5_500, cache_read_tokens=3_000), system_tokens=3_000,
                            attached_tokens=500, full_tokens=8_600)
    assert attached.static == pytest.approx(860 + 2_000)


def test_counts_beyond_the_prompt_are_clipped_not_trusted():
    odd = request_cost(OPENAI, TokenUsage(1_000, cache_read_tokens=5_000, cache_write_tokens=5_000),
                       system_tokens=4_000, attached_tokens=0, full_tokens=8_600)
    assert odd.served == pytest.approx(1_000 * OPENAI.read) and odd.static == pytest.approx(8_600 * OPENAI.read)


def test_the_check_vetoes_after_enough_losing_requests_and_only_for_that_family():
    clock = Clock(0.0)
    check = UsageCheck(window=10, min_requests=5, hold_seconds=100.0, clock=clock)
    losing = request_cost(ANTHROPIC, TokenUsage(5_000, cache_write_tokens=3_000), system_tokens=3_000,
                          attached_tokens=0, full_tokens=8_600)
    saving = request_cost(ANTHROPIC, TokenUsage(5_000, cache_read_tokens=5_000), system_tokens=3_000,
                          attached_tokens=0, full_tokens=8_600)
    assert [check.record("anthropic", losing) for _ in range(4)] == [None] * 4  # too few to judge
    assert check.record("anthropic", losing) == (5, 5 * losing.served, 5 * losing.static)  # the window that vetoed
    assert check.vetoed("anthropic") and not check.vetoed("openai-5")
    assert not check.record("anthropic", losing)  # held: nothing is weighed
    clock.now = 100.0
    assert not check.vetoed("anthropic") and check.totals("anthropic") == (0, 0.0, 0.0)  # a fresh count
    # savings on most requests outweigh a few losing ones: the window sums costs, not votes
    for _ in range(8):
        assert not check.record("anthropic", saving)
    assert not check.record("anthropic", losing) and not check.vetoed("anthropic")
    assert check.totals("anthropic")[0] == 9
    for _ in range(30):  # the window keeps the last 10: losing requests push the savings out
        if check.record("anthropic", losing):
            break
    assert check.vetoed("anthropic")


def test_the_check_rejects_a_window_it_cannot_fill():
    with pytest.raises(ValueError, match="min_requests"):
        UsageCheck(window=5, min_requests=6)


def conversation(**settings) -> ConversationRouter:
    router = PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, router="keyword", **settings))
    return ConversationRouter(router, plan=PLAN, traffic=Traffic(60.0, 5.0, 0.0))


def test_auto_serves_the_full_prompt_once_the_bills_say_its_policy_loses(caplog):
    conv = conversation()
    first = conv.prepare("t0", QUERY, context=DATE, model="claude-sonnet-5")
    assert first.policy == "per_request" and first.result.labels["policy_reason"] == "plan"
    assert first.full_system_tokens > first.tokens
    cold = {"input_tokens": 200, "cache_read_input_tokens": 0, "cache_creation_input_tokens": first.tokens,
            "output_tokens": 10}
    conv.record_provider_request("claude-sonnet-5", usage=cold)  # no `prepared`: observers only
    assert conv.chooser.usage.totals("anthropic")[0] == 0
    with caplog.at_level(logging.WARNING, logger="prompt_router"):
        for i in range(conv.chooser.usage.min_requests):
            prepared = conv.prepare(f"t{i}", QUERY, context=DATE, model="claude-sonnet-5")
            conv.record_provider_request("claude-sonnet-5", usage=cold, prepared=prepared)
    assert conv.chooser.usage.vetoed("anthropic")
    assert "auto serves the full prompt for anthropic" in caplog.text and "per_request" in caplog.text
    after = conv.prepare("new", QUERY, context=DATE, model="claude-sonnet-5")
    assert (after.policy, after.result.labels["policy_reason"]) == ("static", "usage_costs_more")
    assert after.decision.modules == LIBRARY.ids
    # another pricing family keeps its plan
    other = conv.prepare("gpt", QUERY, context=DATE, model="gpt-5")
    assert (other.policy, other.result.labels["policy_reason"]) == ("per_request", "plan")


def test_warm_bills_keep_the_plan_and_fixed_policies_are_not_weighed():
    conv = conversation()
    for i in range(60):
        prepared = conv.prepare(f"t{i}", QUERY, context=DATE, model="claude-sonnet-5")
        warm = {"input_tokens": 200, "cache_read_input_tokens": prepared.tokens, "cache_creation_input_tokens": 0}
        conv.record_provider_request("claude-sonnet-5", usage=warm, prepared=prepared)
    assert not conv.chooser.usage.vetoed("anthropic") and conv.chooser.usage.totals("anthropic")[0] == 60
    fixed = conversation(delivery_policy="per_request")
    prepared = fixed.prepare("f", QUERY, context=DATE, model="claude-sonnet-5")
    fixed.record_provider_request("claude-sonnet-5", usage={"input_tokens": 9_000}, prepared=prepared)
    assert fixed.chooser.usage.totals("anthropic")[0] == 0
