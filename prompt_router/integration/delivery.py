"""Delivery policies: given this turn's routing, the thread's state and the turn's position,
what the request carries (the system prompt's modules and layout, module texts attached in
the conversation) and what the thread records. Pure functions; `ConversationRouter` calls
them and the provider formats render what they say.

- `static`: the full prompt.
- `per_request`: this turn's routed modules.
- `sticky`: this turn's modules and every module the thread used before (only grows).
- `bundles`: core, response, then the thread's bundle (one of the plan's nested bundles,
  chosen at its first turn), one block per tool module; modules outside the bundle are
  attached in the conversation where first needed.
- `catalogue`: core, response and one line per tool module (id + description); routed tool
  modules are attached in the conversation where first needed.

An attached module is put before the user's own text of the turn that first needed it, and
re-attached at that same turn on every later request, so the cached conversation stays
byte-identical; the thread records it as `"module@position"` (the message's position in
`messages`), so every worker re-attaches it identically. Fallback picks ("nothing matched,
send everything") are never attached: the load tool (`load_module_tool`) covers a miss.

A thread's policy is recorded once, in `ThreadState.bundle`, as `"policy:<name>"` or
`"policy:bundles:<bundle index>"`, and kept for the thread's life whatever the settings or
`auto` say later.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..builder import SEPARATOR
from ..library import ModuleLibrary
from ..tokens import TokenCounter
from .plan import POLICIES, PolicyName
from .state import ThreadState, delivered_module, delivered_turn

Layout = Literal["segments", "catalogue", "modules"]
PIN_PREFIX = "policy:"
LOAD_MODULE_TOOL = "load_module"
ATTACHMENT_CLOSE = "</prompt-module>"
# Policies whose system prompt does not depend on the turn: what the thread needs beyond it
# travels inside the conversation.
ATTACHING: frozenset[str] = frozenset({"bundles", "catalogue"})


def pin(policy: PolicyName, bundle: int | None = None) -> str:
    """The value a thread records for its policy."""
    return f"{PIN_PREFIX}{policy}" if bundle is None else f"{PIN_PREFIX}{policy}:{bundle}"


def read_pin(value: str | None) -> tuple[PolicyName, int | None] | None:
    """(policy, bundle index) from a recorded pin, or None if there is none (or it is not ours)."""
    if not value or not value.startswith(PIN_PREFIX):
        return None
    return _read_pin(value)


@functools.lru_cache(maxsize=256)  # a handful of distinct pins: "policy:sticky", "policy:bundles:1"...
def _read_pin(value: str) -> tuple[PolicyName, int | None] | None:
    name, _, index = value[len(PIN_PREFIX):].partition(":")
    policy = next((p for p in POLICIES if p == name), None)
    if policy is None:
        return None
    if not index:
        return policy, None
    return (policy, int(index)) if index.isascii() and index.isdigit() else None


def choose_bundle(bundles: Sequence[Sequence[str]], needed: Collection[str], fallback: bool) -> int:
    """The smallest bundle holding every module the first turn needs; the largest when the
    first turn fell back (nothing matched) or no bundle holds them all. -1: no bundles."""
    if not bundles:
        return -1
    if not fallback:
        for index, bundle in enumerate(bundles):
            if all(m in bundle for m in needed):
                return index
    return len(bundles) - 1


@dataclass(frozen=True)
class Catalogue:
    """The library's tool modules by id and one-line description: the `catalogue` policy's
    system-prompt block, and what the load tool offers. The same for every request of a
    library, so it stays inside the cached prefix."""

    library_version: str
    entries: tuple[tuple[str, str], ...]  # (module id, description), canonical order
    text: str
    tokens: int
    joined_tokens: int

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(module for module, _ in self.entries)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def make_catalogue(library: ModuleLibrary, counter: TokenCounter) -> Catalogue:
    entries = tuple((m.id, _one_line(m.description)) for m in library.modules if m.group == "tools")
    lines = "\n".join(f"- {module}: {description}" if description else f"- {module}" for module, description in entries)
    text = ("# Capability modules\n\n"
            "Detailed instructions for each capability below are added to the conversation, inside "
            '<prompt-module id="..."> tags, when a request needs them. Follow them as part of these instructions. '
            f"If you need one that is not in the conversation and a {LOAD_MODULE_TOOL} tool is available, call it "
            "with the module's id.\n\n" + lines)
    return Catalogue(library.version, entries, text, counter.count(text), counter.count(text + SEPARATOR))


@dataclass(frozen=True)
class Attachment:
    """A module's text delivered inside the conversation: before the user's own text of the
    message at position `turn` of `messages`. `tokens` counts the text as its own content
    block; `joined_tokens` as prefixed to the user's text with a blank line (OpenAI string
    content)."""

    turn: int
    module: str
    text: str
    tokens: int
    joined_tokens: int


def attachment_open(module: str) -> str:
    return f'<prompt-module id="{module}">'


@dataclass(frozen=True)
class Delivery:
    """What one request carries under a policy."""

    policy: PolicyName
    dynamic: bool  # False: the full prompt
    sticky: frozenset[str]  # modules the decision keeps besides the turn's own (sticky policy, tool loops)
    system: tuple[str, ...] | None  # the system prompt's modules in this order; None: the decision's
    layout: Layout  # how the system prompt is cut into provider blocks
    attached: tuple[tuple[int, str], ...] = ()  # (message position, module id), in delivery order


@dataclass(frozen=True)
class Layouts:
    """A library's module orders for the policies that fix them, computed once per library."""

    always: tuple[str, ...]  # core then response modules, canonical order: the catalogue's system prompt
    core: tuple[str, ...]
    response: tuple[str, ...]
    tools: frozenset[str]
    templated: frozenset[str]  # modules rendered per request (their text depends on the context)
    _bundles: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, library: ModuleLibrary) -> Layouts:
        core = tuple(m.id for m in library.modules if m.group == "core")
        response = tuple(m.id for m in library.modules if m.group == "response")
        templated = frozenset(m.id for m in library.modules if not m.is_static)
        return cls(library.always_ids, core, response, frozenset(library.tool_ids), templated)

    def bundle_system(self, bundle: Sequence[str]) -> tuple[str, ...]:
        """Core, then response, then the bundle's tool modules in the bundle's order: each
        nested bundle's system prompt is a byte prefix of the next one's."""
        key = tuple(bundle)
        found = self._bundles.get(key)
        if found is None:
            tools: list[str] = []
            for module in key:
                if module in self.tools and module not in tools:
                    tools.append(module)
            found = (*self.core, *self.response, *tools)
            if len(self._bundles) < 64:  # a plan has a few bundles
                self._bundles[key] = found
        return found


def _parse(delivered: frozenset[str]) -> tuple[tuple[str, int | None], ...]:
    return tuple((delivered_module(entry), delivered_turn(entry)) for entry in delivered)


_parse_cached = functools.lru_cache(maxsize=1024)(_parse)


def parse_delivered(delivered: frozenset[str]) -> tuple[tuple[str, int | None], ...]:
    """(module, position or None) per entry: a thread's set repeats request after request, so
    small ones are parsed once (the cache holds at most 1,024 sets of at most 64 ids)."""
    return _parse_cached(delivered) if len(delivered) <= 64 else _parse(delivered)


def _in_order(placed: dict[str, int], library: ModuleLibrary) -> tuple[tuple[int, str], ...]:
    by_turn: dict[int, list[str]] = {}
    for module, position in placed.items():
        by_turn.setdefault(position, []).append(module)
    return tuple((position, module) for position in sorted(by_turn) for module in library.canonical(by_turn[position]))


def _recorded(delivered: frozenset[str], carried: Collection[str], library: ModuleLibrary,
              tools: Collection[str]) -> tuple[tuple[tuple[int, str], ...], frozenset[str]]:
    """(what the recorded deliveries attach, in order; every module delivered)."""
    placed: dict[str, int] = {}
    had: set[str] = set()
    for module, position in parse_delivered(delivered):
        had.add(module)
        if position is not None and module in tools and module not in carried:
            placed[module] = position
    return _in_order(placed, library), frozenset(had)


# A thread's deliveries repeat request after request: (library version, deliveries, what the
# system prompt carries) -> _recorded(...). Bounded: cleared when full.
_RECORDED: dict[tuple[str, frozenset[str], tuple[str, ...]], tuple[tuple[tuple[int, str], ...], frozenset[str]]] = {}
_RECORDED_MAX = 1024


def attachments(state: ThreadState | None, carried: Sequence[str], needed: Collection[str], turn: int,
                library: ModuleLibrary, tools: Collection[str]) -> tuple[tuple[int, str], ...]:
    """The modules this request attaches, and where: every module the thread has had attached
    (at the position recorded), and this turn's needs the thread has not had yet (at this
    turn); never one the system prompt carries, nor one the model loaded itself."""
    recorded: tuple[tuple[int, str], ...] = ()
    had: frozenset[str] = frozenset()
    if state is not None and state.delivered:
        delivered = state.delivered
        small = len(delivered) <= 64
        key = (library.version, delivered, tuple(carried))
        found = _RECORDED.get(key) if small else None
        if found is None:
            found = _recorded(delivered, carried, library, tools)
            if small:
                if len(_RECORDED) >= _RECORDED_MAX:
                    _RECORDED.clear()
                _RECORDED[key] = found
        recorded, had = found
    new = [m for m in needed if m not in had and m not in carried and m in tools] if turn >= 0 else []
    if not new:
        return recorded
    placed = {module: position for position, module in recorded}
    placed.update(dict.fromkeys(new, turn))
    return _in_order(placed, library)


def to_record(policy: PolicyName, bundles: Sequence[Sequence[str]], needed: frozenset[str], fallback: bool,
              turn: int) -> tuple[str, frozenset[str]]:
    """What a request records, before the thread's state is known: the policy a new thread
    starts with (bundles: with the bundle its first turn needs), and this turn's modules as
    deliveries at this turn. The store keeps the first of each (a thread's policy is set
    once, a module is delivered once), so only a new thread's pin and a module's first need
    count; every policy records them, so a thread keeps its deliveries whatever it is served."""
    bundle = choose_bundle(bundles, needed, fallback) if policy == "bundles" else None
    delivered = frozenset(f"{m}@{turn}" for m in needed) if turn >= 0 and needed else frozenset()
    return pin(policy, bundle), delivered


def deliver(policy: PolicyName, *, layouts: Layouts, library: ModuleLibrary, state: ThreadState | None,
            needed: frozenset[str], loop: frozenset[str], turn: int, sticky_threads: bool,
            bundle: Sequence[str] = ()) -> Delivery:
    """What a request carries under `policy`.

    `needed` are the tool modules this turn's own routing keeps (no fallback picks), `loop`
    those governing tools the current loop called (`route_tool_calls`), `state` the thread's
    state after this request's record (None: unknown), `turn` the position of the turn's
    user message, `bundle` the thread's bundle (bundles policy)."""
    if policy == "static":
        return Delivery(policy, False, frozenset(), None, "segments")
    if policy == "per_request":
        return Delivery(policy, True, loop, None, "segments")
    if policy == "sticky":
        sticky = (state.modules - needed) | loop if (state is not None and sticky_threads) else loop
        return Delivery(policy, True, sticky, None, "segments")
    if policy == "bundles":
        system = layouts.bundle_system(bundle)
        attached = attachments(state, system, needed, turn, library, layouts.tools)
        return Delivery(policy, True, frozenset(), system, "modules", attached)
    attached = attachments(state, (), needed, turn, library, layouts.tools)
    return Delivery(policy, True, frozenset(), layouts.always, "catalogue", attached)
