"""Every parameter of the A/B cost model, in one place, with the defaults the report states.

Prices are per million *input* tokens of the system prompt. The user's messages, the
conversation and the model's output cost the same in both arms, so the plain per-request
figures leave them out; the cache simulation does include the conversation, because a
changed system prompt invalidates the cached conversation after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CachePricing:
    """How a provider bills a repeated prompt prefix."""

    name: str
    write_multiplier: float  # price of tokens written to the cache, relative to base input
    read_multiplier: float  # price of tokens read from the cache
    ttl_seconds: float  # an entry lives this long after its last use
    min_cacheable_tokens: int  # shorter prefixes are never cached
    granularity_tokens: int = 1  # cached length is rounded down to a multiple of this
    breakpoints_only: bool = True  # True: only marked positions are cached (Anthropic)


# Anthropic Messages API: explicit cache_control breakpoints, writes at 1.25x, reads at
# 0.1x, 5-minute TTL refreshed on use, 1,024-token minimum (larger for some models).
ANTHROPIC = CachePricing("anthropic", 1.25, 0.10, 300.0, 1024)
# OpenAI-style automatic prefix caching: no write premium, ~50% off the cached prefix,
# prefixes of 1,024+ tokens in 128-token steps; entries live roughly 5-10 minutes (5 used).
OPENAI = CachePricing("openai", 1.0, 0.50, 300.0, 1024, granularity_tokens=128, breakpoints_only=False)
PROVIDERS = {p.name: p for p in (ANTHROPIC, OPENAI)}


@dataclass(frozen=True)
class TrafficModel:
    """The simulated request stream for the cache-aware cost model."""

    threads_per_hour: float = 600.0  # new conversations started per hour
    turn_gap_seconds: float = 45.0  # time between a thread's turns
    turn_tokens: int = 350  # tokens one finished turn adds to the history (user + reply)
    user_tokens: int = 60  # tokens of the new user message
    thread_lengths: tuple[int, ...] = (1, 5, 20)  # scenarios, in turns per thread
    sensitivity_threads_per_hour: tuple[float, ...] = (60.0, 600.0, 6000.0, 60000.0)  # rates compared
    requests_per_scenario: int = 6000  # simulated requests per scenario
    tool_tokens_per_tool: int = 0  # >0: model the host's tool definitions (each governed tool this size)
    seed: int = 1234


@dataclass(frozen=True)
class CostModel:
    price_per_million: float = 3.00  # USD per 1M input tokens (a mid-tier model's list price)
    requests_per_month: int = 1_000_000
    traffic: TrafficModel = field(default_factory=TrafficModel)
    providers: tuple[CachePricing, ...] = (ANTHROPIC, OPENAI)

    def dollars(self, tokens: float) -> float:
        return tokens * self.price_per_million / 1_000_000
