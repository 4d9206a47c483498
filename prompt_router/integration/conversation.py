"""The seam a chat backend's thread manager calls once per LLM request.

    conversation = ConversationRouter.from_settings()
    prepared = conversation.prepare(thread_id, messages, sections=[HostSection(agent_text, stable=True)])
    system = anthropic_system(prepared, model="claude-sonnet-4-5")   # or openai_messages(...)

`prepare` routes the latest user turn (with recent user turns as history), keeps the modules
the thread used before (stickiness), puts the host's own sections where they belong, assigns
the thread to a rollout arm once and for all, and returns the system prompt as blocks.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..builder import SEPARATOR, BuiltPrompt, Counted
from ..pipeline import PromptRouter
from ..results import PromptResult, ProviderRequest
from ..routing import RoutingDecision
from ..settings import RouterSettings
from .threads import Arm, ThreadState, ThreadStore, arm_for
from .tools import filter_tools
from .usage import TokenPrices, TokenUsage, parse_usage, provider_request

logger = logging.getLogger("prompt_router")
Position = Literal["start", "after_core", "before_response", "end"]
BlockKind = Literal["core", "core_rest", "tools", "response", "host"]


@dataclass(frozen=True)
class HostSection:
    """A piece of the host's own system prompt (custom agent instructions, knowledge-base
    snippets, the MCP tool list...). `position` is relative to the library's modules:

    - `start`: before everything (breaks the shared cache prefix unless `stable`)
    - `after_core`: after the core modules (the default)
    - `before_response`: after the routed tool modules, before the response format
    - `end`: after everything (the place for per-request text)

    `stable=True` promises the text is identical across requests (e.g. an agent's fixed
    instructions), so it may sit inside the cached prefix."""

    text: str
    position: Position = "after_core"
    stable: bool = False
    name: str = ""


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


def message_text(message: Mapping[str, Any]) -> str:
    """The text of an OpenAI-style message: `content` as a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [p.get("text", "") for p in content if isinstance(p, Mapping) and p.get("type") in ("text", "input_text")]
        return "\n".join(t for t in texts if isinstance(t, str))
    return ""


class ConversationRouter:
    def __init__(self, router: PromptRouter, *, always_on_tools: Collection[str] = (), store: ThreadStore | None = None) -> None:
        self.router = router
        self.always_on_tools = frozenset(always_on_tools)
        settings = router.settings
        self.threads = store or ThreadStore(settings.thread_state_size, settings.thread_state_ttl_seconds)
        self._count = functools.lru_cache(maxsize=2048)(router.builder.counter.count)

    @classmethod
    def from_settings(cls, settings: RouterSettings | None = None, **kwargs: Any) -> ConversationRouter:
        return cls(PromptRouter.from_settings(settings), **kwargs)

    # --- the call --------------------------------------------------------------------------------

    def prepare(
        self,
        thread_id: str,
        messages: Sequence[Mapping[str, Any]],
        *,
        sections: Sequence[HostSection] = (),
        context: Mapping[str, Any] | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        dynamic: bool | None = None,
    ) -> PreparedPrompt:
        """Everything the provider request needs for this turn of `thread_id`."""
        router, settings = self.router, self.router.settings
        user_turns = [message_text(m) for m in messages if m.get("role") == "user"]
        latest = user_turns[-1] if user_turns else ""
        history = user_turns[:-1]  # the router reads only its `history_turns` most recent
        state = self.threads.get(thread_id)
        arm = self._arm(thread_id, state, dynamic)
        sticky = state.modules if (state and settings.sticky_threads and arm == "dynamic") else frozenset()
        result = router.system_prompt(latest, history=history, context=context, dynamic=arm == "dynamic",
                                      sticky=sticky, labels={"arm": arm})
        self._remember(thread_id, state, arm, result, dynamic)
        blocks = self._blocks(result.prompt, sections)
        chosen = None
        if tools is not None:
            if settings.filter_tools and arm == "dynamic" and result.mode == "dynamic":
                chosen = tuple(filter_tools(tools, result.decision.modules, router.library, self.always_on_tools))
            else:
                chosen = tuple(tools)
        return PreparedPrompt(thread_id, blocks, result, arm, chosen)

    async def aprepare(self, *args: Any, **kwargs: Any) -> PreparedPrompt:
        """`prepare` for asyncio code. Routing takes microseconds and never waits on I/O, so
        it runs inline rather than in an executor."""
        return self.prepare(*args, **kwargs)

    def reset_thread(self, thread_id: str) -> None:
        """Forget a thread's modules and arm (e.g. the user started over)."""
        self.threads.reset(thread_id)

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
        self.router.close(timeout)

    # --- parts -----------------------------------------------------------------------------------

    def _arm(self, thread_id: str, state: ThreadState | None, dynamic: bool | None) -> Arm:
        if dynamic is not None:
            return "dynamic" if dynamic else "static"
        if not self.router.use_dynamic_routing:
            return "static"  # the kill switch overrides every thread's arm, at once
        if state is not None:
            return state.arm  # a thread never changes arm mid-conversation
        settings = self.router.settings
        return arm_for(thread_id, settings.rollout_percent, settings.rollout_salt)

    def _remember(self, thread_id: str, state: ThreadState | None, arm: Arm, result: PromptResult,
                  dynamic: bool | None) -> None:
        if dynamic is not None or not self.router.use_dynamic_routing:
            return  # overrides and rollbacks do not re-assign the thread
        if state is None:
            self.threads.put(thread_id, ThreadState(arm))
        if arm == "dynamic" and result.mode == "dynamic" and self.router.settings.sticky_threads:
            used = result.decision.kept_modules
            if used:
                self.threads.add_modules(thread_id, arm, used)

    def _blocks(self, prompt: BuiltPrompt, sections: Sequence[HostSection]) -> tuple[SystemBlock, ...]:
        by_position: dict[str, list[HostSection]] = {}
        for section in sections:
            if section.text.strip():
                by_position.setdefault(section.position, []).append(section)
        segments = {segment.kind: segment for segment in prompt.segments}
        # (kind, stable, name, counted text)
        pieces: list[tuple[BlockKind, bool, str, Counted]] = []

        def host(position: str) -> None:
            for section in by_position.get(position, ()):
                pieces.append(("host", section.stable, section.name, self._host_text(section.text.strip())))

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

    def _host_text(self, text: str) -> Counted:
        return _HostText(text, self._count(text), self._count(text + SEPARATOR))


@dataclass(frozen=True)
class _HostText:
    text: str
    tokens: int
    joined_tokens: int
