"""Building: a routing decision + per-request context -> the system prompt text and its size.

Modules are joined by a blank line, in canonical order. Token counts are exact without
tokenising the assembled prompt: module bodies never start with whitespace, so tiktoken's
pre-tokeniser never merges across the separator, and the count of
`m1 + SEP + m2 + SEP + m3` is `count(m1 + SEP) + count(m2 + SEP) + count(m3)`.
Each static module is counted once, when the builder is made; assembled prompts are cached
per (module set, variable values), so a warm request does no tokenisation and no rendering.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import templating
from .library import ModuleLibrary
from .routing import RoutingDecision
from .tokens import TokenCounter

SEPARATOR = "\n\n"


@dataclass(frozen=True)
class BuiltPrompt:
    """An assembled system prompt.

    `text[:prefix_chars]` is the stable prefix (the leading cache-stable core modules and the
    separator after them): identical for a given library and context whatever the query, so a
    provider cache breakpoint belongs right after it."""

    text: str
    modules: tuple[str, ...]
    module_texts: tuple[str, ...]
    tokens: int
    prefix_modules: tuple[str, ...]
    prefix_chars: int
    prefix_tokens: int
    library_version: str
    # Tokens of each module's text followed by the separator (exact by the rule above); the
    # last module alone counts `tokens - sum(module_tokens[:-1])`.
    module_tokens: tuple[int, ...] = ()

    @property
    def chars(self) -> int:
        return len(self.text)

    @property
    def prefix(self) -> str:
        return self.text[: self.prefix_chars]

    @property
    def routed(self) -> str:
        return self.text[self.prefix_chars :]


class _Piece(NamedTuple):
    text: str
    tokens_with_separator: int


class CacheStats(NamedTuple):
    hits: int
    misses: int
    size: int
    maxsize: int


def cache_stats(cached: Any) -> CacheStats:
    info = cached.cache_info()
    return CacheStats(info.hits, info.misses, info.currsize, info.maxsize or 0)


class PromptBuilder:
    """Assembles prompts for one library with one token counter. Thread-safe: all state is
    immutable or held in functools.lru_cache, which is safe to share between threads."""

    def __init__(self, library: ModuleLibrary, counter: TokenCounter, *, cache_size: int = 256) -> None:
        self.library = library
        self.counter = counter
        self._variable_names = tuple(v.name for v in library.variables)
        self._variable_defaults = tuple(v.default for v in library.variables)
        self._static: dict[str, _Piece] = {
            m.id: self._piece(m.text) for m in library.modules if m.text is not None
        }
        self._prefix_candidates = []
        for module in library.modules:
            if module.group != "core" or not module.cache_stable:
                break
            self._prefix_candidates.append(module.id)
        self._all_ids = library.ids
        self._count_alone = functools.lru_cache(maxsize=1024)(counter.count)
        self._assemble_cached = functools.lru_cache(maxsize=cache_size)(self._assemble)
        self._render_cached = functools.lru_cache(maxsize=max(cache_size, 16))(self._render)

    def _piece(self, text: str) -> _Piece:
        return _Piece(text, self.counter.count(text + SEPARATOR))

    def module_tokens(self, module_id: str, context: Mapping[str, Any] | None = None) -> int:
        """Tokens of one module on its own (rendered with `context` if it is a template)."""
        values = self._values(context or {})
        return self._count_alone(self._module_piece(module_id, values).text)

    def _values(self, context: Mapping[str, Any]) -> tuple[Any, ...]:
        """The library's variables' values for this request: the build cache key."""
        return tuple(map(context.get, self._variable_names, self._variable_defaults))

    def _render(self, module_id: str, values: tuple[Any, ...]) -> _Piece:
        module = self.library[module_id]
        context = {n: v for n, v in zip(self._variable_names, values) if v is not None}
        return self._piece(templating.render(module.template, module_id, context))

    def _module_piece(self, module_id: str, values: tuple[Any, ...]) -> _Piece:
        piece = self._static.get(module_id)
        if piece is not None:
            return piece
        used = self.library[module_id].variables
        # Only the values this module reads form its cache key.
        relevant = tuple(v if n in used else None for n, v in zip(self._variable_names, values))
        return self._render_cached(module_id, relevant)

    def _assemble(self, module_ids: tuple[str, ...], values: tuple[Any, ...]) -> BuiltPrompt:
        pieces = [self._module_piece(m, values) for m in module_ids]
        texts = tuple(p.text for p in pieces)
        # Only the last module is counted without a separator after it.
        tokens = sum(p.tokens_with_separator for p in pieces[:-1]) + (self._count_alone(texts[-1]) if pieces else 0)
        prefix_len = 0
        for module_id, candidate in zip(module_ids, self._prefix_candidates):
            if module_id != candidate:
                break
            prefix_len += 1
        if prefix_len == len(pieces):  # the prefix is everything: no separator after it
            prefix_chars, prefix_tokens = sum(len(t) for t in texts) + len(SEPARATOR) * max(prefix_len - 1, 0), tokens
        else:
            prefix_chars = sum(len(p.text) + len(SEPARATOR) for p in pieces[:prefix_len])
            prefix_tokens = sum(p.tokens_with_separator for p in pieces[:prefix_len])
        return BuiltPrompt(
            text=SEPARATOR.join(texts),
            modules=module_ids,
            module_texts=texts,
            tokens=tokens,
            prefix_modules=module_ids[:prefix_len],
            prefix_chars=prefix_chars,
            prefix_tokens=prefix_tokens,
            library_version=self.library.version,
            module_tokens=tuple(p.tokens_with_separator for p in pieces),
        )

    def build(self, selection: RoutingDecision | Iterable[str], context: Mapping[str, Any] | None = None) -> BuiltPrompt:
        """Assemble a decision's modules, or any module ids in any order, in canonical order."""
        if isinstance(selection, RoutingDecision):
            ids = selection.modules  # already canonical
        else:
            ids = self.library.canonical(selection)
        return self._cached(ids, self._values(context or {}))

    def full(self, context: Mapping[str, Any] | None = None) -> BuiltPrompt:
        """The full prompt: every module. What static mode sends."""
        return self._cached(self._all_ids, self._values(context or {}))

    def _cached(self, ids: tuple[str, ...], values: tuple[Any, ...]) -> BuiltPrompt:
        try:
            return self._assemble_cached(ids, values)
        except TypeError:  # an unhashable context value: build without the cache
            return self._assemble(ids, values)

    @property
    def cache_stats(self) -> CacheStats:
        return cache_stats(self._assemble_cached)
