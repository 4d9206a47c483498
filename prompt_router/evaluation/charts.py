"""The report's charts, as inline PNG (matplotlib, from the `report` extra): recall by case
file and by module, prompt sizes of A and B, money saving per provider and policy, and the
recall-vs-reduction curve. Importing this module needs nothing; `charts()` raises ImportError
when matplotlib is missing."""

from __future__ import annotations

import base64
import io
import textwrap
from typing import Any

from .cost_summary import BASELINE, policies_in
from .verdict import signed_pct

BLUE, GREY, GREEN, RED, ORANGE = "#3b7dd8", "#9aa4ae", "#2e9e5b", "#c0392b", "#d8873b"
POLICY_COLOURS = ("#3b7dd8", "#d8873b", "#7b5ea7", "#2e9e5b", "#c9a227", "#4aa3a2")


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _short(name: str, width: int = 34) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1):]


def _recall_bars(names: list[str], values: list[float], xlabel: str) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 0.32 * len(names) + 1.3))
    bars = ax.barh([_short(n) for n in names], [v * 100 for v in values], color=GREEN)
    ax.bar_label(bars, labels=[f"{v * 100:.1f}%" for v in values], padding=3, fontsize=8)
    ax.set_xlim(0, 112)
    ax.set_xlabel(xlabel)
    ax.invert_yaxis()
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _tokens(report: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    hist = report["_token_hist"]
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    values = [float(v) for arm in ("a", "b") for v in hist[arm]]
    low, high = min(values, default=0.0), max(values, default=1.0)
    edges = [low + (high - low + 1) * i / 40 for i in range(41)]  # shared bins: a one-value arm stays visible
    for arm, colour in (("a", GREY), ("b", BLUE)):
        ax.hist([float(t) for t in hist[arm]], bins=edges, weights=list(hist[arm].values()), alpha=0.75, color=colour,
                label=f"arm {arm.upper()} (mean {report['overall'][arm]['tokens_mean']:,.0f})")
    ax.set_xlabel("system prompt tokens per request")
    ax.set_ylabel("cases")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _money(report: dict[str, Any]) -> str:
    import matplotlib.pyplot as plt

    cost = report["cost"]
    providers = [(name, s) for name, s in cost["providers"].items() if s["policies"]]
    policies = policies_in(cost["rows"])
    height = 0.8 / max(len(policies), 1)
    fig, ax = plt.subplots(figsize=(12.8, 0.26 * len(providers) * max(len(policies), 1) + 1.5))
    for k, policy in enumerate(policies):
        positions, values = [], []
        for i, (_, summary) in enumerate(providers):
            if policy in summary["policies"]:
                positions.append(i + (k - (len(policies) - 1) / 2) * height)
                values.append(summary["policies"][policy]["mean_saving"] * 100)
        colour = POLICY_COLOURS[k % len(POLICY_COLOURS)]
        bars = ax.barh(positions, values, height=height * 0.92, color=colour)
        for bar, value in zip(bars, values):
            if value < 0:
                bar.set_hatch("///")
                bar.set_edgecolor(RED)
        ax.bar_label(bars, labels=[signed_pct(v / 100) for v in values], padding=3, fontsize=8,
                     color="black", fontweight="bold")
    ax.set_yticks(range(len(providers)), [textwrap.fill(s["label"], 26) for _, s in providers])
    ax.axvline(0, color="black", linewidth=0.9)
    low = min((p["mean_saving"] for _, s in providers for p in s["policies"].values()), default=0.0) * 100
    high = max((p["mean_saving"] for _, s in providers for p in s["policies"].values()), default=0.0) * 100
    span = max(high - min(low, 0), 10)
    ax.set_xlim(min(low, 0) - 0.18 * span, max(high, 0) + 0.18 * span)
    ax.set_xlabel("input-cost saving against the full prompt under the same caching, mean over the grid (%)"
                  "  —  hatched bars: routing costs more")
    ax.invert_yaxis()
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=POLICY_COLOURS[k % len(POLICY_COLOURS)], label=p) for k, p in enumerate(policies)]
    ax.legend(handles=handles, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=max(len(policies), 1),
              fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _curve(curve: list[dict[str, Any]]) -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ax.plot([p["reduction"] * 100 for p in curve], [p["recall"] * 100 for p in curve], marker="o", color=BLUE)
    for p in curve:
        ax.annotate(f"{p['shift']:+.1f}", (p["reduction"] * 100, p["recall"] * 100), textcoords="offset points",
                    xytext=(4, -10), fontsize=7, color="#555")
    chosen = next((p for p in curve if p["operating_point"]), curve[0])
    ax.scatter([chosen["reduction"] * 100], [chosen["recall"] * 100], s=140, color=ORANGE, zorder=3,
               label=f"operating point (shift {chosen['shift']:+.1f})")
    ax.set_xlabel("mean token reduction (%)")
    ax.set_ylabel("recall (%)")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def charts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each chart: title, caption, notes (sentences under it), the PNG in base64, and whether
    it spans the page."""
    import matplotlib

    matplotlib.use("Agg")
    out: list[dict[str, Any]] = []
    cost = report.get("cost")
    if cost and any(s["policies"] for s in cost["providers"].values()):
        notes = [f"{s['label']}: {s['why']}" for s in cost["providers"].values() if s.get("why")]
        out.append({"title": "Money saving per provider and policy, with prompt caching", "wide": True,
                    "caption": f"Input cost against the full prompt ({BASELINE}) under the same caching; bars are "
                               "means over the grid's scenarios, the tables below give every scenario. "
                               + ("Why the hatched (negative) bars are negative:" if notes else ""),
                    "notes": notes, "png": _money(report)})
    files = report["by_set"]
    out.append({"title": "Recall by case file (B)", "wide": False, "notes": [],
                "caption": "Share of cases whose every needed module was sent.",
                "png": _recall_bars(list(files), [g["b"]["recall"] for g in files.values()], "recall (%)")})
    modules = {m: s for m, s in report["modules"].items() if s["recall"] is not None}
    out.append({"title": "Recall by module (B)", "wide": False, "notes": [],
                "caption": "Share of the cases needing a module that got it.",
                "png": _recall_bars(list(modules), [s["recall"] for s in modules.values()], "recall (%)")})
    out.append({"title": "Prompt size, A vs B", "wide": False, "notes": [],
                "caption": "System-prompt tokens per request over all cases.", "png": _tokens(report)})
    if report.get("recall_reduction_curve"):
        out.append({"title": "Recall vs reduction", "wide": False, "notes": [],
                    "caption": "B's recall-vs-savings shift: positive shifts shrink the miss budget, trading savings for recall.",
                    "png": _curve(report["recall_reduction_curve"])})
    return out
