"""The observers a router gets from its settings: the one place where sinks are wired in.

`PromptRouter.from_settings` calls `observers_from_settings`; `reload_settings` calls
`reconcile`. A new sink (a metrics exporter, another tracker) is added here, behind its own
setting, and implements `results.RouterObserver`. Sinks are imported only when configured,
so an unused one costs nothing, not even its import."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from .errors import SettingsError
from .results import RouterObserver
from .settings import RouterSettings

logger = logging.getLogger("prompt_router")
# Settings a running telemetry client cannot change; the others (sample rates, rate limit)
# apply in place through `apply_settings`.
_CLIENT_FIELDS = ("sentry_dsn", "sentry_environment", "sentry_release", "telemetry_enabled",
                  "telemetry_use_host_client", "telemetry_queue_size", "metrics_enabled")


def observers_from_settings(settings: RouterSettings) -> list[RouterObserver]:
    observers: list[RouterObserver] = []
    if settings.telemetry_enabled and (settings.sentry_dsn is not None or settings.telemetry_use_host_client):
        from .telemetry import SentryTelemetry

        telemetry = SentryTelemetry.from_settings(settings)
        if telemetry is not None:
            observers.append(telemetry)
    if settings.metrics_enabled:
        observers.append(_metrics())
    return observers


def _metrics() -> RouterObserver:
    try:
        from .telemetry.metrics import OpenTelemetryMetrics
    except ImportError:
        raise SettingsError("PROMPT_ROUTER_METRICS_ENABLED needs OpenTelemetry: pip install 'prompt-router[otel]'") from None
    return OpenTelemetryMetrics()


def _telemetry_key(settings: RouterSettings) -> tuple[object, ...]:
    return tuple(getattr(settings, name) for name in _CLIENT_FIELDS)


def reconcile(owned: Sequence[RouterObserver], old: RouterSettings, new: RouterSettings) -> list[RouterObserver]:
    """The observers for `new` settings: the same ones, told the new settings, when no sink's
    configuration changed; otherwise the old ones are closed and new ones made."""
    if _telemetry_key(old) == _telemetry_key(new):
        for observer in owned:
            observer.apply_settings(new)
        return list(owned)
    for observer in owned:
        try:
            observer.close(1.0)
        except Exception:
            logger.exception("prompt-router observer %r failed to close", observer)
    return observers_from_settings(new)
