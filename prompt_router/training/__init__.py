"""Training the learned router (`prompt-router train`). Sits on top of the runtime and the
evaluation layer; the runtime never imports it."""

from ..evaluation.runner import SHIFTS
from .artefact import save, to_json
from .fitting import DecisionSimulator, Example, fit_budget, library_examples, train
from .logistic import train_logistic

__all__ = ["SHIFTS", "DecisionSimulator", "Example", "fit_budget", "library_examples", "save", "to_json",
           "train", "train_logistic"]
