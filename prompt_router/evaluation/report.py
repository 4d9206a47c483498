"""A/B report: one dict (report.json) rendered as report.md, report.html and a terminal summary.

The JSON schema is documented in ab_tests/README.md; `schema` names its version.
"""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..storage import write_all_atomic
from .pricing import CostModel
from .runner import ABRun, GroupStats

SCHEMA = "prompt-router.ab-report/1"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prompt-router")
    except PackageNotFoundError:
        return "unknown"


def _group(stats: GroupStats) -> dict[str, Any]:
    return stats.summary()


def build_report(run: ABRun, model: CostModel, cache_rows: dict[str, list[dict[str, Any]]], case_files: list[str],
                 gates: dict[str, float | None], curve: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    overall = _group(run.overall)
    per_request_a = model.dollars(overall["a"]["tokens_mean"])
    per_request_b = model.dollars(overall["b"]["tokens_mean"])
    by_set_category: dict[str, dict[str, Any]] = {}
    for (source, category), stats in sorted(run.by_set_category.items()):
        by_set_category.setdefault(source, {})[category] = _group(stats)
    report = {
        "schema": SCHEMA,
        "generated_by": f"prompt-router {_version()}",
        "arms": {"a": run.arm_a.description, "b": run.arm_b.description},
        "case_files": case_files,
        "run": {"cases": overall["cases"], "seconds": run.seconds,
                "cases_per_second": overall["cases"] / run.seconds if run.seconds else 0.0},
        "overall": overall,
        "by_set": {source: _group(stats) for source, stats in sorted(run.by_set.items())},
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
        "money": {
            "price_per_million_input_tokens": model.price_per_million,
            "requests_per_month": model.requests_per_month,
            "a_usd_per_request": per_request_a,
            "b_usd_per_request": per_request_b,
            "a_usd_per_month": per_request_a * model.requests_per_month,
            "b_usd_per_month": per_request_b * model.requests_per_month,
            "saving_usd_per_month": (per_request_a - per_request_b) * model.requests_per_month,
            "saving_usd_per_year": (per_request_a - per_request_b) * model.requests_per_month * 12,
            "note": "system-prompt input tokens only, no provider caching; see cache for the cache-aware model",
        },
        "cost_model": {
            "price_per_million": model.price_per_million,
            "requests_per_month": model.requests_per_month,
            "traffic": asdict(model.traffic),
            "providers": [asdict(p) for p in model.providers],
        },
        "cache": cache_rows,
        "recall_reduction_curve": curve or [],
        "failures": {"count": run.failure_count, "kept": run.failures},
        # in-memory only (underscore keys are not written): the histograms behind the charts
        "_token_hist": {"a": dict(run.overall.a.tokens), "b": dict(run.overall.b.tokens)},
    }
    report["gates"] = evaluate_gates(report, gates)
    return report


def evaluate_gates(report: dict[str, Any], gates: dict[str, float | None]) -> dict[str, Any]:
    failures = []
    recall, reduction = report["overall"]["b"]["recall"], report["overall"]["reduction_mean"]
    if gates.get("min_recall") is not None and recall < gates["min_recall"]:
        failures.append(f"recall {recall:.4f} is below --min-recall {gates['min_recall']} (arm B, all cases)")
    if gates.get("min_reduction") is not None and reduction < gates["min_reduction"]:
        failures.append(f"mean token reduction {reduction:.4f} is below --min-reduction {gates['min_reduction']} (all cases)")
    return {**gates, "passed": not failures, "failures": failures}


# --- Markdown ----------------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.1f}%"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _group_rows(groups: dict[str, dict[str, Any]]) -> list[list[Any]]:
    return [
        [name, g["cases"], _pct(g["reduction_mean"]), _pct(g["reduction_median"]), f"{g['tokens_saved_per_request']:,.0f}",
         _pct(g["b"]["recall"]), _pct(g["b"]["fallback_rate"]), f"{g['b']['wasted_tokens_mean']:,.0f}"]
        for name, g in groups.items()
    ]


_GROUP_HEADER = ["", "cases", "mean reduction", "median reduction", "tokens saved/request", "recall (B)",
                 "fallback rate (B)", "unneeded tokens/request (B)"]


def render_markdown(report: dict[str, Any]) -> str:
    o, money, arms = report["overall"], report["money"], report["arms"]
    out = [
        "# A/B report",
        "",
        f"- **A:** {arms['a']['mode']}, library `{arms['a']['library']}` ({arms['a']['library_version']}), {arms['a']['library_dir']}",
        f"- **B:** {arms['b']['mode']}, router `{arms['b']['router']}`, fallback `{arms['b']['fallback']}`, "
        f"library `{arms['b']['library']}` ({arms['b']['library_version']}), {arms['b']['library_dir']}",
        f"- **Cases:** {o['cases']:,} from {', '.join(f'`{f}`' for f in report['case_files'])}",
        *([f"- **Learned model of B:** trained on {arms['b']['learned_model']['trained_cases']} labelled cases "
           f"(target recall {arms['b']['learned_model']['target_recall']:.0%}, threshold shift "
           f"{arms['b']['learned_model']['threshold_shift']:+.1f}); figures on its own training cases are in-sample, "
           "the held-out file's are the honest ones."] if arms["b"].get("learned_model") else []),
        "",
        "## Summary",
        "",
        _table(["", "A", "B"], [
            ["mean prompt tokens", f"{o['a']['tokens_mean']:,.0f}", f"{o['b']['tokens_mean']:,.0f}"],
            ["median prompt tokens", f"{o['a']['tokens_median']:,.0f}", f"{o['b']['tokens_median']:,.0f}"],
            ["recall (every needed module in)", _pct(o["a"]["recall"]), _pct(o["b"]["recall"])],
            ["fallback rate", _pct(o["a"]["fallback_rate"]), _pct(o["b"]["fallback_rate"])],
            ["unneeded tool-module tokens per request", f"{o['a']['wasted_tokens_mean']:,.0f}", f"{o['b']['wasted_tokens_mean']:,.0f}"],
            ["route+build p50 / p95 / p99 (µs)",
             " / ".join(f"{o['a']['latency_us'][q]:,.1f}" for q in ("p50", "p95", "p99")),
             " / ".join(f"{o['b']['latency_us'][q]:,.1f}" for q in ("p50", "p95", "p99"))],
        ]),
        "",
        f"Mean reduction **{_pct(o['reduction_mean'])}** (median {_pct(o['reduction_median'])}, 10th percentile "
        f"{_pct(o['reduction_p10'])}), {o['tokens_saved_per_request']:,.0f} tokens saved per request.",
        "",
        "## By case file",
        "",
        _table(_GROUP_HEADER, _group_rows(report["by_set"])),
        "",
        "## By category (all files)",
        "",
        _table(_GROUP_HEADER, _group_rows(report["by_category"])),
        "",
    ]
    for source, groups in report["by_set_category"].items():
        if len(report["by_set_category"]) > 1:
            out += [f"### By category: `{source}`", "", _table(_GROUP_HEADER, _group_rows(groups)), ""]
    out += [
        "## Recall by module (B)",
        "",
        _table(["module", "cases needing it", "selected when needed", "recall", "selected in % of all cases"],
               [[m, s["needed"], s["selected_when_needed"], _pct(s["recall"]), _pct(s["selected_rate"])]
                for m, s in report["modules"].items()]),
        "",
        "## Money",
        "",
        f"At ${money['price_per_million_input_tokens']:.2f} per million input tokens and "
        f"{money['requests_per_month']:,} requests a month, system prompt only, no provider caching:",
        "",
        _table(["", "A", "B", "saving"], [
            ["per request", f"${money['a_usd_per_request']:.5f}", f"${money['b_usd_per_request']:.5f}",
             f"${money['a_usd_per_request'] - money['b_usd_per_request']:.5f}"],
            ["per month", f"${money['a_usd_per_month']:,.0f}", f"${money['b_usd_per_month']:,.0f}",
             f"${money['saving_usd_per_month']:,.0f}"],
            ["per year", f"${money['a_usd_per_month'] * 12:,.0f}", f"${money['b_usd_per_month'] * 12:,.0f}",
             f"${money['saving_usd_per_year']:,.0f}"],
        ]),
        "",
    ]
    if report["cache"]:
        traffic = report["cost_model"]["traffic"]
        header = ["turns/thread", "sticky", "tools filtered", "provider", "A $/month", "B $/month", "saving with cache",
                  "saving without cache", "B cache-read share"]

        def cache_rows(rows: list[dict[str, Any]], first: str) -> list[list[Any]]:
            return [[r[first] if first == "thread_length" else f"{r[first]:,.0f}", "yes" if r["sticky"] else "no",
                     "yes" if r.get("filter_tools") else "no", r["provider"],
                     f"${r['a']['usd_per_month']:,.0f}", f"${r['b']['usd_per_month']:,.0f}", _pct(r["saving_with_cache"]),
                     _pct(r["saving_without_cache"]), _pct(r["b"]["cache_read_share"])] for r in rows]

        out += [
            "### With provider prompt caching",
            "",
            f"Simulated stream: {traffic['threads_per_hour']:g} new threads/hour, {traffic['turn_gap_seconds']:g} s between turns, "
            f"{traffic['turn_tokens']} tokens of conversation added per turn, {traffic['user_tokens']}-token user messages. "
            "Costs include the conversation, which a changed system prompt invalidates. "
            "Anthropic: writes 1.25×, reads 0.1×, 5-minute TTL; OpenAI-style: reads 0.5×, no write premium, 128-token steps; "
            "both cache only prefixes of 1,024+ tokens. Monthly figures scale the simulated cost per request to "
            f"{report['money']['requests_per_month']:,} requests."
            + (f" Tool definitions modelled at {traffic['tool_tokens_per_tool']} tokens per tool, rendered before the system "
               "prompt; 'tools filtered' sends only the selected modules' tools." if traffic.get("tool_tokens_per_tool") else ""),
            "",
            _table(header, cache_rows(report["cache"]["scenarios"], "thread_length")),
            "",
            "How the saving depends on traffic (same threads, more or fewer of them per hour):",
            "",
            _table(["threads/hour", *header[1:]], cache_rows(report["cache"]["traffic_sensitivity"], "threads_per_hour")),
            "",
        ]
    if report.get("recall_reduction_curve"):
        out += [
            "## Recall vs reduction (B's threshold shift)",
            "",
            "Positive shifts lower the module thresholds and raise the no-tools threshold (more recall, fewer "
            "savings); `learned_threshold_shift` moves the operating point. On the sampled cases:",
            "",
            _table(["shift", "recall", "mean reduction", ""],
                   [[f"{p['shift']:+.1f}", _pct(p["recall"]), _pct(p["reduction"]), "← operating point" if p["operating_point"] else ""]
                    for p in report["recall_reduction_curve"]]),
            "",
        ]
    failures = report["failures"]
    out += [f"## Failing cases (B): {failures['count']:,}", ""]
    if failures["count"] > len(failures["kept"]):
        out += [f"The first {len(failures['kept']):,} are listed.", ""]
    for f in failures["kept"]:
        why = "; ".join(f"{m}: {r}" for m, r in f["why"].items())
        history = f" (after: {' / '.join(repr(h) for h in f['history'])})" if f["history"] else ""
        out.append(f"- `{f['id']}` [{f['category']}] {f['query']!r}{history} — missing **{', '.join(f['missing'])}**; "
                   f"selected: {', '.join(f['selected']) or 'none'} ({why}) — {f['where']}")
    gates = report["gates"]
    out += ["", "## Gates", "", "passed" if gates["passed"] else "FAILED: " + "; ".join(gates["failures"]), ""]
    return "\n".join(out)


# --- HTML with charts --------------------------------------------------------------------------


def _charts(report: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    charts: list[tuple[str, str]] = []

    def save(fig: Any, title: str) -> None:
        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=110)
        plt.close(fig)
        charts.append((title, base64.b64encode(buffer.getvalue()).decode()))

    categories = report["by_category"]
    names = list(categories)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(names) + 1.5))
    ax.barh(names, [categories[n]["reduction_mean"] * 100 for n in names], color="#3b7dd8")
    ax.set_xlabel("mean token reduction, B vs A (%)")
    ax.invert_yaxis()
    save(fig, "Token reduction by category")

    fig, ax = plt.subplots(figsize=(8, 3.5))
    values = [float(v) for arm in ("a", "b") for v in report["_token_hist"][arm]]
    low, high = min(values, default=0.0), max(values, default=1.0)
    edges = [low + (high - low + 1) * i / 40 for i in range(41)]  # shared bins: a one-value arm stays visible
    for arm, color in (("a", "#999999"), ("b", "#3b7dd8")):
        hist = report["_token_hist"][arm]
        ax.hist(list(map(float, hist)), bins=edges, weights=list(hist.values()), alpha=0.7, color=color, label=f"arm {arm.upper()}")
    ax.set_xlabel("system prompt tokens per request")
    ax.set_ylabel("cases")
    ax.legend()
    save(fig, "Prompt size distribution, A vs B")

    modules = {m: s for m, s in report["modules"].items() if s["recall"] is not None}
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(modules) + 1.5))
    ax.barh(list(modules), [s["recall"] * 100 for s in modules.values()], color="#2e9e5b")
    ax.set_xlim(0, 100)
    ax.set_xlabel("recall (% of cases needing the module that got it)")
    ax.invert_yaxis()
    save(fig, "Recall by module (B)")

    curve = report.get("recall_reduction_curve") or []
    if curve:
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot([p["reduction"] * 100 for p in curve], [p["recall"] * 100 for p in curve], marker="o", color="#3b7dd8")
        chosen = next(p for p in curve if p["operating_point"])
        ax.scatter([chosen["reduction"] * 100], [chosen["recall"] * 100], s=140, color="#d8873b", zorder=3,
                   label=f"operating point (shift {chosen['shift']:+.1f})")
        ax.set_xlabel("mean token reduction (%)")
        ax.set_ylabel("recall (%)")
        ax.legend()
        save(fig, "Recall vs reduction")

    if report["cache"]:
        rows = report["cache"]["scenarios"]
        labels = [f"{r['provider']}, {r['thread_length']} turns{', sticky' if r['sticky'] else ''}"
                  f"{', tools filtered' if r.get('filter_tools') else ''}" for r in rows]
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.5))
        ax.barh(labels, [r["saving_with_cache"] * 100 for r in rows], color="#d8873b", label="with caching")
        ax.scatter([r["saving_without_cache"] * 100 for r in rows], labels, color="black", zorder=3, label="without caching")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("cost saving of B vs A (%)")
        ax.legend()
        ax.invert_yaxis()
        save(fig, "Cost saving with provider caching")
    return charts


def render_html(report: dict[str, Any], markdown_text: str) -> str:
    charts: list[tuple[str, str]]
    try:
        charts = _charts(report)
    except ImportError:
        charts = []
    figures = "\n".join(
        f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(title)}</figcaption></figure>'
        for title, data in charts
    ) or "<p><em>Charts need matplotlib: pip install 'prompt-router[report]'.</em></p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>prompt-router A/B report</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }}
figure {{ margin: 1.5em 0; }} img {{ max-width: 100%; border: 1px solid #ddd; }}
pre {{ white-space: pre-wrap; background: #f7f7f7; padding: 1em; font-size: 13px; }}
</style></head><body>
<h1>prompt-router A/B report</h1>
{figures}
<h2>Full report</h2>
<pre>{html.escape(markdown_text)}</pre>
</body></html>
"""


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
    markdown_text = render_markdown(public)
    texts = {
        directory / "report.json": json.dumps(public, indent=2, ensure_ascii=False) + "\n",
        directory / "report.md": markdown_text,
        directory / "report.html": render_html(report, markdown_text),
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
            table.add_row(name, f"{g['cases']:,}", _pct(g["reduction_mean"]), _pct(g["b"]["recall"]), _pct(g["b"]["fallback_rate"]))
        console.print(table)
    o = report["overall"]
    console.print(
        f"All {o['cases']:,} cases: recall A {_pct(o['a']['recall'])} / B {_pct(o['b']['recall'])}, mean reduction "
        f"{_pct(o['reduction_mean'])}, {o['tokens_saved_per_request']:,.0f} tokens saved per request, "
        f"{report['failures']['count']:,} failing, {report['run']['cases_per_second']:,.0f} cases/s"
    )
