"""Exceptions raised by prompt-router. Each one says which file, line or field is at fault."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file: where it is and what is wrong."""

    path: str
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        what = self.message if self.field is None else f"{self.field}: {self.message}"
        return f"{where}: {what}"


class PromptRouterError(Exception):
    """Base class of every error this library raises on purpose."""


class LibraryError(PromptRouterError):
    """A module library failed validation. Nothing of it was loaded."""

    def __init__(self, root: str, problems: list[Problem]) -> None:
        self.root = root
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"module library {root} is invalid ({count} problem{'s' if count != 1 else ''}):\n{lines}"
        )


class RenderError(PromptRouterError):
    """A module's template could not be rendered with the given context."""


class ContextError(PromptRouterError):
    """The caller's per-request context is missing a variable the library needs."""


class EncodingUnavailableError(PromptRouterError):
    """The requested tiktoken encoding cannot be loaded on this machine."""


class CaseFileError(PromptRouterError):
    """An A/B case file is malformed."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))
