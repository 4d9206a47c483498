"""Provider request formats with prompt caching in mind.

Anthropic Messages API: `system` is a list of text blocks; `cache_control` marks breakpoints.
A request may carry at most 4 breakpoints in all (tools, system and messages together),
1-hour entries must come before 5-minute ones, and a prefix shorter than the model's minimum
is not cached (silently, at full price). In priority order we place:

1. one on the conversation, on the last message's last block that can carry one, so the
   next turn (or tool-loop step) reads the whole conversation so far from the cache: at 5
   turns and more this is worth more than any routing;
2. one after the stable prefix (core modules and any host sections marked stable), shared by
   every thread, optionally with a 1-hour TTL;
3. one after the library's last block (routed tools + response format), when the routed part
   is at least `routed_min_tokens` long, so a thread's repeated module set is reused.

`anthropic_request` makes both halves at once; `anthropic_system` and `anthropic_messages`
are the halves, for hosts that build the request themselves (pass both the same options, and
`attachments=prepared.attachments` to `anthropic_messages`).
Messages pass through untouched: text, images, documents, `tool_use` and `tool_result`
blocks alike; only system messages are dropped (the host's system text goes in HostSections),
and the one block that gets the conversation breakpoint is copied, never changed in place.
The same placement applies in static and dynamic mode.

Attachments (module texts a delivery policy delivers inside the conversation, see
`delivery.py`) go into a copy of the user message they belong to, before the user's own
text: Anthropic as text blocks (after any `tool_result` blocks, which must come first),
OpenAI as text parts, or prefixed to string content with a blank line. Their positions are
those of the `messages` given to `prepare`: pass the formats the same list.

OpenAI-style chat (also what LiteLLM takes): one system message whose text starts with the
stable prefix, so automatic prefix caching applies. Models with explicit breakpoints
(`gpt-5.6` and later: `prompt_cache_breakpoint` on content parts, up to 3 written besides
the implicit one) get the same three breakpoints; `tool` messages and `tool_calls` pass
through untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from ..builder import SEPARATOR
from .conversation import PreparedPrompt
from .delivery import Attachment
from .messages import TEXT_PARTS, field

MAX_BREAKPOINTS = 4
Ttl = Literal["5m", "1h"]
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
# Blocks that cannot carry a breakpoint (thinking) or must not (an empty text block).
_UNMARKABLE_ANTHROPIC = ("thinking", "redacted_thinking")
_MARKABLE_OPENAI = ("text", "image_url", "input_audio", "file")
_OPENAI_EXPLICIT = re.compile(r"^(?:[\w.-]+/)?gpt-(\d+)(?:\.(\d+))?")
OPENAI_EXPLICIT_BREAKPOINTS = 3  # written besides the implicit one (prompt_cache_options.mode "implicit")
OPENAI_MINIMUM = 1024


def min_cacheable_tokens(model: str, overrides: Mapping[str, int] | None = None) -> int:
    family = _SNAPSHOT.sub("", model)
    table = {**CACHE_MINIMUMS, **(overrides or {})}
    return table.get(family, DEFAULT_MINIMUM)


def _control(ttl: Ttl | None) -> dict[str, str]:
    return {"type": "ephemeral", **({"ttl": ttl} if ttl else {})}


def _check_ttls(core_ttl: str | None, conversation_ttl: str | None) -> None:
    for name, ttl in (("core_ttl", core_ttl), ("conversation_ttl", conversation_ttl)):
        if ttl not in (None, "5m", "1h"):
            raise ValueError(f"{name} must be None, '5m' or '1h'")
    if conversation_ttl == "1h" and core_ttl != "1h":
        raise ValueError("conversation_ttl='1h' needs core_ttl='1h': Anthropic requires 1-hour cache entries "
                         "to come before 5-minute ones")


def _system_marks(prepared: PreparedPrompt, budget: int, minimum: int, routed_min_tokens: int) -> list[tuple[int, str]]:
    """(block index, which) for the system breakpoints worth placing, in priority order."""
    stable_end, stable_tokens = -1, 0
    for index, block in enumerate(prepared.blocks):
        if not block.stable:
            break
        stable_end, stable_tokens = index, stable_tokens + block.tokens
    marks: list[tuple[int, str]] = []
    if stable_end >= 0 and stable_tokens >= minimum:
        marks.append((stable_end, "core"))
    library_end = max((i for i, b in enumerate(prepared.blocks) if b.kind != "host"), default=-1)
    if library_end > stable_end:
        cumulative = sum(b.tokens for b in prepared.blocks[: library_end + 1])
        if cumulative >= minimum and cumulative - stable_tokens >= routed_min_tokens:
            marks.append((library_end, "routed"))
    return marks[:max(budget, 0)]


def anthropic_system(
    prepared: PreparedPrompt,
    *,
    model: str,
    host_breakpoints: int = 0,
    core_ttl: Ttl | None = None,
    routed_min_tokens: int = 512,
    minimums: Mapping[str, int] | None = None,
    cache_conversation: bool = True,
    conversation_ttl: Ttl | None = None,
) -> list[dict[str, Any]]:
    """The `system` parameter for `client.messages.create`. `host_breakpoints` is how many
    `cache_control` marks the host itself puts in tools and messages; `core_ttl="1h"` asks
    for the 1-hour cache on the stable prefix. With `cache_conversation` one breakpoint of
    the budget is left for `anthropic_messages` to put on the conversation."""
    _check_ttls(core_ttl, conversation_ttl)
    budget = max(0, MAX_BREAKPOINTS - host_breakpoints)
    if cache_conversation and budget:
        budget -= 1
    blocks: list[dict[str, Any]] = [{"type": "text", "text": b.text} for b in prepared.blocks]
    # Between a 1-hour core entry and a 1-hour conversation entry, the routed one is 1-hour too.
    ttls: dict[str, Ttl | None] = {"core": core_ttl, "routed": "1h" if conversation_ttl == "1h" else None}
    for index, which in _system_marks(prepared, budget, min_cacheable_tokens(model, minimums), routed_min_tokens):
        blocks[index]["cache_control"] = _control(ttls[which])
    return blocks


def _mark_last(messages: list[Any], mark: Callable[[Any], dict[str, Any] | None]) -> None:
    """Put a breakpoint on the last block that can carry one: the last message's last block,
    or the one before it (a thinking block, an empty text). Replaces the message it marks by
    a copy; nothing the caller passed is changed."""
    for m in range(len(messages) - 1, -1, -1):
        message = messages[m]
        if not isinstance(message, Mapping):
            return  # an SDK object: passed on as it is
        content = message.get("content")
        if isinstance(content, str):
            marked = mark({"type": "text", "text": content}) if content else None
            if marked is not None:
                messages[m] = {**message, "content": [marked]}
                return
        elif isinstance(content, Sequence):
            for b in range(len(content) - 1, -1, -1):
                marked = mark(content[b])
                if marked is not None:
                    messages[m] = {**message, "content": [*content[:b], marked, *content[b + 1:]]}
                    return


def _anthropic_mark(ttl: Ttl | None) -> Callable[[Any], dict[str, Any] | None]:
    def mark(block: Any) -> dict[str, Any] | None:
        if not isinstance(block, Mapping) or block.get("type") in _UNMARKABLE_ANTHROPIC:
            return None  # an SDK object is passed on as it is; a thinking block cannot be marked
        if block.get("type") == "text" and not block.get("text"):
            return None
        if "cache_control" in block:
            return dict(block)  # the host's own mark stays as it is
        return {**block, "cache_control": _control(ttl)}

    return mark


def with_attachments(messages: Sequence[Any], attachments: Sequence[Attachment],
                     style: Literal["blocks", "openai"] = "blocks") -> list[Any]:
    """`messages` with each attachment put before the user's own text of its message:
    `blocks`: as text blocks (Anthropic; string content becomes blocks); `openai`: as text
    parts of list content, or prefixed to string content with a blank line. Messages with
    attachments are copied; nothing the caller passed is changed."""
    out = list(messages)
    if not attachments:
        return out
    by_position: dict[int, list[Attachment]] = {}
    for attachment in attachments:
        by_position.setdefault(attachment.turn, []).append(attachment)
    for position, attached in by_position.items():
        if not 0 <= position < len(out):
            raise ValueError(f"an attachment is for message {position}, and there are {len(out)}: "
                             "give the formats the messages given to prepare")
        message = out[position]
        content = field(message, "content")
        parts: list[Any] = [{"type": "text", "text": a.text} for a in attached]
        if isinstance(content, str):
            if style == "openai":
                new: Any = "".join(a.text + SEPARATOR for a in attached) + content
            else:
                new = [*parts, {"type": "text", "text": content}]
        elif isinstance(content, Sequence):
            first = next((i for i, part in enumerate(content) if field(part, "type") in TEXT_PARTS), len(content))
            if style == "openai" and field(content[first] if first < len(content) else None, "type") == "input_text":
                parts = [{"type": "input_text", "text": a.text} for a in attached]
            new = [*content[:first], *parts, *content[first:]]
        else:
            raise ValueError(f"message {position} has no content to attach a module to")
        out[position] = {**message, "content": new} if isinstance(message, Mapping) else {
            "role": field(message, "role"), "content": new}
    return out


def anthropic_messages(
    messages: Sequence[Any],
    *,
    cache_conversation: bool = True,
    conversation_ttl: Ttl | None = None,
    host_breakpoints: int = 0,
    attachments: Sequence[Attachment] = (),
) -> list[Any]:
    """The `messages` parameter: every user and assistant message as it is (Anthropic-native
    content: text, image, document, tool_use, tool_result blocks), system messages dropped,
    `attachments` (`prepared.attachments`) before the user's text of their turn, and a
    breakpoint on the conversation's last block unless the host's own marks fill the
    budget. OpenAI-style string content passes through (Anthropic accepts it too)."""
    if conversation_ttl not in (None, "5m", "1h"):
        raise ValueError("conversation_ttl must be None, '5m' or '1h'")
    out = [m for m in with_attachments(messages, attachments) if field(m, "role") != "system"]
    if cache_conversation and host_breakpoints < MAX_BREAKPOINTS:
        _mark_last(out, _anthropic_mark(conversation_ttl))
    return out


def _message_bytes(messages: Sequence[Any]) -> int:
    """An upper bound of the messages' tokens for a minimum check: a token is at least one
    byte of text, and non-text blocks count generously."""
    total = 0
    for message in messages:
        content = field(message, "content")
        if isinstance(content, str):
            total += len(content.encode("utf-8", "surrogatepass"))
        elif isinstance(content, Sequence):
            total += 4096 * len(content) + sum(len(str(field(part, "text") or "")) * 4 for part in content)
    return total


def anthropic_request(
    prepared: PreparedPrompt,
    messages: Sequence[Any],
    *,
    model: str,
    host_breakpoints: int = 0,
    core_ttl: Ttl | None = None,
    conversation_ttl: Ttl | None = None,
    routed_min_tokens: int = 512,
    minimums: Mapping[str, int] | None = None,
    cache_conversation: bool = True,
) -> dict[str, Any]:
    """`system` and `messages` for `client.messages.create(model=..., max_tokens=..., **this)`,
    with the breakpoints planned together: the conversation's is skipped when the whole
    request is certainly shorter than the model's minimum, leaving its slot to the system."""
    minimum = min_cacheable_tokens(model, minimums)
    if cache_conversation and prepared.tokens + prepared.attachment_tokens + _message_bytes(messages) < minimum:
        cache_conversation = False
    options: dict[str, Any] = {"host_breakpoints": host_breakpoints, "cache_conversation": cache_conversation,
                               "conversation_ttl": conversation_ttl}
    return {"system": anthropic_system(prepared, model=model, core_ttl=core_ttl, routed_min_tokens=routed_min_tokens,
                                       minimums=minimums, **options),
            "messages": anthropic_messages(messages, attachments=prepared.attachments, **options)}


def openai_explicit_breakpoints(model: str) -> bool:
    """Whether a Chat Completions model takes `prompt_cache_breakpoint` marks (gpt-5.6+)."""
    match = _OPENAI_EXPLICIT.match(model)
    return match is not None and (int(match.group(1)), int(match.group(2) or 0)) >= (5, 6)


def _openai_mark(block: Any) -> dict[str, Any] | None:
    if not isinstance(block, Mapping) or block.get("type") not in _MARKABLE_OPENAI:
        return None
    if block.get("type") == "text" and not block.get("text"):
        return None
    if "prompt_cache_breakpoint" in block:
        return dict(block)
    return {**block, "prompt_cache_breakpoint": {"mode": "explicit"}}


def openai_messages(
    prepared: PreparedPrompt,
    messages: Sequence[Any],
    *,
    model: str | None = None,
    host_breakpoints: int = 0,
    routed_min_tokens: int = 512,
    cache_conversation: bool = True,
) -> list[Any]:
    """Chat Completions messages: our system message first, then the conversation as it is
    (any system message of the host's is replaced: pass its text as HostSections; `tool`
    messages and assistant `tool_calls` pass through), with the prepared attachments before
    the user's text of their turn. For a model with explicit cache breakpoints, the system
    message is sent as text parts with breakpoints after the stable prefix and the routed
    modules, and the conversation's last part gets one too."""
    rest = [m for m in with_attachments(messages, prepared.attachments, "openai") if field(m, "role") != "system"]
    if model is None or not openai_explicit_breakpoints(model):
        return [{"role": "system", "content": prepared.text}, *rest]
    budget = max(0, OPENAI_EXPLICIT_BREAKPOINTS - host_breakpoints)
    if cache_conversation and budget:
        budget -= 1
        _mark_last(rest, _openai_mark)
    parts: list[dict[str, Any]] = [{"type": "text", "text": b.text} for b in prepared.blocks]
    for index, _ in _system_marks(prepared, budget, OPENAI_MINIMUM, routed_min_tokens):
        parts[index]["prompt_cache_breakpoint"] = {"mode": "explicit"}
    return [{"role": "system", "content": parts}, *rest]
