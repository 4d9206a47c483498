"""What a `ConversationRouter` does while its thread store is unreachable: never fail a
request, never wait on a dead store, say so once, recover by itself.

A failed call opens the breaker: for `retry_seconds` (doubling on each failed retry, up to
`max_retry_seconds`) no request touches the store, and requests are routed per request (no
stickiness; new threads get their hash's arm). Then one request probes the store; if it
answers, the breaker closes. One WARNING when an outage starts and one INFO when it ends:
the log lines carry the exception type only, never a URL or user text.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._fork import reset_after_fork

logger = logging.getLogger("prompt_router")


@dataclass(frozen=True)
class OutageStats:
    degraded: bool  # the store is being skipped right now
    outages: int  # outages seen since start
    skipped_calls: int  # store calls not made (or failed) because of outages
    last_error: str | None  # the exception type of the latest failure


class StoreBreaker:
    def __init__(self, retry_seconds: float = 1.0, max_retry_seconds: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.retry_seconds, self.max_retry_seconds = retry_seconds, max(retry_seconds, max_retry_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        self._down = False
        self._retry_at = 0.0
        self._backoff = retry_seconds
        self._probing = False
        self._outages = 0
        self._skipped = 0
        self._last_error: str | None = None
        reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        self._probing = False  # a probe in flight in the parent is not this process's

    def allow(self) -> bool:
        """May this request call the store? While it is down, only one probe at a time, and
        only once the back-off has passed."""
        if not self._down:
            return True
        with self._lock:
            if not self._down:
                return True
            if self._probing or self._clock() < self._retry_at:
                self._skipped += 1
                return False
            self._probing = True
            return True

    def succeeded(self) -> None:
        if not self._down:
            return
        with self._lock:
            was_down, self._down, self._probing, self._backoff = self._down, False, False, self.retry_seconds
        if was_down:
            logger.info("prompt-router: the thread-state store answers again; threads are sticky again")

    def failed(self, error: BaseException) -> None:
        with self._lock:
            first = not self._down
            self._skipped += 1
            self._last_error = cause = type(error.__cause__ or error).__name__
            if first:
                self._outages += 1
                self._backoff = self.retry_seconds
            else:
                self._backoff = min(self._backoff * 2, self.max_retry_seconds)
            self._down, self._probing = True, False
            self._retry_at = self._clock() + self._backoff
        if first:
            logger.warning("prompt-router: the thread-state store failed (%s); routing per request, without "
                           "stickiness, until it answers again (next try in %.1f s)", cause, self.retry_seconds)

    @property
    def stats(self) -> OutageStats:
        return OutageStats(self._down, self._outages, self._skipped, self._last_error)
