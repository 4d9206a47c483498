"""Writing files so that readers see the old content or the new, never a part."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to a temporary file beside `path`, then rename it over `path`.

    A lone surrogate or any other encoding problem fails before anything is replaced."""
    write_all_atomic({path: text})


def write_all_atomic(texts: Mapping[Path, str]) -> None:
    """Write several files as one step, as far as a file system allows: every text is encoded
    and written to a temporary file first, and only when all of them are on disk are they
    renamed into place. A failure before that (encoding, disk full, permissions) replaces
    nothing: the old files stay whole and together."""
    data = {path: text.encode("utf-8") for path, text in texts.items()}
    staged: list[tuple[Path, Path]] = []
    try:
        for path, content in data.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.parent / f".{path.name}.{secrets.token_hex(8)}.tmp"
            # not mkstemp: its 0600 would make every rewritten artefact private; 0666 less the
            # umask (applied by the kernel) is what an ordinary write gives, the old mode wins
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            staged.append((temporary, path))
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                with contextlib.suppress(FileNotFoundError):
                    temporary.chmod(path.stat().st_mode & 0o777)
                os.fsync(out.fileno())
        while staged:
            staged_file, target = staged[0]
            staged_file.replace(target)
            staged.pop(0)
    finally:
        for staged_file, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                staged_file.unlink()

