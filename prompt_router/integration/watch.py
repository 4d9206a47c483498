"""Reloading the module library when its files change, without a restart.

`LibraryWatcher` polls the library folder (and the learned-router artefact, wherever it is)
every `interval` seconds: file names, sizes and modification times, no reading. When they
change and then hold still for one more poll (an editor saving several files, `git pull`),
it calls `PromptRouter.reload_library()`, which loads and validates the whole library and
swaps it in atomically. A broken library, or an explicit learned/hybrid router whose
artefact is now stale, is refused: the old library keeps serving and the problems are
logged once per change (the same messages as `prompt-router validate`).

The polling thread is a daemon started lazily, in the process that serves requests (a
watcher made before a pre-fork server forks runs in each worker), and stopped by `close()`.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from ..errors import SettingsError
from ..pipeline import PromptRouter
from ..routing import artefact_path
from ._fork import reset_after_fork

logger = logging.getLogger("prompt_router")
Fingerprint = tuple[tuple[str, int, int], ...]


def library_fingerprint(router: PromptRouter) -> Fingerprint:
    """(path, size, mtime) of every file the router's library is loaded from."""
    root = router.settings.library_dir()
    found: list[tuple[str, int, int]] = []
    for directory, folders, files in os.walk(root):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.endswith("~"):
                continue  # editor swap and backup files
            path = Path(directory) / name
            try:
                stat = path.stat()
            except OSError:
                continue  # removed while we looked
            found.append((str(path), stat.st_size, stat.st_mtime_ns))
    artefact = artefact_path(router.library, router.settings)
    if not artefact.resolve().is_relative_to(Path(root).resolve()):
        try:
            stat = artefact.stat()
            found.append((str(artefact), stat.st_size, stat.st_mtime_ns))
        except OSError:
            found.append((str(artefact), -1, -1))
    return tuple(found)


class LibraryWatcher:
    def __init__(self, router: PromptRouter, interval: float) -> None:
        if not interval > 0:
            raise ValueError("the watch interval must be above 0 seconds")
        self.router, self.interval = router, interval
        self.reloads = 0  # libraries swapped in
        self.refused = 0  # changes that did not load (the old library kept serving)
        self._loaded = library_fingerprint(router)
        self._pending: Fingerprint | None = None
        self._stop = threading.Event()
        self._pid = 0
        self._lock = threading.Lock()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # the thread itself stays in the parent; the child starts its own

    def ensure_running(self) -> None:
        """Start the polling thread in this process if it is not running (cheap when it is)."""
        pid = os.getpid()
        if self._pid == pid or self._stop.is_set():
            return
        with self._lock:
            if self._pid == pid or self._stop.is_set():
                return
            threading.Thread(target=self._run, name="prompt-router-library-watch", daemon=True).start()
            self._pid = pid

    def check(self) -> bool:
        """One poll; True when a new library was swapped in."""
        current = library_fingerprint(self.router)
        if current == self._loaded:
            self._pending = None
            return False
        if current != self._pending:
            self._pending = current  # changed: wait until it holds still for one poll
            return False
        self._loaded, self._pending = current, None
        try:
            self.router.reload_library()
        except SettingsError as exc:
            self.refused += 1
            logger.warning("prompt-router: %s", exc)
            return False
        self.reloads += 1
        logger.info("prompt-router: library reloaded (version %s)", self.router.library.version)
        return True

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a watcher must never take the process down
                logger.exception("prompt-router: the library watcher failed")
