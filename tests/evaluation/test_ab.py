"""The A/B harness: case files, metrics, the cache model, reports and gates."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prompt_router import CaseFileError, PromptRouter, RouterSettings
from prompt_router.evaluation import ANTHROPIC, OPENAI, Arm, CostModel, TrafficModel, read_cases, run_ab
from prompt_router.evaluation.cache_sim import Turn, simulate
from prompt_router.evaluation.cases import REPLAY_CONTEXT as CONTEXT
from prompt_router.evaluation.runner import Reservoir

from ..conftest import SMALL, write_library


def write_cases(path: Path, rows: list[dict | str]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def case(id_: str, query: str, needs: list[str], category: str = "misc", **extra) -> dict:
    return {"id": id_, "query": query, "category": category, "needs": needs, **extra}


# --- case files -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([case("a", "x", []), "{not json"], "cases.jsonl:2: invalid JSON"),
        ([{"id": "a", "query": "x", "needs": []}], "cases.jsonl:1: category: missing field"),
        ([case("a", "x", []), case("a", "y", [])], "cases.jsonl:2: id: duplicate id 'a' (first at"),
        ([case("a", "x", ["nope"])], "cases.jsonl:1: needs: 'nope' is not a tool module"),
        ([case("a", "x", ["identity"])], "needs: 'identity' is not a tool module"),
        ([case("a", "x", [], colour="red")], "cases.jsonl:1: colour: unknown field"),
        ([case("a", "x", "charts")], "cases.jsonl:1: needs: must be a list"),
        ([case("a", "x", [], history=[1])], "cases.jsonl:1: history: must be a list of strings"),
        (["[1, 2]"], "must be a JSON object"),
    ],
)
def test_malformed_case_files_name_file_line_and_field(tmp_path, small_library, rows, expected):
    path = write_cases(tmp_path / "cases.jsonl", rows)
    with pytest.raises(CaseFileError) as info:
        list(read_cases([path], [small_library]))
    assert expected in str(info.value)


def test_empty_and_missing_case_files(tmp_path, small_library):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n")
    with pytest.raises(CaseFileError, match="empty.jsonl: no cases"):
        list(read_cases([empty], [small_library]))
    with pytest.raises(CaseFileError, match="cannot read"):
        list(read_cases([tmp_path / "missing.jsonl"]))


def test_cases_stream_lazily_with_their_location(tmp_path):
    path = write_cases(tmp_path / "c.jsonl", [case("a", "x", []), "", case("b", "y", [], history=["h"])])
    stream = read_cases([path])
    first = next(stream)
    assert (first.id, first.line) == ("a", 1)
    second = next(stream)
    assert (second.id, second.line, second.history) == ("b", 3, ("h",))


def test_bundled_case_sets_are_valid_and_large_enough(bundled):
    root = Path(__file__).resolve().parents[2] / "ab_tests"
    dev = list(read_cases([root / "cases.jsonl"], [bundled]))
    heldout = list(read_cases([root / "heldout.jsonl"], [bundled]))
    assert len(dev) >= 300 and len(heldout) >= 100
    assert {c.id for c in dev}.isdisjoint(c.id for c in heldout)
    for cases in (dev, heldout):
        needed = {m for c in cases for m in c.needs}
        assert needed == set(bundled.tool_ids) - {"toolkit"}  # every capability is exercised
        assert any(not c.needs for c in cases) and any(c.history for c in cases)
        assert any(len(c.needs) >= 2 for c in cases) and any(len(c.query) > 300 for c in cases)


# --- metrics ----------------------------------------------------------------------------------


def _arms(library, fallback="all"):
    settings = RouterSettings(_env_file=None, fallback=fallback)
    return (Arm("A", PromptRouter(library, settings=settings), dynamic=False),
            Arm("B", PromptRouter(library, settings=settings), dynamic=True))


def test_recall_reduction_and_failures_are_computed_exactly(tmp_path, small_library):
    path = write_cases(tmp_path / "c.jsonl", [
        case("hit", "plot the revenue", ["charts"], "data"),
        case("miss", "plot the revenue and ship it", ["charts", "deploy"], "data"),
        case("chat", "hello there", [], "chat"),
    ])
    arm_a, arm_b = _arms(small_library)
    run = run_ab(read_cases([path], [small_library]), arm_a, arm_b)
    summary = run.overall.summary()
    builder = arm_b.router.builder
    full = builder.full(CONTEXT).tokens
    charts = arm_b.router.system_prompt("plot the revenue", context=CONTEXT).prompt.tokens
    assert summary["cases"] == 3
    assert summary["a"]["recall"] == 1.0 and summary["b"]["recall"] == pytest.approx(2 / 3)
    assert summary["b"]["fallback_rate"] == pytest.approx(1 / 3)
    # the fallback case gets the full prompt (no reduction); the two chart cases the charts prompt
    assert summary["reduction_mean"] == pytest.approx(2 * (1 - charts / full) / 3, abs=1e-3)
    assert summary["tokens_saved_per_request"] == pytest.approx(2 * (full - charts) / 3)
    assert run.by_category["chat"].summary()["b"]["recall"] == 1.0
    assert run.modules_b["deploy"].needed == 1 and run.modules_b["deploy"].selected_when_needed == 0
    assert run.modules_b["charts"].selected_when_needed == 2
    [failure] = run.failures
    assert failure["id"] == "miss" and failure["missing"] == ["deploy"] and failure["where"].endswith("c.jsonl:2")
    assert failure["why"]["charts"] == "trigger 'plot'"
    # the fallback case wastes every unneeded tool module's tokens
    chat = run.by_category["chat"].summary()["b"]
    assert chat["wasted_tokens_mean"] == sum(builder.module_tokens(m, CONTEXT) for m in small_library.tool_ids)


def test_history_counts_for_follow_ups(tmp_path, small_library):
    path = write_cases(tmp_path / "c.jsonl", [case("f", "now for March", ["charts"], history=["make a bar graph"])])
    arm_a, arm_b = _arms(small_library, fallback="core")
    assert run_ab(read_cases([path]), arm_a, arm_b).overall.summary()["b"]["recall"] == 1.0


def test_reservoir_is_bounded_and_uniform():
    reservoir = Reservoir(100, seed=1)
    for i in range(100_000):
        reservoir.add(i)
    assert len(reservoir.items) == 100 and reservoir.seen == 100_000
    assert 30_000 < sum(reservoir.items) / 100 < 70_000  # a uniform sample's mean


# --- cache model ------------------------------------------------------------------------------


def _turn(system: int, key: str, prefix: int = 1500) -> Turn:
    return Turn(system, prefix, ("v", key), ("v", "core"))


def test_a_repeated_prompt_is_read_from_cache():
    model = CostModel(traffic=TrafficModel(threads_per_hour=3600, user_tokens=50))
    threads = [[_turn(8000, "all")] for _ in range(100)]
    bill = simulate(threads, ANTHROPIC, model)
    # first request writes 8,050 tokens; the other 99 read 8,000 and write 50
    assert bill.read_tokens == 99 * 8000
    assert bill.cost_units == pytest.approx(8050 * 1.25 + 99 * (8000 * 0.1 + 50 * 1.25))


def test_a_changed_system_prompt_invalidates_the_conversation():
    model = CostModel(traffic=TrafficModel(threads_per_hour=1, turn_tokens=1000, user_tokens=0, turn_gap_seconds=10))
    stable = simulate([[_turn(3000, "x"), _turn(3000, "x")]], ANTHROPIC, model)
    changing = simulate([[_turn(3000, "x"), _turn(3000, "y")]], ANTHROPIC, model)
    assert stable.read_tokens == 3000  # turn 2 reuses turn 1's whole prompt
    assert changing.read_tokens == 1500  # only the core prefix survives the change
    assert changing.cost_units > stable.cost_units


def test_cache_entries_expire_and_small_prompts_are_not_cached():
    slow = CostModel(traffic=TrafficModel(threads_per_hour=0.001, user_tokens=0))  # ~6 weeks apart >> 5 min TTL
    bill = simulate([[_turn(8000, "all")] for _ in range(20)], ANTHROPIC, slow)
    assert bill.read_tokens == 0 and bill.write_tokens == 20 * 8000
    tiny = simulate([[_turn(900, "s", prefix=500)] for _ in range(20)], OPENAI, CostModel())
    assert tiny.read_tokens == 0 and tiny.cost_units == tiny.uncached_tokens


def test_openai_caches_in_128_token_steps_without_write_premium():
    model = CostModel(traffic=TrafficModel(threads_per_hour=3600, user_tokens=0))
    bill = simulate([[_turn(2000, "s", prefix=1100)] for _ in range(2)], OPENAI, model)
    assert bill.read_tokens == 1920 and bill.write_tokens == 0  # 2,000 rounded down to 15 x 128


# --- command line -----------------------------------------------------------------------------


def _ab(*args: str) -> subprocess.CompletedProcess[str]:
    # The cache simulation serves the dynamic arm through ConversationRouter with the arm's
    # settings: pinned to sticky routing, which these reports describe.
    env = {**os.environ, "PROMPT_ROUTER_DELIVERY_POLICY": "sticky"}
    return subprocess.run([sys.executable, "-m", "prompt_router.cli", "ab-test", *args],
                          capture_output=True, text=True, timeout=300, env=env)


def test_ab_test_writes_reports_and_enforces_gates(tmp_path):
    library = write_library(tmp_path / "lib", SMALL)
    cases = write_cases(tmp_path / "c.jsonl", [
        case("1", "plot the revenue", ["charts"], "data"),
        case("2", "deploy the site", ["deploy"], "ops"),
        case("3", "hello", [], "chat"),
    ])
    out = tmp_path / "report"
    ok = _ab("--cases", str(cases), "--library-a", str(library), "--library-b", str(library),
             "--report-dir", str(out), "--min-recall", "1.0", "--quiet", "--thread-lengths", "1", "2")
    assert ok.returncode == 0, ok.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "prompt-router.ab-report/1" and report["gates"]["passed"]
    assert set(report["by_category"]) == {"data", "ops", "chat"}
    assert {r["provider"] for r in report["cache"]["scenarios"]} == {"anthropic", "openai-4o"}
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4 and "http://" not in html and "https://" not in html
    assert "## Recall by module (B)" in (out / "report.md").read_text()

    failing = _ab("--cases", str(cases), "--library-b", str(library), "--library-a", str(library),
                  "--report-dir", str(out), "--min-reduction", "0.99", "--quiet", "--no-cache-sim")
    assert failing.returncode == 1
    assert "gate failed: mean token reduction" in failing.stdout and "--min-reduction 0.99" in failing.stdout


def test_ab_test_compares_two_libraries(tmp_path):
    before = write_library(tmp_path / "before", SMALL)
    after = write_library(tmp_path / "after", {**SMALL, "tools/charts.md": "---\nrequires: [toolkit]\ntriggers: [chart]\n---\nCharts.\n"})
    cases = write_cases(tmp_path / "c.jsonl", [case("1", "plot the revenue", ["charts"])])
    proc = _ab("--cases", str(cases), "--library-a", str(before), "--mode-a", "dynamic", "--library-b", str(after),
               "--report-dir", str(tmp_path / "r"), "--quiet", "--no-cache-sim", "--fallback-b", "core")
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["arms"]["a"]["library_version"] != report["arms"]["b"]["library_version"]
    assert report["overall"]["a"]["recall"] == 1.0 and report["overall"]["b"]["recall"] == 0.0


def test_ab_test_bad_input_is_one_clear_error(tmp_path):
    bad = write_cases(tmp_path / "c.jsonl", ["{oops"])
    proc = _ab("--cases", str(bad), "--quiet")
    assert proc.returncode == 2 and "c.jsonl:1: invalid JSON" in proc.stderr and "Traceback" not in proc.stderr
    proc = _ab("--cases", str(bad), "--min-recall", "99")
    assert proc.returncode == 2 and "between 0 and 1" in proc.stderr


def test_a_changed_tool_list_invalidates_even_the_core_prefix():
    model = CostModel(traffic=TrafficModel(threads_per_hour=3600, user_tokens=0))
    same = [[Turn(3000, 1500, ("v", "x"), ("v", "core"), 4000, ("a", "b"))] for _ in range(2)]
    changed = [[Turn(3000, 1500, ("v", "x"), ("v", "core"), 4000, tools)] for tools in (("a", "b"), ("a", "c"))]
    assert simulate(same, ANTHROPIC, model).read_tokens == 7000  # tools + system reused
    assert simulate(changed, ANTHROPIC, model).read_tokens == 0  # nothing behind the changed tools survives


def test_tool_filtering_rows_appear_when_tools_are_modelled(tmp_path):
    cases = write_cases(tmp_path / "c.jsonl", [case(str(i), q, []) for i, q in enumerate(["chart it", "email bob", "hi"])])
    out = tmp_path / "r"
    proc = _ab("--cases", str(cases), "--report-dir", str(out), "--quiet", "--tool-tokens", "300", "--thread-lengths", "1",
               "--providers", "openai")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads((out / "report.json").read_text())["cache"]["scenarios"]
    assert {r["filter_tools"] for r in rows} == {False, True}
    unfiltered, filtered = sorted(rows, key=lambda r: r["filter_tools"])
    assert filtered["b"]["tokens_per_request"] < unfiltered["b"]["tokens_per_request"]
