"""The console script, run as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from .conftest import SMALL, write_library


def run(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prompt_router.cli", *args],
        input=stdin, capture_output=True, text=True, timeout=60, env={**os.environ, **env},
    )


def test_route_json_has_the_documented_shape():
    proc = run("route", "--json", "plot sales.csv by month", "--var", "current_date=2026-11-22")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {"modules", "reasons", "fallback", "tokens", "full_tokens"} <= data.keys()
    assert "data_processing" in data["modules"] and data["reasons"]["data_processing"].startswith("trigger")
    assert data["fallback"] is False and 0 < data["tokens"] < data["full_tokens"]


def test_route_stdin_one_json_object_per_line():
    proc = run("route", "--stdin", stdin="deploy the app\nhello\n\nemail my landlord\n", PROMPT_ROUTER_ROUTER="keyword")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(rows) == 4
    assert "deployment" in rows[0]["modules"] and rows[1]["fallback"] and "communication" in rows[3]["modules"]


def test_build_prints_the_prompt_and_static_is_full():
    dynamic = run("build", "deploy the app", "--var", "current_date=2026-11-22")
    static = run("build", "deploy the app", "--static", "--var", "current_date=2026-11-22")
    assert dynamic.returncode == static.returncode == 0
    assert "# Deployment" in dynamic.stdout and "# Image generation" not in dynamic.stdout
    assert "# Image generation" in static.stdout and len(static.stdout) > len(dynamic.stdout)


def test_validate_ok_and_broken(tmp_path):
    ok = run("validate")
    assert ok.returncode == 0 and "data_processing" in ok.stdout
    broken = write_library(tmp_path / "lib", {**SMALL, "tools/bad.md": "---\ntrigers: [x]\n---\nText\n"})
    proc = run("validate", str(broken))
    assert proc.returncode == 1 and "bad.md:2: trigers: unknown key" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_errors_are_one_line_without_traceback(tmp_path):
    proc = run("route", "hi", "--modules", str(tmp_path / "missing"))
    assert proc.returncode == 1 and "does not exist" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("route", "hi", "--encoding", "nope_base")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "nope_base" in proc.stderr
    proc = run("route", "hi", "--var", "novalue")
    assert proc.returncode == 2 and "NAME=VALUE" in proc.stderr
