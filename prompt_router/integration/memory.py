"""Thread state in this process: the default store, and the one for a single worker.

Bounded three ways, so its memory is bounded whatever the traffic: at most `max_threads`
entries (least recently used go first), entries idle for `ttl_seconds` expire, and each
entry is small (a long thread id is kept as its digest, at most `max_modules` module ids a
thread, ids and bundle names of at most 200 characters). Safe to share between threads and
asyncio tasks: nothing awaits while the lock is held.

A thread's arm is recorded with it and never changes while the entry lives. After eviction
(LRU or idle expiry) the thread is new to this store: it is given the arm its hash gives
under the *current* rollout percentage, which differs from its old one only if the
percentage changed meanwhile. `evicted` counts entries lost to the size bound; a shared
store (`RedisThreadStore`) keeps arms across workers and restarts.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from dataclasses import replace

from ._fork import reset_after_fork
from .rollout import Arm
from .state import ThreadState, check_record, delivered_module, delivered_modules, thread_key


class MemoryThreadStore:
    def __init__(self, max_threads: int = 10_000, ttl_seconds: float = 86_400.0, *, max_modules: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_threads < 1 or max_modules < 1 or not ttl_seconds > 0:
            raise ValueError("max_threads and max_modules must be at least 1, ttl_seconds above 0")
        self.max_threads, self.ttl_seconds, self.max_modules = max_threads, ttl_seconds, max_modules
        self.evicted = 0  # entries dropped by the size bound (not by expiry)
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, ThreadState]] = OrderedDict()
        self._lock = threading.Lock()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # a forked worker keeps the parent's threads, not its lock state

    def get(self, thread_id: str) -> ThreadState | None:
        key = thread_key(thread_id)
        with self._lock:
            return self._live(key, self._clock())

    def record(self, thread_id: str, *, arm: Arm, modules: Collection[str] = (), delivered: Collection[str] = (),
               bundle: str | None = None) -> ThreadState:
        check_record(arm, modules, delivered, bundle)
        key, now = thread_key(thread_id), self._clock()
        with self._lock:
            state = self._live(key, now) or ThreadState(arm)
            if bundle is not None and state.bundle is None:
                state = replace(state, bundle=bundle)
            if state.arm == "dynamic" and (modules or delivered):
                state = self._add(state, modules, delivered)
            self._entries[key] = (now, state)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_threads:
                self._entries.popitem(last=False)
                self.evicted += 1
            return state

    def reset(self, thread_id: str) -> None:
        key = thread_key(thread_id)
        with self._lock:
            self._entries.pop(key, None)

    # The asyncio spelling: nothing here waits, so the sync methods run inline.
    async def aget(self, thread_id: str) -> ThreadState | None:
        return self.get(thread_id)

    async def arecord(self, thread_id: str, *, arm: Arm, modules: Collection[str] = (),
                      delivered: Collection[str] = (), bundle: str | None = None) -> ThreadState:
        return self.record(thread_id, arm=arm, modules=modules, delivered=delivered, bundle=bundle)

    async def areset(self, thread_id: str) -> None:
        self.reset(thread_id)

    def __len__(self) -> int:
        return len(self._entries)

    # --- internals: called with the lock held ------------------------------------------------

    def _live(self, key: str, now: float) -> ThreadState | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        seen, state = entry
        if now - seen > self.ttl_seconds:
            del self._entries[key]
            return None
        return state

    def _add(self, state: ThreadState, modules: Collection[str], delivered: Collection[str]) -> ThreadState:
        new_modules = [m for m in modules if m not in state.modules]
        new_delivered: list[str] = []
        if delivered:
            # A module is delivered once: an entry for a module the thread has is ignored.
            have = delivered_modules(state.delivered)
            for entry in sorted(set(delivered)):
                module = delivered_module(entry)
                if module not in have:
                    have = have | {module}
                    new_delivered.append(entry)
        if not new_modules and not new_delivered:
            return state  # the common case: a follow-up turn adds nothing
        room = self.max_modules - len(state.modules) - len(state.delivered)
        if len(new_modules) + len(new_delivered) <= room:  # the common case: no bound reached
            return replace(state, modules=state.modules.union(new_modules), delivered=state.delivered.union(new_delivered))
        added_modules = sorted(set(new_modules))[:max(room, 0)]
        room -= len(added_modules)
        added_delivered = new_delivered[:max(room, 0)]
        return replace(state, modules=state.modules | frozenset(added_modules),
                       delivered=state.delivered | frozenset(added_delivered))
