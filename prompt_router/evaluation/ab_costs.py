"""The cost model as `prompt-router ab-test` runs it: `costs.cost_grid` over the providers,
traffic rates and thread profiles asked for, with fewer distinct threads than a delivery plan
uses (a replay of the bundled case sets takes about two minutes) but as many billed requests
per cell: with 500, one cell's saving moved by ±2 points between seeds, enough to flip auto's
gate against static.

The model reuses its distinct threads cyclically. With too few of them a thread comes round
again before its cache entries expire, and every prompt looks warm at low traffic (a routed
prompt then seems as cheap as the full one). So the budget is in *served requests* per
profile: one-turn threads are cheap and get many distinct threads (up to one per case), long
threads get fewer, never below `min_threads`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..integration.plan import DeliveryPlan
from ..integration.pricing import CachePricing
from ..pipeline import PromptRouter
from .cases import Case
from .costs import POLICIES, PROFILES, GridSpec, Policy, Profile, cost_grid

RATES: tuple[float, ...] = (60.0, 600.0, 6000.0, 60000.0)


def profile(turns: int, tool_steps: int = 0) -> Profile:
    """The thread profile of `turns` user turns with `tool_steps` tool-loop steps after each:
    the cost model's own profile of that shape when it has one (its name and timings)."""
    for known in PROFILES.values():
        if (known.turns, known.tool_steps) == (turns, tool_steps):
            return known
    name = f"{turns} turn{'s' if turns != 1 else ''}"
    return Profile(f"{name}, {tool_steps} tool steps" if tool_steps else name, turns, tool_steps=tool_steps)


DEFAULT_PROFILES: tuple[Profile, ...] = tuple(PROFILES.values())


@dataclass(frozen=True)
class ABCostSpec:
    """What the A/B command simulates, and how much of it."""

    providers: tuple[CachePricing, ...]
    rates: tuple[float, ...] = RATES
    profiles: tuple[Profile, ...] = DEFAULT_PROFILES
    policies: tuple[Policy, ...] = tuple(POLICIES.values())
    served_requests: int = 1000  # distinct requests served per profile, provider and policy
    min_threads: int = 100
    measured_requests: int = 2000  # billed per cell, after warm-up (as many as a delivery plan bills)
    seed: int = 1234

    def threads(self, profile: Profile, cases: int) -> int:
        """Distinct threads for `profile`: the request budget, at least `min_threads`, at most
        one per case (more would repeat the same threads)."""
        per_thread = profile.turns * (profile.tool_steps + 1)
        return max(1, min(cases, max(self.min_threads, self.served_requests // per_thread)))

    def describe(self, cases: int) -> dict[str, Any]:
        """The parameters, for the report (every figure needed to reproduce the run)."""
        return {
            "providers": [{"name": p.name, "label": p.label, "caching": p.caching, "read": p.read, "write": p.write,
                           "ttl_seconds": p.ttl_seconds, "min_tokens": p.min_tokens, "source": p.source}
                          for p in self.providers],
            "threads_per_hour": list(self.rates),
            "profiles": [{"name": p.name, "turns": p.turns, "tool_steps": p.tool_steps,
                          "turn_gap_seconds": p.turn_gap_seconds, "tool_gap_seconds": p.tool_gap_seconds,
                          "reply_tokens": p.reply_tokens, "tool_result_tokens": p.tool_result_tokens,
                          "threads": self.threads(p, cases)} for p in self.profiles],
            "policies": [p.name for p in self.policies],
            "cases": cases,
            "measured_requests": self.measured_requests,
            "seed": self.seed,
        }


def run_cost_model(router: PromptRouter, cases: Sequence[Case], spec: ABCostSpec,
                   progress: Callable[[str], None] | None = None, *, plan: DeliveryPlan | None = None) -> list[dict[str, Any]]:
    """The grid's rows (see `costs.cost_grid`), profile by profile with each profile's own
    number of threads; with the library's delivery `plan`, its bundles and the auto policy
    served from it as well."""
    rows: list[dict[str, Any]] = []
    for thread_profile in spec.profiles:
        grid = GridSpec(spec.providers, rates=spec.rates, profiles=(thread_profile,), policies=spec.policies,
                        threads=spec.threads(thread_profile, len(cases)), measured_requests=spec.measured_requests,
                        seed=spec.seed)
        rows += cost_grid(router, cases, grid, progress, plan=plan, auto=plan is not None)
    return rows
