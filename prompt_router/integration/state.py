"""Per-thread state and the store protocol a `ConversationRouter` keeps it in.

A thread's state is what must stay the same for every turn of a conversation, whichever
worker serves it: the rollout arm it was given, the modules it has used (stickiness), the
modules whose text was delivered inside the conversation, and a per-thread policy choice.

    state = store.record(thread_id, arm="dynamic", modules={"web_search"})

`record` is the one call on the hot path. It is atomic and makes one round trip: the arm and
bundle are set only if absent (the stored ones win), modules are added, the idle timer is
restarted, the per-thread size is bounded, and the resulting state comes back. Two
implementations ship: `MemoryThreadStore` (this process) and `RedisThreadStore` (shared by
every worker). Each implements the sync protocol and its `a`-prefixed asyncio twin.

A store that also implements `SwitchStore` holds the fleet-wide switches (the kill switch and
the rollout percentage), so one write reaches every worker that shares it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .rollout import ARMS, Arm

# Thread ids longer than this are stored by their SHA-256 digest: the store's memory per
# thread is bounded whatever ids the host uses (a whole message pasted as an id, say).
MAX_THREAD_KEY_CHARS = 64
MAX_ID_CHARS = 200  # module ids and bundle names: library ids, never free text


@dataclass(frozen=True)
class ThreadState:
    """What a thread keeps for its whole life.

    - `arm`: the rollout arm it was given on its first request; never changes.
    - `modules`: tool modules it has used (stickiness); only ever grows. A static thread
      is always sent the full prompt and keeps none.
    - `delivered`: modules whose text was delivered inside the conversation, so they need
      not be in its system prompt again: `"web_search@3"` was attached to the user turn at
      position 3 of the messages (and is re-attached there on every later request, by any
      worker); a plain `"web_search"` was loaded by the model through the load tool (its
      text lives in the host's history). A module is recorded once: the first delivery wins.
    - `bundle`: the thread's delivery policy, set once (`"policy:bundles:1"`, see
      `integration/delivery.py`).
    """

    arm: Arm
    modules: frozenset[str] = frozenset()
    delivered: frozenset[str] = frozenset()
    bundle: str | None = None


@dataclass(frozen=True)
class Switches:
    """Fleet-wide overrides of two settings. `None` means "as this worker's settings say".

    `dynamic=False` is the kill switch: every thread gets the full prompt at once (either
    the switch or a worker's own `use_dynamic_routing=false` turns routing off).
    `rollout_percent` decides the arm of *new* threads; existing threads keep theirs."""

    dynamic: bool | None = None
    rollout_percent: float | None = None

    def __post_init__(self) -> None:
        if self.dynamic is not None and not isinstance(self.dynamic, bool):
            raise TypeError("Switches.dynamic must be True, False or None")
        percent = self.rollout_percent
        if percent is not None and (isinstance(percent, bool) or not isinstance(percent, (int, float))
                                    or not 0.0 <= percent <= 100.0):
            raise ValueError(f"Switches.rollout_percent must be a number from 0 to 100, not {percent!r}")


@runtime_checkable
class ThreadStore(Protocol):
    def get(self, thread_id: str) -> ThreadState | None:
        """The thread's state, or None if it has none (new, reset or expired)."""

    def record(self, thread_id: str, *, arm: Arm, modules: Collection[str] = (), delivered: Collection[str] = (),
               bundle: str | None = None) -> ThreadState:
        """Atomically: set `arm` and `bundle` where absent, add `modules` and `delivered` (to a
        dynamic thread, up to the per-thread bound), restart the idle timer; return the state."""

    def reset(self, thread_id: str) -> None:
        """Forget the thread."""


@runtime_checkable
class AsyncThreadStore(Protocol):
    async def aget(self, thread_id: str) -> ThreadState | None: ...

    async def arecord(self, thread_id: str, *, arm: Arm, modules: Collection[str] = (),
                      delivered: Collection[str] = (), bundle: str | None = None) -> ThreadState: ...

    async def areset(self, thread_id: str) -> None: ...


@runtime_checkable
class SwitchStore(Protocol):
    def read_switches(self) -> Switches:
        """The fleet-wide switches, at most the store's refresh interval old."""

    @property
    def last_switches(self) -> Switches:
        """The switches as last read (a `record` may bring them along) or written: no I/O."""

    def write_switches(self, switches: Switches) -> None:
        """Replace the fleet-wide switches; every worker sees them within the refresh interval."""


@runtime_checkable
class AsyncSwitchStore(Protocol):
    async def aread_switches(self) -> Switches: ...

    async def awrite_switches(self, switches: Switches) -> None: ...


def thread_key(thread_id: str) -> str:
    """The key a thread is stored under: its id, or the id's digest when it is long."""
    if not isinstance(thread_id, str):
        raise TypeError(f"thread_id must be a string, not {type(thread_id).__name__}")
    if len(thread_id) <= MAX_THREAD_KEY_CHARS:
        return thread_id
    return "sha256:" + hashlib.sha256(thread_id.encode("utf-8", "surrogatepass")).hexdigest()


def delivered_module(entry: str) -> str:
    """The module id of a `delivered` entry ("web_search@3" -> "web_search")."""
    return entry.partition("@")[0]


def delivered_turn(entry: str) -> int | None:
    """The message position a `delivered` entry was attached at, or None (loaded by the model)."""
    _, at, turn = entry.partition("@")
    return int(turn) if at else None


@functools.lru_cache(maxsize=1024)
def _delivered_modules(delivered: frozenset[str]) -> frozenset[str]:
    return frozenset(map(delivered_module, delivered))


def delivered_modules(delivered: frozenset[str]) -> frozenset[str]:
    """The module ids of a thread's `delivered` entries. A thread's set repeats request after
    request, so small ones are computed once (at most 1,024 sets of at most 64 entries kept)."""
    if len(delivered) <= 64:
        return _delivered_modules(delivered)
    return frozenset(map(delivered_module, delivered))


def check_record(arm: str, modules: Collection[str], delivered: Collection[str], bundle: str | None) -> None:
    """The arguments of `record` are ids, never free text: reject anything else clearly."""
    if arm not in ARMS:
        raise ValueError(f"arm must be one of {', '.join(ARMS)}, not {arm!r}")
    for name, ids in (("modules", modules), ("delivered", delivered)):
        if isinstance(ids, str):
            raise TypeError(f"{name} must be a collection of module ids, not a string")
        for module_id in ids:
            if type(module_id) is not str or not 0 < len(module_id) <= MAX_ID_CHARS:
                raise ValueError(f"{name}: a module id must be a string of 1 to {MAX_ID_CHARS} characters")
    for entry in delivered:
        if "@" in entry:
            module, _, turn = entry.partition("@")
            if not module or not turn.isdecimal():
                raise ValueError(f"delivered: {entry!r} is not 'module' or 'module@<message position>'")
    if bundle is not None and (not isinstance(bundle, str) or not 0 < len(bundle) <= MAX_ID_CHARS):
        raise ValueError(f"bundle must be None or a string of 1 to {MAX_ID_CHARS} characters")
