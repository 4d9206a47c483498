"""The billing engine against hand-worked provider bills."""

from __future__ import annotations

import pytest

from prompt_router.evaluation.billing import Block, ProviderCache, Request, bill_stream
from prompt_router.evaluation.pricing import ANTHROPIC, DEEPSEEK, NO_CACHE, OPENAI_4O, OPENAI_56

SYSTEM = Block("system", 2000, "5m")


def conversation(turn: int, system: Block = SYSTEM) -> tuple[Block, ...]:
    """system, then `turn` finished turns of 300 tokens, then the new 50-token message (marked)."""
    history = tuple(Block(("turn", i), 300) for i in range(turn))
    return (system, *history, Block(("new", turn), 50, "5m"))


def test_anthropic_writes_at_marks_and_reads_the_longest_live_prefix():
    cache = ProviderCache(ANTHROPIC)
    first = cache.bill(Request(0.0, conversation(0)))
    assert (first.read_tokens, first.write_tokens) == (0, 2050)
    assert first.cost == pytest.approx(2050 * 1.25)
    # 40 s later the next turn: the last request's marked prefix was system + new(0); the new
    # request starts system + turn(0)..., so only the system entry matches.
    second = cache.bill(Request(40.0, conversation(1)))
    assert second.read_tokens == 2000 and second.write_tokens == 350
    assert second.cost == pytest.approx(2000 * 0.1 + 350 * 1.25)


def test_anthropic_conversation_reads_when_the_history_is_identical():
    cache = ProviderCache(ANTHROPIC)
    turns = [(SYSTEM, Block("u1", 50, "5m")), (SYSTEM, Block("u1", 50), Block("a1", 250), Block("u2", 50, "5m"))]
    cache.bill(Request(0.0, turns[0]))
    bill = cache.bill(Request(30.0, turns[1]))
    assert bill.read_tokens == 2050 and bill.write_tokens == 300  # the marked prefix system+u1 was reused


def test_a_changed_system_prompt_invalidates_everything_after_it():
    cache = ProviderCache(ANTHROPIC)
    blocks = (SYSTEM, Block("u1", 50), Block("a1", 250), Block("u2", 50, "5m"))
    cache.bill(Request(0.0, blocks))
    changed = (Block("system-2", 2100, "5m"), *blocks[1:])
    bill = cache.bill(Request(10.0, changed))
    assert bill.read_tokens == 0 and bill.write_tokens == 2450


def test_entries_expire_and_short_prefixes_are_never_cached():
    cache = ProviderCache(ANTHROPIC)
    cache.bill(Request(0.0, (SYSTEM, Block("u", 50))))
    assert cache.bill(Request(299.0, (SYSTEM, Block("v", 50)))).read_tokens == 2000  # refreshed at 299 s
    assert cache.bill(Request(598.0, (SYSTEM, Block("w", 50)))).read_tokens == 2000
    assert cache.bill(Request(899.0, (SYSTEM, Block("x", 50)))).read_tokens == 0  # 301 s idle: expired
    small = ProviderCache(ANTHROPIC)
    first = small.bill(Request(0.0, (Block("tiny", 900, "5m"), Block("u", 50))))
    assert first.write_tokens == 0 and first.cost == 950  # below 1,024 tokens: no write, no premium
    assert small.bill(Request(1.0, (Block("tiny", 900, "5m"), Block("u", 50)))).read_tokens == 0


def test_mixed_ttls_bill_the_long_span_at_the_long_price():
    cache = ProviderCache(ANTHROPIC)
    blocks = (Block("core", 1500, "1h"), Block("tools", 1000, "5m"), Block("u", 50))
    bill = cache.bill(Request(0.0, blocks))
    assert bill.cost == pytest.approx(1500 * 2.0 + 1000 * 1.25 + 50)
    later = cache.bill(Request(1200.0, (Block("core", 1500, "1h"), Block("other", 800, "5m"), Block("u", 50))))
    assert later.read_tokens == 1500  # the 1-hour entry outlived the 5-minute ones
    assert later.cost == pytest.approx(1500 * 0.1 + 800 * 1.25 + 50)


def test_automatic_caching_rounds_to_its_granularity_and_has_no_write_fee():
    cache = ProviderCache(OPENAI_4O)
    blocks = (Block("system", 2000), Block("u1", 50))
    assert cache.bill(Request(0.0, blocks)).cost == 2050
    bill = cache.bill(Request(5.0, (Block("system", 2000), Block("u2", 70))))
    assert bill.read_tokens == 1920  # 2,000 rounded down to 128-token steps
    assert bill.cost == pytest.approx(1920 * 0.5 + 150)


def test_gpt56_marks_the_latest_message_implicitly_and_deepseek_reads_cheaply():
    cache = ProviderCache(OPENAI_56)
    first = cache.bill(Request(0.0, (Block("system", 2000), Block("u1", 50))))
    assert first.write_tokens == 2050  # the implicit breakpoint on the latest message
    again = cache.bill(Request(600.0, (Block("system", 2000), Block("u1", 50), Block("a1", 300), Block("u2", 50))))
    assert again.read_tokens == 2050  # 30-minute TTL
    deep = ProviderCache(DEEPSEEK)
    deep.bill(Request(0.0, (Block("system", 2000), Block("u1", 50))))
    assert deep.bill(Request(3600.0, (Block("system", 2000), Block("u", 9)))).cost == pytest.approx(1984 * 0.02 + 25)


def test_bill_stream_counts_only_measured_requests():
    requests = [Request(float(t), conversation(0), measured=t >= 2) for t in range(4)]
    bill = bill_stream(requests, ANTHROPIC)
    assert bill.requests == 2 and bill.read_tokens == 2 * 2050  # the warm-up requests filled the cache
    assert bill_stream(requests, NO_CACHE).cost == 2 * 2050


def test_the_shared_part_of_a_bill_is_priced_on_its_own():
    cache = ProviderCache(ANTHROPIC)
    first = cache.bill(Request(0.0, conversation(0)), shared=1)
    assert first.shared_cost == pytest.approx(2000 * 1.25)  # the system prompt was written
    second = cache.bill(Request(40.0, conversation(1)), shared=1)
    assert second.shared_cost == pytest.approx(2000 * 0.1)  # ... then read
    plain = ProviderCache(OPENAI_4O)
    plain.bill(Request(0.0, (Block("system", 2000), Block("u1", 50))), shared=1)
    bill = plain.bill(Request(5.0, (Block("system", 2000), Block("u2", 70))), shared=1)
    assert bill.shared_cost == pytest.approx(1920 * 0.5 + 80)  # the hit stops at a 128-token step
    assert ProviderCache(NO_CACHE).bill(Request(0.0, conversation(2)), shared=1).shared_cost == 2000
