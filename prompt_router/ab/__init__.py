"""The offline A/B harness: replay labelled cases through two configurations and report
token savings, routing quality, latency and money (with and without provider caching)."""

from .cases import Case, read_cases
from .params import ANTHROPIC, OPENAI, CachePricing, CostModel, TrafficModel
from .runner import ABRun, Arm, Outcome, run_ab

__all__ = ["ANTHROPIC", "OPENAI", "ABRun", "Arm", "CachePricing", "Case", "CostModel", "Outcome",
           "TrafficModel", "read_cases", "run_ab"]
