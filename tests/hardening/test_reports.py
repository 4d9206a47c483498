"""Reports are written whole or not at all; a lone surrogate in a case is not a crash
(finding 5)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from prompt_router import UsageError
from prompt_router.cli import EXIT_OK, main
from prompt_router.storage import write_all_atomic

OLD = {"report.json": "{\"old\": true}\n", "report.md": "# old\n", "report.html": "<p>old</p>\n"}


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("PROMPT_ROUTER_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def _old_report(directory: Path) -> None:
    directory.mkdir()
    for name, text in OLD.items():
        (directory / name).write_text(text)


def test_a_lone_surrogate_in_a_case_gives_a_whole_new_report(tmp_path, capsys):
    # Legal JSON, not encodable as UTF-8: in the query and in the id.
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id":"s\\ud800","query":"x \\ud800 deploy","category":"c","needs":["communication"]}\n'
                     '{"id":"t","query":"plot sales.csv","category":"c","needs":["data_processing"]}\n', encoding="utf-8")
    out = tmp_path / "report"
    _old_report(out)
    code = main(["ab-test", "--cases", str(cases), "--report-dir", str(out), "--quiet", "--no-cache-sim", "--router-b", "keyword"])
    assert code == EXIT_OK, capsys.readouterr()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["run"]["cases"] == 2
    failing_ids = [f["id"] for f in report["failures"]["kept"]]
    assert failing_ids == ["s\ufffd"]  # the case fails (no e-mail module), its id readable
    for name in OLD:
        assert (out / name).read_text(encoding="utf-8") != OLD[name] and (out / name).stat().st_size > 100
    assert sorted(p.name for p in out.iterdir()) == sorted(OLD)  # no temporary files left behind


def test_a_failed_write_leaves_the_old_report_untouched(tmp_path, monkeypatch):
    out = tmp_path / "report"
    _old_report(out)
    real_fsync, calls = os.fsync, []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_all_atomic({out / name: "new " * 1000 for name in OLD})
    assert {name: (out / name).read_text() for name in OLD} == OLD
    assert sorted(p.name for p in out.iterdir()) == sorted(OLD)


def test_the_report_writer_turns_write_failures_into_a_usage_error(tmp_path, monkeypatch):
    from prompt_router.evaluation import write_report

    out = tmp_path / "report"
    _old_report(out)
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    report = {"schema": "x"}
    monkeypatch.setattr("prompt_router.evaluation.report.render_markdown", lambda r: "md")
    monkeypatch.setattr("prompt_router.evaluation.report.render_html", lambda r: "html")
    with pytest.raises(UsageError, match="cannot write the report .No space left on device."):
        write_report(report, out)
    assert {name: (out / name).read_text() for name in OLD} == OLD
