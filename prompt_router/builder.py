"""Building: a routing decision + per-request context -> the system prompt, its parts and sizes.

Modules are joined by a blank line, in canonical order. Token counts are exact without
tokenising the assembled prompt: module bodies never start with whitespace, so tiktoken's
pre-tokeniser never merges across the separator, and the count of `a + SEP + b` is
`count(a + SEP) + count(b)`. Every piece of text therefore carries two counts, alone and
followed by the separator, and `joined_tokens` is the one place that adds them up: for the
whole prompt, for its segments, and for the provider blocks the integration layer makes
(host sections included).

Each static module is counted once, when the builder is made; assembled prompts are cached
per (module set, variable values), so a warm request does no tokenisation and no rendering.
The caches are bounded in entries and in bytes (variable values come from the caller and can
be of any size).
"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from . import templating
from .cache import CacheStats, memoize, text_bytes
from .errors import ContextError
from .library import ModuleLibrary
from .routing import RoutingDecision
from .tokens import TokenCounter

SEPARATOR = "\n\n"
SegmentKind = Literal["prefix", "core", "tools", "response"]
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


class Counted(Protocol):
    """Text with its token counts, alone and followed by SEPARATOR."""

    @property
    def text(self) -> str: ...

    @property
    def tokens(self) -> int: ...

    @property
    def joined_tokens(self) -> int: ...


def joined_tokens(pieces: Sequence[Counted]) -> int:
    """Exact tokens of the pieces' texts joined by SEPARATOR."""
    if not pieces:
        return 0
    return sum(p.joined_tokens for p in pieces[:-1]) + pieces[-1].tokens


@dataclass(frozen=True)
class Part:
    """One module's text in a prompt."""

    module: str
    group: str
    text: str
    tokens: int
    joined_tokens: int


@dataclass(frozen=True)
class Segment:
    """Consecutive modules that a provider format keeps together: the cache-stable prefix,
    the other core modules, the routed tool modules, the response modules."""

    kind: SegmentKind
    parts: tuple[Part, ...]
    text: str
    tokens: int
    joined_tokens: int

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(p.module for p in self.parts)


def _segment(kind: SegmentKind, parts: Sequence[Part]) -> Segment:
    return Segment(kind, tuple(parts), SEPARATOR.join(p.text for p in parts), joined_tokens(parts),
                   sum(p.joined_tokens for p in parts))


@dataclass(frozen=True)
class BuiltPrompt:
    """An assembled system prompt.

    `text[:prefix_chars]` is the stable prefix (the leading cache-stable core modules and the
    separator after them): identical for a given library and context whatever the query, so a
    provider cache breakpoint belongs right after it."""

    text: str
    parts: tuple[Part, ...]
    segments: tuple[Segment, ...]
    tokens: int
    prefix_chars: int
    prefix_tokens: int
    library_version: str

    @property
    def modules(self) -> tuple[str, ...]:
        return tuple(p.module for p in self.parts)

    @property
    def module_texts(self) -> tuple[str, ...]:
        return tuple(p.text for p in self.parts)

    @property
    def prefix_modules(self) -> tuple[str, ...]:
        return next((s.modules for s in self.segments if s.kind == "prefix"), ())

    @property
    def chars(self) -> int:
        return len(self.text)

    @property
    def prefix(self) -> str:
        return self.text[: self.prefix_chars]

    @property
    def routed(self) -> str:
        return self.text[self.prefix_chars :]


def _part_bytes(args: tuple[Any, ...], part: Part) -> int:
    return text_bytes(args[1]) + sys.getsizeof(part.text)


def _prompt_bytes(args: tuple[Any, ...], prompt: BuiltPrompt) -> int:
    # The prompt's text, and the segments' texts (the same characters again).
    return text_bytes(args[1]) + 2 * sys.getsizeof(prompt.text)


class PromptBuilder:
    """Assembles prompts for one library with one token counter. Thread-safe: all state is
    immutable or held in the caches, which lock.

    `cache_size` bounds the assembled prompts kept, `cache_bytes` what they and the rendered
    templated modules hold in all (three quarters for prompts, a quarter for modules)."""

    def __init__(self, library: ModuleLibrary, counter: TokenCounter, *, cache_size: int = 256,
                 cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        self.library = library
        self.counter = counter
        self._variable_names = tuple(v.name for v in library.variables)
        self._variable_defaults = tuple(v.default for v in library.variables)
        self._static: dict[str, Part] = {
            m.id: self._part(m.id, m.text) for m in library.modules if m.text is not None
        }
        prefix: list[str] = []
        for module in library.modules:
            if module.group != "core" or not module.cache_stable:
                break
            prefix.append(module.id)
        self._prefix_candidates = tuple(prefix)
        self._all_ids = library.ids
        self._assemble_cached = memoize(self._assemble, max_entries=cache_size, max_bytes=cache_bytes * 3 // 4,
                                        size=_prompt_bytes)
        self._render_cached = memoize(self._render, max_entries=max(cache_size, 16), max_bytes=cache_bytes // 4,
                                      size=_part_bytes)
        self._full_tokens_cached = memoize(self._full_tokens, max_entries=max(cache_size, 16), max_bytes=cache_bytes // 64,
                                           size=lambda args, _: text_bytes(args[0]) + 64)

    def _part(self, module_id: str, text: str) -> Part:
        group = self.library[module_id].group
        return Part(module_id, group, text, self.counter.count(text), self.counter.count(text + SEPARATOR))

    def module_tokens(self, module_id: str, context: Mapping[str, Any] | None = None) -> int:
        """Tokens of one module on its own (rendered with `context` if it is a template)."""
        return self._module_part(module_id, self._values(context or {})).tokens

    def _values(self, context: Mapping[str, Any]) -> tuple[Hashable, ...]:
        """The library's variables' values for this request: the build cache key."""
        values = tuple(map(context.get, self._variable_names, self._variable_defaults))
        for name, value in zip(self._variable_names, values):
            if value is not None and not isinstance(value, (str, int, float)):
                raise ContextError(f"context variable {name!r} must be a string or a number, "
                                   f"got {type(value).__name__}")
        return values

    def _render(self, module_id: str, values: tuple[Hashable, ...]) -> Part:
        module = self.library[module_id]
        assert module.template is not None  # only templated modules are rendered
        context = {n: v for n, v in zip(self._variable_names, values) if v is not None}
        return self._part(module_id, templating.render(module.template, module_id, context))

    def _module_part(self, module_id: str, values: tuple[Hashable, ...]) -> Part:
        part = self._static.get(module_id)
        if part is not None:
            return part
        used = self.library[module_id].variables
        # Only the values this module reads form its cache key.
        relevant = tuple(v if n in used else None for n, v in zip(self._variable_names, values))
        return self._render_cached(module_id, relevant)

    def _assemble(self, module_ids: tuple[str, ...], values: tuple[Hashable, ...]) -> BuiltPrompt:
        # Checked here, on a cache miss only: a cached module order is known to be valid.
        if len(set(module_ids)) != len(module_ids):
            raise ValueError("a module id is repeated")
        unknown = [m for m in module_ids if m not in self.library]
        if unknown:
            raise KeyError(f"unknown module(s): {', '.join(unknown)}")
        parts = tuple(self._module_part(m, values) for m in module_ids)
        prefix_len = 0
        for part, candidate in zip(parts, self._prefix_candidates):
            if part.module != candidate:
                break
            prefix_len += 1
        # Segments are runs of consecutive parts of one kind, in the order built: in canonical
        # order that is prefix, core, tools, response; an ordered build may differ.
        runs: list[tuple[SegmentKind, list[Part]]] = []
        for index, part in enumerate(parts):
            kind: SegmentKind = "prefix" if index < prefix_len else part.group  # type: ignore[assignment]
            if runs and runs[-1][0] == kind:
                runs[-1][1].append(part)
            else:
                runs.append((kind, [part]))
        segments = tuple(_segment(kind, members) for kind, members in runs)
        tokens = joined_tokens(parts)
        prefix = parts[:prefix_len]
        if prefix_len == len(parts):  # the prefix is everything: no separator after it
            prefix_chars = sum(len(p.text) for p in prefix) + len(SEPARATOR) * max(prefix_len - 1, 0)
            prefix_tokens = tokens
        else:
            prefix_chars = sum(len(p.text) + len(SEPARATOR) for p in prefix)
            prefix_tokens = sum(p.joined_tokens for p in prefix)
        return BuiltPrompt(
            text=SEPARATOR.join(p.text for p in parts),
            parts=parts,
            segments=segments,
            tokens=tokens,
            prefix_chars=prefix_chars,
            prefix_tokens=prefix_tokens,
            library_version=self.library.version,
        )

    def build(self, selection: RoutingDecision | Iterable[str], context: Mapping[str, Any] | None = None) -> BuiltPrompt:
        """Assemble a decision's modules, or any module ids in any order, in canonical order."""
        if isinstance(selection, RoutingDecision):
            ids = selection.modules  # already canonical
        else:
            ids = self.library.canonical(selection)
        return self._assemble_cached(ids, self._values(context or {}))

    def build_ordered(self, module_ids: Sequence[str], context: Mapping[str, Any] | None = None) -> BuiltPrompt:
        """Assemble these modules in exactly this order (a delivery policy's layout, e.g. core,
        response, then a bundle's tool modules, so each bundle is a byte prefix of the next).
        Parts are the same as in canonical builds and joined by the same separator, so the one
        token rule holds in any order. Unknown or repeated ids are an error (KeyError, ValueError)."""
        return self._assemble_cached(tuple(module_ids), self._values(context or {}))

    def part(self, module_id: str, context: Mapping[str, Any] | None = None) -> Part:
        """One module's text with its exact token counts (alone and followed by SEPARATOR),
        rendered with `context` if it is a template: what a policy delivers outside the
        system prompt."""
        return self._module_part(module_id, self._values(context or {}))

    def full_tokens(self, context: Mapping[str, Any] | None = None) -> int:
        """Tokens of the full prompt, without assembling it (the one token rule)."""
        tokens: int = self._full_tokens_cached(self._values(context or {}))
        return tokens

    def _full_tokens(self, values: tuple[Hashable, ...]) -> int:
        return joined_tokens([self._module_part(m, values) for m in self._all_ids])

    def full(self, context: Mapping[str, Any] | None = None) -> BuiltPrompt:
        """The full prompt: every module. What static mode sends."""
        return self._assemble_cached(self._all_ids, self._values(context or {}))

    @property
    def cache_stats(self) -> CacheStats:
        return self._assemble_cached.stats()
