"""Reading a conversation: what routing sees of it.

Messages come in OpenAI chat style or Anthropic style, agent loops included. Routing reads
the user's own words only:

- a user turn that carries only tool results (Anthropic `tool_result` blocks) and an OpenAI
  `tool` message are a tool loop's steps, not user text;
- the latest user text is the query, earlier ones (most recent `history_turns`) the history,
  so a tool-loop step is routed exactly like the turn that started the loop;
- the tools the assistant called since that text (Anthropic `tool_use`, OpenAI `tool_calls`)
  are reported separately: they say which modules the loop is using.

Content may be plain dicts or the SDKs' own pydantic objects (an assistant reply appended as
`response.content`); both are read, neither is changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TEXT_PARTS = ("text", "input_text")
TOOL_CALL_BLOCKS = ("tool_use", "server_tool_use", "mcp_tool_use")
MAX_TOOLS_READ = 64  # distinct tool names read from one loop: bounds the cost of any input


def field(item: Any, name: str) -> Any:
    """`item[name]` for a mapping, `item.name` for an SDK object, else None."""
    if type(item) is dict or isinstance(item, Mapping):  # a plain dict first: an ABC check costs more
        return item.get(name)
    return getattr(item, name, None)


def message_text(message: Any) -> str:
    """The text of a message: `content` as a string, or its text parts joined by newlines
    (tool results, images and documents are not text the user wrote)."""
    content = field(message, "content")
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        texts = [field(part, "text") for part in content if field(part, "type") in TEXT_PARTS]
        return "\n".join(t for t in texts if isinstance(t, str))
    return ""


def tool_calls(message: Any) -> list[str]:
    """Names of the tools an assistant message calls, in order."""
    names: list[str] = []
    content = field(message, "content")
    if isinstance(content, Sequence) and not isinstance(content, str):
        names += [field(block, "name") for block in content if field(block, "type") in TOOL_CALL_BLOCKS]
    calls = field(message, "tool_calls")
    if isinstance(calls, Sequence) and not isinstance(calls, str):
        names += [field(field(call, "function"), "name") for call in calls]
    legacy = field(message, "function_call")
    if legacy is not None:
        names.append(field(legacy, "name"))
    return [n for n in names if isinstance(n, str) and n]


@dataclass(frozen=True)
class Conversation:
    """What routing reads from a list of messages."""

    query: str  # the latest user text; "" only when no message has any
    history: tuple[str, ...]  # earlier user texts, oldest first (at most the requested number)
    tools_used: tuple[str, ...]  # tools the assistant called since the latest user text, first call first
    loop_steps: int  # assistant tool-calling steps since the latest user text (0: a fresh user turn)
    # Where the query's message is in `messages` (-1: no user text): the user turn a delivery
    # policy attaches module texts to, the same on every request of the thread.
    turn_index: int = -1
    # Earlier user texts, oldest first: one more than `history` (the previous turn's own
    # history, to compare its routing with this turn's); empty on a thread's first turn.
    earlier: tuple[str, ...] = ()

    @property
    def first_turn(self) -> bool:
        """The thread's first user turn (a new thread, when it is also a fresh turn)."""
        return self.turn_index >= 0 and not self.earlier


def read_conversation(messages: Sequence[Any], history_turns: int) -> Conversation:
    """Scan from the end: the cost depends on the turns read, not on the thread's length
    (bar the tool steps of the current loop)."""
    texts: list[str] = []
    tools: dict[str, None] = {}
    steps = 0
    turn_index = -1
    wanted = history_turns + 2  # the query, its history, and one more (see `earlier`)
    for back, message in enumerate(reversed(messages)):
        role = field(message, "role")
        if role == "user":
            text = message_text(message)
            if text.strip():
                if not texts:
                    turn_index = len(messages) - 1 - back
                texts.append(text)
                if len(texts) >= wanted:
                    break
        elif role == "assistant" and not texts:
            called = tool_calls(message)
            steps += bool(called)
            for name in reversed(called):
                if len(tools) < MAX_TOOLS_READ:
                    tools.setdefault(name, None)
    if not texts:
        return Conversation("", (), tuple(reversed(tools)), steps)
    earlier = tuple(reversed(texts[1:]))
    history = earlier[max(len(earlier) - history_turns, 0):] if history_turns > 0 else ()
    return Conversation(texts[0], history, tuple(reversed(tools)), steps, turn_index, earlier)
