"""The verdict a report opens with: recall, token savings, money per provider with caching,
and the gates, each as a figure and one plain sentence. Computed from the report's own
numbers (and stored in report.json), so the headline can never disagree with the tables."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cost_summary import INPUT_ONLY


def pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{x * 100:.{digits}f}%"


def signed_pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+.0f}%"


def _span(files: list[dict[str, Any]], key: str) -> str:
    """'; by case file from X (file) to Y (file)' when there is more than one file."""
    if len(files) < 2:
        return ""
    low = min(files, key=lambda f: f[key])
    high = max(files, key=lambda f: f[key])
    return f"; by case file from {pct(low[key])} ({low['file']}) to {pct(high[key])} ({high['file']})"


def _gate_status(gates: Mapping[str, Any], scope: str, metric: str | None = None) -> str | None:
    checks = [c for c in gates["checks"] if c["scope"] == scope and metric in (None, c["metric"])]
    if not checks:
        return None
    return "passed" if all(c["passed"] for c in checks) else "failed"


def _gates_sentence(gates: Mapping[str, Any]) -> str:
    conditions = [f"{name} at least {pct(gates[key])}" for name, key in
                  (("recall", "min_recall"), ("mean token reduction", "min_reduction")) if gates[key] is not None]
    auto = any(c["scope"] == "cost model" for c in gates["checks"])
    if not conditions and not auto:
        return "No gates were set (--min-recall, --min-reduction)."
    if not gates["passed"]:
        return "Gates failed: " + "; ".join(gates["failures"]) + "."
    where = "on all cases and on each case file" if gates["each_file"] else "on all cases"
    passed = [f"{' and '.join(conditions)} {where}"] if conditions else []
    if auto:
        passed.append("the auto policy costs no more than the full prompt in any simulated scenario")
    return f"Gates passed: {'; '.join(passed)}."


def verdict(report: Mapping[str, Any]) -> dict[str, Any]:
    o, gates = report["overall"], report["gates"]
    files = [{"file": name, "cases": g["cases"], "recall": g["b"]["recall"], "reduction": g["reduction_mean"],
              "gate": _gate_status(gates, name)} for name, g in report["by_set"].items()]
    recall, reduction = o["b"]["recall"], o["reduction_mean"]
    recall_sentence = (f"Routing (arm B) sent every module a case needs in {pct(recall)} of the {o['cases']:,} cases, "
                       f"against {pct(o['a']['recall'])} for arm A{_span(files, 'recall')}.")
    if reduction >= 0:
        token_sentence = (f"Arm B's system prompts are {pct(reduction)} smaller than arm A's on average (median "
                          f"{pct(o['reduction_median'])}), {o['tokens_saved_per_request']:,.0f} tokens fewer per "
                          f"request{_span(files, 'reduction')}.")
    else:
        token_sentence = (f"Arm B's system prompts are {pct(-reduction)} larger than arm A's on average: B's library or "
                          f"fallback sends more than A's{_span(files, 'reduction')}.")
    cost = report.get("cost")
    money = [
        {"provider": name, "label": s["label"], "policy": s.get("best_policy"), "value": s.get("mean_saving"),
         "figure": signed_pct(s.get("mean_saving")), "outcome": s.get("outcome"), "sentence": s.get("sentence", ""),
         "why": s.get("why"), "policies": {p: v["mean_saving"] for p, v in s["policies"].items()}}
        for name, s in (cost["providers"].items() if cost else ()) if s.get("best_policy")
    ]
    return {
        "recall": {"value": recall, "figure": pct(recall), "gate": _gate_status(gates, "all cases", "recall"),
                   "sentence": recall_sentence},
        "tokens": {"value": reduction, "figure": pct(reduction), "gate": _gate_status(gates, "all cases", "reduction"),
                   "sentence": token_sentence},
        "files": files,
        "money": money,
        "money_note": INPUT_ONLY if cost else "The cost model was skipped (--no-cost-model): the report has no money figures.",
        "gates": {"passed": gates["passed"], "set": bool(gates["checks"]), "sentence": _gates_sentence(gates)},
    }
