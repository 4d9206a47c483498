"""Telemetry: report routing decisions and prompt sizes to a Sentry-compatible tracker."""

from .scrub import scrub_event
from .sentry import SentryTelemetry, make_client

__all__ = ["SentryTelemetry", "make_client", "scrub_event"]
