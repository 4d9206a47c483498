"""The offline A/B harness: replay labelled cases through two configurations and report
token savings, routing quality, latency and money with each provider's prompt caching (the
cost model in `costs`). Sits on top of the runtime; the runtime never imports it."""

from .ab_costs import ABCostSpec, run_cost_model
from .cases import REPLAY_CONTEXT, Case, read_cases
from .cost_summary import cost_section
from .pricing import ANTHROPIC, OPENAI, PROVIDERS, CachePricing
from .rendering import render_html, render_markdown
from .report import build_report, evaluate_gates, print_summary, write_report
from .runner import SHIFTS, ABRun, Arm, Outcome, recall_reduction_curve, run_ab, run_case

__all__ = [
    "ANTHROPIC",
    "OPENAI",
    "PROVIDERS",
    "REPLAY_CONTEXT",
    "SHIFTS",
    "ABCostSpec",
    "ABRun",
    "Arm",
    "CachePricing",
    "Case",
    "Outcome",
    "build_report",
    "cost_section",
    "evaluate_gates",
    "print_summary",
    "read_cases",
    "recall_reduction_curve",
    "render_html",
    "render_markdown",
    "run_ab",
    "run_case",
    "run_cost_model",
    "write_report",
]
