"""Routing: a query (with earlier turns and a thread's kept modules) -> which modules, and why."""

from .decision import (
    DEFAULT_PLACE,
    NEVER,
    NONE,
    PLACE,
    DecisionRule,
    Evidence,
    ModuleReason,
    RoutingDecision,
    recent_turns,
    shift_threshold,
    shifted_thresholds,
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
    "DEFAULT_PLACE",
    "FORMAT",
    "NEVER",
    "NONE",
    "PLACE",
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
    "shift_threshold",
    "shifted_thresholds",
    "static_decision",
]
