"""Per-thread state: the rollout arm a thread was given and the modules it has used.

Bounded two ways: at most `max_threads` entries (least recently used go first) and entries
idle for `ttl_seconds` expire. Safe to share between threads and asyncio tasks (no awaits
happen while the lock is held)."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

Arm = Literal["dynamic", "static"]


def rollout_bucket(thread_id: str, salt: str) -> float:
    """A thread's fixed position in [0, 100): the same on every machine and every run."""
    digest = hashlib.sha256(f"{salt}\0{thread_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def arm_for(thread_id: str, percent: float, salt: str) -> Arm:
    return "dynamic" if rollout_bucket(thread_id, salt) < percent else "static"


@dataclass(frozen=True)
class ThreadState:
    arm: Arm
    modules: frozenset[str] = field(default_factory=frozenset)


class ThreadStore:
    def __init__(self, max_threads: int, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_threads, self.ttl_seconds = max_threads, ttl_seconds
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, ThreadState]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, thread_id: str) -> ThreadState | None:
        with self._lock:
            entry = self._entries.get(thread_id)
            if entry is None:
                return None
            seen, state = entry
            if self._clock() - seen > self.ttl_seconds:
                del self._entries[thread_id]
                return None
            return state

    def put(self, thread_id: str, state: ThreadState) -> None:
        with self._lock:
            self._entries[thread_id] = (self._clock(), state)
            self._entries.move_to_end(thread_id)
            while len(self._entries) > self.max_threads:
                self._entries.popitem(last=False)

    def add_modules(self, thread_id: str, arm: Arm, modules: frozenset[str]) -> ThreadState:
        with self._lock:
            entry = self._entries.get(thread_id)
            state = entry[1] if entry else ThreadState(arm)
            state = replace(state, modules=state.modules | modules)
        self.put(thread_id, state)
        return state

    def reset(self, thread_id: str) -> None:
        with self._lock:
            self._entries.pop(thread_id, None)

    def __len__(self) -> int:
        return len(self._entries)
