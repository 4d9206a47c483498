"""Routing: a query (with earlier turns and a thread's kept modules) -> which modules, and why."""

from .decision import (
    NONE,
    DecisionRule,
    Evidence,
    ModuleReason,
    RoutingDecision,
    recent_turns,
    shift_budget,
    static_decision,
)
from .factory import ARTEFACT_NAME, artefact_path, router_from_settings
from .features import FeatureConfig, Vectorizer, features
from .keyword import KeywordRouter
from .learned import LearnedMode, LearnedRouter
from .model import FORMAT, LearnedModel, score_rows
from .router import Router

__all__ = [
    "ARTEFACT_NAME",
    "FORMAT",
    "NONE",
    "DecisionRule",
    "Evidence",
    "FeatureConfig",
    "KeywordRouter",
    "LearnedMode",
    "LearnedModel",
    "LearnedRouter",
    "ModuleReason",
    "Router",
    "RoutingDecision",
    "Vectorizer",
    "artefact_path",
    "features",
    "recent_turns",
    "router_from_settings",
    "score_rows",
    "shift_budget",
    "static_decision",
]
