"""Fresh locks and connections in a forked child (gunicorn --preload, multiprocessing fork).

A lock another thread held when the process forked stays locked forever in the child, and a
socket inherited from the parent would be shared with it. Objects that hold either register
here; right after `os.fork()`, in the child, each one's `_after_fork()` resets them (nothing
is opened there: connections are made again lazily, by the first request that needs one)."""

from __future__ import annotations

import logging
import os
import weakref
from typing import Any

_objects: weakref.WeakSet[Any] = weakref.WeakSet()


def reset_after_fork(obj: Any) -> None:
    """Call `obj._after_fork()` in every child this process forks, while `obj` lives."""
    _objects.add(obj)


def _after_fork_in_child() -> None:
    for obj in list(_objects):
        try:
            obj._after_fork()
        except Exception:  # a hook must never break the child
            logging.getLogger("prompt_router").exception("prompt-router: resetting %r after fork failed", obj)


os.register_at_fork(after_in_child=_after_fork_in_child)
