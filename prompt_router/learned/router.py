"""Routers that use a LearnedModel: `learned` (model scores only) and `hybrid` (keyword
matches always kept; the model adds modules the triggers missed and decides the no-match
case: confident "no tools needed" gets core + response, otherwise the library's fallback)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Literal

from ..library import FallbackMode, ModuleLibrary
from ..normalize import clip
from ..routing import KeywordRouter, ModuleReason, Router, RoutingDecision
from ..settings import RouterSettings
from .fitting import shift_threshold
from .model import NONE, LearnedModel, ModelError

Mode = Literal["learned", "hybrid"]
ARTEFACT_NAME = "learned_router.json"
logger = logging.getLogger("prompt_router")


def choose(keyword: Collection[str], scores: Mapping[str, float], thresholds: Mapping[str, float]) -> tuple[dict[str, float], bool]:
    """The model's part of a decision: (modules it adds, with their scores; no-tools judgement).

    With keyword matches, the model only adds modules scoring at or above their threshold.
    Without any, a confident "no tools needed" wins (core + response only); otherwise the
    modules above threshold, and if there are none the caller falls back."""
    added = {m: s for m, s in scores.items() if m != NONE and m not in keyword and s >= thresholds.get(m, 1.01)}
    if not keyword and scores.get(NONE, 0.0) >= thresholds.get(NONE, 1.01):
        return {}, True
    return added, False


class LearnedRouter:
    def __init__(self, library: ModuleLibrary, model: LearnedModel, *, mode: Mode = "hybrid",
                 fallback: FallbackMode | None = None, history_turns: int = 3, max_scan_chars: int = 32_000,
                 shift: float = 0.0) -> None:
        if model.library_version != library.version:
            raise ModelError(f"learned router artefact is for library version {model.library_version}, "
                             f"the library is {library.version}; retrain with `prompt-router train`")
        self.library, self.model, self.mode, self.name = library, model, mode, mode
        self.fallback_mode: FallbackMode = fallback or library.fallback
        self.history_turns, self.max_scan_chars, self.shift = history_turns, max_scan_chars, shift
        self.keyword = KeywordRouter(library, fallback="core", history_turns=history_turns, max_scan_chars=max_scan_chars)
        # Positive shifts are safer: module thresholds go down, the "no tools" threshold up.
        fitted = model.thresholds[mode]
        self.thresholds = {c: shift_threshold(t, -shift if c == NONE else shift) for c, t in fitted.items()}
        self._always = {m: ModuleReason("always") for m in library.always_ids}
        self._fallback = ModuleReason("fallback")

    def with_shift(self, shift: float) -> LearnedRouter:
        """The same model at another point of the recall-vs-savings curve."""
        return LearnedRouter(self.library, self.model, mode=self.mode, fallback=self.fallback_mode,
                             history_turns=self.history_turns, max_scan_chars=self.max_scan_chars, shift=shift)

    def route(self, query: str, history: Sequence[str] = ()) -> RoutingDecision:
        history = list(history)[-self.history_turns:] if self.history_turns else []
        scores = self.model.scores(clip(query, self.max_scan_chars), history)
        selected: dict[str, ModuleReason] = {}
        matched: tuple[str, ...] = ()
        if self.mode == "hybrid":
            keyword = self.keyword.route(query, history)
            matched = keyword.matched_triggers
            selected = {m: keyword.reasons[m] for m in keyword.tool_modules}
        added, no_tools = choose(selected, scores, self.thresholds)
        for module, score in added.items():
            selected[module] = ModuleReason("model", score=round(score, 4), threshold=round(self.thresholds[module], 4))
        fallback = not selected and not no_tools
        if fallback and self.fallback_mode == "all":
            selected = {m: self._fallback for m in self.library.tool_ids}
        closure = self.library.closure
        for module_id in list(selected):
            for dep in closure.get(module_id, ()):
                selected.setdefault(dep, ModuleReason("required", required_by=module_id))
        reasons = {**self._always, **selected}
        return RoutingDecision(
            modules=self.library.canonical(reasons), reasons=reasons, fallback=fallback,
            library_version=self.library.version, router=self.name, matched_triggers=matched,
            scores={k: round(v, 4) for k, v in scores.items()}, no_tools=no_tools,
        )


def router_from_settings(library: ModuleLibrary, settings: RouterSettings) -> Router:
    """The router the settings ask for. `auto` uses the hybrid router when a trained artefact
    for this exact library version exists, and the keyword router otherwise (saying why when
    an artefact is there but stale). An explicit `learned`/`hybrid` with no usable artefact
    is an error."""
    common = dict(fallback=settings.fallback, history_turns=settings.history_turns, max_scan_chars=settings.max_scan_chars)
    if settings.router == "keyword":
        return KeywordRouter(library, **common)
    path = settings.learned_model or Path(library.root) / ARTEFACT_NAME
    mode: Mode = "hybrid" if settings.router == "auto" else settings.router  # type: ignore[assignment]
    try:
        model = LearnedModel.load(path, library.version)
    except ModelError as exc:
        if settings.router != "auto":
            raise
        if path.exists():
            logger.warning("prompt-router: using the keyword router: %s", exc)
        return KeywordRouter(library, **common)
    return LearnedRouter(library, model, mode=mode, shift=settings.learned_threshold_shift, **common)
