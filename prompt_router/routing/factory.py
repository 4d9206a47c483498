"""The router the settings ask for."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import ModelError
from ..library import ModuleLibrary
from ..settings import RouterSettings
from .keyword import KeywordRouter
from .learned import LearnedMode, LearnedRouter
from .model import LearnedModel
from .router import Router

ARTEFACT_NAME = "learned_router.json"
logger = logging.getLogger("prompt_router")


def artefact_path(library: ModuleLibrary, settings: RouterSettings) -> Path:
    """Where the learned-router artefact is: the configured file, or the library's own."""
    return settings.learned_model or Path(library.root) / ARTEFACT_NAME


def router_from_settings(library: ModuleLibrary, settings: RouterSettings) -> Router:
    """`auto` uses the hybrid router when a trained artefact for this exact library version
    exists, and the keyword router otherwise (saying why when an artefact is there but
    unusable). An explicit `learned`/`hybrid`, or an explicitly configured artefact file,
    with no usable artefact is an error."""
    keyword = KeywordRouter(library, fallback=settings.fallback, history_turns=settings.history_turns,
                            max_scan_chars=settings.max_scan_chars)
    if settings.router == "keyword":
        return keyword
    path = artefact_path(library, settings)
    mode: LearnedMode = "hybrid" if settings.router == "auto" else settings.router
    try:
        model = LearnedModel.load(path, library.version)
    except ModelError as exc:
        if settings.router != "auto" or settings.learned_model is not None:
            raise
        if path.exists():
            logger.warning("prompt-router: using the keyword router: %s", exc)
        return keyword
    return LearnedRouter(library, model, mode=mode, fallback=settings.fallback, history_turns=settings.history_turns,
                         max_scan_chars=settings.max_scan_chars, shift=settings.learned_threshold_shift)
