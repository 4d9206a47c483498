"""The cost model: requests as the provider formats send them, warm-up and sampling, the
ceiling, and the delivery plan built from the grid."""

from __future__ import annotations

from pathlib import Path

import pytest

from prompt_router import PromptRouter, RouterSettings, load_library
from prompt_router.builder import PromptBuilder
from prompt_router.evaluation import costs, read_cases
from prompt_router.evaluation.cases import Case
from prompt_router.evaluation.costs import POLICIES, PROFILES, GridSpec, cost_grid, make_threads, policy_stream, simulate
from prompt_router.evaluation.planning import fit_bundles, make_plan
from prompt_router.integration.pricing import ANTHROPIC, NO_CACHE, OPENAI_5
from prompt_router.library import bundled_library_dir
from prompt_router.tokens import TokenCounter

LIBRARY = load_library(bundled_library_dir())
ROUTER = PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, router="keyword"))
REAL = list(read_cases([Path(__file__).resolve().parents[2] / "ab_tests" / "cases.jsonl"], [LIBRARY]))
QUERIES = ["plot sales.csv by month", "deploy the flask app", "email the chart to the team", "search the news on the ECB",
           "write a poem about rust", "rename the files in my uploads", "draw a logo for my bakery", "thanks!"]
CASES = [Case(f"c{i}", q, f"cat{i % 3}", ()) for i, q in enumerate(QUERIES)]


def _stream(policy: str, provider, profile: str = "5 turns", threads: int = 12, cases=CASES):
    counter = TokenCounter()
    return policy_stream(ROUTER, POLICIES[policy], make_threads(cases, PROFILES[profile].turns, threads), PROFILES[profile],
                         provider, costs.MODELS[provider.name], counter, lambda case: 2500, seed=3)


def test_requests_carry_the_formats_cache_marks():
    [thread, *_] = _stream("sticky", ANTHROPIC)
    first, second = thread[0], thread[1]
    assert first.blocks[first.shared - 1].mark is not None  # the library's last block (routed modules)
    assert [b.mark for b in second.blocks[second.shared:]][-1] == "5m"  # the conversation breakpoint
    assert second.offset > first.offset and len(second.blocks) == len(first.blocks) + 2  # reply + new message
    [plain, *_] = _stream("sticky", OPENAI_5)
    assert all(b.mark is None for b in plain[1].blocks)  # automatic caching: nothing to mark


def test_without_caching_the_money_saving_is_the_token_saving():
    static = simulate(_stream("static", NO_CACHE), NO_CACHE, 600.0, measured_requests=300, seed=1)
    routed = simulate(_stream("per_request", NO_CACHE), NO_CACHE, 600.0, measured_requests=300, seed=1)
    assert static.bill.cost == static.bill.tokens and routed.bill.cost == routed.bill.tokens
    assert routed.bill.tokens / routed.bill.requests < static.bill.tokens / static.bill.requests


def test_caching_makes_the_full_prompt_cheap_and_bounds_every_policy_by_the_ceiling():
    assert len(REAL) >= 300  # real variety of module sets: the dev cases
    for policy in POLICIES:
        outcome = simulate(_stream(policy, ANTHROPIC, threads=60, cases=REAL), ANTHROPIC, 600.0, measured_requests=600,
                           seed=1)
        assert outcome.ceiling_cost <= outcome.bill.cost
        assert outcome.bill.read_tokens > 0 and outcome.bill.write_tokens > 0
        if policy == "static":
            assert outcome.bill.relative_cost < 0.5  # the full prompt is mostly read at 0.1x


def test_sampling_threads_keeps_the_bill(monkeypatch):
    stream = _stream("static", ANTHROPIC, profile="1 turn", threads=40)
    exact = simulate(stream, ANTHROPIC, 120.0, measured_requests=800, seed=5)
    monkeypatch.setattr(costs, "SIMULATED_THREADS_PER_HOUR", 12.0)  # simulate a tenth of the threads
    sampled = simulate(stream, ANTHROPIC, 120.0, measured_requests=800, seed=5)
    assert sampled.bill.relative_cost == pytest.approx(exact.bill.relative_cost, rel=0.15)


def test_grid_rows_and_the_plan_choose_static_where_nothing_saves():
    spec = GridSpec((ANTHROPIC, NO_CACHE), rates=(600.0,), profiles=(PROFILES["5 turns"],), threads=12,
                    measured_requests=200)
    rows = cost_grid(ROUTER, CASES, spec)
    assert {(r["provider"], r["policy"]) for r in rows} == {(p, q) for p in ("anthropic", "none") for q in POLICIES}
    static = [r for r in rows if r["policy"] == "static"]
    assert all(r["saving_vs_static"] == 0.0 for r in static)
    assert all(r["ceiling_saving"] >= r["saving_vs_static"] - 1e-9 for r in rows)
    plan = make_plan(LIBRARY, rows, ())
    by_provider = {c.provider: c for c in plan.cells}
    assert by_provider["none"].best == "per_request"  # no cache: the smallest prompt is the cheapest
    for cell in plan.cells:  # the best saving, or static when no policy saves
        best = max(cell.saving.values())
        assert cell.best == "static" if best <= 0 else cell.saving[cell.best] == best
    assert plan.library_version == LIBRARY.version
    loser = make_plan(LIBRARY, [{**r, "saving_vs_static": -0.5 if r["policy"] != "static" else 0.0} for r in rows], ())
    assert {c.best for c in loser.cells} == {"static"}


def test_bundles_are_nested_and_fitted_to_the_traffic():
    builder = PromptBuilder(LIBRARY, TokenCounter())
    sets = [frozenset({"web_search"})] * 50 + [frozenset({"web_search", "data_processing"})] * 20 + [frozenset({"deployment"})]
    bundles = fit_bundles(sets, LIBRARY, builder)
    assert bundles and bundles[0][0] == "web_search"
    assert all(larger[: len(smaller)] == smaller for smaller, larger in zip(bundles, bundles[1:]))
    assert fit_bundles(list(reversed(sets)), LIBRARY, builder) == bundles  # order of traffic does not matter


def test_the_plan_charges_traffic_between_grid_points_to_the_cell_that_serves_it():
    def row(rate, turns, policy, saving):
        return {"provider": "anthropic", "threads_per_hour": rate, "thread_turns": turns, "tool_steps": 0,
                "policy": policy, "saving_vs_static": saving}

    # sticky saves 30% at the grid point and loses 60% at a third of its rate, which the cell also serves
    rows = [row(600, 1, "static", 0.0), row(600, 1, "sticky", 0.3), row(200, 1, "static", 0.0), row(200, 1, "sticky", -0.6)]
    assert make_plan(LIBRARY, rows[:2], ()).cells[0].best == "sticky"  # the grid point alone
    grid = make_plan(LIBRARY, rows, (), rates=[600], shapes=[(1, 0)])
    [cell] = grid.cells
    assert (cell.threads_per_hour, cell.best) == (600.0, "static") and cell.saving["sticky"] == 0.3
    assert grid.cell("anthropic", 200, 1, 0) is cell
    # where the nearby traffic saves as well, the grid point keeps its policy
    rows[-1] = row(200, 1, "sticky", 0.1)
    assert make_plan(LIBRARY, rows, (), rates=[600], shapes=[(1, 0)]).cells[0].best == "sticky"


def test_several_traffic_samples_count_by_the_worst():
    def row(policy, saving, traffic):
        return {"provider": "anthropic", "threads_per_hour": 600, "thread_turns": 1, "tool_steps": 0,
                "policy": policy, "saving_vs_static": saving, "traffic": traffic}

    one = [row("static", 0.0, "dev"), row("bundles", 0.08, "dev")]
    assert make_plan(LIBRARY, one, ()).cells[0].best == "bundles"
    other = [row("static", 0.0, "corpus"), row("bundles", -0.02, "corpus")]
    [cell] = make_plan(LIBRARY, one + other, ()).cells
    assert cell.best == "static" and cell.saving["bundles"] == -0.02


def test_bundle_cuts_are_the_cheapest_of_every_possible_cut():
    import itertools
    import random
    from collections import Counter

    from prompt_router.evaluation.cases import REPLAY_CONTEXT

    builder = PromptBuilder(LIBRARY, TokenCounter())
    size = {m: builder.module_tokens(m, REPLAY_CONTEXT) for m in LIBRARY.tool_ids}
    rng = random.Random(7)
    for _ in range(40):
        sets = [frozenset(rng.sample(list(LIBRARY.tool_ids), rng.choice([0, 1, 1, 2, 3]))) for _ in range(30)]
        bundles = fit_bundles(sets, LIBRARY, builder)
        order = bundles[-1] if bundles else ()

        def cost(prefixes, sets=sets) -> int:  # the requests' system prompts: the smallest fitting bundle each
            fitting = [[sum(size[m] for m in p) for p in prefixes if s <= set(p)] for s in sets]
            return sum(min(f) if f else sum(size.values()) for f in fitting)

        counts = Counter(m for s in sets for m in s)
        full_order = sorted(LIBRARY.tool_ids, key=lambda m: (-counts[m], LIBRARY.ids.index(m)))
        assert order == tuple(full_order[: len(order)])  # prefixes of one order, most needed first
        best = min(cost([full_order[:k] for k in cuts]) for n in (1, 2, 3)
                   for cuts in itertools.combinations(range(1, len(full_order)), n))
        assert cost(bundles) == best
