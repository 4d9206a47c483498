"""The delivery plan: which delivery policy is cheapest, per provider and traffic, for one
library version; and the nested module bundles the `bundles` policy serves.

The plan is data, written next to the library by `prompt-router plan` (the evaluation layer
runs the cost simulation over a grid of providers and traffic, serving every simulated
request through the real `ConversationRouter`), and read here by the `auto` policy, which
looks up the cell nearest to the traffic it observes. Like the learned router's artefact, a
plan is bound to the library's content hash: a stale plan is not used.

    {"format": "prompt-router.delivery-plan/1", "library_version": "...",
     "bundles": [["web_search"], ["web_search", "data_processing"], ...],   # nested, smallest first
     "cells": [{"provider": "anthropic", "threads_per_hour": 600, "thread_turns": 5,
                "tool_steps": 0, "best": "catalogue",
                "saving": {"static": 0.0, "per_request": -0.43, "catalogue": 0.04, ...}}, ...]}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import ModelError

FORMAT = "prompt-router.delivery-plan/1"
PLAN_NAME = "delivery_plan.json"
PolicyName = Literal["static", "per_request", "sticky", "bundles", "catalogue"]
POLICIES: tuple[PolicyName, ...] = ("static", "per_request", "sticky", "bundles", "catalogue")


@dataclass(frozen=True)
class PlanCell:
    """One simulated scenario and what each policy saved there, relative to static (the full
    prompt with the same caching): +0.12 = 12% cheaper input, -0.40 = 40% dearer."""

    provider: str  # a pricing name of evaluation.pricing: "anthropic", "openai-5", ...
    threads_per_hour: float
    thread_turns: float  # user turns per thread
    tool_steps: float  # tool-loop steps per user turn
    best: PolicyName
    saving: Mapping[str, float] = field(default_factory=dict)


def traffic_distance(cell: PlanCell, threads_per_hour: float, thread_turns: float, tool_steps: float) -> float:
    """How far observed traffic is from a cell: log scales throughout (rate, turns, and tool
    steps weighted double, so an agent loop is never "near" a plain chat of its length). The
    planner uses the same rule to know which scenarios each cell will be served to."""
    rate = math.log10(max(cell.threads_per_hour, 1e-3)) - math.log10(max(threads_per_hour, 1e-3))
    turns = math.log2(max(cell.thread_turns, 1.0)) - math.log2(max(thread_turns, 1.0))
    steps = 2.0 * (math.log2(1.0 + cell.tool_steps) - math.log2(1.0 + max(tool_steps, 0.0)))
    return rate * rate + turns * turns + steps * steps


@dataclass(frozen=True)
class DeliveryPlan:
    library_version: str
    bundles: tuple[tuple[str, ...], ...]  # nested tool-module bundles, smallest first
    cells: tuple[PlanCell, ...]

    def cell(self, provider: str, threads_per_hour: float, thread_turns: float, tool_steps: float) -> PlanCell | None:
        """The cell nearest to the observed traffic for `provider` (`traffic_distance`), or
        None if the plan has no cell for that provider."""
        candidates = [c for c in self.cells if c.provider == provider]
        if not candidates:
            return None
        return min(candidates, key=lambda c: (traffic_distance(c, threads_per_hour, thread_turns, tool_steps),
                                              c.threads_per_hour, c.thread_turns, c.tool_steps))

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "library_version": self.library_version,
            "bundles": [list(b) for b in self.bundles],
            "cells": [{"provider": c.provider, "threads_per_hour": c.threads_per_hour, "thread_turns": c.thread_turns,
                       "tool_steps": c.tool_steps, "best": c.best,
                       "saving": {k: round(v, 4) for k, v in sorted(c.saving.items())}} for c in self.cells],
        }, indent=1, sort_keys=True)

    @classmethod
    def load(cls, path: str | Path, library_version: str | None = None) -> DeliveryPlan:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"{path}: no delivery plan (make one: prompt-router plan)") from None
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: not a delivery plan ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ModelError(f"{path}: not a {FORMAT} file")
        version = data.get("library_version")
        if not isinstance(version, str):
            raise ModelError(f"{path}: field 'library_version' is missing")
        if library_version is not None and version != library_version:
            raise ModelError(f"{path}: stale: made for library version {version}, the library is now {library_version}; "
                             "run `prompt-router plan` again")
        return cls(version, _bundles(data.get("bundles"), path), tuple(_cell(c, path) for c in _list(data, "cells", path)))


def _list(data: Mapping[str, Any], key: str, path: Path) -> Sequence[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise ModelError(f"{path}: field {key!r} must be a list")
    return value


def _bundles(value: Any, path: Path) -> tuple[tuple[str, ...], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(b, list) and all(isinstance(m, str) for m in b) for b in value):
        raise ModelError(f"{path}: field 'bundles' must be a list of lists of module ids")
    bundles = tuple(tuple(b) for b in value)
    for smaller, larger in zip(bundles, bundles[1:]):
        if larger[: len(smaller)] != smaller:
            raise ModelError(f"{path}: bundles must be nested: each one starts with the one before it")
    return bundles


def _cell(value: Any, path: Path) -> PlanCell:
    if not isinstance(value, dict):
        raise ModelError(f"{path}: every cell must be an object")
    try:
        best = value["best"]
        if best not in POLICIES:
            raise ModelError(f"{path}: cell policy {best!r} is not one of {', '.join(POLICIES)}")
        saving = value.get("saving", {})
        if not isinstance(saving, dict) or not all(isinstance(v, (int, float)) for v in saving.values()):
            raise ModelError(f"{path}: cell 'saving' must map policies to numbers")
        return PlanCell(str(value["provider"]), float(value["threads_per_hour"]), float(value["thread_turns"]),
                        float(value.get("tool_steps", 0.0)), best, {str(k): float(v) for k, v in saving.items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{path}: malformed cell ({exc})") from None
