"""Every exception prompt-router raises on purpose. Each one says which file, line or field is
at fault.

    PromptRouterError
    ├── LibraryError              a module library failed validation (nothing of it was loaded)
    ├── RenderError               a module template could not be rendered with the given context
    ├── ContextError              the caller's per-request context is missing or mistypes a variable
    ├── EncodingUnavailableError  the tiktoken encoding cannot be loaded on this machine
    ├── ModelError                a learned-router artefact is missing, malformed or stale
    ├── SettingsError             a setting is invalid, or cannot be applied at runtime
    ├── StateStoreError           the shared thread-state store failed (requests degrade, never fail)
    ├── CaseFileError             an A/B case file is malformed
    └── UsageError                a command line was used wrongly (exit status 2)
"""

from __future__ import annotations

from collections.abc import Iterable
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

    def __init__(self, root: str, problems: Iterable[Problem]) -> None:
        self.root = root
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        super().__init__(
            f"module library {root} is invalid ({count} problem{'s' if count != 1 else ''}):\n{lines}"
        )


class RenderError(PromptRouterError):
    """A module's template could not be rendered with the given context."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line  # the line of the module body at fault, when known


class ContextError(PromptRouterError):
    """The caller's per-request context is missing a variable the library needs, or gives one
    a value that is not a string or number."""


class EncodingUnavailableError(PromptRouterError):
    """The requested tiktoken encoding cannot be loaded on this machine."""


class ModelError(PromptRouterError):
    """A learned-router artefact is missing, malformed, or for another library version."""


class SettingsError(PromptRouterError):
    """A setting is invalid, or a changed setting cannot be applied to a running router."""


class StateStoreError(PromptRouterError):
    """The thread-state store (e.g. Redis) could not be reached or answered wrongly."""


class CaseFileError(PromptRouterError):
    """An A/B case file is malformed."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(PromptRouterError):
    """A command was used wrongly (bad option value, missing argument): exit status 2."""
