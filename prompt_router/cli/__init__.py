"""The `prompt-router` command line: on top of the runtime, evaluation and training."""

from .main import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, main, parser

__all__ = ["EXIT_FAILED", "EXIT_INTERNAL", "EXIT_OK", "EXIT_USAGE", "main", "parser"]
