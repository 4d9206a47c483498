"""The offline A/B harness: replay labelled cases through two configurations and report
token savings, routing quality, latency and money (with and without provider caching).
Sits on top of the runtime; the runtime never imports it."""

from .cache_sim import Turn, cache_report, conversation_for, make_threads, simulate, thread_turns
from .cases import REPLAY_CONTEXT, Case, read_cases
from .pricing import ANTHROPIC, OPENAI, PROVIDERS, CachePricing, CostModel, TrafficModel
from .report import build_report, print_summary, write_report
from .runner import SHIFTS, ABRun, Arm, Outcome, recall_reduction_curve, run_ab, run_case

__all__ = [
    "ANTHROPIC",
    "OPENAI",
    "PROVIDERS",
    "REPLAY_CONTEXT",
    "SHIFTS",
    "ABRun",
    "Arm",
    "CachePricing",
    "Case",
    "CostModel",
    "Outcome",
    "TrafficModel",
    "Turn",
    "build_report",
    "cache_report",
    "conversation_for",
    "make_threads",
    "print_summary",
    "read_cases",
    "recall_reduction_curve",
    "run_ab",
    "run_case",
    "simulate",
    "thread_turns",
    "write_report",
]
