"""The seam a chat backend's thread manager calls once per LLM request.

    conversation = ConversationRouter.from_settings()
    prepared = conversation.prepare(thread_id, messages, sections=[HostSection(agent_text, stable=True)])
    request = anthropic_request(prepared, messages, model="claude-sonnet-5")   # or openai_messages(...)

`prepare` routes the latest user text (with recent user texts as history; tool-loop steps are
not user text), keeps the modules the thread used before (stickiness), puts the host's own
sections where they belong, assigns the thread to a rollout arm once and for all, and
returns the system prompt as blocks.

One request makes at most one call to the thread store: the turn is routed first without
the thread's modules, then one atomic `record` adds this turn's modules and returns the
thread's arm and all its modules, and the decision is made again from the same evidence
with them. A store that fails is skipped for a while (per-request routing), never failing
the request (see `outage.py`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

from ..builder import SEPARATOR, BuiltPrompt, Counted
from ..library import ModuleLibrary
from ..pipeline import PromptRouter, Routed
from ..results import PromptResult, ProviderRequest
from ..routing import RoutingDecision
from ..settings import RouterSettings
from ..tokens import TokenCounter
from ._fork import reset_after_fork
from .memory import MemoryThreadStore
from .messages import Conversation, read_conversation
from .outage import OutageStats, StoreBreaker
from .rollout import Arm, arm_for
from .state import AsyncSwitchStore, AsyncThreadStore, Switches, SwitchStore, ThreadState, ThreadStore
from .tools import filter_tools, governed_tools
from .usage import TokenPrices, TokenUsage, parse_usage, provider_request
from .watch import LibraryWatcher

logger = logging.getLogger("prompt_router")
Position = Literal["start", "after_core", "before_response", "end"]
POSITIONS: tuple[str, ...] = get_args(Position)
BlockKind = Literal["core", "core_rest", "tools", "response", "host"]
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
    thread_id: str
    blocks: tuple[SystemBlock, ...]
    result: PromptResult
    arm: Arm
    tools: tuple[Mapping[str, Any], ...] | None = None

    @property
    def text(self) -> str:
        return "".join(block.text for block in self.blocks)

    @property
    def tokens(self) -> int:
        return sum(block.tokens for block in self.blocks)

    @property
    def decision(self) -> RoutingDecision:
        return self.result.decision


@dataclass(frozen=True)
class _Turn:
    """One request, up to the store call: what was read and routed, and what to ask."""

    conversation: Conversation
    arm: Arm  # the arm this worker proposes (a thread already in the store keeps its own)
    routed: Routed | None  # None: the router failed, or the request is static
    kept: frozenset[str]  # modules this turn's own routing keeps
    loop: frozenset[str]  # modules governing the tools the current loop has called
    call: Literal["record", "get", "none"]  # the one store call this request makes


class ConversationRouter:
    def __init__(self, router: PromptRouter, *, always_on_tools: Collection[str] = (),
                 store: ThreadStore | None = None, route_tool_calls: bool = False,
                 watcher: LibraryWatcher | None = None) -> None:
        """`store` holds thread state (default: in this process, bounded by the settings);
        `watcher` reloads the library when its files change (started by the first request,
        stopped by `close`). `from_settings` makes both as the settings say.

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
    ) -> PreparedPrompt:
        """Everything the provider request needs for this turn (or tool-loop step) of `thread_id`."""
        self._check(sections)
        switches = None
        if dynamic is None:
            switches = self._local_switches if self._switch_store is None else self._guarded(self._read_switches, None)
        turn = self._begin(thread_id, messages, dynamic, switches)
        state, killed = None, False
        if turn.call == "record":
            state = self._guarded(lambda: self.store.record(thread_id, arm=turn.arm, modules=turn.kept | turn.loop), None)
            killed = self._killed_meanwhile()
        elif turn.call == "get":
            state = self._guarded(lambda: self.store.get(thread_id), None)
        return self._finish(thread_id, turn, state, killed, sections, context, tools)

    async def aprepare(
        self,
        thread_id: str,
        messages: Sequence[Any],
        *,
        sections: Sequence[HostSection] = (),
        context: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        dynamic: bool | None = None,
    ) -> PreparedPrompt:
        """`prepare` for asyncio code: the store is awaited (a store without `a`-methods is
        called inline); routing takes microseconds and runs inline."""
        self._check(sections)
        switches = None if dynamic is not None else await self._aguarded(self._aread_switches, None)
        turn = self._begin(thread_id, messages, dynamic, switches)
        store, astore, state, killed = self.store, self._async_store, None, False
        if turn.call == "record":
            modules = turn.kept | turn.loop
            if astore is not None:
                state = await self._aguarded(lambda: astore.arecord(thread_id, arm=turn.arm, modules=modules), None)
            else:
                state = self._guarded(lambda: store.record(thread_id, arm=turn.arm, modules=modules), None)
            killed = self._killed_meanwhile()
        elif turn.call == "get":
            if astore is not None:
                state = await self._aguarded(lambda: astore.aget(thread_id), None)
            else:
                state = self._guarded(lambda: store.get(thread_id), None)
        return self._finish(thread_id, turn, state, killed, sections, context, tools)

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
                                labels: Mapping[str, str] | None = None) -> ProviderRequest:
        """Tell observers what was sent to the provider and what it reported back: either the
        provider SDK's `usage` object as it is (`usage=response.usage`: Anthropic, OpenAI,
        LiteLLM, Gemini; see integration/usage.py) or the counts as numbers. `cost` is what
        the provider or proxy billed (LiteLLM's `response_cost`); without it, `prices` price
        the tokens. Returns what observers got."""
        if usage is not None:
            if prompt_tokens is not None or cache_read_tokens or cache_write_tokens or output_tokens:
                raise TypeError("give the provider's usage object or the token counts, not both")
            counts = parse_usage(usage)
        elif prompt_tokens is None:
            raise TypeError("record_provider_request needs the provider's usage object or prompt_tokens")
        else:
            counts = TokenUsage(prompt_tokens, cache_read_tokens, cache_write_tokens, output_tokens)
        request = provider_request(model, counts, tools=tools, cost=cost, prices=prices, labels=labels)
        for observer in self.router.observers:
            try:
                observer.on_provider_request(request)
            except Exception:
                logger.exception("prompt-router observer %r failed", observer)
        return request

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

    def _begin(self, thread_id: str, messages: Sequence[Any], dynamic: bool | None, switches: Switches | None) -> _Turn:
        router, settings = self.router, self.router.settings
        if self.watcher is not None:
            self.watcher.ensure_running()
        conversation = read_conversation(messages, settings.history_turns)
        if dynamic is not None:
            arm: Arm = "dynamic" if dynamic else "static"
            call: Literal["record", "get", "none"] = "get" if dynamic and settings.sticky_threads else "none"
        else:
            # While the store is unreachable, the switches last seen from it still apply.
            fleet = switches if switches is not None else self._fleet_switches
            if not router.use_dynamic_routing or fleet.dynamic is False:
                arm, call = "static", "none"  # the kill switch overrides every thread's arm, at once
            else:
                percent = fleet.rollout_percent if fleet.rollout_percent is not None else settings.rollout_percent
                arm, call = arm_for(thread_id, percent, settings.rollout_salt), "record"
        routed, kept, loop = None, _NONE, _NONE
        if call != "none" or arm == "dynamic":
            try:
                routed = router.routed(conversation.query, conversation.history)
                first = routed.decide()
            except Exception:
                routed = None  # system_prompt meets the same fault, serves the full prompt and reports it
            else:
                kept = first.kept_modules if settings.sticky_threads else _NONE
                if self.route_tool_calls and conversation.tools_used:
                    loop = self._loop_modules(conversation.tools_used, first, router.library)
        return _Turn(conversation, arm, routed, kept, loop, call)

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

    def _finish(self, thread_id: str, turn: _Turn, state: ThreadState | None, killed: bool,
                sections: Sequence[HostSection], context: Mapping[str, Any] | None,
                tools: Sequence[Mapping[str, Any]] | None) -> PreparedPrompt:
        router, settings = self.router, self.router.settings
        labels = {}
        arm, sticky = turn.arm, turn.loop
        if killed:
            arm = "static"
        elif turn.call == "record":
            if state is None:
                labels["thread_state"] = "unavailable"  # per-request routing while the store is down
            else:
                arm = state.arm  # the stored arm wins: a thread never changes arm mid-conversation
                if settings.sticky_threads:
                    sticky = (state.modules - turn.kept) | turn.loop
        elif turn.call == "get" and state is not None:
            sticky = state.modules | turn.loop
        labels["arm"] = arm
        conversation = turn.conversation
        result = router.system_prompt(conversation.query, history=conversation.history, context=context,
                                      dynamic=arm == "dynamic", sticky=sticky, labels=labels, routed=turn.routed)
        engine = turn.routed.engine if turn.routed is not None else router.engine  # the one that served
        blocks = self._blocks(result.prompt, sections, engine.builder.counter)
        chosen = None
        if tools is not None:
            if settings.filter_tools and arm == "dynamic" and result.mode == "dynamic":
                chosen = tuple(filter_tools(tools, result.decision.modules, engine.library, self.always_on_tools))
            else:
                chosen = tuple(tools)
        return PreparedPrompt(thread_id, blocks, result, arm, chosen)

    def _blocks(self, prompt: BuiltPrompt, sections: Sequence[HostSection], counter: TokenCounter) -> tuple[SystemBlock, ...]:
        by_position: dict[str, list[HostSection]] = {}
        for section in sections:
            if section.text.strip():
                by_position.setdefault(section.position, []).append(section)
        segments = {segment.kind: segment for segment in prompt.segments}
        # (kind, stable, name, counted text)
        pieces: list[tuple[BlockKind, bool, str, Counted]] = []

        def host(position: str) -> None:
            for section in by_position.get(position, ()):
                pieces.append(("host", section.stable, section.name, self._host_tokens.counted(counter, section.text.strip())))

        host("start")
        if "prefix" in segments:
            pieces.append(("core", True, "core", segments["prefix"]))
        if "core" in segments:
            pieces.append(("core_rest", False, "core_rest", segments["core"]))
        host("after_core")
        if "tools" in segments:
            pieces.append(("tools", False, "tools", segments["tools"]))
        host("before_response")
        if "response" in segments:
            pieces.append(("response", False, "response", segments["response"]))
        host("end")
        last = len(pieces) - 1
        return tuple(
            SystemBlock(kind, piece.text + SEPARATOR if i < last else piece.text,
                        piece.joined_tokens if i < last else piece.tokens, stable, name)
            for i, (kind, stable, name, piece) in enumerate(pieces)
        )


def store_from_settings(settings: RouterSettings) -> ThreadStore:
    """Redis when `state_url` is set (imported only then), else this process's memory."""
    if settings.state_url is not None:
        from .redis_store import RedisThreadStore

        return RedisThreadStore.from_settings(settings)
    return MemoryThreadStore(settings.thread_state_size, settings.thread_state_ttl_seconds,
                             max_modules=settings.thread_state_max_modules)


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
