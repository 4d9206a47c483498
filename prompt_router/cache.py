"""A least-recently-used cache bounded in entries *and* in bytes.

`functools.lru_cache` bounds the number of entries only, and an entry is as large as the input
that made it: 4,096 cached 30,000-character queries pin hundreds of MB. `ByteLRU` charges each
entry its size (the caller's measure of what the entry keeps alive, usually the text in its
key and value, see `text_bytes`), never stores an entry larger than `max_entry_bytes`, and
evicts entries until the total is within `max_bytes`.

Recency is tracked the CLOCK way (second chance), an approximation of LRU that keeps a hit
cheap: a hit is one dictionary read and one flag set, with no lock and no reordering (about
100 ns more than `functools.lru_cache`, against 400 ns for a locked move-to-end). Eviction
takes the oldest entry, but one that was hit since it was last considered goes to the back
instead, once. Inserting and evicting hold a lock, so the byte count is exact; the cached
function runs outside it, so two threads that miss the same key both compute it (the results
are equal) and one is kept. Hit and miss counters are statistics, not exact under threads.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

_V = TypeVar("_V")
_MISSING: Any = object()
# What a dictionary slot, a key tuple and the entry's own small objects cost, roughly.
ENTRY_OVERHEAD = 200


class CacheStats(NamedTuple):
    hits: int
    misses: int
    size: int  # entries held
    maxsize: int  # entries at most
    bytes: int = 0  # bytes charged for the entries held
    max_bytes: int = 0


def text_bytes(texts: Iterable[Any]) -> int:
    """What the strings (or bytes) among `texts` occupy in memory; other values count as a
    pointer. `sys.getsizeof` is exact for str and bytes and costs a C call."""
    total = 0
    for text in texts:
        total += sys.getsizeof(text) if isinstance(text, (str, bytes)) else 8
    return total


class ByteLRU(Generic[_V]):
    """A mapping from hashable keys to values, bounded by `max_entries` and `max_bytes`.

    `max_entries == 0` or `max_bytes == 0` disables it: nothing is stored."""

    def __init__(self, max_entries: int, max_bytes: int, *, max_entry_bytes: int | None = None) -> None:
        if max_entries < 0 or max_bytes < 0:
            raise ValueError("cache bounds must not be negative")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        # By default one entry may take a sixteenth of the budget: a few huge inputs must not
        # evict everything the ordinary traffic keeps warm.
        self.max_entry_bytes = max_bytes // 16 if max_entry_bytes is None else min(max_entry_bytes, max_bytes)
        self.enabled = max_entries > 0 and max_bytes > 0
        self.hits = 0
        self.misses = 0
        self.bytes = 0
        self._data: dict[Hashable, list[Any]] = {}  # key -> [value, size, hit since last considered]
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value for `key` (now marked as recently used), or `default`."""
        entry = self._data.get(key)
        if entry is None:
            self.misses += 1
            return default
        entry[2] = True
        self.hits += 1
        return entry[0]

    def put(self, key: Hashable, value: _V, size: int) -> bool:
        """Store `value` under `key`, charged `size` bytes. Returns False (and stores nothing)
        when the cache is disabled or the entry alone is over `max_entry_bytes`."""
        size += ENTRY_OVERHEAD
        if not self.enabled or size > self.max_entry_bytes:
            return False
        data = self._data
        with self._lock:
            old = data.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            data[key] = [value, size, False]
            self.bytes += size
            chances = len(data)  # bounded: hits from other threads cannot keep the sweep going
            while self.bytes > self.max_bytes or len(data) > self.max_entries:
                oldest = next(iter(data))
                entry = data.pop(oldest)
                if chances > 0 and (entry[2] or oldest == key):
                    chances -= 1
                    # A second chance: to the back, unmarked. The entry just stored gets one
                    # too, or it would be the first to go once every other had been hit.
                    entry[2] = False
                    data[oldest] = entry
                    if oldest == key:
                        key = _MISSING
                    continue
                self.bytes -= entry[1]
        return True

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.bytes = 0

    def stats(self) -> CacheStats:
        return CacheStats(self.hits, self.misses, len(self._data), self.max_entries, self.bytes, self.max_bytes)


class Memoized(Generic[_V]):
    """`function` behind a ByteLRU keyed by its positional arguments; `size(args, result)`
    says what an entry costs in bytes."""

    def __init__(self, function: Callable[..., _V], cache: ByteLRU[_V], size: Callable[[tuple[Any, ...], _V], int]) -> None:
        self.function = function
        self.cache = cache
        self._size = size

    def __call__(self, *args: Any) -> _V:
        cache = self.cache
        entry = cache._data.get(args)  # the hit path of ByteLRU.get, inlined: it is per request
        if entry is not None:
            entry[2] = True
            cache.hits += 1
            value: _V = entry[0]
            return value
        if not cache.enabled:
            return self.function(*args)
        cache.misses += 1
        value = self.function(*args)
        cache.put(args, value, self._size(args, value))
        return value

    def cache_clear(self) -> None:
        self.cache.clear()

    def stats(self) -> CacheStats:
        return self.cache.stats()


def memoize(
    function: Callable[..., _V],
    *,
    max_entries: int,
    max_bytes: int,
    size: Callable[[tuple[Any, ...], _V], int],
    max_entry_bytes: int | None = None,
) -> Memoized[_V]:
    """A memoising wrapper bounded in entries and bytes (see ByteLRU)."""
    return Memoized(function, ByteLRU(max_entries, max_bytes, max_entry_bytes=max_entry_bytes), size)
