"""Helpers for the hardening tests: a guard against hangs and a memory meter."""

from __future__ import annotations

import contextlib
import signal
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any


class Hang(Exception):
    pass


@contextlib.contextmanager
def no_hang(seconds: float = 60.0) -> Iterator[None]:
    """Fail instead of hanging. Not a timing assertion: the bound is generous, it only turns a
    regression into a failure instead of a stuck test run (main thread, POSIX)."""

    def expire(*_: Any) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def peak_mb(function: Callable[[], Any]) -> float:
    """Peak traced allocation (MB) while `function` runs, above what was allocated before."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        function()
        return (tracemalloc.get_traced_memory()[1] - before) / 1e6
    finally:
        tracemalloc.stop()
