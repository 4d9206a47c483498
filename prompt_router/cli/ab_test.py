"""`prompt-router ab-test`: replay labelled cases through two configurations and report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..evaluation import (
    PROVIDERS,
    Arm,
    build_report,
    print_summary,
    read_cases,
    recall_reduction_curve,
    run_ab,
    write_report,
)
from ..evaluation.ab_costs import DEFAULT_PROFILES, RATES, ABCostSpec, profile, run_cost_model
from ..evaluation.cost_summary import cost_section
from ..evaluation.costs import Profile
from ..integration.plan import PLAN_NAME, DeliveryPlan
from ..library import ModuleLibrary, load_library
from ..pipeline import PromptRouter
from ._common import fraction, load_settings, positive_float, positive_int, require_rich

DEFAULT_PROVIDERS = ("anthropic", "openai-5", "openai-4o", "deepseek", "none")


def thread_profile(value: str) -> Profile:
    """argparse type: TURNS (a chat thread) or TURNSxSTEPS (an agent loop: STEPS tool steps
    after each user turn)."""
    turns, _, steps = value.lower().partition("x")
    try:
        shape = (int(turns), int(steps) if steps else 0)
    except ValueError:
        shape = (0, 0)
    if shape[0] < 1 or shape[1] < 0:
        raise argparse.ArgumentTypeError(f"must be TURNS or TURNSxSTEPS (e.g. 5 or 4x4) with at least 1 turn, got {value!r}")
    return profile(*shape)


def _profile_text(p: Profile) -> str:
    return f"{p.turns}x{p.tool_steps}" if p.tool_steps else str(p.turns)


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
    p.add_argument("--gate-each", action="store_true",
                   help="apply --min-recall and --min-reduction to every case file as well as to all cases together")
    p.add_argument("--price", type=positive_float, default=3.00,
                   help="USD per million base-price input tokens, for the dollar figures (default 3.00)")
    p.add_argument("--requests-per-month", type=positive_int, default=1_000_000,
                   help="requests per month the dollar figures are scaled to (default 1,000,000)")
    p.add_argument("--providers", nargs="+", choices=sorted(PROVIDERS), default=list(DEFAULT_PROVIDERS), metavar="NAME",
                   help=f"provider caching rules to bill under, from {', '.join(sorted(PROVIDERS))} "
                        f"(default: {' '.join(DEFAULT_PROVIDERS)})")
    p.add_argument("--thread-lengths", nargs="+", type=thread_profile, default=list(DEFAULT_PROFILES),
                   metavar="TURNS[xSTEPS]",
                   help="thread profiles of the cost model: user turns per thread, xSTEPS for an agent loop with STEPS "
                        f"tool steps per turn (default: {' '.join(_profile_text(p) for p in DEFAULT_PROFILES)})")
    p.add_argument("--threads-per-hour", nargs="+", type=positive_float, default=list(RATES), metavar="RATE",
                   help=f"traffic rates of the cost model, new threads per hour (default: {' '.join(f'{r:g}' for r in RATES)})")
    p.add_argument("--no-cost-model", "--no-cache-sim", dest="no_cost_model", action="store_true",
                   help="skip the cost model (money with provider caching); --no-cache-sim is its old name")
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


def _plan(args: argparse.Namespace, router: PromptRouter) -> DeliveryPlan | None:
    """Arm B's delivery plan when its library has a current one: the cost model then serves
    the plan's bundles and the auto policy, and the gate checks auto against static."""
    configured = router.settings.delivery_plan if not args.library_b else None
    path = configured or Path(router.library.root) / PLAN_NAME
    if not path.exists():
        return None
    try:
        return DeliveryPlan.load(path, router.library.version)
    except ModelError as exc:
        print(f"warning: {exc}; the cost model leaves the auto policy out", file=sys.stderr)
        return None


def _cost(args: argparse.Namespace, arm_b: Arm, cases: list[Any]) -> dict[str, Any]:
    """The cost model over arm B's router: each policy against B's own full prompt."""
    providers = tuple({PROVIDERS[name].name: PROVIDERS[name] for name in args.providers}.values())
    profiles = tuple({(p.turns, p.tool_steps): p for p in args.thread_lengths}.values())
    spec = ABCostSpec(providers, rates=tuple(dict.fromkeys(args.threads_per_hour)), profiles=profiles)
    plan = _plan(args, arm_b.router)
    if args.quiet:
        rows = run_cost_model(arm_b.router, cases, spec, plan=plan)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        cells = len(providers) * len(spec.rates) * len(profiles)
        with Progress(TextColumn("cost model     "), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as bar:
            task = bar.add_task("cells", total=cells)
            rows = run_cost_model(arm_b.router, cases, spec, progress=lambda _cell: bar.advance(task), plan=plan)
    grid = spec.describe(len(cases))
    if plan is not None:
        grid["policies"].append("auto")
    return cost_section(rows, providers, grid, args.price, args.requests_per_month)


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
    curve = recall_reduction_curve(run.sample.items, arm_a, arm_b)
    cost = None if args.no_cost_model else _cost(args, arm_b, run.sample.items)
    report = build_report(run, list(args.cases), {"min_recall": args.min_recall, "min_reduction": args.min_reduction,
                                                  "each_file": args.gate_each}, curve, cost)
    paths = write_report(report, args.report_dir)
    if not args.quiet:
        print_summary(report)
    print("wrote " + ", ".join(map(str, paths)))
    if not report["gates"]["passed"]:
        for failure in report["gates"]["failures"]:
            print(f"gate failed: {failure}")
        return 1
    return 0
