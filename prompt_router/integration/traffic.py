"""The traffic this process serves, as the `auto` policy looks the plan up by it: new threads
per hour, user turns per thread, tool-loop steps per user turn, over a sliding window.

    meter = TrafficMeter()                  # one per ConversationRouter
    meter.observe(new_thread=True, tool_step=False)    # per request: a lock, three adds
    meter.traffic()                         # Traffic(threads_per_hour=..., ...) or None

Counts go into per-minute buckets (a ring: `window_seconds` / `buckets` each); reading sums
the live buckets. Until `warmup_seconds` have passed since the first request, `traffic()` is
None: a few seconds of traffic say little about an hour's, and a thread keeps the policy it
starts with.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._fork import reset_after_fork


@dataclass(frozen=True)
class Traffic:
    """A traffic figure in the delivery plan's terms."""

    threads_per_hour: float
    thread_turns: float  # user turns per thread
    tool_steps: float  # tool-loop steps per user turn

    def __post_init__(self) -> None:
        for name in ("threads_per_hour", "thread_turns", "tool_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"Traffic.{name} must be a number of at least 0, not {value!r}")


class TrafficMeter:
    def __init__(self, window_seconds: float = 3600.0, *, buckets: int = 60, warmup_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not window_seconds > 0 or buckets < 1 or warmup_seconds < 0:
            raise ValueError("window_seconds must be above 0, buckets at least 1, warmup_seconds at least 0")
        self.window_seconds, self.warmup_seconds = window_seconds, min(warmup_seconds, window_seconds)
        self._width = window_seconds / buckets
        self._clock = clock
        # bucket i: [period, new threads, user turns, tool steps]
        self._buckets = [[-1, 0, 0, 0] for _ in range(buckets)]
        self._started: float | None = None
        self._lock = threading.Lock()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def observe(self, *, new_thread: bool, tool_step: bool) -> None:
        """Count one request: the first turn of a new thread, another user turn, or a tool step.
        No lock on this path: two threads counting at once may rarely lose a count, which a
        traffic estimate can afford."""
        now = self._clock()
        period = int(now // self._width)
        if self._started is None:
            self._started = now
        bucket = self._buckets[period % len(self._buckets)]
        if bucket[0] != period:
            with self._lock:
                if bucket[0] != period:
                    bucket[:] = [period, 0, 0, 0]
        if tool_step:
            bucket[3] += 1
        else:
            bucket[2] += 1
            bucket[1] += new_thread

    def traffic(self) -> Traffic | None:
        """The traffic over the window (or since the first request, if that is shorter), or
        None while warming up."""
        now = self._clock()
        period = int(now // self._width)
        oldest = period - len(self._buckets)
        with self._lock:
            started = self._started
            live = [b for b in self._buckets if b[0] > oldest]
            threads, turns, steps = (sum(b[i] for b in live) for i in (1, 2, 3))
        if started is None or now - started < self.warmup_seconds:
            return None
        seconds = max(min(now - started, self.window_seconds), 1e-9)
        return Traffic(threads * 3600.0 / seconds, turns / max(threads, 1), steps / max(turns, 1))
