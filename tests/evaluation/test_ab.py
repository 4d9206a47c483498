"""The A/B harness: case files, metrics, the command line with its cost model, reports and gates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prompt_router import CaseFileError, PromptRouter, RouterSettings
from prompt_router.evaluation import Arm, read_cases, run_ab
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


# --- command line -----------------------------------------------------------------------------


def _ab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "prompt_router.cli", "ab-test", *args],
                          capture_output=True, text=True, timeout=300)


ROW_FIELDS = {"provider", "threads_per_hour", "profile", "thread_turns", "tool_steps", "policy", "requests",
              "tokens_per_request", "cost_per_request", "relative_cost", "cache_read_share", "cache_write_share",
              "saving_vs_static", "ceiling_saving", "ceiling_share", "token_saving_vs_static", "usd_per_month",
              "usd_saving_per_month"}


def test_ab_test_writes_reports_with_the_cost_model_and_enforces_gates(tmp_path):
    library = write_library(tmp_path / "lib", SMALL)
    cases = write_cases(tmp_path / "c.jsonl", [
        case("1", "plot the revenue", ["charts"], "data"),
        case("2", "deploy the site", ["deploy"], "ops"),
        case("3", "hello", [], "chat"),
    ])
    out = tmp_path / "report"
    ok = _ab("--cases", str(cases), "--library-a", str(library), "--library-b", str(library), "--report-dir", str(out),
             "--min-recall", "1.0", "--quiet", "--providers", "anthropic", "openai", "none", "--thread-lengths", "1", "2x1",
             "--threads-per-hour", "60", "6000")
    assert ok.returncode == 0, ok.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["schema"] == "prompt-router.ab-report/2" and report["gates"]["passed"]
    assert set(report["by_category"]) == {"data", "ops", "chat"}
    cost = report["cost"]
    policies = cost["policies"]
    assert policies[0] == "static" and {"per_request", "sticky"} <= set(policies)
    # one row per provider x rate x profile x policy ("openai" is GPT-4o-era caching by its pricing name)
    assert {(r["provider"], r["threads_per_hour"], r["profile"], r["policy"]) for r in cost["rows"]} == {
        (p, rate, profile, policy) for p in ("anthropic", "openai-4o", "none") for rate in (60.0, 6000.0)
        for profile in ("1 turn", "2 turns, 1 tool steps") for policy in policies}
    assert all(set(r) == ROW_FIELDS for r in cost["rows"])
    assert [p["name"] for p in cost["grid"]["profiles"]] == ["1 turn", "2 turns, 1 tool steps"]
    assert cost["grid"]["profiles"][1]["tool_steps"] == 1 and cost["grid"]["threads_per_hour"] == [60.0, 6000.0]
    assert list(cost["providers"]) == ["anthropic", "openai-4o", "none"]
    for summary in cost["providers"].values():
        assert set(summary["policies"]) == set(policies) - {"static"} and summary["outcome"] in ("saves", "mixed", "costs more")
    assert [m["provider"] for m in report["verdict"]["money"]] == ["anthropic", "openai-4o", "none"]
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 4 and "http://" not in html and "https://" not in html
    assert "## Recall by module (B)" in (out / "report.md").read_text()

    failing = _ab("--cases", str(cases), "--library-b", str(library), "--library-a", str(library),
                  "--report-dir", str(out), "--min-reduction", "0.99", "--quiet", "--no-cache-sim")
    assert failing.returncode == 1
    assert "gate failed: mean token reduction" in failing.stdout and "--min-reduction 0.99" in failing.stdout
    assert json.loads((out / "report.json").read_text())["cost"] is None  # the old flag name still skips the model


def test_gate_each_applies_the_gates_to_every_case_file(tmp_path, capsys):
    from prompt_router.cli import main

    library = write_library(tmp_path / "lib", SMALL)
    good = write_cases(tmp_path / "good.jsonl", [case(str(i), "plot the revenue", ["charts"]) for i in range(9)])
    bad = write_cases(tmp_path / "bad.jsonl", [case("b", "plot it and ship it", ["charts", "deploy"])])
    common = ["ab-test", "--cases", str(good), str(bad), "--library-a", str(library), "--library-b", str(library), "--quiet",
              "--no-cost-model", "--min-recall", "0.85", "--report-dir"]
    assert main([*common, str(tmp_path / "r1")]) == 0, capsys.readouterr()  # 9 of 10 cases pass: 90% overall
    capsys.readouterr()
    assert main([*common, str(tmp_path / "r2"), "--gate-each"]) == 1
    out = capsys.readouterr().out
    assert f"gate failed: recall 0.0000 is below --min-recall 0.85 (arm B, case file {bad})" in out
    assert "good.jsonl" not in out
    gates = json.loads((tmp_path / "r2" / "report.json").read_text())["gates"]
    assert gates["each_file"] and [(c["scope"], c["passed"]) for c in gates["checks"]] == [
        ("all cases", True), (str(good), True), (str(bad), False)]


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


def test_with_a_plan_next_to_the_library_the_cost_model_serves_auto_and_gates_it(tmp_path, capsys, monkeypatch):
    from prompt_router import load_library
    from prompt_router.cli import main
    from prompt_router.integration import DeliveryPlan, PlanCell

    monkeypatch.chdir(tmp_path)  # no stray .env

    def ab(*argv: str) -> tuple[int, str, str]:  # in process: main(argv) as the command runs it
        code = main(["ab-test", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    library = write_library(tmp_path / "lib", SMALL)
    version = load_library(library).version
    cases = write_cases(tmp_path / "c.jsonl", [case("1", "plot the revenue", ["charts"], "data"),
                                              case("2", "deploy the site", ["deploy"], "ops")])
    args = ("--cases", str(cases), "--library-a", str(library), "--library-b", str(library), "--quiet",
            "--providers", "anthropic", "none", "--thread-lengths", "1", "--threads-per-hour", "60")

    def run_with(anthropic_best: str) -> tuple[tuple[int, str, str], dict]:
        cells = (PlanCell("anthropic", 60.0, 1.0, 0.0, anthropic_best, {"static": 0.0, anthropic_best: 0.5}),
                 PlanCell("none", 60.0, 1.0, 0.0, "per_request", {"static": 0.0, "per_request": 0.3}))
        (library / "delivery_plan.json").write_text(DeliveryPlan(version, (), cells).to_json())
        out = tmp_path / anthropic_best
        return ab(*args, "--report-dir", str(out)), json.loads((out / "report.json").read_text())

    (code, out, err), report = run_with("static")  # a plan that serves the full prompt where routing does not pay
    assert code == 0, out + err
    auto = {r["provider"]: r for r in report["cost"]["rows"] if r["policy"] == "auto"}
    per_request = next(r for r in report["cost"]["rows"] if r["provider"] == "none" and r["policy"] == "per_request")
    assert auto["anthropic"]["saving_vs_static"] == 0.0 and auto["none"]["saving_vs_static"] == per_request["saving_vs_static"] > 0
    assert "auto" in report["cost"]["policies"] and report["gates"]["checks"][0]["scope"] == "cost model"
    # a plan that claims the catalogue saves on a library smaller than its overhead: auto loses, the gate says where
    (code, out, _), report = run_with("catalogue")
    assert code == 1 and "gate failed: anthropic at 60 threads/h, 1 turn: auto costs" in out
    (library / "delivery_plan.json").write_text(DeliveryPlan("0" * 16, (), ()).to_json())
    code, _, err = ab(*args, "--report-dir", str(tmp_path / "stale"))
    assert code == 0 and "stale" in err and "leaves the auto policy out" in err
