"""The `auto` delivery policy: for the model's pricing family and the traffic this process
observes, the plan cell's `best` policy, and never one the plan says costs more than static.

    chooser = PolicyChooser(meter)
    choice = chooser.choose(settings, library, model="claude-sonnet-5")   # Choice("catalogue", "plan")

When it cannot choose (no plan, a stale or broken plan, no model or one whose caching is not
known, no cell for its family, traffic still being measured, a best saving that is not
positive, or the provider's own usage figures showing the plan's policy costing more than the
full prompt: `usage_check.py`) it serves `static`, and says why once per cause: a log line, and the
`policy_reason` label on the results it serves. Choices are cached per (family, library
version) for `refresh_seconds`, so the hot path is a dictionary lookup.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..library import ModuleLibrary
from ..settings import RouterSettings
from ._fork import reset_after_fork
from .plan import PLAN_NAME, POLICIES, DeliveryPlan, PolicyName
from .pricing import PROVIDERS, CachePricing, pricing_for_model
from .traffic import Traffic, TrafficMeter
from .usage_check import UsageCheck

logger = logging.getLogger("prompt_router")

# Why auto serves what it serves (the `policy_reason` label). "plan": the plan's best policy.
REASONS = {
    "plan": "the delivery plan's cheapest policy for this traffic",
    "no_model": "no model named (prepare(model=...) or PROMPT_ROUTER_MODEL): its caching rules decide",
    "unknown_model": "the model's caching rules are not known (integration/pricing.py; PROMPT_ROUTER_DELIVERY_PRICING names a family)",
    "no_plan": "no delivery plan for this library (make one: prompt-router plan)",
    "stale_plan": "the delivery plan was made for another version of the library (run prompt-router plan again)",
    "bad_plan": "the delivery plan cannot be read",
    "no_cell": "the delivery plan has no scenario for this pricing family",
    "no_bundles": "the plan's best policy is bundles but the plan has no bundles",
    "no_saving": "no policy saves money against the full prompt for this traffic",
    "measuring_traffic": "still measuring this process's traffic",
    "usage_costs_more": "the provider's usage figures show the plan's policy costing more than the full prompt would "
                        "(the plan is trusted again after an hour)",
}
_WARN = frozenset({"unknown_model", "stale_plan", "bad_plan", "no_cell", "no_bundles"})
# Said where it happens, with its figures (ConversationRouter, when the bills veto the plan).
_SAID_ELSEWHERE = frozenset({"usage_costs_more"})


@dataclass(frozen=True)
class Choice:
    policy: PolicyName
    reason: str  # a key of REASONS, or "configured" for a fixed policy
    bundles: tuple[tuple[str, ...], ...] = ()  # the plan's nested bundles (bundles policy)


# The policies that need no plan, as chosen by configuration.
_FIXED: dict[str, Choice] = {p: Choice(p, "configured") for p in POLICIES if p != "bundles"}


@dataclass(frozen=True)
class _Loaded:
    plan: DeliveryPlan | None
    reason: str  # "plan" when usable


class PolicyChooser:
    """Reads the delivery plan (the one given, or the file the settings name) and chooses
    per request; thread-safe, and cheap after the first request of each refresh period."""

    def __init__(self, meter: TrafficMeter, *, plan: DeliveryPlan | None = None, traffic: Traffic | None = None,
                 refresh_seconds: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 usage: UsageCheck | None = None) -> None:
        self.meter = meter
        self.usage = usage or UsageCheck(clock=clock)
        self.plan = plan  # given: used instead of the file
        self.traffic = traffic  # given: used instead of the meter
        self.refresh_seconds = refresh_seconds
        self._clock = clock
        self._choices: dict[tuple[str, str, str, str], tuple[float, Choice]] = {}
        self._files: dict[tuple[str, str], tuple[tuple[int, int], _Loaded]] = {}
        self._told: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        reset_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    # --- choosing ----------------------------------------------------------------------------

    def choose(self, configured: str, settings: RouterSettings, library: ModuleLibrary, model: str | None = None) -> Choice:
        """The policy for a new thread going to `model` (default: the `model` setting):
        `configured` itself, or auto's choice; bundles need the plan's bundles."""
        fixed = _FIXED.get(configured)
        if fixed is not None:
            return fixed
        model = model or settings.model
        family = settings.delivery_pricing or ""
        key = (configured, model or "", family, library.version)
        now = self._clock()
        cached = self._choices.get(key)
        if cached is not None and now - cached[0] < self.refresh_seconds:
            return cached[1]
        choice = self._bundles(settings, library) if configured == "bundles" else self._auto(settings, library, model)
        with self._lock:
            self._choices[key] = (now, choice)
            while len(self._choices) > 256:
                del self._choices[next(iter(self._choices))]
        return choice

    def forget(self) -> None:
        """Drop the cached choices: the next request of each kind chooses afresh."""
        with self._lock:
            self._choices.clear()

    def bundles(self, library: ModuleLibrary, settings: RouterSettings) -> tuple[tuple[str, ...], ...]:
        """The usable plan's nested bundles, or () (a thread pinned to a bundle when auto now
        chooses otherwise still needs them)."""
        loaded = self._load(settings, library)
        return loaded.plan.bundles if loaded.plan is not None else ()

    def _bundles(self, settings: RouterSettings, library: ModuleLibrary) -> Choice:
        loaded = self._load(settings, library)
        if loaded.plan is None or not loaded.plan.bundles:
            reason = loaded.reason if loaded.plan is None else "no_bundles"
            return self._static(reason, policy="bundles")
        return Choice("bundles", "configured", loaded.plan.bundles)

    @staticmethod
    def pricing(settings: RouterSettings, model: str | None) -> CachePricing | None:
        """The caching rules a request to `model` is billed by (the setting names a family)."""
        if settings.delivery_pricing:
            return PROVIDERS.get(settings.delivery_pricing)
        return pricing_for_model(model) if model else None

    def _auto(self, settings: RouterSettings, library: ModuleLibrary, model: str | None) -> Choice:
        if not settings.delivery_pricing and not model:
            return self._static("no_model")
        pricing = self.pricing(settings, model)
        if pricing is None:  # the model's name is not logged: a host may take it from its client's request
            return self._static("unknown_model")
        loaded = self._load(settings, library)
        if loaded.plan is None:
            return self._static(loaded.reason)
        traffic = self.traffic or self.meter.traffic()
        if traffic is None:
            return self._static("measuring_traffic")
        if settings.traffic_workers > 1 and self.traffic is None:
            traffic = Traffic(traffic.threads_per_hour * settings.traffic_workers, traffic.thread_turns, traffic.tool_steps)
        cell = loaded.plan.cell(pricing.name, traffic.threads_per_hour, traffic.thread_turns, traffic.tool_steps)
        if cell is None:
            return self._static("no_cell", pricing.name)
        saving = cell.saving.get(cell.best, 0.0)
        if cell.best == "static" or not saving > 0:
            return self._static("no_saving", f"{pricing.name} at {traffic.threads_per_hour:.0f} threads/h, "
                                             f"{traffic.thread_turns:.1f} turns, {traffic.tool_steps:.1f} tool steps")
        if cell.best == "bundles" and not loaded.plan.bundles:
            return self._static("no_bundles")
        if self.usage.vetoed(pricing.name):
            return self._static("usage_costs_more")
        return Choice(cell.best, "plan", loaded.plan.bundles)

    def _static(self, reason: str, detail: str = "", policy: str = "auto") -> Choice:
        """Serve the full prompt, and say why once per cause (a pricing family without a
        cell is a cause of its own): our own words, a family name and traffic figures only."""
        told = (policy, reason, detail if reason == "no_cell" else "")
        if told not in self._told and reason not in _SAID_ELSEWHERE:
            with self._lock:
                first = told not in self._told
                self._told.add(told)
            if first:
                explanation = REASONS[reason] + (f" ({detail})" if detail else "")
                if reason in _WARN:
                    logger.warning("prompt-router: delivery policy %s serves the full prompt: %s", policy, explanation)
                else:
                    logger.info("prompt-router: delivery policy %s serves the full prompt: %s", policy, explanation)
        return Choice("static", reason)

    # --- the plan ----------------------------------------------------------------------------

    def plan_path(self, settings: RouterSettings) -> Path:
        return settings.delivery_plan or settings.library_dir() / PLAN_NAME

    def _load(self, settings: RouterSettings, library: ModuleLibrary) -> _Loaded:
        if self.plan is not None:
            if self.plan.library_version != library.version:
                return _Loaded(None, "stale_plan")
            return _Loaded(self.plan, "plan")
        path = self.plan_path(settings)
        try:
            stat = path.stat()
            signature = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            return _Loaded(None, "no_plan")
        key = (str(path), library.version)
        cached = self._files.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        loaded = _read(path, library.version)
        with self._lock:
            self._files[key] = (signature, loaded)
            while len(self._files) > 8:
                del self._files[next(iter(self._files))]
        return loaded


def _read(path: Path, library_version: str) -> _Loaded:
    try:
        plan = DeliveryPlan.load(path)
    except ModelError as exc:
        logger.warning("prompt-router: %s", exc)  # names the file and the field at fault
        return _Loaded(None, "bad_plan")
    if plan.library_version != library_version:
        return _Loaded(None, "stale_plan")
    return _Loaded(plan, "plan")
