"""The cost model's parameters: the simulated traffic and the money figures. Provider caching
rules (what each provider charges) live in the runtime, `integration/pricing.py`, because the
`auto` delivery policy uses them too."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..integration.pricing import (
    ANTHROPIC,
    ANTHROPIC_1H,
    ANTHROPIC_OPUS_55,
    DEEPSEEK,
    NO_CACHE,
    OPENAI_4O,
    OPENAI_5,
    OPENAI_41,
    OPENAI_56,
    PROVIDERS,
    CachePricing,
)

OPENAI = OPENAI_4O  # the A/B command line's short name

__all__ = [
    "ANTHROPIC",
    "ANTHROPIC_1H",
    "ANTHROPIC_OPUS_55",
    "DEEPSEEK",
    "NO_CACHE",
    "OPENAI",
    "OPENAI_4O",
    "OPENAI_5",
    "OPENAI_41",
    "OPENAI_56",
    "PROVIDERS",
    "CachePricing",
    "CostModel",
    "TrafficModel",
]


@dataclass(frozen=True)
class TrafficModel:
    """The simulated request stream for the cache-aware cost model."""

    threads_per_hour: float = 600.0  # new conversations started per hour
    turn_gap_seconds: float = 45.0  # median time between a thread's user turns (log-normal)
    tool_gap_seconds: float = 6.0  # median time between the steps of a tool loop
    turn_tokens: int = 350  # tokens one finished turn adds to the history (user + reply)
    user_tokens: int = 60  # tokens of the new user message
    tool_result_tokens: int = 800  # median tokens of one tool result in an agent loop (log-normal)
    tool_steps: int = 0  # tool-loop steps per user turn (0 = plain chat)
    thread_lengths: tuple[int, ...] = (1, 5, 20)  # scenarios, in user turns per thread
    sensitivity_threads_per_hour: tuple[float, ...] = (60.0, 600.0, 6000.0, 60000.0)  # rates compared
    requests_per_scenario: int = 6000  # measured requests per scenario, after warm-up
    tool_tokens_per_tool: int = 0  # >0: model the host's tool definitions (each governed tool this size)
    seed: int = 1234


@dataclass(frozen=True)
class CostModel:
    price_per_million: float = 3.00  # USD per 1M input tokens (a mid-tier model's list price)
    requests_per_month: int = 1_000_000
    traffic: TrafficModel = field(default_factory=TrafficModel)
    providers: tuple[CachePricing, ...] = (ANTHROPIC, OPENAI_4O)

    def dollars(self, tokens: float) -> float:
        return tokens * self.price_per_million / 1_000_000
