"""The delivery plan (`prompt-router plan`): nested module bundles fitted to the routed
traffic, and the cheapest delivery policy per simulated scenario (`integration/plan.py` has
the format and the runtime lookup)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..builder import PromptBuilder
from ..integration.plan import POLICIES, DeliveryPlan, PlanCell
from ..library import ModuleLibrary
from .cases import REPLAY_CONTEXT

MAX_BUNDLES = 3  # nested bundles before the full library
MARGIN = 0.03  # a policy must save at least this much (and around its cell) to replace static
AUTO_TOLERANCE = 0.005  # simulation noise allowed before auto counts as costing more than static


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
    n = len(order)
    prefix_tokens = [0] * (n + 1)
    for k, module in enumerate(order, 1):
        prefix_tokens[k] = prefix_tokens[k - 1] + size[module]
    # requests needing a prefix of length <= k, for every k: a request is served by the
    # smallest cut at or above its need, or by the full library past the last cut
    needing = [0] * (n + 1)
    for need, count in needed_prefix.items():
        needing[need] += count
    for k in range(1, n + 1):
        needing[k] += needing[k - 1]
    total = needing[n]

    # Dynamic programming over cut positions (O(max_bundles x n^2), exact): best[c] is the
    # cheapest (cost, cuts) of the requests needing at most c with the last cut at c. Ties go
    # to the lexicographically smallest cuts, as an exhaustive search in that order would.
    best: dict[int, tuple[int, tuple[int, ...]]] = {c: (needing[c] * prefix_tokens[c], (c,)) for c in range(1, n)}
    answer: tuple[int, tuple[int, ...]] | None = None
    for depth in range(1, max_bundles + 1):
        for c, (cost, cut_list) in best.items():
            candidate = (cost + (total - needing[c]) * full, cut_list)
            if answer is None or candidate < answer:
                answer = candidate
        if depth == max_bundles:
            break
        best = {c: min((cost + (needing[c] - needing[p]) * prefix_tokens[c], cut_list + (c,))
                       for p, (cost, cut_list) in best.items() if p < c)
                for c in range(depth + 1, n)}
    cuts = answer[1] if answer else ()
    return tuple(tuple(order[:k]) for k in cuts)


def make_plan(library: ModuleLibrary, rows: Sequence[Mapping[str, Any]], bundles: tuple[tuple[str, ...], ...],
              margin: float = MARGIN, *, rates: Iterable[float] | None = None,
              shapes: Iterable[tuple[float, float]] | None = None) -> DeliveryPlan:
    """A cell per grid scenario (its rate in `rates`, its (turns, tool steps) in `shapes`;
    default: every simulated scenario); rows of the same scenario from several traffic samples
    count by their worst. The runtime serves a cell to any traffic nearer to it
    than to another cell, so a cell's policy must save in the cell, in its grid neighbours
    (the next rate up and down, the next thread shape up and down, same provider) and in every
    other simulated scenario the lookup sends to it (the points between the grid's). The
    saving it keeps is the worst of those, and it must exceed `margin`; otherwise the cell
    serves static."""
    scenarios: dict[tuple[str, float, float, float], dict[str, float]] = {}
    for row in rows:
        if row.get("policy") not in POLICIES or row.get("saving_vs_static") is None:
            continue
        key = (row["provider"], float(row["threads_per_hour"]), float(row["thread_turns"]), float(row["tool_steps"]))
        savings = scenarios.setdefault(key, {})
        # several traffic samples of one scenario: the policy is judged by the worst of them
        savings[row["policy"]] = min(float(row["saving_vs_static"]), savings.get(row["policy"], math.inf))
    grid_rates = {float(r) for r in rates} if rates is not None else {k[1] for k in scenarios}
    grid_shapes = {(float(t), float(s)) for t, s in shapes} if shapes is not None else {(k[2], k[3]) for k in scenarios}
    grid = {k: v for k, v in scenarios.items() if k[1] in grid_rates and (k[2], k[3]) in grid_shapes}
    ordered_rates = sorted({k[1] for k in grid})
    ordered_shapes = sorted({(k[3], k[2]) for k in grid})  # (tool steps, turns): chats first, by length

    def neighbours(key: tuple[str, float, float, float]) -> list[dict[str, float]]:
        provider, rate, turns, steps = key
        found = [grid[key]]
        r = ordered_rates.index(rate)
        for other in ordered_rates[max(r - 1, 0): r + 2]:
            if (provider, other, turns, steps) in grid:
                found.append(grid[provider, other, turns, steps])
        same_kind = [s for s in ordered_shapes if (s[0] > 0) == (steps > 0)]
        i = same_kind.index((steps, turns))
        for other_steps, other_turns in same_kind[max(i - 1, 0): i + 2]:
            if (provider, rate, other_turns, other_steps) in grid:
                found.append(grid[provider, rate, other_turns, other_steps])
        return found

    def cell_at(key: tuple[str, float, float, float], savings: Mapping[str, float], best: str) -> PlanCell:
        provider, rate, turns, steps = key
        return PlanCell(provider, rate, turns, steps, best, savings)  # type: ignore[arg-type]

    # every scenario off the grid counts against the cell the runtime would serve it
    lookup = DeliveryPlan(library.version, bundles, tuple(cell_at(k, v, "static") for k, v in grid.items()))
    served_to: dict[tuple[str, float, float, float], list[dict[str, float]]] = {}
    for key, savings in scenarios.items():
        if key not in grid:
            nearest = lookup.cell(key[0], key[1], key[2], key[3])
            if nearest is not None:
                served_to.setdefault((nearest.provider, nearest.threads_per_hour, nearest.thread_turns,
                                      nearest.tool_steps), []).append(savings)

    cells = []
    for key, savings in sorted(grid.items()):
        around = neighbours(key) + served_to.get(key, [])
        robust = {p: min(s.get(p, -1.0) for s in around) for p in savings}
        best = max(sorted(robust), key=lambda p: robust[p])
        if best == "static" or robust[best] <= margin:
            best = "static"
        cells.append(cell_at(key, savings, best))
    return DeliveryPlan(library.version, bundles, tuple(cells))


def auto_losses(rows: Iterable[Mapping[str, Any]], tolerance: float = AUTO_TOLERANCE) -> list[str]:
    """Every simulated scenario where the auto policy cost more than static (the full prompt
    under the same caching), beyond `tolerance`: what `plan --check` and the A/B gate fail on."""
    return [f"{r['provider']} at {r['threads_per_hour']:g} threads/h, {r['profile']}: auto costs "
            f"{-r['saving_vs_static']:.1%} more than static"
            for r in rows if r.get("policy") == "auto" and r["saving_vs_static"] < -tolerance]
