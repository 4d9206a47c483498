"""Writing files so that readers see the old content or the new, never a part."""

from __future__ import annotations

import contextlib
import os
import tempfile
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
            handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            staged.append((Path(temporary), path))
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
        while staged:
            staged_file, target = staged[0]
            staged_file.replace(target)
            staged.pop(0)
    finally:
        for staged_file, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                staged_file.unlink()
