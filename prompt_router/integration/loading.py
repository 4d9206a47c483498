"""On-demand loading: a `load_module` tool the model can call to load a module the router
did not send, and reading its calls. Usable with any delivery policy: a routing miss becomes
a recoverable extra step instead of a silent gap.

    tools = [*host_tools, load_module_tool(prepared, format="anthropic")]
    reply = client.messages.create(..., tools=tools)
    for block in reply.content:
        result = conversation.load_module_result(thread_id, block)   # None: not a load_module call
        if result is not None: ...append it to the next user message...

The tool lists every tool module of the library by id and one-line description, the same
definition for every request: providers put tool definitions first in the cached prefix, so
a list that changed with each thread's modules would invalidate the whole cache behind it
(the shared core, a bundle's prefix, the conversation). `only_missing=True` lists only the
modules the request does not carry, for hosts without prompt caching.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .delivery import LOAD_MODULE_TOOL
from .messages import field

if TYPE_CHECKING:
    from .conversation import PreparedPrompt

ToolFormat = Literal["anthropic", "openai", "responses"]
MAX_MODULE_ID_CHARS = 200


@dataclass(frozen=True)
class LoadedModule:
    """The answer to one `load_module` call."""

    module: str
    text: str  # the module's text in its tags, or (found=False) the ids the library has
    tokens: int
    found: bool


def load_module_tool(prepared: PreparedPrompt, format: ToolFormat = "anthropic", *,
                     only_missing: bool = False) -> dict[str, Any] | None:
    """The `load_module` tool definition: `format="anthropic"` for `messages.create(tools=...)`,
    `"openai"` for Chat Completions, `"responses"` for the OpenAI Responses API. None when
    there is nothing to list."""
    catalogue = prepared.catalogue
    if catalogue is None:
        return None
    entries = catalogue.entries
    if only_missing:
        carried = {*prepared.result.prompt.modules, *(a.module for a in prepared.attachments)}
        entries = tuple(e for e in entries if e[0] not in carried)
    if not entries:
        return None
    listing = "\n".join(f"- {module}: {description}" if description else f"- {module}" for module, description in entries)
    description = ("Load the detailed instructions of a capability module into this conversation. Call it before "
                   "working on a task whose module instructions you have neither in your instructions nor in the "
                   "conversation. Modules:\n" + listing)
    schema = {"type": "object",
              "properties": {"module_id": {"type": "string", "enum": [module for module, _ in entries],
                                           "description": "the module's id, from the list"}},
              "required": ["module_id"], "additionalProperties": False}
    if format == "anthropic":
        return {"name": LOAD_MODULE_TOOL, "description": description, "input_schema": schema}
    if format == "openai":
        return {"type": "function", "function": {"name": LOAD_MODULE_TOOL, "description": description, "parameters": schema}}
    if format == "responses":
        return {"type": "function", "name": LOAD_MODULE_TOOL, "description": description, "parameters": schema}
    raise ValueError(f"format must be 'anthropic', 'openai' or 'responses', not {format!r}")


@dataclass(frozen=True)
class LoadCall:
    """A `load_module` call the model made, in one of the three shapes."""

    format: ToolFormat
    call_id: str
    module_id: str | None  # None: the arguments did not name a module

    def result(self, loaded: LoadedModule | None) -> dict[str, Any]:
        """The tool result to append: `loaded` is the answer, None for unreadable arguments."""
        if loaded is None:
            text, error = f'{LOAD_MODULE_TOOL} takes {{"module_id": "<an id from its list>"}}', True
        else:
            text, error = loaded.text, not loaded.found
        if self.format == "anthropic":
            return {"type": "tool_result", "tool_use_id": self.call_id, "content": text, **({"is_error": True} if error else {})}
        if self.format == "openai":
            return {"role": "tool", "tool_call_id": self.call_id, "content": text}
        return {"type": "function_call_output", "call_id": self.call_id, "output": text}


def read_load_call(call: Any) -> LoadCall | None:
    """The call if it is a `load_module` call (an Anthropic `tool_use` block, an OpenAI chat
    tool call or a Responses `function_call` item; dicts or the SDKs' objects), else None."""
    kind = field(call, "type")
    if kind == "tool_use" and field(call, "name") == LOAD_MODULE_TOOL:
        arguments: Any = field(call, "input")
        return LoadCall("anthropic", str(field(call, "id") or ""), _module_id(arguments))
    if kind == "function_call" and field(call, "name") == LOAD_MODULE_TOOL:
        return LoadCall("responses", str(field(call, "call_id") or ""), _module_id(_json(field(call, "arguments"))))
    function = field(call, "function")
    if function is not None and field(function, "name") == LOAD_MODULE_TOOL:
        return LoadCall("openai", str(field(call, "id") or ""), _module_id(_json(field(function, "arguments"))))
    return None


def _json(text: Any) -> Any:
    if not isinstance(text, str) or len(text) > 10_000:  # bounded: a module id is short
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _module_id(arguments: Any) -> str | None:
    if not isinstance(arguments, Mapping):
        return None
    value = arguments.get("module_id")
    return value if isinstance(value, str) and 0 < len(value) <= MAX_MODULE_ID_CHARS else None
