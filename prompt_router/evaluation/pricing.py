"""The provider caching rules the cost model bills with, under the evaluation layer's names.
They live in the runtime, `integration/pricing.py`, because the `auto` delivery policy uses
them too; the traffic the model simulates is in `costs.py`."""

from __future__ import annotations

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
]
