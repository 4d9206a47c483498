"""Filtering the host's tool definitions to the selected modules' tools.

A tool module may declare the tool names it governs (`tools:` in its front matter). A host
tool is kept when no module governs it (unknown tools are never dropped), when a selected
module governs it, or when it is named always-on. Providers render tools before the system
prompt, so a tool list that changes between requests invalidates the whole prompt cache:
filtering is off by default, and the A/B harness shows when it wins (--tool-tokens)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ..library import ModuleLibrary


def tool_name(tool: Mapping[str, Any]) -> str | None:
    """The name in an OpenAI chat tool ({"type": "function", "function": {"name"}}), an
    OpenAI Responses tool ({"type": "function", "name"}) or an Anthropic tool ({"name"})."""
    function = tool.get("function")
    if isinstance(function, Mapping):
        inner = function.get("name")
        if isinstance(inner, str):
            return inner
    name = tool.get("name")
    return name if isinstance(name, str) else None


def governed_tools(library: ModuleLibrary) -> dict[str, frozenset[str]]:
    """Tool name -> the modules that govern it."""
    owners: dict[str, set[str]] = {}
    for module in library.modules:
        for name in module.tools:
            owners.setdefault(name, set()).add(module.id)
    return {name: frozenset(ids) for name, ids in owners.items()}


def filter_tools(tools: Iterable[Mapping[str, Any]], selected: Collection[str], library: ModuleLibrary,
                 always: Collection[str] = ()) -> list[Mapping[str, Any]]:
    owners = governed_tools(library)
    chosen = set(selected)
    kept = []
    for tool in tools:
        name = tool_name(tool)
        governing = owners.get(name) if name is not None else None
        if governing is None or name in always or governing & chosen:
            kept.append(tool)
    return kept
