"""The command line, in-process through `main(argv)` (and twice as a real console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from prompt_router import bundled_library_dir, load_library
from prompt_router.cli import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, main

from ..conftest import SMALL, write_library

LIBRARY = load_library(bundled_library_dir())

ROOT = Path(__file__).resolve().parents[2]
DATE = ["--var", "current_date=2026-11-22"]


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("PROMPT_ROUTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_route_json_has_the_documented_shape(capsys):
    code, out, _ = cli(capsys, "route", "--json", "plot sales.csv by month", *DATE)
    assert code == EXIT_OK
    data = json.loads(out)
    assert set(data) >= {"modules", "reasons", "fallback", "matched_triggers", "router", "library_version",
                         "tokens", "full_tokens", "prefix_tokens", "mode"}
    assert "data_processing" in data["modules"] and data["reasons"]["data_processing"].startswith("trigger")
    assert data["fallback"] is False and 0 < data["tokens"] < data["full_tokens"]


def test_route_stdin_one_json_object_per_line(capsys, monkeypatch):
    import io

    monkeypatch.setenv("PROMPT_ROUTER_ROUTER", "keyword")
    monkeypatch.setattr(sys, "stdin", io.StringIO("deploy the app\nhello\n\nemail my landlord\nwhat about that one\n"))
    code, out, _ = cli(capsys, "route", "--stdin")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == EXIT_OK and len(rows) == 5
    assert "deployment" in rows[0]["modules"] and "communication" in rows[3]["modules"]
    assert rows[1]["no_tools"] and rows[1]["small_talk"] and not rows[1]["fallback"]  # a greeting never falls back
    assert rows[4]["fallback"]


def test_route_human_output_names_modules_and_reasons(capsys):
    code, out, _ = cli(capsys, "route", "deploy the flask app", *DATE)
    assert code == EXIT_OK and "deployment" in out and "trigger 'deploy'" in out and "tokens" in out
    assert "router hybrid, mode dynamic" in out and "no tools needed" not in out


def test_route_human_output_says_why_no_tools_or_fallback(capsys, monkeypatch):
    code, out, _ = cli(capsys, "route", "thanks, that was great!", *DATE)
    assert code == EXIT_OK and "no tools needed: the message is small talk" in out and "fallback" not in out
    monkeypatch.setenv("PROMPT_ROUTER_ROUTER", "keyword")
    code, out, _ = cli(capsys, "route", "what do you reckon about that idea", *DATE)
    assert code == EXIT_OK and "router keyword" in out and "fallback: nothing placed the request" in out
    assert "every tool module is sent" in out


def test_a_mistyped_context_variable_is_an_error_unless_turned_off(capsys, monkeypatch):
    code, _, err = cli(capsys, "route", "deploy it", "--var", "workspace_rot=/srv", *DATE)
    assert code == EXIT_USAGE and "'workspace_rot' (did you mean 'workspace_root'?)" in err
    code, _, err = cli(capsys, "validate", "--var", "workspace_rot=/srv")
    assert code == EXIT_USAGE and "--var workspace_rot: the library declares no such variable" in err
    monkeypatch.setenv("PROMPT_ROUTER_STRICT_CONTEXT", "false")
    code, _, _ = cli(capsys, "route", "deploy it", "--var", "workspace_rot=/srv", *DATE)
    assert code == EXIT_OK


def test_every_option_of_every_command_has_help():
    import argparse

    from prompt_router.cli import parser

    root = parser()
    [commands] = [a for a in root._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) >= {"validate", "route", "build", "ab-test", "train", "init", "label"}
    missing = [f"{name} {'/'.join(action.option_strings) or action.dest}"
               for name, sub in commands.choices.items() for action in sub._actions
               if not isinstance(action, argparse._HelpAction) and not action.help]
    missing += ["--version"] if not any("--version" in a.option_strings and a.help for a in root._actions) else []
    assert missing == []


def test_build_prints_the_prompt_and_static_is_full(capsys):
    _, dynamic, _ = cli(capsys, "build", "deploy the app", *DATE)
    _, static, _ = cli(capsys, "build", "deploy the app", "--static", *DATE)
    _, routed, _ = cli(capsys, "route", "deploy the app", "--json")
    left_out = [m for m in LIBRARY.tool_ids if m not in json.loads(routed)["modules"]]
    assert "# Deployment" in dynamic and left_out  # the router sends a part of the library ...
    for module in left_out:  # ... and the built prompt holds exactly that part
        heading = LIBRARY[module].text.splitlines()[0]
        assert heading not in dynamic and heading in static
    assert len(static) > len(dynamic)


def test_validate_ok_and_broken(capsys, tmp_path):
    code, out, _ = cli(capsys, "validate")
    assert code == EXIT_OK and "data_processing" in out and "matches this library" in out
    broken = write_library(tmp_path / "lib", {**SMALL, "tools/bad.md": "---\ntrigers: [x]\n---\nText\n"})
    code, out, _ = cli(capsys, "validate", str(broken))
    assert code == EXIT_FAILED and "bad.md:2: trigers: unknown key" in out


def test_exit_codes_and_one_line_errors(capsys, tmp_path, monkeypatch):
    code, _, err = cli(capsys, "route", "hi", "--modules", str(tmp_path / "missing"))
    assert code == EXIT_FAILED and "does not exist" in err  # an invalid library is a validation failure
    code, _, err = cli(capsys, "route", "hi", "--encoding", "nope_base")
    assert code == EXIT_USAGE and err.count("\n") == 1 and "nope_base" in err
    code, _, err = cli(capsys, "route", "hi", "--var", "novalue")
    assert code == EXIT_USAGE and "NAME=VALUE" in err
    monkeypatch.setenv("PROMPT_ROUTER_HISTORY_TURNS", "many")
    code, _, err = cli(capsys, "route", "hi")
    assert code == EXIT_USAGE and "PROMPT_ROUTER_HISTORY_TURNS" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as info:
        main(["ab-test", "--cases", "x.jsonl", "--min-recall", "2"])
    assert info.value.code == EXIT_USAGE


def test_an_internal_error_is_exit_3_with_a_traceback(capsys, monkeypatch):
    from prompt_router.cli import library

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(library, "result_json", broken)
    code, _, err = cli(capsys, "route", "--json", "hi")
    assert code == EXIT_INTERNAL and "internal error" in err and "ZeroDivisionError" in err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.startswith("prompt-router ")
    for command in ("route", "build", "validate", "ab-test", "train"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "usage: prompt-router" in text


def _cases(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


CASES = [
    {"id": "a", "query": "plot sales.csv by month", "category": "data", "needs": ["data_processing"]},
    {"id": "b", "query": "deploy the flask app", "category": "ops", "needs": ["deployment"]},
    {"id": "c", "query": "thanks!", "category": "talk", "needs": []},
    {"id": "d", "query": "email the chart to my boss", "category": "mail", "needs": ["communication"],
     "history": ["plot sales.csv by month"]},
]


def test_ab_test_writes_reports_and_gates(capsys, tmp_path):
    cases = _cases(tmp_path / "cases.jsonl", CASES)
    out_dir = tmp_path / "report"
    code, out, _ = cli(capsys, "ab-test", "--cases", str(cases), "--report-dir", str(out_dir), "--quiet",
                       "--router-b", "keyword", "--thread-lengths", "1", "2", "--providers", "anthropic",
                       "--threads-per-hour", "600")
    assert code == EXIT_OK and "wrote" in out
    report = json.loads((out_dir / "report.json").read_text())
    assert report["schema"] == "prompt-router.ab-report/2" and report["overall"]["cases"] == 4
    assert {r["provider"] for r in report["cost"]["rows"]} == {"anthropic"} and report["verdict"]["money"]
    assert (out_dir / "report.html").read_text().startswith("<!doctype html>")
    code, out, _ = cli(capsys, "ab-test", "--cases", str(cases), "--report-dir", str(out_dir), "--quiet",
                       "--no-cache-sim", "--min-reduction", "0.99")
    assert code == EXIT_FAILED and "gate failed: mean token reduction" in out


def test_train_writes_an_artefact_in_process(capsys, tmp_path):
    from prompt_router import load_library
    from prompt_router.routing import LearnedModel

    rows = [json.loads(line) for line in (ROOT / "ab_tests" / "cases.jsonl").read_text().splitlines()][::5]
    cases = _cases(tmp_path / "c.jsonl", rows)
    out = tmp_path / "model.json"
    code, text, _ = cli(capsys, "train", "--cases", str(cases), "--out", str(out), "--folds", "2", "--target-recall", "0.9")
    assert code == EXIT_OK and "hybrid   recall" in text
    library = load_library(ROOT / "modules")
    assert LearnedModel.load(out, library.version).info["cases"] == len(rows)
    code, _, err = cli(capsys, "train", "--cases", str(cases), "--folds", "1")
    assert code == EXIT_USAGE and "--folds" in err


# --- as a user runs it: the installed console script --------------------------------------------------


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("prompt-router")
    return subprocess.run([str(script), *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if not k.startswith("PROMPT_ROUTER_")})


def test_console_script_routes_and_reports_errors():
    proc = run("route", "--json", "plot sales.csv by month", *DATE)
    assert proc.returncode == 0, proc.stderr
    assert "data_processing" in json.loads(proc.stdout)["modules"]
    proc = run("route", "hi", "--encoding", "nope_base")
    assert proc.returncode == EXIT_USAGE and "Traceback" not in proc.stderr


def test_module_entry_point_reads_stdin():
    proc = subprocess.run([sys.executable, "-m", "prompt_router.cli", "route", "--stdin"], input="deploy it\n",
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "deployment" in json.loads(proc.stdout)["modules"]


def test_plan_writes_a_plan_auto_serves_and_checks_it(capsys, tmp_path):
    from prompt_router import load_library
    from prompt_router.integration.plan import DeliveryPlan

    rows = [json.loads(line) for line in (ROOT / "ab_tests" / "cases.jsonl").read_text().splitlines()][::4]
    cases = _cases(tmp_path / "c.jsonl", rows)
    out, grid, checked_rows = tmp_path / "plan.json", tmp_path / "grid.json", tmp_path / "checked.json"
    args = ("--cases", str(cases), "--providers", "anthropic", "none", "--rates", "600", "--requests", "60",
            "--threads", "8")
    code, text, _ = cli(capsys, "plan", *args, "--out", str(out), "--rows", str(grid))
    assert code == EXIT_OK, text
    plan = DeliveryPlan.load(out, load_library(ROOT / "modules").version)
    assert {c.provider for c in plan.cells} == {"anthropic", "none"} and plan.bundles and f"wrote {out}" in text
    simulated = json.loads(grid.read_text())
    assert {r["threads_per_hour"] for r in simulated} == {200.0, 600.0, 1800.0}  # the grid, a third below and 3x above
    assert {r["policy"] for r in simulated} == {"static", "per_request", "sticky", "bundles", "catalogue"}
    # --verify serves auto from the plan on every simulated scenario, without making a plan
    before = out.read_bytes()
    code, text, _ = cli(capsys, "plan", *args, "--verify", str(out), "--rows", str(checked_rows))
    assert code == EXIT_OK, text
    assert "auto in" in text and "worst" in text and "wrote" not in text and out.read_bytes() == before
    checked = json.loads(checked_rows.read_text())
    assert {r["policy"] for r in checked} == {"auto"} and len(checked) == len(simulated) // 5
    assert all(r["saving_vs_static"] >= -0.005 for r in checked)
    # a plan made for another version of the library is refused
    stale = tmp_path / "stale.json"
    stale.write_text(before.decode().replace(plan.library_version, "0" * len(plan.library_version)))
    code, _, err = cli(capsys, "plan", *args, "--verify", str(stale))
    assert code == EXIT_USAGE and "stale" in err and str(stale) in err
