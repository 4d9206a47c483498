"""`auto`'s check against the provider's own bills.

The delivery plan is a simulation; the provider's `usage` figures are what a deployment
really pays. For each request served by a policy `auto` chose, the provider's cache counts
price what the request's input cost, and the same request with the full system prompt is
priced as the plan's baseline would be billed: the full prompt read from a warm cache, the
rest of the request (conversation, tools) billed as it was, less the module texts the policy
attached to the conversation. When, over the last `window` such requests of a pricing family
(at least `min_requests`), the chosen policy cost more, `auto` serves the full prompt for that
family for `hold_seconds`, then trusts the plan again with a fresh count.

    check = UsageCheck()
    check.record("anthropic", request_cost(ANTHROPIC, usage, system_tokens=2100, attached_tokens=0, full_tokens=8600))
    check.vetoed("anthropic")        # True once the bills say the policy loses

The prompt is billed in prefix order (cache reads, then writes, then uncached tokens) and the
system prompt is counted from the start of it: tool definitions before it are taken as part
of it, which errs toward a cheaper routed prompt, and the rest of the request is assumed to
cache as well under the full prompt as it did (a changing system prompt caches it worse, so
that errs the same way). The check catches what the plan cannot see: routed prompts that stay
cold, traffic unlike the plan's samples, a provider whose caching changed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ._fork import reset_after_fork
from .pricing import CachePricing
from .usage import TokenUsage


@dataclass(frozen=True)
class RequestCost:
    """One request's input cost, in tokens at the base input price."""

    served: float  # as the provider's usage figures bill it
    static: float  # the same request with the full system prompt, read warm


def request_cost(pricing: CachePricing, usage: TokenUsage, *, system_tokens: int, attached_tokens: int,
                 full_tokens: int) -> RequestCost:
    prompt = max(usage.prompt_tokens, 0)
    read = min(max(usage.cache_read_tokens, 0), prompt)
    write = min(max(usage.cache_write_tokens, 0), prompt - read)
    served = (prompt - read - write) + read * pricing.read + write * pricing.write
    system = min(max(system_tokens, 0), prompt)
    system_read = min(read, system)
    system_write = min(system - system_read, write)
    system_cost = system_read * pricing.read + system_write * pricing.write + (system - system_read - system_write)
    rest = prompt - system
    per_token = (served - system_cost) / rest if rest > 0 else 1.0
    static = full_tokens * pricing.read + max(rest - attached_tokens, 0) * per_token
    return RequestCost(served, static)


class UsageCheck:
    """Per pricing family: the last `window` request costs, and whether they veto the plan.
    Thread-safe; `vetoed` is a dictionary lookup."""

    def __init__(self, *, window: int = 200, min_requests: int = 50, hold_seconds: float = 3600.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if window < 1 or not 1 <= min_requests <= window or not hold_seconds > 0:
            raise ValueError("window and min_requests must be at least 1 (min_requests <= window), hold_seconds above 0")
        self.window, self.min_requests, self.hold_seconds = window, min_requests, hold_seconds
        self._clock = clock
        self._costs: dict[str, deque[RequestCost]] = {}
        self._sums: dict[str, list[float]] = {}
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def record(self, family: str, cost: RequestCost) -> tuple[int, float, float] | None:
        """Count one request. When this one made the bills veto the family's plan: the window
        that did, as (requests, served cost, static cost); otherwise None."""
        with self._lock:
            if self._until.get(family, 0.0) > self._clock():
                return None  # already serving the full prompt: nothing to weigh
            costs = self._costs.setdefault(family, deque())
            sums = self._sums.setdefault(family, [0.0, 0.0])
            costs.append(cost)
            sums[0] += cost.served
            sums[1] += cost.static
            if len(costs) > self.window:
                old = costs.popleft()
                sums[0] -= old.served
                sums[1] -= old.static
            if len(costs) >= self.min_requests and sums[0] > sums[1]:
                window = (len(costs), sums[0], sums[1])
                self._until[family] = self._clock() + self.hold_seconds
                costs.clear()
                sums[0] = sums[1] = 0.0
                return window
            return None

    def vetoed(self, family: str) -> bool:
        until = self._until.get(family)
        return until is not None and until > self._clock()

    def totals(self, family: str) -> tuple[int, float, float]:
        """(requests, served cost, static cost) in the current window."""
        with self._lock:
            sums = self._sums.get(family, [0.0, 0.0])
            return len(self._costs.get(family, ())), sums[0], sums[1]
