"""Cache-aware cost: simulate a request stream against a provider's prompt cache.

Each simulated request is `tools + system prompt + conversation so far + new user message`.
Cache entries sit at three boundaries: after the stable core prefix, after the system prompt,
and after the latest message (where Anthropic users put their breakpoints, and where an
automatic prefix cache finds the longest reusable prefix). An entry is only reusable when
everything before it is byte-identical, so a system prompt that changes between two turns of
a thread also throws away the cached conversation behind it: that is the effect a routing
report must not ignore.

Threads are built from the sampled cases: a thread of L turns takes L cases of the same
category (a rough stand-in for a coherent conversation). Every turn is served by the real
`ConversationRouter`, with its thread state, stickiness and tool filtering, so the simulated
prompts are exactly the ones a deployment would send.
"""

from __future__ import annotations

import heapq
import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..integration import ConversationRouter
from ..pipeline import PromptRouter
from .cases import REPLAY_CONTEXT, Case
from .pricing import CachePricing, CostModel
from .runner import Arm


@dataclass(frozen=True)
class Turn:
    system_tokens: int
    prefix_tokens: int
    system_key: tuple[str, ...]
    prefix_key: tuple[str, ...]
    tool_tokens: int = 0  # tool definitions, rendered before the system prompt
    tool_key: tuple[str, ...] = ()


def host_tools(router: PromptRouter) -> list[dict[str, Any]]:
    """One host tool definition per tool name the library's modules govern."""
    names = sorted({name for module in router.library.modules for name in module.tools})
    return [{"name": name, "input_schema": {}} for name in names]


def conversation_for(arm: Arm, *, sticky: bool, filter_tools: bool = False) -> ConversationRouter:
    """A fresh ConversationRouter (empty thread state) serving `arm`'s configuration."""
    router = arm.router
    settings = router.settings.model_copy(update={
        "use_dynamic_routing": arm.dynamic, "rollout_percent": 100.0, "sticky_threads": sticky,
        "filter_tools": filter_tools,
    })
    return ConversationRouter(PromptRouter(router.library, router=router.router, settings=settings))


def thread_turns(conversation: ConversationRouter, thread_id: str, cases: Sequence[Case],
                 tool_tokens_per_tool: int = 0) -> list[Turn]:
    """Serve a thread turn by turn through `conversation`; what each request carried."""
    tools = host_tools(conversation.router) if tool_tokens_per_tool else None
    messages: list[Mapping[str, Any]] = []
    turns: list[Turn] = []
    for case in cases:
        messages.append({"role": "user", "content": case.query})
        prepared = conversation.prepare(thread_id, messages, context=REPLAY_CONTEXT, tools=tools)
        prompt = prepared.result.prompt
        sent_tools = tuple(str(t["name"]) for t in prepared.tools or ())
        turns.append(Turn(prepared.tokens, prompt.prefix_tokens, (prompt.library_version, *prompt.modules),
                          (prompt.library_version, *prompt.prefix_modules), len(sent_tools) * tool_tokens_per_tool,
                          sent_tools))
        messages.append({"role": "assistant", "content": "(reply)"})
    return turns


def make_threads(sample: list[Case], length: int, count: int) -> list[list[Case]]:
    """`count` threads of `length` same-category cases, walking each category cyclically."""
    ordered = sorted(sample, key=lambda c: (c.source, c.line))
    by_category: dict[str, list[Case]] = defaultdict(list)
    for case in ordered:
        by_category[case.category].append(case)
    threads = []
    for t in range(count):
        seed = ordered[t % len(ordered)]
        group = by_category[seed.category]
        start = group.index(seed)
        threads.append([group[(start + k) % len(group)] for k in range(length)])
    return threads


@dataclass
class Bill:
    requests: int = 0
    uncached_tokens: int = 0  # what the requests would cost with no cache, in token units
    cost_units: float = 0.0  # base-price-equivalent tokens after cache discounts/premiums
    read_tokens: int = 0
    write_tokens: int = 0

    def as_dict(self, model: CostModel) -> dict[str, Any]:
        n = max(self.requests, 1)
        return {
            "requests": self.requests,
            "tokens_per_request": self.uncached_tokens / n,
            "cost_units_per_request": self.cost_units / n,
            "cache_read_share": self.read_tokens / self.uncached_tokens if self.uncached_tokens else 0.0,
            "cache_write_share": self.write_tokens / self.uncached_tokens if self.uncached_tokens else 0.0,
            "usd_per_request": model.dollars(self.cost_units / n),
            "usd_per_month": model.dollars(self.cost_units / n) * model.requests_per_month,
            "usd_per_month_without_cache": model.dollars(self.uncached_tokens / n) * model.requests_per_month,
        }


def simulate(threads: list[list[Turn]], provider: CachePricing, model: CostModel) -> Bill:
    """Bill every request of the stream under `provider`'s caching rules."""
    traffic = model.traffic
    rng = random.Random(traffic.seed)
    events: list[tuple[float, int, int]] = []
    clock = 0.0
    for thread_id, turns in enumerate(threads):
        clock += rng.expovariate(traffic.threads_per_hour / 3600.0)
        for k in range(len(turns)):
            events.append((clock + k * traffic.turn_gap_seconds, thread_id, k))
    heapq.heapify(events)
    expiry: dict[tuple[object, ...], float] = {}
    bill = Bill()
    minimum, step = provider.min_tokens, provider.granularity
    while events:
        now, thread_id, k = heapq.heappop(events)
        turn = threads[thread_id][k]
        conversation = k * traffic.turn_tokens + traffic.user_tokens
        # Tools come first in the rendered prompt: every boundary sits behind them.
        tools, lead = turn.tool_key, turn.tool_tokens
        total = lead + turn.system_tokens + conversation
        boundaries: dict[tuple[object, ...], int] = {  # where this request leaves cache entries
            ("prefix", tools, turn.prefix_key): lead + turn.prefix_tokens,
            ("system", tools, turn.system_key): lead + turn.system_tokens,
            ("conv", tools, turn.system_key, thread_id, k): total,
        }
        candidates: dict[tuple[object, ...], int] = {  # entries earlier requests may have left that this one can reuse
            ("prefix", tools, turn.prefix_key): lead + turn.prefix_tokens,
            ("system", tools, turn.system_key): lead + turn.system_tokens,
        }
        if k:
            # The previous turn's prompt is a prefix of this one only if the tools and the
            # system prompt did not change in between (the conversation sits behind them).
            candidates[("conv", tools, turn.system_key, thread_id, k - 1)] = total - traffic.turn_tokens
        hit, hit_key = 0, None
        for key, length in candidates.items():
            usable = length - length % step
            if usable >= minimum and usable > hit and expiry.get(key, -1.0) >= now:
                hit, hit_key = usable, key
        if hit_key is not None:
            expiry[hit_key] = now + provider.ttl_seconds  # a hit refreshes the entry
        cacheable = [length for length in boundaries.values() if length >= minimum]
        for key, length in boundaries.items():
            if length >= minimum:
                expiry[key] = now + provider.ttl_seconds
        # Explicit breakpoints bill the newly cached span at the write price; automatic
        # caching has no write premium.
        written = max(cacheable) - hit if provider.caching == "breakpoints" and cacheable and max(cacheable) > hit else 0
        base = total - hit - written
        bill.requests += 1
        bill.uncached_tokens += total
        bill.read_tokens += hit
        bill.write_tokens += written
        bill.cost_units += base + written * provider.write + hit * provider.read
    return bill


def _row(turns_a: list[list[Turn]], turns_b: list[list[Turn]], provider: CachePricing, model: CostModel,
         **labels: Any) -> dict[str, Any]:
    a, b = simulate(turns_a, provider, model), simulate(turns_b, provider, model)
    return {
        **labels,
        "provider": provider.name,
        "a": a.as_dict(model),
        "b": b.as_dict(model),
        "saving_with_cache": 1 - b.cost_units / a.cost_units if a.cost_units else 0.0,
        "saving_without_cache": 1 - b.uncached_tokens / a.uncached_tokens if a.uncached_tokens else 0.0,
    }


def cache_report(sample: list[Case], arm_a: Arm, arm_b: Arm, model: CostModel) -> dict[str, list[dict[str, Any]]]:
    """Rows per (thread length, stickiness, provider) at the configured traffic, and rows per
    traffic rate (threads per hour) for the middle thread length: caching rewards volume,
    so whether routing saves money depends on how busy the deployment is."""
    traffic = model.traffic
    scenarios, sensitivity = [], []
    per_tool = traffic.tool_tokens_per_tool
    filters = (False, True) if per_tool else (False,)
    for length in traffic.thread_lengths:
        cases = make_threads(sample, length, max(1, traffic.requests_per_scenario // length))
        static = conversation_for(arm_a, sticky=False)
        turns_a = [thread_turns(static, f"t{i}", thread, per_tool) for i, thread in enumerate(cases)]
        for sticky in (False, True):
            if sticky and length == 1:
                continue  # one-turn threads have nothing to stick to
            for filtered in filters:
                routed = conversation_for(arm_b, sticky=sticky, filter_tools=filtered)
                turns_b = [thread_turns(routed, f"t{i}", thread, per_tool) for i, thread in enumerate(cases)]
                for provider in model.providers:
                    scenarios.append(_row(turns_a, turns_b, provider, model, thread_length=length, sticky=sticky,
                                          filter_tools=filtered))
                middle = traffic.thread_lengths[len(traffic.thread_lengths) // 2]
                if length == middle and not sticky and not filtered:
                    for rate in traffic.sensitivity_threads_per_hour:
                        varied = replace(model, traffic=replace(traffic, threads_per_hour=rate))
                        for provider in model.providers:
                            sensitivity.append(_row(turns_a, turns_b, provider, varied, thread_length=length,
                                                    sticky=False, filter_tools=False, threads_per_hour=rate))
    return {"scenarios": scenarios, "traffic_sensitivity": sensitivity}
