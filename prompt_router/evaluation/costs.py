"""What users pay: every delivery policy, served by the real ConversationRouter, billed under
each provider's caching rules, over a grid of traffic.

A scenario is a provider, a rate of new threads and a thread profile (how many user turns,
how many tool-loop steps per turn). Threads are built from labelled cases of one category
(a stand-in for a coherent conversation) and served request by request through a fresh
`ConversationRouter` with the policy under test; each request is formatted the way the
provider format functions send it (system blocks, messages, cache marks) and billed by
`billing.ProviderCache`.

Steady state, not a cold start: the stream runs for a warm-up period before any request is
billed. High rates are simulated with a sample of the threads: a fraction `f` of them, with
the lifetime of *shared* cache entries (tools and system prompt, reused across threads)
stretched by 1/f. For Poisson arrivals that leaves every shared entry's chance of being warm
unchanged (1 - exp(-rate x TTL)), while each thread's own conversation entries keep their
real lifetime.

The ceiling of a scenario is what the traffic would cost if every request carried exactly its
routed modules and read its whole prefix from the cache: the share of it a policy captures is
`saving / ceiling_saving`. Figures are input cost only; output tokens, the same in every
policy, would make every percentage smaller (by 2-3x at typical output lengths).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..builder import PromptBuilder
from ..integration import ConversationRouter, PreparedPrompt, anthropic_request, openai_messages
from ..integration.auto import PolicyChooser
from ..integration.loading import load_module_tool
from ..integration.plan import DeliveryPlan
from ..integration.pricing import CachePricing
from ..integration.traffic import Traffic, TrafficMeter
from ..pipeline import PromptRouter
from ..tokens import TokenCounter
from .billing import Bill, Block, Mark, ProviderCache, Request
from .cases import REPLAY_CONTEXT, Case
from .planning import fit_bundles

# How many simulated threads per hour at most: above it, threads are sampled (see above).
SIMULATED_THREADS_PER_HOUR = 900.0


@dataclass(frozen=True)
class Profile:
    """The shape of a thread."""

    name: str
    turns: int  # user turns
    tool_steps: int = 0  # tool-loop steps after each user turn (agent loops)
    turn_gap_seconds: float = 45.0  # median time between user turns (log-normal)
    tool_gap_seconds: float = 6.0  # median time between tool steps
    reply_tokens: int = 290  # the assistant's reply to a turn
    tool_call_tokens: int = 60  # an assistant tool_use block
    tool_result_tokens: int = 800  # median tokens of one tool result (log-normal, sigma 0.8)


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("1 turn", 1),
    Profile("5 turns", 5),
    Profile("20 turns", 20),
    Profile("agent loop", 4, tool_steps=4),
)}


@dataclass(frozen=True)
class Policy:
    """A delivery policy as the simulation serves it."""

    name: str  # a ConversationRouter policy: static, per_request, sticky, bundles, catalogue, auto
    load_tool: bool = False  # the model gets the load_module tool: a routing miss costs one extra step
    cache_conversation: bool = True  # the formats' breakpoint on the conversation (off: what 0.1 sent)


POLICIES: dict[str, Policy] = {p.name: p for p in (
    Policy("static"),
    Policy("per_request"),
    Policy("sticky"),
    Policy("bundles", load_tool=True),
    Policy("catalogue", load_tool=True),
)}
AUTO = Policy("auto", load_tool=True)
LOADING_POLICIES = frozenset({"bundles", "catalogue"})  # they offer the model the load_module tool


@dataclass(frozen=True)
class Template:
    """One request of a thread, before it is placed in time."""

    offset: float  # seconds after the thread's first request
    blocks: tuple[Block, ...]
    shared: int  # leading blocks shared across threads (tools and system prompt)
    routed_tokens: int  # a system prompt of exactly this turn's routed modules (the ceiling's)

    def ceiling_system_cost(self, read: float) -> float:
        """The theoretical best for the system prompt: exactly this turn's routed modules,
        read from the cache."""
        return self.routed_tokens * read


@functools.lru_cache(maxsize=8192)  # a thread's messages are keyed again on every later request
def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


class _Counter:
    """Token counts of message texts, cached (the same texts recur across policies)."""

    def __init__(self, counter: TokenCounter) -> None:
        self.counter = counter
        self._cache: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        tokens = self._cache.get(text)
        if tokens is None:
            tokens = self._cache[text] = self.counter.count(text)
        return tokens


def _filler(tokens: int) -> str:
    """Synthetic message text of about `tokens` tokens (one common word is one token)."""
    return " ".join(["data"] * max(tokens, 1))


def _message_text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    parts = []
    for block in content or ():
        if isinstance(block, Mapping):
            for name in ("text", "content"):
                value = block.get(name)
                if isinstance(value, str):
                    parts.append(value)
            if block.get("type") == "tool_use":
                parts.append(str(block.get("name", "")) + str(block.get("input", "")))
    return "\n".join(parts)


def _marked(message: Mapping[str, Any]) -> Mark:
    content = message.get("content")
    if isinstance(content, list):
        for block in content:
            if isinstance(block, Mapping) and "cache_control" in block:
                ttl = block["cache_control"].get("ttl")
                return "1h" if ttl == "1h" else "5m"
            if isinstance(block, Mapping) and "prompt_cache_breakpoint" in block:
                return "5m"  # the provider's own (30-minute) lifetime applies
    return None


def request_blocks(prepared: PreparedPrompt, messages: Sequence[Mapping[str, Any]], provider: CachePricing,
                   count: Callable[[str], int], model: str, tools: Block | None = None,
                   cache_conversation: bool = True) -> tuple[tuple[Block, ...], int]:
    """The blocks a provider receives for one request, in order, with its cache marks, and
    how many leading blocks are shared across threads (tool definitions and system prompt).
    Marks and attachments follow the shipped formats: Anthropic's from `anthropic_request`,
    OpenAI's from `openai_messages` (GPT-5.6+'s breakpoints, and its implicit one on the
    latest message)."""
    system_marks: list[Mark] = [None] * len(prepared.blocks)
    _, *formatted_messages = openai_messages(prepared, messages)  # attachments in place, no marks
    message_marks: list[Mark] = [None] * len(formatted_messages)
    if provider.caching == "breakpoints" and provider.implicit_last_message:  # OpenAI GPT-5.6+
        system, *formatted_messages = openai_messages(prepared, messages, model=model,
                                                      cache_conversation=cache_conversation)
        parts = system["content"] if isinstance(system["content"], list) else []
        system_marks = ["5m" if "prompt_cache_breakpoint" in p else None for p in parts] or system_marks
        message_marks = [_marked(m) for m in formatted_messages]
    elif provider.caching == "breakpoints":  # Anthropic
        request = anthropic_request(prepared, messages, model=model, cache_conversation=cache_conversation,
                                    core_ttl="1h" if provider.name == "anthropic-1h" else None)
        system_marks = [("1h" if b["cache_control"].get("ttl") == "1h" else "5m") if "cache_control" in b else None
                        for b in request["system"]]
        formatted_messages = request["messages"]
        message_marks = [_marked(m) for m in formatted_messages]
    blocks = [tools] if tools is not None else []
    blocks += [Block(("system", _key(b.text)), b.tokens, mark) for b, mark in zip(prepared.blocks, system_marks)]
    shared = len(blocks)
    for index, (message, mark) in enumerate(zip(formatted_messages, message_marks)):
        text = _message_text(message)
        blocks.append(Block(("message", index, _key(text)), count(text) + 4, mark))  # + role and framing
    return tuple(blocks), shared


def thread_templates(conversation: ConversationRouter, thread_id: str, cases: Sequence[Case], profile: Profile,
                     provider: CachePricing, model: str, count: Callable[[str], int],
                     routed_tokens: Callable[[Case], int], rng: random.Random, load_tool: bool = False,
                     cache_conversation: bool = True) -> list[Template]:
    """Serve one thread turn by turn (and tool step by tool step) through `conversation`.
    With `load_tool`, a module the case needs that the request does not carry is loaded by
    the model through the load_module tool: one more request, the module text in the
    conversation from then on."""
    messages: list[dict[str, Any]] = []
    templates: list[Template] = []
    clock = 0.0
    closure = conversation.router.library.closure
    for turn, case in enumerate(cases[: profile.turns]):
        if turn:
            clock += rng.lognormvariate(math.log(profile.turn_gap_seconds), 0.6)
        messages.append({"role": "user", "content": case.query})
        needed = {*case.needs, *(d for m in case.needs for d in closure.get(m, ()))}
        for step in range(profile.tool_steps + 1):
            if step:
                clock += rng.lognormvariate(math.log(profile.tool_gap_seconds), 0.4)
            prepared = conversation.prepare(thread_id, messages, context=REPLAY_CONTEXT, model=model)
            # the load tool comes with the policies that deliver inside the conversation (what
            # auto serves decides it for auto)
            offered = load_tool and prepared.policy in LOADING_POLICIES
            tools = _tool_block(prepared, count) if offered else None
            blocks, shared = request_blocks(prepared, messages, provider, count, model, tools, cache_conversation)
            templates.append(Template(clock, blocks, shared, routed_tokens(case)))
            carried = {*prepared.result.prompt.modules, *(a.module for a in prepared.attachments)}
            missing = sorted(needed - carried - _loaded(messages)) if offered and step == 0 else []
            for module in missing:  # the model loads what it lacks, then goes on
                clock += rng.lognormvariate(math.log(profile.tool_gap_seconds), 0.4)
                loaded = conversation.load_module(thread_id, module, context=REPLAY_CONTEXT)
                call_id = f"{thread_id}-{turn}-load-{module}"
                messages.append({"role": "assistant", "content": [
                    {"type": "tool_use", "id": call_id, "name": "load_module", "input": {"module_id": module}}]})
                messages.append({"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": call_id, "content": loaded.text}]})
                prepared = conversation.prepare(thread_id, messages, context=REPLAY_CONTEXT, model=model)
                blocks, shared = request_blocks(prepared, messages, provider, count, model, tools, cache_conversation)
                templates.append(Template(clock, blocks, shared, routed_tokens(case)))
            if step < profile.tool_steps:
                result = max(50, int(rng.lognormvariate(math.log(profile.tool_result_tokens), 0.8)))
                call_id = f"{thread_id}-{turn}-{step}"
                messages.append({"role": "assistant", "content": [
                    {"type": "tool_use", "id": call_id, "name": "run_tool", "input": {"step": step}}]})
                messages.append({"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": call_id, "content": _filler(result)}]})
        messages.append({"role": "assistant", "content": _filler(profile.reply_tokens)})
    return templates


def _loaded(messages: Sequence[Mapping[str, Any]]) -> set[str]:
    """Modules the model has loaded in this conversation (its load_module calls)."""
    found = set()
    for message in messages:
        content = message.get("content")
        for block in content if isinstance(content, list) else ():
            if isinstance(block, Mapping) and block.get("name") == "load_module":
                found.add(str(block.get("input", {}).get("module_id")))
    return found


def _tool_block(prepared: PreparedPrompt, count: Callable[[str], int]) -> Block | None:
    """The load_module tool definition, first in the request (providers render tools first)."""
    tool = load_module_tool(prepared)
    if tool is None:
        return None
    text = json.dumps(tool, sort_keys=True)
    return Block(("tools", _key(text)), count(text), None)


def make_threads(sample: Sequence[Case], length: int, count: int) -> list[list[Case]]:
    """`count` threads of `length` same-category cases, walking each category cyclically.
    The first cases of the threads are spread evenly over the sample, so every case file and
    category seeds its share of threads however few are asked for."""
    ordered = sorted(sample, key=lambda c: (c.source, c.line, c.id))
    by_category: dict[str, list[Case]] = defaultdict(list)
    for case in ordered:
        by_category[case.category].append(case)
    threads = []
    for t in range(count):
        seed = ordered[t * len(ordered) // count if count < len(ordered) else t % len(ordered)]
        group = by_category[seed.category]
        start = group.index(seed)
        threads.append([group[(start + k) % len(group)] for k in range(length)])
    return threads


@dataclass
class Outcome:
    """A policy's bill in one scenario, and the scenario's theoretical best."""

    bill: Bill
    ceiling_cost: float


def simulate(thread_stream: Sequence[list[Template]], provider: CachePricing, threads_per_hour: float,
             *, measured_requests: int, seed: int) -> Outcome:
    """Place the threads in time at the given rate (sampled as above), warm up, then bill
    at least `measured_requests` requests."""
    rng = random.Random(seed)
    fraction = min(1.0, SIMULATED_THREADS_PER_HOUR / threads_per_hour)
    rate = threads_per_hour * fraction / 3600.0
    per_thread = sum(len(t) for t in thread_stream) / max(len(thread_stream), 1)
    longest_ttl = max(provider.ttl_seconds, provider.long_ttl_seconds or 0.0) / fraction
    span = max((t[-1].offset for t in thread_stream if t), default=0.0)
    # Warm up over one entry lifetime and one thread's span, bounded by what the run can afford.
    warmup = min(longest_ttl + span, 3 * measured_requests / max(rate * per_thread, 1e-9))
    events: list[tuple[float, int, int]] = []
    clock, index, measured = 0.0, 0, 0
    while measured < measured_requests:
        clock += rng.expovariate(rate)
        thread = thread_stream[index % len(thread_stream)]
        for position, template in enumerate(thread):
            events.append((clock + template.offset, index, position))
            measured += clock + template.offset >= warmup
        index += 1
    events.sort()
    cache = ProviderCache(provider, shared_ttl_scale=1.0 / fraction)
    bill, ceiling = Bill(), 0.0
    for time, thread_index, position in events:
        template = thread_stream[thread_index % len(thread_stream)][position]
        # each simulated thread is a conversation of its own: its own blocks get its own keys
        blocks = (*template.blocks[: template.shared],
                  *(Block((thread_index, b.key), b.tokens, b.mark) for b in template.blocks[template.shared:]))
        paid = cache.bill(Request(time, blocks, time >= warmup), template.shared)
        if time >= warmup:
            bill.add(paid)
            ceiling += template.ceiling_system_cost(provider.read)
    # The ceiling keeps the conversation's own bill and replaces the system prompt's: what
    # routing alone could save at best.
    return Outcome(bill, bill.cost - bill.shared_cost + ceiling)


def serving_router(router: PromptRouter, provider: CachePricing) -> PromptRouter:
    """The PromptRouter the simulation serves `provider`'s requests with: `router`'s library
    and strategy, every thread in the routed arm."""
    settings = router.settings.model_copy(update={"rollout_percent": 100.0, "use_dynamic_routing": True,
                                                  "delivery_pricing": provider.name})
    return PromptRouter(router.library, router=router.router, settings=settings)


def policy_stream(router: PromptRouter, policy: Policy, threads: Sequence[Sequence[Case]], profile: Profile,
                  provider: CachePricing, model: str, counter: TokenCounter, routed_tokens: Callable[[Case], int],
                  seed: int, *, plan: DeliveryPlan | None = None, traffic: Traffic | None = None,
                  serving: PromptRouter | None = None) -> list[list[Template]]:
    """Every thread of the scenario served under `policy` by a fresh ConversationRouter
    (empty thread state); `plan` gives the bundles (and auto's table), `traffic` the traffic
    auto looks the plan up by. `serving` (from `serving_router`) can be shared by the policies
    of one provider: thread state lives in the ConversationRouter, and the shared engine
    routes each query once instead of once per policy."""
    conversation = ConversationRouter(serving or serving_router(router, provider),
                                      policy=policy.name, plan=plan, traffic=traffic)  # type: ignore[arg-type]
    count = _Counter(counter)
    rng = random.Random(seed)
    return [thread_templates(conversation, f"t{i}", thread, profile, provider, model, count, routed_tokens, rng,
                             policy.load_tool, policy.cache_conversation)
            for i, thread in enumerate(threads)]


# The model each pricing family is formatted and priced as (the auto policy reads the family
# from the model name, as it does in a deployment).
MODELS: dict[str, str] = {
    "anthropic": "claude-sonnet-5", "anthropic-1h": "claude-sonnet-5", "anthropic-opus-5.5": "claude-opus-5-5",
    "openai-4o": "gpt-4o", "openai-4.1": "gpt-4.1", "openai-5": "gpt-5.2", "openai-5.6": "gpt-5.6",
    "deepseek": "deepseek-chat", "none": "self-hosted", "openai": "gpt-4o",
}


@dataclass(frozen=True)
class GridSpec:
    providers: tuple[CachePricing, ...]
    rates: tuple[float, ...] = (60.0, 600.0, 6000.0, 60000.0)
    profiles: tuple[Profile, ...] = tuple(PROFILES.values())
    policies: tuple[Policy, ...] = tuple(POLICIES.values())
    threads: int = 240  # distinct threads built from the cases, reused cyclically
    measured_requests: int = 3000
    seed: int = 1234


def routed_module_sets(router: PromptRouter, cases: Sequence[Case]) -> list[frozenset[str]]:
    """The tool modules each case is routed to (what the bundles are fitted to)."""
    return [router.route(c.query, c.history).kept_modules for c in cases]


def cost_grid(router: PromptRouter, cases: Sequence[Case], spec: GridSpec,
              progress: Callable[[str], None] | None = None, *, plan: DeliveryPlan | None = None,
              auto: bool = False) -> list[dict[str, Any]]:
    """One row per (provider, rate, profile, policy): cost per request, saving against the
    static policy under the same caching, and the share of the scenario's ceiling captured.
    `plan` gives the bundles (fitted to the cases' routing when not given) and, with
    `auto`, the table the auto policy is served by (each scenario's true traffic)."""
    counter = TokenCounter(router.settings.encoding)
    routed: dict[str, int] = {}
    if plan is None or not plan.bundles:  # the bundles policy is simulated with bundles fitted to these cases
        builder = PromptBuilder(router.library, counter)
        plan = DeliveryPlan(router.library.version, fit_bundles(routed_module_sets(router, cases), router.library, builder),
                            plan.cells if plan is not None else ())

    def routed_tokens(case: Case) -> int:
        if case.id not in routed:
            routed[case.id] = router.system_prompt(case.query, history=case.history, context=REPLAY_CONTEXT,
                                                   dynamic=True).prompt.tokens
        return routed[case.id]

    rows: list[dict[str, Any]] = []
    policies = (*spec.policies, *((AUTO,) if auto else ()))
    servers: dict[str, PromptRouter] = {}  # one engine per provider, shared by its policies
    for profile in spec.profiles:
        threads = make_threads(cases, profile.turns, spec.threads)
        for provider in spec.providers:
            model = MODELS.get(provider.name, provider.name)
            serving = servers.setdefault(provider.name, serving_router(router, provider))
            streams = {policy.name: policy_stream(router, policy, threads, profile, provider, model, counter,
                                                  routed_tokens, spec.seed, plan=plan, serving=serving)
                       for policy in policies if policy.name != "auto"}
            auto_streams: dict[str, list[list[Template]]] = {}
            for rate in spec.rates:
                outcomes = {name: simulate(stream, provider, rate, measured_requests=spec.measured_requests,
                                           seed=spec.seed) for name, stream in streams.items()}
                if auto:
                    traffic = Traffic(rate, profile.turns, profile.tool_steps)
                    # auto's threads depend on the traffic only through the policy it chooses
                    choice = PolicyChooser(TrafficMeter(), plan=plan, traffic=traffic).choose(
                        "auto", serving.settings, router.library, model)
                    if choice.policy not in auto_streams:
                        auto_streams[choice.policy] = policy_stream(router, AUTO, threads, profile, provider, model,
                                                                    counter, routed_tokens, spec.seed, plan=plan,
                                                                    traffic=traffic, serving=serving)
                    outcomes["auto"] = simulate(auto_streams[choice.policy], provider, rate,
                                                measured_requests=spec.measured_requests, seed=spec.seed)
                static = outcomes.get("static")
                for name, outcome in outcomes.items():
                    rows.append(_row(provider, rate, profile, name, outcome, static))
                if progress is not None:
                    progress(f"{profile.name} / {provider.name} / {rate:g} threads/h")
    return rows


def _row(provider: CachePricing, rate: float, profile: Profile, policy: str, outcome: Outcome,
         static: Outcome | None) -> dict[str, Any]:
    bill = outcome.bill
    n = max(bill.requests, 1)
    row: dict[str, Any] = {
        "provider": provider.name,
        "threads_per_hour": rate,
        "profile": profile.name,
        "thread_turns": profile.turns,
        "tool_steps": profile.tool_steps,
        "policy": policy,
        "requests": bill.requests,
        "tokens_per_request": bill.tokens / n,
        "cost_per_request": bill.cost / n,  # base-price-equivalent input tokens
        "relative_cost": bill.relative_cost,  # vs the same tokens with no cache at all
        "cache_read_share": bill.read_tokens / bill.tokens if bill.tokens else 0.0,
        "cache_write_share": bill.write_tokens / bill.tokens if bill.tokens else 0.0,
    }
    if static is not None and static.bill.cost:
        saving = 1 - bill.cost / static.bill.cost
        # the ceiling of the scenario: the static stream's conversation (no policy's own
        # attachments or loads) with exactly its routed modules, everything read from cache
        ceiling = 1 - static.ceiling_cost / static.bill.cost
        row.update({
            "saving_vs_static": saving,  # + cheaper, - dearer than the full prompt, same caching
            "ceiling_saving": ceiling,  # the best any policy could do
            "ceiling_share": saving / ceiling if ceiling > 0 else None,
            "token_saving_vs_static": 1 - bill.tokens / static.bill.tokens if static.bill.tokens else 0.0,
        })
    return row
