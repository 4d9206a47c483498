"""`prompt-router plan`: simulate every delivery policy over a grid of providers and traffic,
write the delivery plan `auto` serves, and check that auto never costs more than the full
prompt (on the grid and between its points)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..builder import PromptBuilder
from ..errors import UsageError
from ..evaluation import read_cases
from ..evaluation.costs import POLICIES, PROFILES, GridSpec, Profile, cost_grid, routed_module_sets
from ..evaluation.planning import auto_losses, fit_bundles, make_plan
from ..integration.plan import PLAN_NAME, DeliveryPlan
from ..integration.pricing import PROVIDERS
from ..pipeline import PromptRouter
from ..storage import write_atomic
from ..tokens import TokenCounter
from ._common import load_settings, positive_float, positive_int

DEFAULT_PROVIDERS = ("anthropic", "anthropic-1h", "anthropic-opus-5.5", "openai-4o", "openai-4.1", "openai-5",
                     "openai-5.6", "deepseek", "none")
# Thread shapes between the grid's, where auto serves the nearest cell's choice.
BETWEEN_PROFILES = (Profile("3 turns", 3), Profile("10 turns", 10), Profile("agent loop 2x2", 2, tool_steps=2))
BEYOND = 3.0  # the plan also simulates traffic this factor below and above its grid's rates


def register(sub: Any) -> None:
    p = sub.add_parser("plan", help="simulate the delivery policies and write the plan the auto policy serves")
    p.add_argument("--cases", nargs="+", action="append", required=True, metavar="FILE",
                   help="labelled cases the simulated threads are built from (A/B format); repeat the option for "
                        "another traffic sample: a policy is chosen only where it saves under every sample")
    p.add_argument("--modules", metavar="DIR", help="library (default: the configured one)")
    p.add_argument("--out", metavar="FILE", help=f"where the plan goes (default: {PLAN_NAME} in the library)")
    p.add_argument("--providers", nargs="+", choices=sorted(PROVIDERS), default=list(DEFAULT_PROVIDERS),
                   help="pricing families simulated (default: all but the short alias 'openai')")
    p.add_argument("--rates", nargs="+", type=positive_float, default=[60.0, 600.0, 6000.0, 60000.0],
                   metavar="THREADS_PER_HOUR", help="new threads per hour simulated (default: 60 600 6000 60000)")
    p.add_argument("--requests", type=positive_int, default=2000, help="billed requests per scenario (default 2000)")
    p.add_argument("--threads", type=positive_int, default=200, help="distinct threads built from the cases (default 200)")
    p.add_argument("--check", action="store_true",
                   help="also serve auto on the grid and between its points; exit 1 if it ever costs more than static")
    p.add_argument("--verify", metavar="PLAN",
                   help="make no plan: check an existing one (auto on and between the grid's points; exit 1 if it "
                        "ever costs more than static)")
    p.add_argument("--rows", metavar="FILE", help="write every simulated row as JSON (for reports)")
    p.set_defaults(func=cmd_plan)


def cmd_plan(args: argparse.Namespace) -> int:
    settings = load_settings(modules_dir=Path(args.modules) if args.modules else None)
    router = PromptRouter.from_settings(settings)
    args.cleanup.append(router.close)
    samples = [(", ".join(files), list(read_cases(files, [router.library]))) for files in args.cases]
    if not all(cases for _, cases in samples):
        raise UsageError("no cases to build threads from")
    providers = tuple(PROVIDERS[name] for name in args.providers)
    grid_rates = tuple(sorted(set(args.rates)))
    # Every scenario auto may be served in: the grid, and the traffic between and just beyond
    # its points, which the plan charges to the cell the runtime would serve it from.
    rates = tuple(sorted({*grid_rates, *between_rates(grid_rates)}))
    profiles = (*PROFILES.values(), *BETWEEN_PROFILES)
    steps = len(profiles) * len(providers) * len(rates) * len(samples)
    rows: list[dict[str, Any]] = []
    if args.verify:
        plan = DeliveryPlan.load(args.verify, router.library.version)
    else:
        builder = PromptBuilder(router.library, TokenCounter(settings.encoding))
        every_case = [case for _, cases in samples for case in cases]
        bundles = fit_bundles(routed_module_sets(router, every_case), router.library, builder)
        spec = GridSpec(providers, rates=rates, profiles=profiles, threads=args.threads, measured_requests=args.requests)
        say = _progress(steps)
        for label, cases in samples:
            rows += [{**row, "traffic": label} for row in cost_grid(
                router, cases, spec, say, plan=DeliveryPlan(router.library.version, bundles, ()))]
        plan = make_plan(router.library, rows, bundles, rates=grid_rates,
                         shapes=[(p.turns, p.tool_steps) for p in PROFILES.values()])
        out = Path(args.out) if args.out else Path(router.library.root) / PLAN_NAME
        write_atomic(out, plan.to_json() + "\n")
        _summary(plan)
        print(f"wrote {out}")
    failures: list[str] = []
    if args.check or args.verify:
        check = GridSpec(providers, rates=rates, profiles=profiles, policies=(POLICIES["static"],), threads=args.threads,
                         measured_requests=args.requests)
        say = _progress(steps)
        checked: list[dict[str, Any]] = []
        for label, cases in samples:
            served = [{**r, "traffic": label} for r in cost_grid(router, cases, check, say, plan=plan, auto=True)
                      if r["policy"] == "auto"]
            failures += [f"{failure} (traffic from {label})" if len(samples) > 1 else failure
                         for failure in auto_losses(served)]
            checked += served
        rows += checked
        worst = min(checked, key=lambda r: r["saving_vs_static"])
        where = f", traffic from {worst['traffic']}" if len(samples) > 1 else ""
        print(f"auto in {len(checked)} scenarios: worst {worst['saving_vs_static']:+.1%} against static "
              f"({worst['provider']}, {worst['threads_per_hour']:g} threads/h, {worst['profile']}{where})")
    if args.rows:
        write_atomic(Path(args.rows), json.dumps(rows, indent=1) + "\n")
    for failure in failures:
        print(f"gate failed: {failure}")
    return 1 if failures else 0


def between_rates(rates: tuple[float, ...]) -> tuple[float, ...]:
    """The geometric midpoints of consecutive grid rates, and `BEYOND` times below the lowest
    and above the highest, to two significant figures (60, 600 -> 20, 190, 1800)."""
    points = [rates[0] / BEYOND, *(math.sqrt(a * b) for a, b in zip(rates, rates[1:])), rates[-1] * BEYOND]
    return tuple(float(f"{p:.2g}") for p in points)


def _progress(total: int) -> Any:
    done = [0]

    def say(step: str) -> None:
        done[0] += 1
        print(f"\r[{done[0]}/{total}] {step:60}", end="" if done[0] < total else "\n", file=sys.stderr, flush=True)

    return say


def _summary(plan: DeliveryPlan) -> None:
    print("bundles: " + " < ".join("[" + ", ".join(b) + "]" for b in plan.bundles))
    by_provider: dict[str, list[str]] = {}
    for cell in plan.cells:
        saving = cell.saving.get(cell.best, 0.0)
        by_provider.setdefault(cell.provider, []).append(
            f"{cell.threads_per_hour:g}/h {cell.thread_turns:g}t{f'+{cell.tool_steps:g}s' if cell.tool_steps else ''}: "
            f"{cell.best} {saving:+.0%}")
    for provider, cells in by_provider.items():
        print(f"{provider}: " + "; ".join(cells))
