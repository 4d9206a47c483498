"""A/B report: one dict (report.json) rendered as report.md, report.html and a terminal summary.

The JSON schema is documented in ab_tests/README.md; `schema` names its version. Rendering
(Jinja2 templates, Markdown to HTML, charts) is in `rendering.py` and `charts.py`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..storage import write_all_atomic
from .planning import AUTO_TOLERANCE, auto_losses
from .rendering import render_html, render_markdown
from .runner import ABRun, GroupStats
from .verdict import pct, verdict

SCHEMA = "prompt-router.ab-report/2"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prompt-router")
    except PackageNotFoundError:
        return "unknown"


def _group(stats: GroupStats) -> dict[str, Any]:
    return stats.summary()


def build_report(run: ABRun, case_files: list[str], gates: dict[str, Any], curve: list[dict[str, Any]] | None = None,
                 cost: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report as a dict. `gates` holds `min_recall`, `min_reduction` (None = not set) and
    `each_file`; `cost` is the cost model's section (`cost_summary.cost_section`), None when
    it was skipped."""
    overall = _group(run.overall)
    file_order = _order(case_files)  # case files in the order given on the command line
    by_set_category: dict[str, dict[str, Any]] = {}
    for (source, category), stats in sorted(run.by_set_category.items(), key=lambda item: (file_order(item[0][0]), item[0][1])):
        by_set_category.setdefault(source, {})[category] = _group(stats)
    report: dict[str, Any] = {
        "schema": SCHEMA,
        "generated_by": f"prompt-router {_version()}",
        "arms": {"a": run.arm_a.description, "b": run.arm_b.description},
        "case_files": case_files,
        "run": {"cases": overall["cases"], "seconds": run.seconds,
                "cases_per_second": overall["cases"] / run.seconds if run.seconds else 0.0},
        "overall": overall,
        "by_set": {source: _group(run.by_set[source]) for source in sorted(run.by_set, key=file_order)},
        "by_category": {category: _group(stats) for category, stats in sorted(run.by_category.items())},
        "by_set_category": by_set_category,
        "modules": {
            module: {
                "needed": s.needed,
                "selected_when_needed": s.selected_when_needed,
                "recall": s.selected_when_needed / s.needed if s.needed else None,
                "selected_rate": s.selected / overall["cases"] if overall["cases"] else 0.0,
            }
            for module, s in sorted(run.modules_b.items())
        },
        "cost": cost,
        "recall_reduction_curve": curve or [],
        "failures": {"count": run.failure_count, "kept": run.failures},
        # in-memory only (underscore keys are not written): the histograms behind the charts
        "_token_hist": {"a": dict(run.overall.a.tokens), "b": dict(run.overall.b.tokens)},
    }
    report["gates"] = evaluate_gates(report, gates)
    report["verdict"] = verdict(report)
    return report


def _order(case_files: list[str]) -> Callable[[str], tuple[int, str]]:
    position = {name: i for i, name in enumerate(case_files)}
    return lambda source: (position.get(source, len(position)), source)


def evaluate_gates(report: dict[str, Any], gates: dict[str, Any]) -> dict[str, Any]:
    """Every check of --min-recall and --min-reduction: on all cases, and with `each_file` on
    every case file too. A failure names the threshold and, for a file, the file."""
    min_recall, min_reduction, each_file = gates.get("min_recall"), gates.get("min_reduction"), bool(gates.get("each_file"))
    scopes = [("all cases", report["overall"])]
    if each_file:
        scopes += list(report["by_set"].items())
    checks, failures = [], []
    for scope, group in scopes:
        where = "all cases" if scope == "all cases" else f"case file {scope}"
        for metric, value, threshold, option in (("recall", group["b"]["recall"], min_recall, "--min-recall"),
                                                 ("reduction", group["reduction_mean"], min_reduction, "--min-reduction")):
            if threshold is None:
                continue
            passed = value >= threshold
            checks.append({"scope": scope, "metric": metric, "value": value, "threshold": threshold, "passed": passed})
            if not passed:
                name = "recall" if metric == "recall" else "mean token reduction"
                arm = "arm B, " if metric == "recall" else ""
                failures.append(f"{name} {value:.4f} is below {option} {threshold} ({arm}{where})")
    auto = [r for r in (report.get("cost") or {}).get("rows", ()) if r["policy"] == "auto"]
    if auto:  # auto's promise, checked whenever the cost model served it: never dearer than static
        losses = auto_losses(auto)
        worst = min(r["saving_vs_static"] for r in auto)
        checks.append({"scope": "cost model", "metric": "auto saving vs static", "value": worst,
                       "threshold": -AUTO_TOLERANCE, "passed": not losses})
        failures += losses
    return {"min_recall": min_recall, "min_reduction": min_reduction, "each_file": each_file,
            "passed": not failures, "checks": checks, "failures": failures}


def _encodable(text: str) -> str:
    """Lone surrogates (legal in JSON input, not in UTF-8) become U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def write_report(report: dict[str, Any], directory: str | Path) -> list[Path]:
    """Render report.json, report.md and report.html, then write them as one atomic step: a
    failed run leaves the previous report whole, never a truncated one beside stale siblings."""
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"--report-dir {directory} exists and is not a directory")
    public = {k: v for k, v in report.items() if not k.startswith("_")}
    texts = {
        directory / "report.json": json.dumps(public, indent=2, ensure_ascii=False) + "\n",
        directory / "report.md": render_markdown(public),
        directory / "report.html": render_html(report),
    }
    try:
        write_all_atomic({path: _encodable(text) for path, text in texts.items()})
    except OSError as exc:
        raise UsageError(f"--report-dir {directory}: cannot write the report ({exc.strerror or exc})") from None
    return list(texts)


def print_summary(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for title, groups in (("By category", report["by_category"]), ("By case file", report["by_set"])):
        table = Table(title=title)
        for column in ("", "cases", "mean reduction", "recall (B)", "fallback (B)"):
            table.add_column(column, justify="left" if not column else "right")
        for name, g in groups.items():
            table.add_row(name, f"{g['cases']:,}", pct(g["reduction_mean"]), pct(g["b"]["recall"]), pct(g["b"]["fallback_rate"]))
        console.print(table)
    o, v = report["overall"], report["verdict"]
    console.print(
        f"All {o['cases']:,} cases: recall A {pct(o['a']['recall'])} / B {pct(o['b']['recall'])}, mean reduction "
        f"{pct(o['reduction_mean'])}, {o['tokens_saved_per_request']:,.0f} tokens saved per request, "
        f"{report['failures']['count']:,} failing, {report['run']['cases_per_second']:,.0f} cases/s"
    )
    console.print()
    for line in (v["recall"]["sentence"], v["tokens"]["sentence"], *(m["sentence"] for m in v["money"]), v["money_note"],
                 v["gates"]["sentence"]):
        console.print(f"- {line}", markup=False, highlight=False)
