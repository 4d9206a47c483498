"""The seam a chat backend's thread manager calls once per LLM request.

    conversation = ConversationRouter.from_settings()
    prepared = conversation.prepare(thread_id, messages, sections=[HostSection(agent_text, stable=True)])
    request = anthropic_request(prepared, messages, model="claude-sonnet-5")   # or openai_messages(...)

`prepare` routes the latest user text (with recent user texts as history; tool-loop steps are
not user text), assigns the thread to a rollout arm and a delivery policy once and for all
(`delivery.py`: static, per_request, sticky, bundles, catalogue; `auto` picks one from the
delivery plan for the model and the traffic, `auto.py`), puts the host's own sections where
they belong, and returns the system prompt as blocks, with any module texts the policy
attaches inside the conversation (the provider formats put them in).

One request makes at most one call to the thread store: the turn is routed first without
the thread's modules, then one atomic `record` proposes the arm and policy (the stored ones
win), adds this turn's modules and deliveries, and returns the thread's state, and the
decision is made again from the same evidence with it. A store that fails is skipped for a
while, never failing the request (see `outage.py`): meanwhile sticky threads are routed per
request, and threads whose policy needs their state (bundles, catalogue) get the full prompt.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

from ..builder import SEPARATOR, BuiltPrompt, Counted, Part
from ..library import ModuleLibrary
from ..pipeline import Engine, PromptRouter, Routed
from ..results import ModuleSetChange, PromptResult, ProviderRequest, ThreadFacts
from ..routing import RoutingDecision
from ..settings import RouterSettings
from ..tokens import TokenCounter
from ._fork import reset_after_fork
from .auto import Choice, PolicyChooser
from .delivery import (
    ATTACHING,
    ATTACHMENT_CLOSE,
    Attachment,
    Catalogue,
    Delivery,
    Layout,
    Layouts,
    attachment_open,
    deliver,
    make_catalogue,
    read_pin,
    to_record,
)
from .loading import LoadedModule, read_load_call
from .memory import MemoryThreadStore
from .messages import Conversation, field, read_conversation
from .outage import OutageStats, StoreBreaker
from .plan import DeliveryPlan, PolicyName
from .rollout import Arm, arm_for
from .state import (
    AsyncSwitchStore,
    AsyncThreadStore,
    Switches,
    SwitchStore,
    ThreadState,
    ThreadStore,
    delivered_modules,
)
from .tools import filter_tools, governed_tools
from .traffic import Traffic, TrafficMeter
from .usage import TokenPrices, TokenUsage, parse_usage, provider_request
from .usage_check import request_cost
from .watch import LibraryWatcher

logger = logging.getLogger("prompt_router")
Position = Literal["start", "after_core", "before_response", "end"]
POSITIONS: tuple[str, ...] = get_args(Position)
BlockKind = Literal["core", "core_rest", "tools", "catalogue", "response", "host"]
PolicySetting = Literal["auto", "static", "per_request", "sticky", "bundles", "catalogue"]
_T = TypeVar("_T")
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class HostSection:
    """A piece of the host's own system prompt (custom agent instructions, knowledge-base
    snippets, the MCP tool list...). `position` is relative to the library's modules:

    - `start`: before everything (breaks the shared cache prefix unless `stable`)
    - `after_core`: after the core modules (the default)
    - `before_response`: after the routed tool modules, before the response format
    - `end`: after everything (the place for per-request text)

    `stable=True` promises the text is identical across requests (e.g. an agent's fixed
    instructions), so it may sit inside the cached prefix. A position not in the list is an
    error at once: the host's instructions are never silently left out."""

    text: str
    position: Position = "after_core"
    stable: bool = False
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(f"HostSection.text must be a string, not {type(self.text).__name__}")
        if self.position not in POSITIONS:
            raise ValueError(f"HostSection.position must be one of {', '.join(map(repr, POSITIONS))}, "
                             f"not {self.position!r}")


@dataclass(frozen=True)
class SystemBlock:
    kind: BlockKind
    text: str  # ends with the separator when another block follows: "".join(texts) is the prompt
    tokens: int
    stable: bool
    name: str = ""


@dataclass(frozen=True)
class PreparedPrompt:
    """One request's system prompt (`blocks`) and what the provider formats put in the
    conversation (`attachments`: module texts before the user's own text of their turn),
    the `policy` that served it, and the library's `catalogue` (what the load tool offers)."""

    thread_id: str
    blocks: tuple[SystemBlock, ...]
    result: PromptResult
    arm: Arm
    tools: tuple[Mapping[str, Any], ...] | None = None
    policy: PolicyName = "static"
    attachments: tuple[Attachment, ...] = ()
    catalogue: Catalogue | None = None

    @property
    def text(self) -> str:
        return "".join(block.text for block in self.blocks)

    @property
    def tokens(self) -> int:
        """System prompt tokens (attachments not included: `attachment_tokens`)."""
        return sum(block.tokens for block in self.blocks)

    @property
    def attachment_tokens(self) -> int:
        return sum(a.tokens for a in self.attachments)

    @property
    def full_system_tokens(self) -> int:
        """System prompt tokens the full prompt would have taken here (host sections included)."""
        return self.tokens - self.result.tokens_sent + self.attachment_tokens + self.result.full_tokens

    @property
    def decision(self) -> RoutingDecision:
        return self.result.decision


@dataclass(slots=True)
class _Turn:
    """One request, up to the store call: what was read and routed, and what to ask."""

    conversation: Conversation
    arm: Arm  # the arm this worker proposes (a thread already in the store keeps its own)
    override: bool  # `dynamic=` was passed: this call's arm, whatever the thread's
    routed: Routed | None  # None: the router failed, or the request is static
    first: RoutingDecision | None  # this turn's own decision, without the thread's modules
    kept: frozenset[str]  # modules this turn's own routing keeps
    loop: frozenset[str]  # modules governing the tools the current loop has called
    call: Literal["record", "none"]  # the one store call this request makes
    choice: Choice | None  # the policy a new thread would start with
    proposed: str | None  # ... as recorded (with its bundle)
    delivered: frozenset[str]  # this turn's modules as deliveries at this turn ("module@position")


@dataclass(frozen=True)
class _Library:
    """What delivery needs of one library, made once per library version."""

    layouts: Layouts
    catalogue: Catalogue
    close_tokens: tuple[int, int]  # ATTACHMENT_CLOSE alone, and followed by the separator
    # Static modules' attachments, made once (bounded): per (position, module) and per thread's tuple of them.
    attachments: dict[tuple[int, str], Attachment]
    attached: dict[tuple[tuple[int, str], ...], tuple[Attachment, ...]]
    opening_tokens: dict[str, int]  # module -> its opening tag followed by the separator, counted once

    def attachment(self, position: int, module: str, engine: Engine) -> Attachment:
        """A static module's attachment at `position`."""
        found = self.attachments.get((position, module))
        if found is None:
            found = Attachment(position, module, *self.frame(engine.builder.part(module), engine.builder.counter))
            if len(self.attachments) >= 4096:
                self.attachments.clear()
            self.attachments[position, module] = found
        return found

    def frame(self, part: Part, counter: TokenCounter) -> tuple[str, int, int]:
        """A module's text in its tags, with exact counts (the one token rule: each piece is
        counted followed by the separator)."""
        opening = attachment_open(part.module)
        tag = self.opening_tokens.get(part.module)
        if tag is None:
            tag = self.opening_tokens[part.module] = counter.count(opening + SEPARATOR)
        body = tag + part.joined_tokens
        close, close_joined = self.close_tokens
        return f"{opening}{SEPARATOR}{part.text}{SEPARATOR}{ATTACHMENT_CLOSE}", body + close, body + close_joined


class ConversationRouter:
    def __init__(self, router: PromptRouter, *, always_on_tools: Collection[str] = (),
                 store: ThreadStore | None = None, route_tool_calls: bool = False,
                 watcher: LibraryWatcher | None = None, policy: PolicySetting | None = None,
                 plan: DeliveryPlan | None = None, traffic: Traffic | TrafficMeter | None = None) -> None:
        """`store` holds thread state (default: in this process, bounded by the settings);
        `watcher` reloads the library when its files change (started by the first request,
        stopped by `close`). `from_settings` makes both as the settings say.

        `policy` is the delivery policy for new threads (default: the `delivery_policy`
        setting, read per request); `plan` the delivery plan `auto` and `bundles` use
        (default: the file the settings name, re-read when it changes); `traffic` fixes the
        traffic `auto` looks the plan up by (a `Traffic`), or measures it with a given
        `TrafficMeter` (default: a meter of this process's requests).

        `route_tool_calls=True` adds, from the next step of an agent loop on, the modules
        governing the tools the model has called that no selected module covers. Off by
        default: on realistic loops it covered 4 more of 43 tool calls but changed the system
        prompt mid-loop 8 times, each change re-writing the provider's cached conversation
        (docs/performance.md, `benchmarks/agent_loops.py`). Worth it without prompt caching."""
        self.router = router
        self.always_on_tools = frozenset(always_on_tools)
        self.route_tool_calls = route_tool_calls
        settings = router.settings
        self.store: ThreadStore = store if store is not None else MemoryThreadStore(
            settings.thread_state_size, settings.thread_state_ttl_seconds, max_modules=settings.thread_state_max_modules)
        # What the store can do, checked once (a runtime protocol check costs microseconds).
        self._async_store = self.store if isinstance(self.store, AsyncThreadStore) else None
        self._switch_store = self.store if isinstance(self.store, SwitchStore) else None
        self._async_switch_store = self.store if isinstance(self.store, AsyncSwitchStore) else None
        self._local_switches = Switches()
        self._fleet_switches = Switches()  # as last read from a shared store
        self._breaker = StoreBreaker(settings.state_retry_seconds)
        self._host_tokens = HostTokenCache()
        self._owners: dict[str, dict[str, frozenset[str]]] = {}  # library version -> tool -> modules
        self._owners_lock = threading.Lock()
        self.watcher = watcher
        if policy is not None and policy not in get_args(PolicySetting):
            raise ValueError(f"policy must be one of {', '.join(get_args(PolicySetting))}, not {policy!r}")
        self.policy = policy
        self.meter = traffic if isinstance(traffic, TrafficMeter) else TrafficMeter(settings.traffic_window_seconds)
        self.chooser = PolicyChooser(self.meter, plan=plan, traffic=traffic if isinstance(traffic, Traffic) else None)
        self._libraries: dict[str, _Library] = {}
        self._last_library: tuple[Engine, _Library] | None = None
        self._block_cache = BlockCache()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        self._owners_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: RouterSettings | None = None, **kwargs: Any) -> ConversationRouter:
        """The router, store and watcher the settings configure: Redis when `state_url` is
        set, a library watcher when `library_watch_seconds` is. These three are made once:
        changing them later needs a new ConversationRouter."""
        router = PromptRouter.from_settings(settings)
        settings = router.settings
        if kwargs.get("store") is None:
            kwargs["store"] = store_from_settings(settings)
        if kwargs.get("watcher") is None and settings.library_watch_seconds > 0:
            kwargs["watcher"] = LibraryWatcher(router, settings.library_watch_seconds)
        return cls(router, **kwargs)

    # --- the call --------------------------------------------------------------------------------

    def prepare(
        self,
        thread_id: str,
        messages: Sequence[Any],
        *,
        sections: Sequence[HostSection] = (),
        context: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        dynamic: bool | None = None,
        model: str | None = None,
    ) -> PreparedPrompt:
        """Everything the provider request needs for this turn (or tool-loop step) of
        `thread_id`. `model` is where the request goes (default: the `model` setting): its
        caching rules pick the `auto` policy of a new thread. `dynamic` overrides the
        thread's arm for this call (True: its delivery policy; False: the full prompt)."""
        self._check(sections)
        switches = None
        if dynamic is None:
            switches = self._local_switches if self._switch_store is None else self._guarded(self._read_switches, None)
        turn = self._begin(thread_id, messages, dynamic, switches, model)
        state, killed = None, False
        if turn.call == "record":
            state = self._guarded(lambda: self.store.record(thread_id, arm=turn.arm, modules=turn.kept | turn.loop,
                                                            delivered=turn.delivered, bundle=turn.proposed), None)
            killed = self._killed_meanwhile()
        return self._finish(thread_id, messages, turn, state, killed, sections, context, tools)

    async def aprepare(
        self,
        thread_id: str,
        messages: Sequence[Any],
        *,
        sections: Sequence[HostSection] = (),
        context: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        dynamic: bool | None = None,
        model: str | None = None,
    ) -> PreparedPrompt:
        """`prepare` for asyncio code: the store is awaited (a store without `a`-methods is
        called inline); routing takes microseconds and runs inline."""
        self._check(sections)
        switches = None if dynamic is not None else await self._aguarded(self._aread_switches, None)
        turn = self._begin(thread_id, messages, dynamic, switches, model)
        store, astore, state, killed = self.store, self._async_store, None, False
        if turn.call == "record":
            modules, delivered, bundle = turn.kept | turn.loop, turn.delivered, turn.proposed
            if astore is not None:
                state = await self._aguarded(lambda: astore.arecord(thread_id, arm=turn.arm, modules=modules,
                                                                    delivered=delivered, bundle=bundle), None)
            else:
                state = self._guarded(lambda: store.record(thread_id, arm=turn.arm, modules=modules,
                                                           delivered=delivered, bundle=bundle), None)
            killed = self._killed_meanwhile()
        return self._finish(thread_id, messages, turn, state, killed, sections, context, tools)

    def reset_thread(self, thread_id: str) -> None:
        """Forget a thread's modules and arm (e.g. the user started over). Raises
        StateStoreError if a shared store cannot be reached."""
        self.store.reset(thread_id)

    def thread_state(self, thread_id: str) -> ThreadState | None:
        """What the store holds for a thread (for admin pages and tests)."""
        return self.store.get(thread_id)

    # --- switches ----------------------------------------------------------------------------------

    def switches(self) -> Switches:
        """The fleet-wide switches when the store is shared, else this process's. Raises
        StateStoreError if a shared store cannot be reached."""
        return self._read_switches()

    async def aswitches(self) -> Switches:
        return await self._aread_switches()

    def set_switches(self, switches: Switches) -> None:
        """Turn routing off or on (`dynamic`) and set the rollout percentage, for every worker
        sharing the store (within `switch_refresh_seconds`), or for this process. Fields left
        at None follow each worker's settings. Raises StateStoreError if the shared store
        cannot be reached: a switch that did not reach the fleet must not look as if it had."""
        if self._switch_store is not None:
            self._switch_store.write_switches(switches)
            self._fleet_switches = switches
        else:
            self._local_switches = switches

    async def aset_switches(self, switches: Switches) -> None:
        store = self._async_switch_store
        if store is not None:
            await store.awrite_switches(switches)
            self._fleet_switches = switches
        else:
            self.set_switches(switches)

    @property
    def outage(self) -> OutageStats:
        """Whether the store is being skipped now, and how often it was."""
        return self._breaker.stats

    # --- provider feedback and lifetime ------------------------------------------------------------

    def record_provider_request(self, model: str, prompt_tokens: int | None = None, tools: int = 0, *,
                                usage: Any = None, cache_read_tokens: int = 0, cache_write_tokens: int = 0,
                                output_tokens: int = 0, cost: float | None = None, prices: TokenPrices | None = None,
                                labels: Mapping[str, str] | None = None,
                                prepared: PreparedPrompt | None = None) -> ProviderRequest:
        """Tell observers what was sent to the provider and what it reported back: either the
        provider SDK's `usage` object as it is (`usage=response.usage`: Anthropic, OpenAI,
        LiteLLM, Gemini; see integration/usage.py) or the counts as numbers. `cost` is what
        the provider or proxy billed (LiteLLM's `response_cost`); without it, `prices` price
        the tokens. With `prepared` (what `prepare` returned for this request), the `auto`
        policy weighs the bill against the full prompt's (integration/usage_check.py) and
        serves the full prompt when its choice costs more. Returns what observers got."""
        if usage is not None:
            if prompt_tokens is not None or cache_read_tokens or cache_write_tokens or output_tokens:
                raise TypeError("give the provider's usage object or the token counts, not both")
            counts = parse_usage(usage)
        elif prompt_tokens is None:
            raise TypeError("record_provider_request needs the provider's usage object or prompt_tokens")
        else:
            counts = TokenUsage(prompt_tokens, cache_read_tokens, cache_write_tokens, output_tokens)
        request = provider_request(model, counts, tools=tools, cost=cost, prices=prices, labels=labels)
        if prepared is not None:
            self._check_usage(model, counts, prepared)
        for observer in self.router.observers:
            try:
                observer.on_provider_request(request)
            except Exception:
                logger.exception("prompt-router observer %r failed", observer)
        return request

    def _check_usage(self, model: str, counts: TokenUsage, prepared: PreparedPrompt) -> None:
        """Count a request `auto` served by a plan's policy into the usage check."""
        settings = self.router.settings
        if (self.policy or settings.delivery_policy) != "auto" or prepared.arm != "dynamic" or prepared.policy == "static":
            return
        pricing = self.chooser.pricing(settings, model)
        if pricing is None:
            return
        cost = request_cost(pricing, counts, system_tokens=prepared.tokens, attached_tokens=prepared.attachment_tokens,
                            full_tokens=prepared.full_system_tokens)
        check = self.chooser.usage
        vetoed = check.record(pricing.name, cost)
        if vetoed is not None:
            self.chooser.forget()  # new threads get the full prompt now, not after the choice cache expires
            requests, served, static = vetoed
            # our words, a pricing family, a policy name and figures: nothing from the request
            explanation = (f"auto serves the full prompt for {pricing.name} for {check.hold_seconds:.0f} s: over the "
                           f"last {requests} requests the provider's usage figures bill {prepared.policy} at "
                           f"{100 * (served / max(static, 1e-9) - 1):+.1f}% against the full prompt")
            logger.warning("prompt-router: %s", explanation)

    def close(self, timeout: float | None = None) -> None:
        """Stop the library watcher, close the store's connections, flush telemetry."""
        if self.watcher is not None:
            self.watcher.close()
        close = getattr(self.store, "close", None)
        if callable(close):
            try:
                close()
            except Exception:
                logger.exception("prompt-router: closing the thread store failed")
        self.router.close(timeout)

    async def aclose(self, timeout: float | None = None) -> None:
        """`close`, and the store's asyncio connections of the running loop."""
        aclose = getattr(self.store, "aclose", None)
        if callable(aclose):
            try:
                await aclose()
            except Exception:
                logger.exception("prompt-router: closing the thread store failed")
        self.close(timeout)

    # --- parts -----------------------------------------------------------------------------------

    @staticmethod
    def _check(sections: Sequence[HostSection]) -> None:
        for section in sections:
            if not isinstance(section, HostSection):
                raise TypeError(f"sections must be HostSection objects, not {type(section).__name__}")

    def _read_switches(self) -> Switches:
        store = self._switch_store
        if store is not None:
            self._fleet_switches = store.read_switches()
            return self._fleet_switches
        return self._local_switches

    async def _aread_switches(self) -> Switches:
        store = self._async_switch_store
        if store is not None:
            self._fleet_switches = await store.aread_switches()
            return self._fleet_switches
        return self._read_switches()

    def _killed_meanwhile(self) -> bool:
        """Whether the kill switch was turned on since this request read the switches: a shared
        store's `record` brings the switches back with it, so this costs no round trip and
        the kill switch reaches every worker with its next request."""
        if self._switch_store is None:
            return False
        self._fleet_switches = switches = self._switch_store.last_switches
        return switches.dynamic is False

    def _guarded(self, call: Callable[[], _T], default: _T) -> _T:
        if not self._breaker.allow():
            return default
        try:
            value = call()
        except Exception as exc:  # the store must never fail a request
            self._breaker.failed(exc)
            return default
        self._breaker.succeeded()
        return value

    async def _aguarded(self, call: Callable[[], Awaitable[_T]], default: _T) -> _T:
        if not self._breaker.allow():
            return default
        try:
            value = await call()
        except Exception as exc:
            self._breaker.failed(exc)
            return default
        self._breaker.succeeded()
        return value

    def _begin(self, thread_id: str, messages: Sequence[Any], dynamic: bool | None, switches: Switches | None,
               model: str | None) -> _Turn:
        router, settings = self.router, self.router.settings
        if self.watcher is not None:
            self.watcher.ensure_running()
        conversation = read_conversation(messages, settings.history_turns)
        if conversation.turn_index >= 0:
            steps = conversation.loop_steps > 0
            self.meter.observe(new_thread=conversation.first_turn and not steps, tool_step=steps)
        arm: Arm
        call: Literal["record", "none"]
        if dynamic is not None:
            arm, call = ("dynamic", "record") if dynamic else ("static", "none")
        else:
            # While the store is unreachable, the switches last seen from it still apply.
            fleet = switches if switches is not None else self._fleet_switches
            if not router.use_dynamic_routing or fleet.dynamic is False:
                arm, call = "static", "none"  # the kill switch overrides every thread's arm, at once
            else:
                percent = fleet.rollout_percent if fleet.rollout_percent is not None else settings.rollout_percent
                arm, call = arm_for(thread_id, percent, settings.rollout_salt), "record"
        if call == "none":
            return _Turn(conversation, arm, dynamic is not None, None, None, _NONE, _NONE, call, None, None, _NONE)
        routed: Routed | None = None
        first: RoutingDecision | None = None
        kept, loop = _NONE, _NONE
        try:
            routed = router.routed(conversation.query, conversation.history)
            first = routed.decide()
        except Exception:
            routed = first = None  # system_prompt meets the same fault, serves the full prompt and reports it
        else:
            kept = first.kept_modules
            if self.route_tool_calls and conversation.tools_used:
                loop = self._loop_modules(conversation.tools_used, first, router.library)
        library = routed.engine.library if routed is not None else router.library
        choice = self.chooser.choose(self.policy or settings.delivery_policy, settings, library, model)
        proposed, delivered = to_record(choice.policy, choice.bundles, kept, first is None or first.fallback,
                                        conversation.turn_index)
        return _Turn(conversation, arm, dynamic is not None, routed, first, kept, loop, call, choice, proposed, delivered)

    def _loop_modules(self, tools_used: Sequence[str], decision: RoutingDecision, library: ModuleLibrary) -> frozenset[str]:
        """Modules governing the tools the loop has called, for tools no selected module covers
        (a tool governed by several modules brings them all: recall over savings)."""
        owners = self._owners.get(library.version)
        if owners is None:
            with self._owners_lock:
                owners = self._owners[library.version] = governed_tools(library)
                while len(self._owners) > 4:
                    del self._owners[next(iter(self._owners))]
        selected = set(decision.modules)
        added: set[str] = set()
        for name in tools_used:
            governing = owners.get(name)
            if governing and not governing & selected:
                added |= governing
        return frozenset(added)

    def _library(self, engine: Engine) -> _Library:
        """Layouts, catalogue and tag counts of the engine's library, made once per version."""
        last = self._last_library
        if last is not None and last[0] is engine:
            return last[1]
        counter = engine.builder.counter
        key = f"{engine.library.version}:{counter.encoding_name}"
        found = self._libraries.get(key)
        if found is None:
            found = _Library(Layouts.of(engine.library), make_catalogue(engine.library, counter),
                             (counter.count(ATTACHMENT_CLOSE), counter.count(ATTACHMENT_CLOSE + SEPARATOR)), {}, {}, {})
            with self._owners_lock:
                self._libraries[key] = found
                while len(self._libraries) > 4:
                    del self._libraries[next(iter(self._libraries))]
        self._last_library = (engine, found)
        return found

    def _policy(self, arm: Arm, turn: _Turn, state: ThreadState | None, engine: Engine
                ) -> tuple[PolicyName, str, tuple[str, ...]]:
        """The policy this request is served by, why, and the thread's bundle."""
        choice = turn.choice
        if arm == "static" or choice is None:
            return "static", "", ()
        if state is None:
            # The thread's policy and deliveries are unknown: those that need them serve the
            # full prompt; sticky routes per request (`deliver` is given no state).
            if choice.policy in ATTACHING:
                return "static", "thread_state_unavailable", ()
            return choice.policy, choice.reason, ()
        pinned = read_pin(state.bundle)
        if pinned is None:  # a thread recorded before it had a policy: the current choice
            policy, index, reason = choice.policy, None, choice.reason
        else:
            policy, index = pinned
            reason = choice.reason if policy == choice.policy else "thread"
        if policy != "bundles":
            return policy, reason, ()
        bundles = choice.bundles or self.chooser.bundles(engine.library, self.router.settings)
        if not bundles:
            return "static", "no_plan", ()
        return policy, reason, bundles[min(index if index is not None else len(bundles) - 1, len(bundles) - 1)]

    def _finish(self, thread_id: str, messages: Sequence[Any], turn: _Turn, state: ThreadState | None, killed: bool,
                sections: Sequence[HostSection], context: Mapping[str, Any] | None,
                tools: Sequence[Mapping[str, Any]] | None) -> PreparedPrompt:
        router, settings = self.router, self.router.settings
        labels: dict[str, str] = {}
        arm = turn.arm
        if killed:
            arm = "static"
        elif turn.call == "record":
            if state is None:
                labels["thread_state"] = "unavailable"
            elif not turn.override:
                arm = state.arm  # the stored arm wins: a thread never changes arm mid-conversation
        labels["arm"] = arm
        engine = turn.routed.engine if turn.routed is not None else router.engine  # the one that served
        library = self._library(engine)
        conversation = turn.conversation
        policy, reason, bundle = self._policy(arm, turn, state, engine)
        if arm == "dynamic":
            labels["policy"], labels["policy_reason"] = policy, reason
        facts = None
        if turn.call == "record" and router.observers:  # telemetry only: no one listening, no cost
            facts = self._facts(turn, state, library.layouts.tools)
            if facts.module_set is not None:
                labels["module_set"] = facts.module_set
        delivery = deliver(policy, layouts=library.layouts, library=engine.library, state=state, needed=turn.kept,
                           loop=turn.loop, turn=conversation.turn_index, sticky_threads=settings.sticky_threads,
                           bundle=bundle)
        attached = self._attachments(delivery, messages, conversation.turn_index, library, engine, context)
        catalogue = library.catalogue if delivery.layout == "catalogue" else None
        extra = sum(a.tokens for a in attached) + (catalogue.joined_tokens if catalogue is not None else 0)
        result = router.system_prompt(conversation.query, history=conversation.history, context=context,
                                      dynamic=delivery.dynamic, sticky=delivery.sticky, labels=labels, routed=turn.routed,
                                      modules=delivery.system, extra_tokens=extra, thread=facts)
        blocks = self._blocks(result.prompt, sections, engine.builder.counter, delivery.layout, catalogue)
        chosen = None
        if tools is not None:
            if settings.filter_tools and arm == "dynamic" and result.mode == "dynamic":
                carried = {*result.decision.modules, *result.prompt.modules, *(a.module for a in attached)}
                chosen = tuple(filter_tools(tools, carried, engine.library, self.always_on_tools))
            else:
                chosen = tuple(tools)
        return PreparedPrompt(thread_id, blocks, result, arm, chosen, delivery.policy, attached, library.catalogue)

    def _facts(self, turn: _Turn, state: ThreadState | None, tools: frozenset[str]) -> ThreadFacts:
        """Whether this user turn's module set differs from the previous turn's, and how many
        tool modules the thread has needed so far (routed or loaded)."""
        conversation = turn.conversation
        change: ModuleSetChange | None = None
        if conversation.loop_steps == 0 and turn.first is not None:
            if not conversation.earlier:
                change = "first"
            else:
                try:  # the previous turn as it was routed then (its evidence and decision are cached)
                    previous = self.router.routed(conversation.earlier[-1], conversation.earlier[:-1]).decide()
                except Exception:
                    previous = None
                if previous is not None:
                    change = "same" if previous.modules == turn.first.modules else "changed"
        needed = None
        if state is not None:
            needed = len(tools.intersection(state.modules, delivered_modules(state.delivered)))
        return ThreadFacts(change, needed, len(tools))

    def _attachments(self, delivery: Delivery, messages: Sequence[Any], turn_index: int, library: _Library,
                     engine: Engine, context: Mapping[str, Any] | None) -> tuple[Attachment, ...]:
        """The delivery's modules as texts at their positions. A recorded position that no
        longer holds an earlier user message (the host trimmed or edited the history) moves
        to this turn: the text is never lost."""
        if not delivery.attached:
            return ()
        placed, moved = delivery.attached, False
        for position, _ in placed:
            if position != turn_index and not (0 <= position < turn_index and field(messages[position], "role") == "user"):
                moved = True
        if moved:
            placed = tuple(sorted(((p if p == turn_index or (0 <= p < turn_index and field(messages[p], "role") == "user")
                                    else turn_index, m) for p, m in placed), key=lambda item: item[0]))
        templated = library.layouts.templated
        if not any(m in templated for _, m in placed):
            cached = library.attached.get(placed)  # a thread's attachments repeat request after request
            if cached is None:
                cached = tuple(library.attachment(position, module, engine) for position, module in placed)
                if len(library.attached) >= 1024:
                    library.attached.clear()
                library.attached[placed] = cached
            return cached
        names = [m for _, m in placed if m in templated]
        rendered = dict(zip(names, self.router.module_parts(names, context, engine=engine)))
        counter = engine.builder.counter
        return tuple(Attachment(position, module, *library.frame(rendered[module], counter)) if module in rendered
                     else library.attachment(position, module, engine) for position, module in placed)

    def _blocks(self, prompt: BuiltPrompt, sections: Sequence[HostSection], counter: TokenCounter,
                layout: Layout = "segments", catalogue: Catalogue | None = None) -> tuple[SystemBlock, ...]:
        """The prompt's segments, the catalogue and the host's sections as provider blocks, in
        the prompt's order: core, [after_core], catalogue, then tools and response as built,
        [before_response] right before the response, [end]. In the `modules` layout (bundles)
        each tool module is its own block, and every library block ends with the separator
        even when last, so a bundle's blocks are the next bundle's first blocks, byte for byte."""
        if not sections:  # the library's blocks alone: the same for the same prompt, made once
            return self._block_cache.blocks(prompt, layout, catalogue, lambda: self._make_blocks(
                prompt, (), counter, layout, catalogue))
        return self._make_blocks(prompt, sections, counter, layout, catalogue)

    def _make_blocks(self, prompt: BuiltPrompt, sections: Sequence[HostSection], counter: TokenCounter,
                     layout: Layout, catalogue: Catalogue | None) -> tuple[SystemBlock, ...]:
        by_position: dict[str, list[HostSection]] = {}
        for section in sections:
            if section.text.strip():
                by_position.setdefault(section.position, []).append(section)
        always = layout != "segments"
        # (kind, stable, name, counted text, ends with the separator even when last)
        pieces: list[tuple[BlockKind, bool, str, Counted, bool]] = []
        pending = ["start", "after_core", "before_response", "end"] if by_position or catalogue is not None else []

        def host(until: str) -> None:
            """Place the host sections of every position up to `until` not placed yet."""
            while pending and pending[0] != "end" and POSITIONS.index(pending[0]) <= POSITIONS.index(until):
                position = pending.pop(0)
                for section in by_position.get(position, ()):
                    pieces.append(("host", section.stable, section.name,
                                   self._host_tokens.counted(counter, section.text.strip()), False))
                if position == "after_core" and catalogue is not None:
                    pieces.append(("catalogue", True, "catalogue", catalogue, True))

        host("start")
        for segment in prompt.segments:
            kind = segment.kind
            if kind == "prefix":
                pieces.append(("core", True, "core", segment, always))
            elif kind == "core":
                pieces.append(("core_rest", False, "core_rest", segment, always))
            elif kind == "response":
                host("before_response")
                pieces.append(("response", False, "response", segment, always))
            else:
                host("after_core")
                if layout == "modules":
                    pieces.extend(("tools", False, part.module, part, True) for part in segment.parts)
                else:
                    pieces.append(("tools", False, "tools", segment, always))
        host("before_response")
        for section in by_position.get("end", ()):
            pieces.append(("host", section.stable, section.name, self._host_tokens.counted(counter, section.text.strip()), False))
        last, block = len(pieces) - 1, self._block_cache.block
        return tuple([block(kind, stable, name, piece, i < last or joined)
                      for i, (kind, stable, name, piece, joined) in enumerate(pieces)])

    # --- on-demand loading -------------------------------------------------------------------------

    def load_module(self, thread_id: str, module_id: str, *, context: Mapping[str, Any] | None = None) -> LoadedModule:
        """Answer the model's `load_module` tool call: the module's text (in the same tags as an
        attached module), recorded as delivered so the thread never gets it attached again
        (the tool result lives in the host's history). An id the library lacks is answered
        with the ids it has (`found=False`), never an exception: it is the model's mistake."""
        loaded, arm = self._loaded(thread_id, module_id, context)
        if loaded.found:
            self._guarded(lambda: self.store.record(thread_id, arm=arm, delivered=(module_id,)), None)
        return loaded

    async def aload_module(self, thread_id: str, module_id: str, *,
                           context: Mapping[str, Any] | None = None) -> LoadedModule:
        loaded, arm = self._loaded(thread_id, module_id, context)
        astore = self._async_store
        if loaded.found:
            if astore is not None:
                await self._aguarded(lambda: astore.arecord(thread_id, arm=arm, delivered=(module_id,)), None)
            else:
                self._guarded(lambda: self.store.record(thread_id, arm=arm, delivered=(module_id,)), None)
        return loaded

    def load_module_result(self, thread_id: str, call: Any, *,
                           context: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        """The tool result for a `load_module` call, ready to append to the conversation: an
        Anthropic `tool_use` block gets a `tool_result` block (put it in the next user
        message), an OpenAI tool call a `tool` message. None if `call` is another tool's."""
        request = read_load_call(call)
        if request is None:
            return None
        loaded = self.load_module(thread_id, request.module_id, context=context) if request.module_id else None
        return request.result(loaded)

    async def aload_module_result(self, thread_id: str, call: Any, *,
                                  context: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        request = read_load_call(call)
        if request is None:
            return None
        loaded = await self.aload_module(thread_id, request.module_id, context=context) if request.module_id else None
        return request.result(loaded)

    def _loaded(self, thread_id: str, module_id: str, context: Mapping[str, Any] | None) -> tuple[LoadedModule, Arm]:
        router, settings = self.router, self.router.settings
        engine = router.engine
        library = self._library(engine)
        fleet = self._fleet_switches if self._switch_store is not None else self._local_switches
        percent = fleet.rollout_percent if fleet.rollout_percent is not None else settings.rollout_percent
        arm = arm_for(thread_id, percent, settings.rollout_salt)  # only a thread without state takes it
        if not isinstance(module_id, str) or module_id not in library.layouts.tools:
            text = (f"There is no module {str(module_id)[:100]!r}. Modules: "
                    f"{', '.join(library.catalogue.ids)}.")
            return LoadedModule(str(module_id)[:100], text, engine.builder.counter.count(text), False), arm
        [part] = router.module_parts([module_id], context, engine=engine)
        text, tokens, _ = library.frame(part, engine.builder.counter)
        return LoadedModule(module_id, text, tokens, True), arm


def store_from_settings(settings: RouterSettings) -> ThreadStore:
    """Redis when `state_url` is set (imported only then), else this process's memory."""
    if settings.state_url is not None:
        from .redis_store import RedisThreadStore

        return RedisThreadStore.from_settings(settings)
    return MemoryThreadStore(settings.thread_state_size, settings.thread_state_ttl_seconds,
                             max_modules=settings.thread_state_max_modules)


class BlockCache:
    """SystemBlocks of the library's pieces (segments, module parts, the catalogue) and of
    whole prompts served without host sections, which repeat request after request: the
    texts and counts are made once. Keyed by identity, with the piece or prompt kept in the
    entry so the identity cannot be reused while cached; bounded in entries and in the
    characters the entries keep alive (both maps are cleared when either is full)."""

    def __init__(self, max_entries: int = 512, max_chars: int = 16 * 1024 * 1024) -> None:
        self.max_entries, self.max_chars = max_entries, max_chars
        self._entries: dict[tuple[int, bool, str, str], tuple[Counted, SystemBlock]] = {}
        self._chars = 0
        # whole prompts without host sections: (prompt id, layout, catalogue) -> (prompt, blocks)
        self._prompts: dict[tuple[int, str, bool], tuple[BuiltPrompt, tuple[SystemBlock, ...]]] = {}

    def blocks(self, prompt: BuiltPrompt, layout: Layout, catalogue: Catalogue | None,
               make: Callable[[], tuple[SystemBlock, ...]]) -> tuple[SystemBlock, ...]:
        key = (id(prompt), layout, catalogue is not None)
        hit = self._prompts.get(key)
        if hit is not None and hit[0] is prompt:
            return hit[1]
        made = make()
        self._keep(self._prompts, key, (prompt, made), len(prompt.text) + sum(len(b.text) for b in made))
        return made

    def _keep(self, table: dict[Any, Any], key: Any, entry: Any, chars: int) -> None:
        """Keep `entry` unless it alone is over the character bound; both maps are cleared
        first when either bound would be crossed."""
        if len(table) >= self.max_entries or self._chars + chars > self.max_chars:
            self._entries.clear()
            self._prompts.clear()
            self._chars = 0
        if chars <= self.max_chars:
            table[key] = entry
            self._chars += chars

    def block(self, kind: BlockKind, stable: bool, name: str, piece: Counted, joined: bool) -> SystemBlock:
        if kind == "host":  # the host's texts change from request to request: never kept
            return _make_block(kind, stable, name, piece, joined)
        key = (id(piece), joined, kind, name)
        hit = self._entries.get(key)
        if hit is not None and hit[0] is piece:
            return hit[1]
        made = _make_block(kind, stable, name, piece, joined)
        self._keep(self._entries, key, (piece, made), 2 * len(made.text))  # the piece's text and the block's
        return made

    def __len__(self) -> int:
        return len(self._entries)


def _make_block(kind: BlockKind, stable: bool, name: str, piece: Counted, joined: bool) -> SystemBlock:
    if joined:
        return SystemBlock(kind, piece.text + SEPARATOR, piece.joined_tokens, stable, name)
    return SystemBlock(kind, piece.text, piece.tokens, stable, name)


@dataclass(frozen=True)
class _HostText:
    text: str
    tokens: int
    joined_tokens: int


class HostTokenCache:
    """Token counts of host section texts, so a stable section is counted once.

    Bounded in bytes whatever the texts: at most `max_entries` entries, each keyed by the
    text itself when it is short and by its 16-byte digest otherwise, and holding two ints;
    a long text is hashed per request (about 1 ms per MB) but never kept."""

    def __init__(self, max_entries: int = 2048, max_key_chars: int = 1024) -> None:
        self.max_entries, self.max_key_chars = max_entries, max_key_chars
        self._entries: OrderedDict[tuple[str, str | bytes], tuple[int, int]] = OrderedDict()
        self._lock = threading.Lock()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def counted(self, counter: TokenCounter, text: str) -> _HostText:
        body: str | bytes = text if len(text) <= self.max_key_chars else hashlib.blake2b(
            text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        key = (counter.encoding_name, body)
        with self._lock:
            counts = self._entries.get(key)
            if counts is not None:
                self._entries.move_to_end(key)
        if counts is None:
            counts = (counter.count(text), counter.count(text + SEPARATOR))
            with self._lock:
                self._entries[key] = counts
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return _HostText(text, *counts)

    def __len__(self) -> int:
        return len(self._entries)
