"""The delivery plan (`prompt-router plan`): nested module bundles fitted to the routed
traffic, and the cheapest delivery policy per simulated scenario (`integration/plan.py` has
the format and the runtime lookup)."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..builder import PromptBuilder
from ..integration.plan import POLICIES, DeliveryPlan, PlanCell
from ..library import ModuleLibrary
from .cases import REPLAY_CONTEXT

MAX_BUNDLES = 3  # nested bundles before the full library
MARGIN = 0.02  # a policy must save at least this much (and around its cell) to replace static


def fit_bundles(module_sets: Iterable[frozenset[str]], library: ModuleLibrary, builder: PromptBuilder,
                max_bundles: int = MAX_BUNDLES) -> tuple[tuple[str, ...], ...]:
    """Nested bundles of tool modules, smallest first, each a prefix of one fixed order (the
    modules by how often the traffic needs them), cut where the expected system prompt is
    smallest when every request gets the smallest bundle that holds its modules (and the
    full library when none does). Deterministic: ties go to the library order."""
    sets = [frozenset(s) for s in module_sets]
    tools = list(library.tool_ids)
    counts = Counter(m for s in sets for m in s)
    order = sorted(tools, key=lambda m: (-counts[m], library.ids.index(m)))
    size = {m: builder.module_tokens(m, REPLAY_CONTEXT) for m in tools}
    full = sum(size.values())
    position = {m: i for i, m in enumerate(order)}
    needed_prefix = Counter(max((position[m] + 1 for m in s), default=0) for s in sets)

    def cost(cuts: Sequence[int]) -> float:
        prefix_tokens = [sum(size[m] for m in order[:k]) for k in cuts]
        total = 0.0
        for needed, n in needed_prefix.items():
            fitting = [t for k, t in zip(cuts, prefix_tokens) if k >= needed]
            total += n * (min(fitting) if fitting else full)
        return total

    best: tuple[float, tuple[int, ...]] | None = None
    for k in range(1, max_bundles + 1):
        for cuts in itertools.combinations(range(1, len(order)), k):
            candidate = (cost(cuts), cuts)
            if best is None or candidate < best:
                best = candidate
    cuts = best[1] if best else ()
    return tuple(tuple(order[:k]) for k in cuts)


def make_plan(library: ModuleLibrary, rows: Sequence[Mapping[str, Any]],
              bundles: tuple[tuple[str, ...], ...], margin: float = MARGIN) -> DeliveryPlan:
    """One cell per simulated scenario. A cell's policy must save in the cell *and* in its
    neighbours (the next rate up and down, the next thread length up and down, for the same
    provider): the runtime serves a cell to traffic anywhere near it, so a policy that saves
    only exactly at the grid point is not chosen. The saving it keeps is the worst of those,
    and it must exceed `margin`; otherwise the cell serves static."""
    scenarios: dict[tuple[str, float, float, float], dict[str, float]] = {}
    for row in rows:
        if row.get("policy") not in POLICIES or row.get("saving_vs_static") is None:
            continue
        key = (row["provider"], float(row["threads_per_hour"]), float(row["thread_turns"]), float(row["tool_steps"]))
        scenarios.setdefault(key, {})[row["policy"]] = float(row["saving_vs_static"])
    rates = sorted({k[1] for k in scenarios})
    shapes = sorted({(k[3], k[2]) for k in scenarios})  # (tool steps, turns): chats first, by length

    def neighbours(key: tuple[str, float, float, float]) -> list[dict[str, float]]:
        provider, rate, turns, steps = key
        found = [scenarios[key]]
        r = rates.index(rate)
        for other in rates[max(r - 1, 0): r + 2]:
            if (provider, other, turns, steps) in scenarios:
                found.append(scenarios[provider, other, turns, steps])
        same_kind = [s for s in shapes if (s[0] > 0) == (steps > 0)]
        i = same_kind.index((steps, turns))
        for other_steps, other_turns in same_kind[max(i - 1, 0): i + 2]:
            if (provider, rate, other_turns, other_steps) in scenarios:
                found.append(scenarios[provider, rate, other_turns, other_steps])
        return found

    cells = []
    for key, savings in sorted(scenarios.items()):
        around = neighbours(key)
        robust = {p: min(s.get(p, -1.0) for s in around) for p in savings}
        best = max(sorted(robust), key=lambda p: robust[p])
        if best == "static" or robust[best] <= margin:
            best = "static"
        provider, rate, turns, steps = key
        cells.append(PlanCell(provider, rate, turns, steps, best, savings))  # type: ignore[arg-type]
    return DeliveryPlan(library.version, bundles, tuple(cells))
