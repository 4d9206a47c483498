"""What a request produces, and the interface of those who watch: results flow one way, from
the pipeline to observers (telemetry, metrics), which never call back into it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

from .builder import BuiltPrompt
from .routing import RoutingDecision
from .settings import RouterSettings

Mode = Literal["dynamic", "static", "error"]
ModuleSetChange = Literal["first", "same", "changed"]


@dataclass(frozen=True)
class ThreadFacts:
    """What a conversation's thread has needed so far, for the cost model's real figures
    (counts and a change flag only, never text).

    `module_set` compares the module set this user turn was routed to with the set the
    previous user turn was routed to (how often a per-request system prompt would change);
    None on a tool-loop step, which is routed like the turn that started it.
    `tool_modules` is how many distinct tool modules the thread has needed so far (None
    when the thread's state is unknown), out of the library's `library_tool_modules`."""

    module_set: ModuleSetChange | None
    tool_modules: int | None
    library_tool_modules: int


@dataclass(frozen=True)
class PromptResult:
    """What one request gets: the prompt, the decision behind it, and how it was made."""

    prompt: BuiltPrompt
    decision: RoutingDecision
    mode: Mode
    full_tokens: int
    query_chars: int = 0
    route_seconds: float = 0.0
    build_seconds: float = 0.0
    error: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)  # e.g. the rollout arm; reported as tags
    # Tokens a delivery policy sends besides `prompt`: a catalogue of modules, module texts
    # attached inside the conversation. Counted in what was sent, so savings are never overstated.
    extra_tokens: int = 0
    thread: ThreadFacts | None = None  # set by ConversationRouter

    @property
    def text(self) -> str:
        return self.prompt.text

    @property
    def tokens_sent(self) -> int:
        """Prompt tokens this request carries because of us: the built prompt and any extra."""
        return self.prompt.tokens + self.extra_tokens

    @property
    def tokens_saved(self) -> int:
        return self.full_tokens - self.tokens_sent


@dataclass(frozen=True)
class ProviderRequest:
    """What was sent to the provider for one request, and what it reported back."""

    model: str
    prompt_tokens: int  # input tokens in all, as the provider counts them
    tools: int = 0  # tool definitions sent
    cache_read_tokens: int = 0  # input tokens billed at the cache-read price
    cache_write_tokens: int = 0  # input tokens written to the cache (Anthropic)
    output_tokens: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    cost: float | None = None  # USD, as the provider or proxy billed it (or priced by the caller); None = unknown

    @property
    def uncached_tokens(self) -> int:
        """Input tokens billed at the full input price."""
        return max(0, self.prompt_tokens - self.cache_read_tokens - self.cache_write_tokens)

    @property
    def cache_hit_rate(self) -> float:
        """Share of the input tokens read from the provider's prompt cache (0 when nothing was sent)."""
        return self.cache_read_tokens / self.prompt_tokens if self.prompt_tokens > 0 else 0.0


@runtime_checkable
class RouterObserver(Protocol):
    """Receives every result (and every fault that forced the full prompt). An observer's own
    failure is logged and never reaches the caller; it must never block."""

    def on_result(self, result: PromptResult) -> None: ...

    def on_error(self, error: BaseException, result: PromptResult) -> None: ...

    def on_provider_request(self, request: ProviderRequest) -> None: ...

    def apply_settings(self, settings: RouterSettings) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


class Observer:
    """A RouterObserver that does nothing: subclass it and override what you need."""

    def on_result(self, result: PromptResult) -> None:
        """Called once per request, after the prompt is built."""

    def on_error(self, error: BaseException, result: PromptResult) -> None:
        """Called before on_result when a fault forced the full prompt."""

    def on_provider_request(self, request: ProviderRequest) -> None:
        """Called by ConversationRouter.record_provider_request."""

    def apply_settings(self, settings: RouterSettings) -> None:
        """Called by reload_settings with the new settings."""

    def close(self, timeout: float | None = None) -> None:
        """Called by the router's close(): flush within `timeout` seconds and release resources."""
