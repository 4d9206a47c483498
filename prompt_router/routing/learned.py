"""Routers that use a LearnedModel: `learned` (model scores only) and `hybrid` (keyword
matches always kept; the model adds every module its miss budget cannot leave out, so an
unmatched request can get no tools at all)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

from ..errors import ModelError
from ..library import FallbackMode, ModuleLibrary
from ..normalize import clip
from .decision import DecisionRule, Evidence, RoutingDecision, recent_turns
from .keyword import KeywordRouter
from .model import LearnedModel

LearnedMode = Literal["learned", "hybrid"]


class LearnedRouter:
    def __init__(
        self,
        library: ModuleLibrary,
        model: LearnedModel,
        *,
        mode: LearnedMode = "hybrid",
        fallback: FallbackMode | None = None,
        history_turns: int = 3,
        max_scan_chars: int = 32_000,
        shift: float = 0.0,
    ) -> None:
        if model.library_version != library.version:
            raise ModelError(f"learned router artefact is for library version {model.library_version}, "
                             f"the library is {library.version}; retrain with `prompt-router train`")
        self.library, self.model, self.mode = library, model, mode
        self.name: str = mode
        self.history_turns, self.max_scan_chars = history_turns, max_scan_chars
        self.rule = DecisionRule(library, router=mode, fallback=fallback, miss_budget=model.miss_budget[mode], shift=shift)
        self.keyword = KeywordRouter(library, history_turns=history_turns, max_scan_chars=max_scan_chars)

    @property
    def shift(self) -> float:
        return self.rule.shift

    @property
    def fallback_mode(self) -> FallbackMode:
        return self.rule.fallback_mode

    def with_shift(self, shift: float) -> LearnedRouter:
        """The same model at another point of the recall-vs-savings curve."""
        return LearnedRouter(self.library, self.model, mode=self.mode, fallback=self.fallback_mode,
                             history_turns=self.history_turns, max_scan_chars=self.max_scan_chars, shift=shift)

    def evidence(self, query: str, history: Sequence[str] = ()) -> Evidence:
        history = recent_turns(history, self.history_turns)
        limit = self.max_scan_chars
        scores = self.model.scores(clip(query, limit), [clip(turn, limit) for turn in history])
        if self.mode == "hybrid":
            keyword = self.keyword.evidence(query, history)
            return Evidence(keyword.hits, tuple(scores.items()), keyword.matched_triggers, keyword.small_talk)
        return Evidence((), tuple(scores.items()), (), self.library.is_small_talk(query))

    def route(self, query: str, history: Sequence[str] = (), sticky: Collection[str] = ()) -> RoutingDecision:
        return self.rule.decide(self.evidence(query, history), sticky)
