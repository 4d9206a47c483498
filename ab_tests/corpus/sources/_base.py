"""The interface every source file implements, and a reader for files at a pinned commit.

A source file defines `SOURCE = Source(...)`. `read(tree)` yields `Raw` items (the source's own
label and the user's text); `mapping` sends each label to the tool modules a correct answer
needs (`()` = no tool needed: small talk, general knowledge) or to `None` (left out: it cannot
be mapped cleanly). A label missing from the mapping is an error, so nothing is dropped
silently when a source adds one.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

MODULES = frozenset({
    "web_search", "browser", "file_operations", "code_development", "data_processing",
    "content_creation", "image_generation", "workflow", "deployment", "communication",
})


@dataclass(frozen=True)
class Raw:
    label: str  # the source's own label (intent, API category, task type...)
    text: str  # the user's request, verbatim
    lang: str = "en"  # ISO 639-1
    key: str = ""  # a stable id within the source (file + line/index), for traceability


class GitTree:
    """Files of one repository at one commit, read with `git show` from a bare mirror
    (what the `fetch` tool brings), so the corpus is built from exactly the pinned commit."""

    def __init__(self, git_dir: Path, commit: str) -> None:
        self.git_dir, self.commit = git_dir, commit

    def _git(self, *args: str) -> bytes:
        return subprocess.run(["git", f"--git-dir={self.git_dir}", *args], check=True,
                              capture_output=True).stdout

    def read_bytes(self, path: str) -> bytes:
        return self._git("show", f"{self.commit}:{path}")

    def read_text(self, path: str) -> str:
        return self.read_bytes(path).decode("utf-8")

    def ls(self, folder: str = "") -> list[str]:
        """Paths of all files under `folder` (recursive)."""
        out = self._git("ls-tree", "-r", "--name-only", self.commit, *([folder] if folder else []))
        return out.decode("utf-8").splitlines()


@dataclass(frozen=True)
class Source:
    name: str  # output file stem: ab_tests/corpus/<name>.jsonl; also the case-id prefix
    repo: str  # owner/name on GitHub
    commit: str  # 40 hex digits
    licence: str  # SPDX identifier (or the licence's name when it has none)
    description: str  # one line: what the source is
    read: Callable[[GitTree], Iterator[Raw]]
    mapping: Mapping[str, tuple[str, ...] | None]
    # Cap per target (module set) so that no one intent dominates the corpus.
    max_per_target: int = 150
    max_per_label: int = 40
    notes: tuple[str, ...] = field(default=())  # mapping decisions worth a reviewer's eye
