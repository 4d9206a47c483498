"""A learned router: scores every tool module for a query (multi-label), plus a "no tools
needed" judgement, with thresholds fitted to a recall target."""

from .features import FeatureConfig
from .fitting import library_examples, train
from .model import NONE, LearnedModel, ModelError
from .router import LearnedRouter

__all__ = ["NONE", "FeatureConfig", "LearnedModel", "LearnedRouter", "ModelError", "library_examples", "train"]
