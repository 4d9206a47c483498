"""Billing a stream of requests under a provider's prompt-caching rules.

A request is a sequence of blocks in the order the provider reads them (tools, system
blocks, messages). Each block has a key (equal keys = byte-identical content), a size in
tokens and, for breakpoint providers, an optional cache mark ("5m" or "1h"). A cache entry
is identified by the whole prefix up to a block boundary, so a changed block invalidates every
entry after it: a system prompt that changes mid-thread throws away the cached conversation.

- `breakpoints` (Anthropic, GPT-5.6+): entries exist only at marked boundaries. A request
  reads the longest prefix with a live entry that lies within `lookback_blocks` before one of
  its marks; it writes every marked prefix beyond that (long-TTL marks at the long write
  price, the rest at the write price, as Anthropic bills mixed TTLs), and pays base price for
  what follows its last mark. A mark below `min_tokens` caches nothing.
- `automatic` (OpenAI up to 5.5, Gemini, DeepSeek): every boundary of every request becomes
  an entry; a request reads its longest live prefix, rounded down to `granularity`.
- `none`: everything at base price.

An entry lives `ttl_seconds` (or `long_ttl_seconds`) after its last use. Costs are in
base-price-equivalent tokens, so `cost / tokens` is the price relative to no caching.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ..integration.pricing import CachePricing

Mark = Literal["5m", "1h"] | None


@dataclass(frozen=True)
class Block:
    key: Hashable
    tokens: int
    mark: Mark = None


@dataclass(frozen=True)
class Request:
    time: float  # seconds since the stream began
    blocks: tuple[Block, ...]
    measured: bool = True  # False during warm-up: it shapes the cache but is not billed

    @property
    def tokens(self) -> int:
        return sum(b.tokens for b in self.blocks)


@dataclass
class Bill:
    requests: int = 0
    tokens: int = 0  # what the requests would cost with no cache, in token units
    cost: float = 0.0  # base-price-equivalent tokens after cache discounts and premiums
    read_tokens: int = 0
    write_tokens: int = 0
    shared_cost: float = 0.0  # the part of `cost` spent on the shared blocks (tools, system prompt)

    def add(self, other: Bill) -> None:
        self.requests += other.requests
        self.tokens += other.tokens
        self.cost += other.cost
        self.read_tokens += other.read_tokens
        self.write_tokens += other.write_tokens
        self.shared_cost += other.shared_cost

    @property
    def relative_cost(self) -> float:
        """Cost per token relative to no caching (1.0 = no saving from the cache)."""
        return self.cost / self.tokens if self.tokens else 0.0


class ProviderCache:
    """The cache state of one provider account, fed one request at a time (in time order)."""

    def __init__(self, pricing: CachePricing, *, shared_ttl_scale: float = 1.0) -> None:
        """`shared_ttl_scale` stretches the lifetime of entries that end within a request's
        shared blocks (see `bill`): a simulation that serves a sample `f` of the threads uses
        1/f, which keeps a shared entry's chance of being warm what it is at the full rate."""
        self.pricing = pricing
        self.shared_ttl_scale = shared_ttl_scale
        self._expiry: dict[int, float] = {}
        self._prefix_ids: dict[tuple[int, Hashable], int] = {}

    def _ids(self, blocks: Sequence[Block]) -> list[int]:
        """One small integer per prefix: (the parent prefix's id, the block's key), interned."""
        ids: list[int] = []
        parent = -1
        table = self._prefix_ids
        for block in blocks:
            parent = table.setdefault((parent, block.key), len(table))
            ids.append(parent)
        return ids

    def _ttl(self, ttl: float, position: int, shared: int) -> float:
        return ttl * self.shared_ttl_scale if position < shared else ttl

    def bill(self, request: Request, shared: int = 0) -> Bill:
        """Bill one request; its first `shared` blocks are reused across threads (tools and
        system prompt), the rest are its own conversation."""
        pricing, blocks = self.pricing, request.blocks
        total = request.tokens
        bill = Bill(requests=1, tokens=total)
        shared_tokens = sum(b.tokens for b in blocks[:shared])
        if pricing.caching == "none" or not blocks:
            bill.cost = float(total)
            bill.shared_cost = float(shared_tokens)
            return bill
        now = request.time
        ids = self._ids(blocks)
        cumulative: list[int] = []
        running = 0
        for block in blocks:
            running += block.tokens
            cumulative.append(running)
        if pricing.caching == "automatic":
            hit = 0
            for i in range(len(blocks) - 1, -1, -1):
                if self._expiry.get(ids[i], -1.0) >= now:
                    hit = cumulative[i] - cumulative[i] % pricing.granularity
                    if hit >= pricing.min_tokens:
                        break
                    hit = 0
            for i, tokens in enumerate(cumulative):
                if tokens >= pricing.min_tokens:
                    self._expiry[ids[i]] = now + self._ttl(pricing.ttl_seconds, i, shared)
            bill.read_tokens = hit
            bill.cost = hit * pricing.read + (total - hit)
            bill.shared_cost = _priced(shared_tokens, [(0, hit, pricing.read), (hit, total, 1.0)])
            return bill
        return self._bill_breakpoints(request, ids, cumulative, bill, shared, shared_tokens)

    def _bill_breakpoints(self, request: Request, ids: list[int], cumulative: list[int],
                          bill: Bill, shared: int, shared_tokens: int) -> Bill:
        pricing, blocks, now = self.pricing, request.blocks, request.time
        marks = [(i, b.mark or "5m") for i, b in enumerate(blocks) if b.mark is not None]
        if pricing.implicit_last_message and (not marks or marks[-1][0] != len(blocks) - 1):
            marks.append((len(blocks) - 1, "5m"))
        marks = marks[-pricing.max_breakpoints:]
        # The longest live entry within the look-back window of some mark.
        hit_index, hit = -1, 0
        for position, _ in marks:
            for i in range(position, max(-1, position - pricing.lookback_blocks), -1):
                if i <= hit_index:
                    break
                if self._expiry.get(ids[i], -1.0) >= now:
                    hit_index, hit = i, cumulative[i]
                    break
        long_ttl = pricing.long_ttl_seconds or pricing.ttl_seconds
        written_long = written_short = 0
        long_end = hit
        last_mark = hit
        for position, mark in marks:
            size = cumulative[position]
            if size < pricing.min_tokens:
                continue
            ttl = self._ttl(long_ttl if mark == "1h" else pricing.ttl_seconds, position, shared)
            self._expiry[ids[position]] = max(self._expiry.get(ids[position], -1.0), now + ttl)  # written or refreshed
            if position <= hit_index:
                continue
            if mark == "1h":
                long_end = max(long_end, size)
            last_mark = max(last_mark, size)
        written_long = max(0, long_end - hit)
        written_short = max(0, last_mark - max(long_end, hit))
        total = bill.tokens
        base = total - hit - written_long - written_short
        bill.read_tokens = hit
        bill.write_tokens = written_long + written_short
        bill.cost = (hit * pricing.read + written_short * pricing.write
                     + written_long * (pricing.long_write or pricing.write) + base)
        long_price = pricing.long_write or pricing.write
        short_start = max(long_end, hit)
        bill.shared_cost = _priced(shared_tokens, [(0, hit, pricing.read), (hit, max(long_end, hit), long_price),
                                                   (short_start, max(last_mark, short_start), pricing.write),
                                                   (max(last_mark, short_start), total, 1.0)])
        return bill


def _priced(limit: int, spans: Sequence[tuple[int, int, float]]) -> float:
    """The cost of the first `limit` tokens, given (start, end, price) spans."""
    return sum(max(0, min(end, limit) - start) * price for start, end, price in spans if start < limit)


def bill_stream(requests: Iterable[Request], pricing: CachePricing) -> Bill:
    """Feed requests (in time order) through one provider cache; bill the measured ones."""
    cache = ProviderCache(pricing)
    total = Bill()
    for request in requests:
        bill = cache.bill(request)
        if request.measured:
            total.add(bill)
    return total
