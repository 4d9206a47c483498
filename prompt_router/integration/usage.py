"""What the provider reported back: its SDK's `usage` object -> token counts and cost.

Each SDK counts input tokens its own way, and the difference matters for the cache hit rate:

- Anthropic (`message.usage`): `input_tokens` excludes the cache; all input is `input_tokens +
  cache_read_input_tokens + cache_creation_input_tokens`.
- OpenAI Chat Completions and LiteLLM (`response.usage`): `prompt_tokens` is all input;
  `prompt_tokens_details.cached_tokens` were read from the cache and `.cache_write_tokens`
  written to it (where LiteLLM also puts Anthropic's cache writes).
- OpenAI Responses (`response.usage`): `input_tokens` is all input, `input_tokens_details`
  has `cached_tokens` and `cache_write_tokens`.
- Gemini (`usage_metadata`): `prompt_token_count`, `cached_content_token_count`.

Objects and plain dicts (e.g. a logged JSON response) are read alike; a missing or `None`
field counts as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..results import ProviderRequest


@dataclass(frozen=True)
class TokenUsage:
    """One response's token counts, normalised: `prompt_tokens` is every input token."""

    prompt_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class TokenPrices:
    """USD per million tokens, for pricing a response when the provider does not state its cost.
    Cache reads and writes cost the input price unless given (Anthropic: reads 0.1x, writes
    1.25x; OpenAI: reads 0.5x or less, no write premium)."""

    input: float
    output: float = 0.0
    cache_read: float | None = None
    cache_write: float | None = None

    def cost(self, usage: TokenUsage) -> float:
        uncached = max(0, usage.prompt_tokens - usage.cache_read_tokens - usage.cache_write_tokens)
        read = self.input if self.cache_read is None else self.cache_read
        write = self.input if self.cache_write is None else self.cache_write
        return (uncached * self.input + usage.cache_read_tokens * read + usage.cache_write_tokens * write
                + usage.output_tokens * self.output) / 1_000_000


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    try:
        return getattr(obj, name, None)
    except Exception:  # an SDK object whose attribute access misbehaves counts as "absent"
        return None


def _count(obj: Any, *path: str) -> int | None:
    value = obj
    for name in path:
        value = _get(value, name)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return max(0, value)


def parse_usage(usage: Any) -> TokenUsage:
    """The token counts in a provider SDK's `usage` object (see the table above). Raises
    TypeError for an object with none of the known fields: that is a caller's mistake (e.g.
    passing the whole response), and guessing would report wrong figures."""
    prompt = _count(usage, "prompt_tokens")
    if prompt is not None:  # OpenAI Chat Completions, LiteLLM, DeepSeek, most OpenAI-compatible servers
        read = _count(usage, "prompt_tokens_details", "cached_tokens")
        if read is None:
            read = _count(usage, "cache_read_input_tokens") or _count(usage, "prompt_cache_hit_tokens")
        write = _count(usage, "prompt_tokens_details", "cache_write_tokens")
        if write is None:
            write = _count(usage, "prompt_tokens_details", "cache_creation_tokens") or _count(usage, "cache_creation_input_tokens")
        return TokenUsage(prompt, read or 0, write or 0, _count(usage, "completion_tokens") or 0)
    uncached = _count(usage, "input_tokens")
    if uncached is not None:
        output = _count(usage, "output_tokens") or 0
        if _get(usage, "input_tokens_details") is not None:  # OpenAI Responses: input_tokens includes the cached ones
            return TokenUsage(uncached, _count(usage, "input_tokens_details", "cached_tokens") or 0,
                              _count(usage, "input_tokens_details", "cache_write_tokens") or 0, output)
        read = _count(usage, "cache_read_input_tokens") or 0  # Anthropic: input_tokens excludes both cache parts
        write = _count(usage, "cache_creation_input_tokens") or 0
        return TokenUsage(uncached + read + write, read, write, output)
    prompt = _count(usage, "prompt_token_count")
    if prompt is not None:  # Gemini usage_metadata
        return TokenUsage(prompt, _count(usage, "cached_content_token_count") or 0, 0,
                          _count(usage, "candidates_token_count") or 0)
    raise TypeError(
        f"cannot read token usage from a {type(usage).__name__}: expected a provider SDK's usage object "
        "(prompt_tokens, input_tokens or prompt_token_count), e.g. response.usage")


def provider_request(model: str, usage: TokenUsage, *, tools: int = 0, cost: float | None = None,
                     prices: TokenPrices | None = None, labels: Mapping[str, str] | None = None) -> ProviderRequest:
    """The ProviderRequest observers receive. `cost` is what the provider or proxy billed;
    without it, `prices` (if given) price the usage."""
    if cost is None and prices is not None:
        cost = prices.cost(usage)
    return ProviderRequest(model, usage.prompt_tokens, tools, usage.cache_read_tokens, usage.cache_write_tokens,
                           usage.output_tokens, dict(labels or {}), cost)
