"""A LiteLLM proxy callback: every proxied chat request gets the routed system prompt.

    # config.yaml of the LiteLLM proxy (pip install 'prompt-router[litellm]')
    litellm_settings:
      callbacks: prompt_router.integration.litellm.proxy_handler

Before the call (`async_pre_call_hook`), the request's leading system (or developer)
messages become host sections (`PROMPT_ROUTER_LITELLM_SYSTEM_POSITION`, default `after_core`)
and the library's routed modules are put around them by `ConversationRouter.prepare`, in one
system message; the conversation after them is untouched, bar the module texts a delivery
policy attaches to a user turn (catalogue, bundles). The request's model name picks `auto`'s
policy when it names a model whose caching is known (a proxy alias does not: set
`PROMPT_ROUTER_MODEL`). The thread is named by a request
header (`x-thread-id`) or a key of the request's `metadata` (`thread_id`); a request with
neither is routed on its own, with no thread state. Per-request template variables come from
`metadata.prompt_router_context`.

After the call (`async_log_success_event`, which LiteLLM runs for streamed responses too, once
the stream ends), the provider's `usage` and LiteLLM's `response_cost` are recorded through
`ConversationRouter.record_provider_request`, so telemetry and metrics see the real cache
reads, writes and cost.

The request never fails because of us: any fault in the hook leaves the request exactly as the
client sent it, is logged (its type only: its message may quote the request) and is reported
to the router's observers as an error.

The router itself is configured as everywhere else (`PROMPT_ROUTER_*`: library, rollout,
telemetry, metrics); the hook's own settings are `PROMPT_ROUTER_LITELLM_*` (LiteLLMSettings).
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from litellm.integrations.custom_logger import CustomLogger
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..errors import ContextError
from ..results import PromptResult
from .conversation import ConversationRouter, HostSection
from .messages import message_text
from .pricing import pricing_for_model
from .providers import with_attachments

logger = logging.getLogger("prompt_router")
META_KEY = "prompt_router"  # ours, inside the request's metadata: LiteLLM carries it to the success event
_CHAT_CALLS = frozenset({"completion", "acompletion"})
_SYSTEM_ROLES = ("system", "developer")


class LiteLLMSettings(BaseSettings):
    """The hook's own settings, `PROMPT_ROUTER_LITELLM_*` (environment or `.env`)."""

    model_config = SettingsConfigDict(env_prefix="PROMPT_ROUTER_LITELLM_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore", env_ignore_empty=True, frozen=True)

    thread_header: str = Field("x-thread-id", description="request header that names the conversation")
    thread_metadata_key: str = Field("thread_id", description="key of the request's `metadata` that names it otherwise")
    context_metadata_key: str = Field("prompt_router_context",
                                      description="key of the request's `metadata` holding template variables (an object)")
    system_position: Literal["start", "after_core", "before_response", "end"] = Field(
        "after_core", description="where the client's own system messages go among the library's modules")
    system_stable: bool = Field(False, description="the client's system text is the same on every request (may be cached)")
    models: str = Field("*", description="comma-separated model-name patterns whose requests are rewritten (fnmatch)")

    def applies_to(self, model: object) -> bool:
        patterns = [p.strip() for p in self.models.split(",") if p.strip()]
        return isinstance(model, str) and any(fnmatch.fnmatchcase(model, p) for p in patterns)


def _header(headers: object, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    wanted = name.lower()
    for key, value in headers.items():
        if str(key).lower() == wanted and isinstance(value, str) and value.strip():
            return value.strip()
    return None


class PromptRouterCallback(CustomLogger):
    """The LiteLLM callback. `proxy_handler` (below) is the instance a proxy config names."""

    def __init__(self, conversation: ConversationRouter | None = None, settings: LiteLLMSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or LiteLLMSettings()
        self.conversation = conversation or ConversationRouter.from_settings()
        self.faults = 0

    # --- before the call ------------------------------------------------------------------------

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict[str, Any],
                                  call_type: str) -> dict[str, Any]:
        if call_type not in _CHAT_CALLS:
            return data
        try:
            self._rewrite(data)
        except Exception as exc:
            self._report(exc, "pre-call")
        return data

    def _rewrite(self, data: dict[str, Any]) -> None:
        """Everything is computed first and assigned last, so a fault leaves `data` as it was."""
        settings = self.settings
        messages = data.get("messages")
        if not settings.applies_to(data.get("model")) or not isinstance(messages, list) or not messages:
            return
        if not all(isinstance(m, Mapping) for m in messages):
            raise TypeError("a message is not an object")
        lead = 0
        while lead < len(messages) and messages[lead].get("role") in _SYSTEM_ROLES:
            lead += 1
        sections = [HostSection(message_text(m), settings.system_position, settings.system_stable, f"client-system-{i}")
                    for i, m in enumerate(messages[:lead])]
        metadata = data.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        thread_id, ephemeral = self._thread(data, metadata)
        context = metadata.get(settings.context_metadata_key)
        if context is not None and not isinstance(context, Mapping):
            raise ContextError(f"metadata.{settings.context_metadata_key} must be an object of template variables")
        tools = data.get("tools")
        tools = tools if isinstance(tools, list) and all(isinstance(t, Mapping) for t in tools) else None
        conversation = self.conversation
        model = data.get("model")
        model = model if isinstance(model, str) and pricing_for_model(model) is not None else None
        try:
            prepared = conversation.prepare(thread_id, messages[lead:], sections=sections, context=context, tools=tools,
                                            model=model)
        finally:
            if ephemeral:
                conversation.reset_thread(thread_id)
        role = messages[0].get("role") if lead else "system"
        rewritten = [{"role": role, "content": prepared.text}, *with_attachments(messages[lead:], prepared.attachments, "openai")]
        ours = {"arm": prepared.arm, "mode": prepared.result.mode, "policy": prepared.policy,
                "tools": len(prepared.tools or ())}
        data["messages"] = rewritten
        if tools is not None and prepared.tools is not None:
            data["tools"] = [dict(t) for t in prepared.tools]
        data["metadata"] = {**metadata, META_KEY: ours}

    def _thread(self, data: Mapping[str, Any], metadata: Mapping[str, Any]) -> tuple[str, bool]:
        request = data.get("proxy_server_request")
        headers = request.get("headers") if isinstance(request, Mapping) else None
        named = _header(headers, self.settings.thread_header)
        if named is None:
            value = metadata.get(self.settings.thread_metadata_key)
            named = str(value) if isinstance(value, (str, int)) and str(value).strip() else None
        if named is not None:
            return named, False
        return f"litellm-{uuid.uuid4().hex}", True  # routed alone, forgotten at once

    # --- after the call -------------------------------------------------------------------------

    async def async_log_success_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any,
                                      end_time: Any) -> None:
        try:
            self._record(kwargs, response_obj)
        except Exception as exc:
            self._report(exc, "success event")

    def _record(self, kwargs: Mapping[str, Any], response_obj: Any) -> None:
        params = kwargs.get("litellm_params") or {}
        ours = (params.get("metadata") or {}).get(META_KEY)
        if not isinstance(ours, Mapping):
            return  # a request the hook did not rewrite
        logged = kwargs.get("standard_logging_object") or {}
        usage = getattr(response_obj, "usage", None)
        if usage is None:
            usage = (logged.get("hidden_params") or {}).get("usage_object")
        if usage is None:
            return  # e.g. a provider that reports no usage: nothing to record, nothing guessed
        cost = logged.get("response_cost")
        model = logged.get("model") or kwargs.get("model") or "unknown"
        self.conversation.record_provider_request(
            str(model), usage=usage, tools=int(ours.get("tools", 0)),
            cost=float(cost) if isinstance(cost, (int, float)) and not isinstance(cost, bool) else None,
            labels={"arm": str(ours.get("arm", "")), **({"policy": str(ours["policy"])} if "policy" in ours else {})})

    # --- faults ---------------------------------------------------------------------------------

    def _report(self, error: Exception, where: str) -> None:
        self.faults += 1
        logger.warning("prompt-router: LiteLLM hook failed in %s (%s); the request passes unchanged",
                       where, type(error).__name__)
        router = self.conversation.router
        engine = router.engine
        # The report carries sizes only; required variables get placeholders, as `validate` does.
        placeholders = {v.name: f"<{v.name}>" for v in engine.library.variables if v.required}
        try:
            full = engine.builder.full(placeholders)
        except Exception:
            return  # the log line above is the report
        result = PromptResult(full, engine.static, "error", full.tokens, error=type(error).__name__,
                              labels={"integration": "litellm"})
        for observer in router.observers:
            try:
                observer.on_error(error, result)
            except Exception:
                logger.exception("prompt-router observer %r failed", observer)


_lock = threading.Lock()
_handler: PromptRouterCallback | None = None


def __getattr__(name: str) -> Any:
    """`proxy_handler`, made on first use: when the proxy loads its config, so a broken
    library stops the proxy at start-up with the library's error, not on every request."""
    global _handler
    if name != "proxy_handler":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _lock:
        if _handler is None:
            _handler = PromptRouterCallback()
        return _handler


__all__ = ["META_KEY", "LiteLLMSettings", "PromptRouterCallback", "proxy_handler"]  # noqa: F822
