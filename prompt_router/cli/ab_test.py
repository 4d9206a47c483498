"""`prompt-router ab-test`: replay labelled cases through two configurations and report."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..evaluation import (
    PROVIDERS,
    Arm,
    CostModel,
    TrafficModel,
    build_report,
    cache_report,
    print_summary,
    read_cases,
    recall_reduction_curve,
    run_ab,
    write_report,
)
from ..library import ModuleLibrary, load_library
from ..pipeline import PromptRouter
from ._common import fraction, load_settings, positive_float, positive_int, require_rich


def register(sub: Any) -> None:
    p = sub.add_parser("ab-test", help="replay labelled cases: full vs routed prompt (or any two configurations)")
    p.add_argument("--cases", nargs="+", required=True, metavar="FILE", help="JSONL case files (each is reported separately too)")
    for arm, mode in (("a", "static"), ("b", "dynamic")):
        p.add_argument(f"--library-{arm}", metavar="DIR", help=f"library of arm {arm.upper()} (default: the configured one)")
        p.add_argument(f"--mode-{arm}", choices=("static", "dynamic"), default=mode, help=f"arm {arm.upper()} (default {mode})")
        p.add_argument(f"--fallback-{arm}", choices=("all", "core"), help=f"arm {arm.upper()}'s fallback (default: the library's)")
        p.add_argument(f"--router-{arm}", choices=("auto", "keyword", "learned", "hybrid"), default="auto",
                       help=f"arm {arm.upper()}'s router (default auto: hybrid when a trained artefact matches)")
    p.add_argument("--report-dir", default="reports/ab", metavar="DIR", help="where report.{md,json,html} go (default reports/ab)")
    p.add_argument("--min-recall", type=fraction, metavar="X", help="fail (exit 1) if arm B's recall is below X (0-1)")
    p.add_argument("--min-reduction", type=fraction, metavar="Y",
                   help="fail (exit 1) if the mean token reduction is below Y (0-1)")
    p.add_argument("--price", type=positive_float, default=CostModel.price_per_million,
                   help="USD per million input tokens (default 3.00)")
    p.add_argument("--requests-per-month", type=positive_int, default=CostModel.requests_per_month,
                   help="requests per month the money figures are scaled to (default 1,000,000)")
    p.add_argument("--providers", nargs="+", choices=sorted(PROVIDERS), default=["anthropic", "openai"],
                   help="provider caching rules simulated (default: anthropic openai)")
    p.add_argument("--thread-lengths", nargs="+", type=positive_int, default=list(TrafficModel.thread_lengths),
                   metavar="TURNS", help="thread lengths simulated, in turns (default: 1 5 20)")
    p.add_argument("--threads-per-hour", type=positive_float, default=TrafficModel.threads_per_hour,
                   help="new threads per hour in the simulated stream (default 600)")
    p.add_argument("--tool-tokens", type=int, default=0, metavar="N",
                   help="model the host's tool definitions at N tokens per tool, with and without filtering")
    p.add_argument("--no-cache-sim", action="store_true", help="skip the cache-aware cost simulation")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary table")
    p.set_defaults(func=cmd_ab_test)


def _arm(args: argparse.Namespace, name: str, library_cache: dict[str, ModuleLibrary]) -> Arm:
    settings = load_settings()
    directory = getattr(args, f"library_{name}") or settings.library_dir()
    key = str(Path(directory).resolve())
    if key not in library_cache:
        library_cache[key] = load_library(directory, settings.library_limits())
    settings = settings.model_copy(update={"fallback": getattr(args, f"fallback_{name}"),
                                           "router": getattr(args, f"router_{name}")})
    mode = getattr(args, f"mode_{name}")
    return Arm(name.upper(), PromptRouter(library_cache[key], settings=settings), mode == "dynamic")


def _line_count(paths: list[str]) -> int:
    total = 0
    for path in paths:
        try:
            with open(path, "rb") as handle:
                total += sum(1 for _ in handle)
        except OSError:
            pass  # read_cases reports it
    return total


def cmd_ab_test(args: argparse.Namespace) -> int:
    if not args.quiet:
        require_rich()
    libraries: dict[str, ModuleLibrary] = {}
    arm_a, arm_b = _arm(args, "a", libraries), _arm(args, "b", libraries)
    cases = read_cases(args.cases, {id(lib): lib for lib in (arm_a.router.library, arm_b.router.library)}.values())
    if args.quiet:
        run = run_ab(cases, arm_a, arm_b)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("replaying cases"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
            task = bar.add_task("cases", total=_line_count(args.cases))
            run = run_ab(cases, arm_a, arm_b, progress=lambda _case: bar.advance(task))
    traffic = TrafficModel(threads_per_hour=args.threads_per_hour, thread_lengths=tuple(args.thread_lengths),
                           tool_tokens_per_tool=args.tool_tokens)
    model = CostModel(args.price, args.requests_per_month, traffic, tuple(PROVIDERS[p] for p in args.providers))
    rows = {} if args.no_cache_sim else cache_report(run.sample.items, arm_a, arm_b, model)
    curve = recall_reduction_curve(run.sample.items, arm_a, arm_b)
    report = build_report(run, model, rows, list(args.cases), {"min_recall": args.min_recall, "min_reduction": args.min_reduction},
                          curve)
    paths = write_report(report, args.report_dir)
    if not args.quiet:
        print_summary(report)
    print("wrote " + ", ".join(map(str, paths)))
    if not report["gates"]["passed"]:
        for failure in report["gates"]["failures"]:
            print(f"gate failed: {failure}")
        return 1
    return 0
