"""Rollout arms: which threads get routed prompts while dynamic routing is rolled out.

A thread's position in [0, 100) is a salted hash of its id, the same on every machine and
every run, so every worker proposes the same arm for a new thread. The arm a thread was
given is then recorded in the thread store and wins over any later percentage: a thread
never changes arm mid-conversation while its state lives (see `state.ThreadState`)."""

from __future__ import annotations

import hashlib
from typing import Literal

Arm = Literal["dynamic", "static"]
ARMS: tuple[Arm, ...] = ("dynamic", "static")


def rollout_bucket(thread_id: str, salt: str) -> float:
    """A thread's fixed position in [0, 100): the same on every machine and every run."""
    digest = hashlib.sha256(f"{salt}\0{thread_id}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def arm_for(thread_id: str, percent: float, salt: str) -> Arm:
    if percent >= 100.0:  # every bucket is below 100: no need to hash (the common case)
        return "dynamic"
    return "dynamic" if rollout_bucket(thread_id, salt) < percent else "static"
