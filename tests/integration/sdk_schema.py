"""Check a JSON request body against an SDK's own request TypedDicts, strictly.

pydantic validates the SDKs' `Iterable[...]` fields lazily and ignores unknown keys, so a
misspelt `cache_contorl` or a block in the wrong place would pass it. This walks the
TypedDicts of `anthropic.types` / `openai.types` themselves: required keys present, no key
the type does not declare, literals, unions (some member matches), lists, scalars.
"""

from __future__ import annotations

import collections.abc
import types
import typing
from typing import Any

import typing_extensions

_WRAPPERS = {typing_extensions.Required, typing_extensions.NotRequired, typing_extensions.ReadOnly,
             typing.Annotated, typing_extensions.Annotated}


def _unwrap(tp: Any) -> Any:
    while typing_extensions.get_origin(tp) in _WRAPPERS:
        tp = typing_extensions.get_args(tp)[0]
    return tp


def errors(value: Any, tp: Any, path: str = "$") -> list[str]:
    tp = _unwrap(tp)
    if tp is Any or tp is object:
        return []
    if tp is None or tp is type(None):
        return [] if value is None else [f"{path}: expected null"]
    if typing_extensions.is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: expected an object for {tp.__name__}"]
        hints = typing_extensions.get_type_hints(tp, include_extras=True)
        found = [f"{path}: {tp.__name__} has no key {key!r}" for key in value if key not in hints]
        found += [f"{path}: {tp.__name__} needs {key!r}" for key in tp.__required_keys__ if key not in value]
        for key, item in value.items():
            if key in hints:
                found += errors(item, hints[key], f"{path}.{key}")
        return found
    origin, args = typing_extensions.get_origin(tp), typing_extensions.get_args(tp)
    if origin is typing_extensions.Literal or origin is typing.Literal:
        return [] if value in args else [f"{path}: {value!r} is not one of {args}"]
    if origin in (typing.Union, types.UnionType):
        results = [errors(value, member, path) for member in args]
        if any(not r for r in results):
            return []
        # the closest member: one whose `type` literal matched, with the fewest errors
        typed = [r for r in results if not any(e.startswith((f"{path}.type:", f"{path}: expected")) for e in r)] or results
        return [f"{path}: matches no member of the union; closest: {min(typed, key=len)[:3]}"]
    if origin in (list, collections.abc.Iterable, collections.abc.Sequence, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [e for i, item in enumerate(value) for e in errors(item, args[0], f"{path}[{i}]")]
    if origin in (dict, collections.abc.Mapping, typing.Dict):  # noqa: UP006
        return [] if isinstance(value, dict) else [f"{path}: expected an object"]
    if tp is str:
        return [] if isinstance(value, str) else [f"{path}: expected a string"]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{path}: expected a boolean"]
    if tp is int:
        return [] if isinstance(value, int) and not isinstance(value, bool) else [f"{path}: expected an integer"]
    if tp is float:
        return [] if isinstance(value, (int, float)) and not isinstance(value, bool) else [f"{path}: expected a number"]
    if isinstance(tp, type):
        # pydantic response models also appear in the SDKs' param unions; a JSON body is never one
        return [f"{path}: expected {tp.__name__}"]
    return []  # anything else (e.g. a TypeVar) is not checked


def anthropic_problems(body: dict[str, Any]) -> list[str]:
    """Schema errors against `MessageCreateParamsNonStreaming`, plus the API's own rules the
    types cannot say: no empty text, at most 4 cache breakpoints, 1-hour entries first."""
    from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

    found = errors(body, MessageCreateParamsNonStreaming)
    marks: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text" and "data" not in node and not node.get("text"):  # not a text source
                found.append(f"{path}: empty text block")
            if "cache_control" in node:
                marks.append(node["cache_control"].get("ttl", "5m"))
            for key, item in node.items():
                walk(item, f"{path}.{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    for key in ("tools", "system", "messages"):
        walk(body.get(key), f"$.{key}")
    for message in body.get("messages", []):
        if message.get("content") in ("", []):
            found.append("$.messages: a message with empty content")
    if len(marks) > 4:
        found.append(f"{len(marks)} cache breakpoints (at most 4)")
    if any(a == "5m" and "1h" in marks[i + 1:] for i, a in enumerate(marks)):
        found.append(f"cache TTLs out of order (1-hour entries must come first): {marks}")
    return found


def openai_problems(body: dict[str, Any]) -> list[str]:
    """Schema errors against `CompletionCreateParamsNonStreaming`, plus: at most 4 explicit
    breakpoints, and every tool call answered by a tool message."""
    from openai.types.chat.completion_create_params import CompletionCreateParamsNonStreaming

    found = errors(body, CompletionCreateParamsNonStreaming)
    text = repr(body)
    if text.count("prompt_cache_breakpoint") > 4:
        found.append("more than 4 explicit cache breakpoints")
    pending: set[str] = set()
    for message in body.get("messages", []):
        for call in message.get("tool_calls") or []:
            pending.add(call["id"])
        if message.get("role") == "tool":
            pending.discard(message.get("tool_call_id"))
        elif message.get("role") == "user" and pending:
            found.append(f"tool calls {sorted(pending)} have no tool message")
    return found
