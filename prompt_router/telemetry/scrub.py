"""The second line of defence: strip anything personal from an event before it leaves.

Our events are built without user text in the first place (see events.py); this scrubber
also runs as the client's `before_send`, so a mistake elsewhere still cannot ship an e-mail
address, a credential-looking token, a hostname or a user."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from sentry_sdk._types import Event, Hint

REDACTED = "[redacted]"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SECRET = re.compile(
    r"\b(?:sk|pk|rk|ghp|gho|ghs|xox[abpors]|glpat|AKIA|ASIA)[-_]?[A-Za-z0-9_\-]{10,}"  # vendor key prefixes
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs
    r"|\b(?=[A-Za-z0-9+/_-]*\d)(?=[A-Za-z0-9+/_-]*[A-Za-z])[A-Za-z0-9+/_-]{32,}"  # long mixed tokens
)
# Identifiers the protocol needs; long hex by nature, never user data.
_ID_KEYS = frozenset({"event_id", "trace_id", "span_id", "parent_span_id", "release", "sentry_key"})
_DROP_KEYS = ("server_name", "user", "request", "breadcrumbs", "extra", "modules")


def scrub_text(text: str) -> str:
    return _SECRET.sub(REDACTED, _EMAIL.sub(REDACTED, text))


def _scrub(value: Any, key: str | None = None) -> Any:
    if isinstance(value, str):
        return value if key in _ID_KEYS else scrub_text(value)
    if isinstance(value, dict):
        return {k: _scrub(v, k) for k, v in value.items() if k != "vars"}  # no frame locals, ever
    if isinstance(value, (list, tuple)):
        return [_scrub(v, key) for v in value]
    return value


def scrub_event(event: Event, hint: Hint | None = None) -> Event:
    """Usable as `before_send`: returns a cleaned copy."""
    cleaned: dict[str, Any] = {k: v for k, v in event.items() if k not in _DROP_KEYS}
    return cast("Event", _scrub(cleaned))
