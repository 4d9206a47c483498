"""`validate`, `route` and `build`: a library and what it makes of a query."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..builder import PromptBuilder
from ..errors import LibraryError, ModelError, UsageError
from ..evaluation.cases import REPLAY_CONTEXT
from ..library import load_library
from ..pipeline import PromptRouter
from ..results import PromptResult
from ..routing import LearnedModel, artefact_path
from ..tokens import TokenCounter
from ._common import context_from_args, require_rich, settings_from_args


def register(sub: Any, common: Any) -> None:
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


def result_json(result: PromptResult) -> dict[str, Any]:
    """The `route --json` contract: the decision's keys plus sizes and mode."""
    return {
        **result.decision.to_dict(),
        "tokens": result.prompt.tokens,
        "full_tokens": result.full_tokens,
        "prefix_tokens": result.prompt.prefix_tokens,
        "mode": result.mode,
    }


def cmd_validate(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    root = Path(args.directory) if args.directory else settings.library_dir()
    try:
        library = load_library(root, settings.library_limits())
    except LibraryError as exc:
        print(f"✗ {exc}")  # plain text: paths must stay whole and greppable
        return 1
    require_rich()
    from rich.console import Console
    from rich.table import Table

    builder = PromptBuilder(library, TokenCounter(settings.encoding))
    given = context_from_args(args)
    unknown = sorted(given.keys() - {v.name for v in library.variables} - REPLAY_CONTEXT.keys())
    if unknown and settings.strict_context:
        raise UsageError(f"--var {unknown[0]}: the library declares no such variable "
                         f"({', '.join(v.name for v in library.variables) or 'none'})")
    context = {**REPLAY_CONTEXT, **given}
    full = builder.full(context)
    table = Table(title=f"{library.name}  (version {library.version})")
    for column in ("group", "module", "tokens", "share", "triggers", "requires"):
        table.add_column(column, justify="right" if column in ("tokens", "share", "triggers") else "left")
    for module in library.modules:
        tokens = builder.module_tokens(module.id, context)
        table.add_row(module.group, module.id, f"{tokens:,}", f"{tokens / full.tokens:.1%}",
                      str(len(module.triggers)), ", ".join(module.requires))
    console = Console()
    console.print(table)
    always = sum(builder.module_tokens(m, context) for m in library.always_ids)
    console.print(
        f"[green]✓[/green] {len(library.modules)} modules, full prompt {full.tokens:,} tokens "
        f"({full.chars:,} chars), core + response {always:,} tokens ({always / full.tokens:.0%}), "
        f"cached prefix {full.prefix_tokens:,} tokens, {len(library.matcher.triggers):,} triggers"
    )
    artefact = artefact_path(library, settings)
    if artefact.exists() or settings.learned_model is not None:
        try:
            LearnedModel.load(artefact, library.version)
            console.print(f"[green]✓[/green] learned router artefact {artefact.name} matches this library")
        except ModelError as exc:
            # Not a library error (the library is valid), but `auto` routing now falls back to
            # the keyword router: say so where the author looks.
            print(f"! {exc}; until then the router is keyword")  # plain text: paths stay whole and greppable
    return 0


def _router(args: argparse.Namespace) -> PromptRouter:
    router = PromptRouter.from_settings(settings_from_args(args))
    args.cleanup.append(router.close)  # with a DSN set, flush (bounded) before exiting
    return router


def cmd_route(args: argparse.Namespace) -> int:
    router = _router(args)
    context = context_from_args(args)
    if args.stdin:
        out = sys.stdout
        # Bytes, decoded line by line: one undecodable line must not lose the lines around it
        # (a text stream decodes in chunks and fails for the whole chunk).
        binary = getattr(sys.stdin, "buffer", None)  # None when a text stream stands in for stdin
        lines = binary if binary is not None else (line.encode("utf-8", "surrogatepass") for line in sys.stdin)
        for number, raw in enumerate(lines, start=1):
            try:
                query = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                print(f"prompt-router: stdin line {number}: not valid UTF-8 (byte {exc.start}); "
                      "routed with the undecodable bytes replaced by U+FFFD", file=sys.stderr)
                query = raw.decode("utf-8", "replace")
            result = router.system_prompt(query.rstrip("\r\n"), context=context)
            out.write(json.dumps(result_json(result), ensure_ascii=False) + "\n")
        return 0
    if args.query is None:
        raise UsageError("give a query, or --stdin to read one query per line")
    result = router.system_prompt(args.query, history=args.history or (), context=context)
    if args.json:
        print(json.dumps(result_json(result), ensure_ascii=False, indent=2, allow_nan=False))
        return 0
    require_rich()
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=True)
    table.add_column("module")
    table.add_column("why")
    for module in result.decision.modules:
        table.add_row(module, str(result.decision.reasons[module]))
    console = Console()
    console.print(table)
    console.print(_summary(result))
    return 0


def _summary(result: PromptResult) -> str:
    """Under the table: sizes and which router decided, then how, on a line of its own."""
    decision = result.decision
    saved = result.tokens_saved / result.full_tokens if result.full_tokens else 0.0
    line = (f"{result.prompt.tokens:,} of {result.full_tokens:,} tokens ({saved:.0%} saved), "
            f"router {decision.router}, mode {result.mode}")
    if result.mode == "error":
        return f"{line}\n[red]routing failed, the full prompt is sent: {result.error}[/red]"
    if decision.small_talk:
        return f"{line}\n[cyan]no tools needed: the message is small talk[/cyan]"
    if decision.no_tools:
        return f"{line}\n[cyan]no tools needed: every tool module is unlikely enough to fit in the miss budget[/cyan]"
    if decision.fallback:
        sent = "every tool module is sent" if decision.tool_modules else "core + response only"
        return f"{line}\n[yellow]fallback: nothing placed the request, so {sent}[/yellow]"
    return line


def cmd_build(args: argparse.Namespace) -> int:
    router = _router(args)
    result = router.system_prompt(args.query, history=args.history or (), context=context_from_args(args))
    sys.stdout.write(result.text + "\n")
    return 0
