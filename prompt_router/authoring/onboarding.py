"""`init`: one prompt file -> sections -> proposed modules -> a library on disk, validated."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..tokens import DEFAULT_ENCODING, TokenCounter
from .library_writer import WrittenLibrary, write_library
from .proposal import propose, slug
from .sections import split_sections


def read_prompt(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not valid UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    if not text.strip():
        raise UsageError(f"{path}: the prompt file is empty")
    return text.replace("\r\n", "\n")


def init_library(prompt_file: Path, out: Path, *, encoding: str | None = None, max_tokens: int = 1200,
                 min_tokens: int = 40, triggers_per_module: int = 6) -> WrittenLibrary:
    """Split `prompt_file` into a module library written to `out` (a new or empty directory)."""
    text = read_prompt(prompt_file)
    counter = TokenCounter(encoding or DEFAULT_ENCODING)
    sections = split_sections(text, counter.count, max_tokens=max_tokens, min_tokens=min_tokens)
    modules = propose(sections, counter.count, triggers_per_module=triggers_per_module)
    return write_library(modules, out, name=slug(prompt_file.stem), source=prompt_file.name,
                         prompt_tokens=counter.count(text.strip()))
