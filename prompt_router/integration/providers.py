"""Provider request formats with prompt caching in mind.

Anthropic Messages API: `system` is a list of text blocks; `cache_control` marks breakpoints.
A request may carry at most 4 breakpoints in all (tools, system and messages together), and a
prefix shorter than the model's minimum is not cached (silently, at full price). We place:

1. one after the stable prefix (core modules and any host sections marked stable), shared
   by every thread, optionally with a 1-hour TTL;
2. one after the library's last block (routed tools + response format), when the routed
   part is at least `routed_min_tokens` long, so a thread's repeated module set is reused.

OpenAI-style chat (also what LiteLLM takes): one system message whose text starts with the
stable prefix, so automatic prefix caching (1,024+ tokens) applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .conversation import PreparedPrompt, message_text

MAX_BREAKPOINTS = 4
# Minimum cacheable prefix per model family, from the providers' published figures (2026-11).
# A family matches its exact name or a dated snapshot ("claude-haiku-4-5-20251001"); unknown
# models get DEFAULT_MINIMUM. Pass `minimums` to override or extend.
CACHE_MINIMUMS: dict[str, int] = {
    "claude-opus-5": 512,
    "claude-fable-5": 512,
    "claude-mythos-5": 512,
    "claude-sonnet-5": 1024,
    "claude-opus-4-8": 1024,
    "claude-opus-4-7": 4096,
    "claude-opus-4-6": 4096,
    "claude-opus-4-5": 4096,
    "claude-haiku-4-5": 4096,
    "claude-sonnet-4-6": 2048,
    "claude-sonnet-4-5": 1024,
    "claude-opus-4-1": 1024,
    "claude-opus-4": 1024,
    "claude-sonnet-4": 1024,
    "claude-3-7-sonnet": 1024,
    "claude-3-5-haiku": 2048,
    "claude-3-haiku": 2048,
}
DEFAULT_MINIMUM = 1024
_SNAPSHOT = re.compile(r"-\d{8}$|-latest$")


def min_cacheable_tokens(model: str, overrides: Mapping[str, int] | None = None) -> int:
    family = _SNAPSHOT.sub("", model)
    table = {**CACHE_MINIMUMS, **(overrides or {})}
    return table.get(family, DEFAULT_MINIMUM)


def anthropic_system(
    prepared: PreparedPrompt,
    *,
    model: str,
    host_breakpoints: int = 0,
    core_ttl: str | None = None,
    routed_min_tokens: int = 512,
    minimums: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """The `system` parameter for `client.messages.create`. `host_breakpoints` is how many
    `cache_control` marks the host already puts in tools and messages; `core_ttl="1h"` asks
    for the 1-hour cache on the stable prefix."""
    if core_ttl not in (None, "5m", "1h"):
        raise ValueError("core_ttl must be None, '5m' or '1h'")
    blocks: list[dict[str, Any]] = [{"type": "text", "text": b.text} for b in prepared.blocks]
    budget = max(0, MAX_BREAKPOINTS - host_breakpoints)
    minimum = min_cacheable_tokens(model, minimums)
    stable_end, cumulative, stable_tokens = -1, 0, 0
    for index, block in enumerate(prepared.blocks):
        if not block.stable:
            break
        stable_end, stable_tokens = index, stable_tokens + block.tokens
    marks: list[tuple[int, dict[str, str]]] = []
    if stable_end >= 0 and stable_tokens >= minimum:
        control = {"type": "ephemeral", **({"ttl": core_ttl} if core_ttl else {})}
        marks.append((stable_end, control))
    library_end = max((i for i, b in enumerate(prepared.blocks) if b.kind != "host"), default=-1)
    if library_end > stable_end:
        cumulative = sum(b.tokens for b in prepared.blocks[: library_end + 1])
        routed = cumulative - stable_tokens
        if cumulative >= minimum and routed >= routed_min_tokens:
            marks.append((library_end, {"type": "ephemeral"}))
    for index, control in marks[:budget]:
        blocks[index]["cache_control"] = control
    return blocks


def anthropic_messages(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI-style user/assistant messages as Anthropic messages (text content). System
    messages are dropped: pass the host's system text as HostSections instead."""
    out = []
    for message in messages:
        role = message.get("role")
        if role in ("user", "assistant"):
            out.append({"role": role, "content": message_text(message)})
    return out


def openai_messages(prepared: PreparedPrompt, messages: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Chat Completions messages: our system message first, then the conversation (any
    system message of the host's is replaced: pass its text as HostSections)."""
    return [{"role": "system", "content": prepared.text},
            *(dict(m) for m in messages if m.get("role") != "system")]
