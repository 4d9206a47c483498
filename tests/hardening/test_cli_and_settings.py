"""Bad settings, options, case files and input streams: one clear line and the documented exit
status, never a traceback or lost output (finding 10 and the settings/CLI items of issue 14)."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from prompt_router import CaseFileError, RouterSettings, SettingsError
from prompt_router.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from prompt_router.evaluation import read_cases

ROOT = Path(__file__).resolve().parents[2]


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


def _cases(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_route_stdin_keeps_every_line_around_invalid_utf8(capsys, monkeypatch):
    """Finding 10: under a strict UTF-8 locale, a traceback, and the valid lines before it lost."""
    monkeypatch.setenv("PROMPT_ROUTER_ROUTER", "keyword")
    stream = io.TextIOWrapper(io.BytesIO(b"plot csv\n\xff\ndeploy the app\n"), encoding="utf-8", errors="strict")
    monkeypatch.setattr(sys, "stdin", stream)
    code, out, err = cli(capsys, "route", "--stdin")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == EXIT_OK and len(rows) == 3
    assert "data_processing" in rows[0]["modules"] and "deployment" in rows[2]["modules"]
    assert err == ("prompt-router: stdin line 2: not valid UTF-8 (byte 0); "
                   "routed with the undecodable bytes replaced by U+FFFD\n")


@pytest.mark.parametrize("value", ["inf", "1e9", "nan", "-1"])
def test_telemetry_shutdown_timeout_is_bounded(value, capsys, monkeypatch):
    """`inf` gave an OverflowError at exit and `1e9` hung the exit."""
    monkeypatch.setenv("PROMPT_ROUTER_TELEMETRY_SHUTDOWN_TIMEOUT", value)
    code, _, err = cli(capsys, "route", "--json", "hi")
    assert code == EXIT_USAGE and err.count("\n") == 1
    assert err.startswith("prompt-router: invalid setting PROMPT_ROUTER_TELEMETRY_SHUTDOWN_TIMEOUT: ")


def test_a_dotenv_that_is_not_utf8_is_a_settings_error(tmp_path, capsys):
    (tmp_path / ".env").write_bytes(b"PROMPT_ROUTER_ROUTER=keyword\nPROMPT_ROUTER_SENTRY_ENVIRONMENT=caf\xe9\n")
    with pytest.raises(SettingsError, match=r"\.env is not valid UTF-8 \(byte 65\)"):
        RouterSettings()
    code, _, err = cli(capsys, "route", "hi")
    assert code == EXIT_USAGE and "not valid UTF-8" in err and "Traceback" not in err


@pytest.mark.parametrize("command", [
    ["ab-test", "--cases", "c.jsonl", "--quiet"],
    ["train", "--cases", "c.jsonl"],
    ["validate"],
    ["build", "hi"],
])
def test_bad_environment_values_are_one_line_errors_for_every_command(command, capsys, monkeypatch):
    monkeypatch.setenv("PROMPT_ROUTER_MAX_SCAN_CHARS", "lots")
    code, _, err = cli(capsys, *command)
    assert code == EXIT_USAGE and err.count("\n") == 1 and "PROMPT_ROUTER_MAX_SCAN_CHARS" in err


@pytest.mark.parametrize("option", [["--thread-lengths", "0"], ["--thread-lengths", "5", "0"], ["--thread-lengths", "4x-1"],
                                    ["--thread-lengths", "x4"], ["--threads-per-hour", "0"], ["--threads-per-hour", "600", "inf"],
                                    ["--requests-per-month", "0"]])
def test_zero_traffic_options_are_usage_errors(option, capsys):
    """`--thread-lengths 0` and `--threads-per-hour 0` divided by zero."""
    with pytest.raises(SystemExit) as info:
        main(["ab-test", "--cases", "c.jsonl", *option])
    assert info.value.code == EXIT_USAGE and "must be" in capsys.readouterr().err


def test_report_dir_on_a_file_and_an_unwritable_report_dir_are_clear_errors(tmp_path, capsys):
    cases = _cases(tmp_path / "c.jsonl", [{"id": "a", "query": "deploy it", "category": "ops", "needs": ["deployment"]}])
    (tmp_path / "afile").write_text("x")
    for target, message in ((tmp_path / "afile", "exists and is not a directory"),
                            (tmp_path / "afile" / "sub", "cannot write the report")):
        code, _, err = cli(capsys, "ab-test", "--cases", str(cases), "--report-dir", str(target), "--quiet", "--no-cache-sim",
                           "--router-a", "keyword", "--router-b", "keyword")
        assert code == EXIT_USAGE and message in err and err.count("\n") == 1, err


def test_train_out_unwritable_fails_before_training(tmp_path, capsys):
    cases = _cases(tmp_path / "c.jsonl", [{"id": "a", "query": "deploy it", "category": "ops", "needs": ["deployment"]}])
    (tmp_path / "afile").write_text("x")
    code, _, err = cli(capsys, "train", "--cases", str(cases), "--out", str(tmp_path / "afile" / "model.json"))
    assert code == EXIT_USAGE and "--out" in err and "cannot create" in err and err.count("\n") == 1
    code, _, err = cli(capsys, "train", "--cases", str(cases), "--out", str(tmp_path))
    assert code == EXIT_USAGE and "is a directory" in err


def test_case_history_null_is_absent_and_a_string_is_an_error(tmp_path):
    path = _cases(tmp_path / "c.jsonl", [{"id": "a", "query": "q", "category": "c", "needs": [], "history": None}])
    assert next(read_cases([path])).history == ()
    path = _cases(tmp_path / "c.jsonl", [{"id": "a", "query": "q", "category": "c", "needs": [], "history": "text"}])
    with pytest.raises(CaseFileError, match=r"c\.jsonl:1: history: must be a list of strings"):
        list(read_cases([path]))
    path = _cases(tmp_path / "c.jsonl", ["[" * 100_000 + "]" * 100_000])
    with pytest.raises(CaseFileError, match=r"c\.jsonl:1: invalid JSON"):
        list(read_cases([path]))


def test_exit_codes_are_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Exit status", 1)[1].split("\n## ", 1)[0]
    for code, words in ((EXIT_OK, "success"), (EXIT_FAILED, "validation"), (EXIT_USAGE, "usage"), (3, "internal")):
        assert f"| {code} |" in section and words in section.lower()


def test_validate_flags_a_stale_learned_router_artefact(tmp_path, capsys):
    import shutil

    from prompt_router import bundled_library_dir

    root = tmp_path / "modules"
    shutil.copytree(bundled_library_dir(), root)
    edited = root / "tools" / "communication.md"
    edited.write_text(edited.read_text() + "\nAlways sign e-mails.\n")
    code, out, _ = cli(capsys, "validate", str(root))
    assert code == EXIT_OK
    flat = " ".join(out.split())
    assert "learned_router.json: stale: trained for library version" in flat and "until then the router is keyword" in flat
