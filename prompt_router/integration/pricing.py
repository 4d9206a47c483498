"""What providers charge for input tokens when prompt caching is involved: one table, every
figure with its source (the provider's page; read 2026-11-25, see docs/caching.md for quotes).
The runtime uses it to pick a delivery policy per model (`pricing_for_model`); the cost
simulation (evaluation) bills requests with it.

Multipliers are relative to the model's base (uncached) input price. Two kinds of caching:

- `breakpoints` (Anthropic, OpenAI GPT-5.6+): only positions marked in the request are written
  to the cache, at a write premium; a later request reads the longest marked prefix it shares.
- `automatic` (OpenAI up to GPT-5.5, Gemini implicit, DeepSeek, xAI, Mistral): every request's
  prefix is cached for free, in steps of `granularity` tokens, and read at a discount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Caching = Literal["breakpoints", "automatic", "none"]


@dataclass(frozen=True)
class CachePricing:
    """How one provider (model family) bills a repeated prompt prefix."""

    name: str
    label: str
    caching: Caching
    read: float  # price of a cached token read, x base input
    write: float = 1.0  # price of a token written at a (short-TTL) breakpoint, x base input
    ttl_seconds: float = 300.0  # an entry lives this long after its last use
    min_tokens: int = 1024  # shorter prefixes are never cached
    granularity: int = 1  # cached length is rounded down to a multiple of this
    long_write: float | None = None  # price of a write at a long-TTL breakpoint (Anthropic 1h: 2x)
    long_ttl_seconds: float | None = None
    max_breakpoints: int = 4
    lookback_blocks: int = 20  # a read finds entries at most this many blocks before a breakpoint
    implicit_last_message: bool = False  # GPT-5.6+: the latest message is always a breakpoint
    source: str = ""


ANTHROPIC = CachePricing(
    "anthropic", "Anthropic, 5-min cache (Sonnet 5)", "breakpoints", read=0.10, write=1.25, ttl_seconds=300.0,
    min_tokens=1024, long_write=2.0, long_ttl_seconds=3600.0,
    source="https://platform.claude.com/docs/en/build-with-claude/prompt-caching")
ANTHROPIC_1H = CachePricing(
    "anthropic-1h", "Anthropic, 1-hour cache on the system prompt", "breakpoints", read=0.10, write=1.25,
    ttl_seconds=300.0, min_tokens=1024, long_write=2.0, long_ttl_seconds=3600.0,
    source="https://platform.claude.com/docs/en/build-with-claude/prompt-caching")
ANTHROPIC_OPUS_55 = CachePricing(
    "anthropic-opus-5.5", "Anthropic Opus/Sonnet 5.5 (0.05x reads)", "breakpoints", read=0.05, write=1.25,
    ttl_seconds=300.0, min_tokens=512, long_write=2.0, long_ttl_seconds=3600.0,
    source="https://platform.claude.com/docs/en/about-claude/pricing")
OPENAI_4O = CachePricing(
    "openai-4o", "OpenAI GPT-4o era (0.5x reads)", "automatic", read=0.50, ttl_seconds=300.0, min_tokens=1024,
    granularity=128, source="https://developers.openai.com/api/docs/guides/prompt-caching")
OPENAI_41 = CachePricing(
    "openai-4.1", "OpenAI GPT-4.1 (0.25x reads)", "automatic", read=0.25, ttl_seconds=300.0, min_tokens=1024,
    granularity=128, source="https://developers.openai.com/api/docs/pricing")
OPENAI_5 = CachePricing(
    "openai-5", "OpenAI GPT-5 to 5.5, Gemini implicit (0.1x reads)", "automatic", read=0.10, ttl_seconds=300.0,
    min_tokens=1024, granularity=128, source="https://developers.openai.com/api/docs/pricing")
OPENAI_56 = CachePricing(
    "openai-5.6", "OpenAI GPT-5.6+ (1.25x writes, 30-min TTL)", "breakpoints", read=0.10, write=1.25,
    ttl_seconds=1800.0, min_tokens=1024, implicit_last_message=True, lookback_blocks=50,
    source="https://developers.openai.com/api/docs/guides/prompt-caching")
DEEPSEEK = CachePricing(
    "deepseek", "DeepSeek (0.02x hits)", "automatic", read=0.02, ttl_seconds=3 * 3600.0, min_tokens=64,
    granularity=64, source="https://api-docs.deepseek.com/quick_start/pricing")
NO_CACHE = CachePricing("none", "No prompt caching", "none", read=1.0)

PROVIDERS: dict[str, CachePricing] = {p.name: p for p in (
    ANTHROPIC, ANTHROPIC_1H, ANTHROPIC_OPUS_55, OPENAI_4O, OPENAI_41, OPENAI_5, OPENAI_56, DEEPSEEK, NO_CACHE)}
PROVIDERS["openai"] = OPENAI_4O  # the A/B command line's short name for GPT-4o-era caching




# Model name -> pricing family, first match wins (dated snapshots and suffixes are ignored).
_FAMILIES: tuple[tuple[str, CachePricing], ...] = (
    (r"^claude-(opus|sonnet)-5[.-]5", ANTHROPIC_OPUS_55),
    (r"^claude-", ANTHROPIC),
    (r"^gpt-(5\.([6-9]|\d\d)|[6-9])", OPENAI_56),
    (r"^gpt-5", OPENAI_5),
    (r"^(o1|o3-mini)", OPENAI_4O),
    (r"^(gpt-4\.1|o3|o4)", OPENAI_41),
    (r"^gpt-(4o|4|3)", OPENAI_4O),
    (r"^gemini-", OPENAI_5),  # implicit caching, about 0.1x reads, no write fee
    (r"^deepseek", DEEPSEEK),
)


def pricing_for_model(model: str) -> CachePricing | None:
    """The caching rules a model is billed by, or None for a model this table does not know
    (then nothing is assumed about its cache)."""
    name = model.rsplit("/", 1)[-1].lower()  # "openai/gpt-4o", "anthropic/claude-..." (LiteLLM names)
    for pattern, pricing in _FAMILIES:
        if re.search(pattern, name):
            return pricing
    return None
