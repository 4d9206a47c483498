"""The second line of defence: strip anything personal from an event before it leaves.

Our events are built without user text in the first place (see events.py); this scrubber
also runs as the client's `before_send`, so a mistake elsewhere still cannot ship personal
data. Two passes:

1. by key: sentry-sdk's own `EventScrubber` (its denylist of credential, cookie and IP keys,
   plus ours), applied to the whole event, contexts and tags included;
2. by pattern, in every string: e-mail addresses, phone numbers, IBANs, card numbers (Luhn
   checked), national ids, IPv4/IPv6 addresses, street addresses, `password=...` pairs, PEM
   blocks, webhook and credential-bearing URLs, vendor keys, JWTs and long tokens.

Patterns err on the side of redacting: a date or version that looks like an address is lost
from a tracker event, which is cheaper than a phone number that gets through. Every pattern
runs in linear time (bounded repetitions, no nested quantifiers over the same characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from sentry_sdk.scrubber import DEFAULT_DENYLIST, DEFAULT_PII_DENYLIST, EventScrubber

if TYPE_CHECKING:
    from sentry_sdk._types import Event, Hint

REDACTED = "[redacted]"
# Keys whose values are user text or credentials wherever they appear.
DENYLIST = [*DEFAULT_DENYLIST, *DEFAULT_PII_DENYLIST, "dsn", "query", "history", "messages", "prompt", "email",
            "phone", "address", "iban", "card", "ssn"]
# Identifiers the protocol needs; long hex by nature, never user data.
_ID_KEYS = frozenset({"event_id", "trace_id", "span_id", "parent_span_id", "release", "sentry_key", "library_version",
                      "prompt_router.library_version"})
_DROP_KEYS = ("server_name", "user", "request", "breadcrumbs", "extra", "modules")

_PEM = re.compile(r"-----BEGIN [A-Z0-9 ]{1,64}-----(?:.*?-----END [A-Z0-9 ]{1,64}-----|.*)", re.DOTALL)
_ASSIGNMENT = re.compile(
    r"(?i)\b(pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|access[_-]?key|auth(?:orization)?|credentials?)"
    r"(\s{0,3}[=:]\s{0,3})(?:\"[^\"]{0,512}\"|'[^']{0,512}'|[^\s,;&]{1,512})")
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]{0,16}://\S{1,4096}")
# A URL is a credential when it carries a user:password, is a webhook (whoever has it can
# post), or has a token, key or signature in its query.
_SECRET_URL = re.compile(r"(?i)^[^/]*//[^/@\s]*:[^/@\s]*@|hook|[?&;](?:[\w-]*(?:token|key|sig|secret|auth|code)[\w-]*)=")
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_SECRET = re.compile(
    r"\b(?:sk|pk|rk|ghp|gho|ghs|xox[abpors]|glpat|AKIA|ASIA)[-_]?[A-Za-z0-9_\-]{10,}"  # vendor key prefixes
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"  # JWTs
)
# Long runs of token characters; a secret when it mixes letters and digits (checked outside the
# regex: lookaheads over the run made this quadratic on long inputs).
_TOKEN_RUN = re.compile(r"[A-Za-z0-9+/_-]{32,}")
_HAS_DIGIT, _HAS_LETTER = re.compile(r"\d").search, re.compile(r"[A-Za-z]").search
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_CARD = re.compile(r"(?<![\d.-])\d(?:[ -]?\d){12,18}(?![\d.-])")
_IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\d.])")
_IPV6 = re.compile(r"(?i)(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4}::"
                   r"(?:[0-9a-f]{1,4}:){0,6}[0-9a-f]{0,4})(?![\w:])")
_NATIONAL_ID = re.compile(
    r"\b\d{3}-\d{2}-\d{4}\b"  # US social security number
    r"|\b[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"  # UK national insurance number
    r"|\b\d{9,}\b")  # any long digit run: account, tax or id numbers
# Groups of digits with a separator between each (no separator: a long digit run, above).
_PHONE = re.compile(r"(?<![\w+.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,5}(?:[ .-]\d{1,5}){1,5}(?![\w.-])")
_STREET = re.compile(
    r"(?i)\b\d{1,5}[a-z]?,? (?:[a-z][\w'.-]{0,30} ){1,4}"
    r"(?:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|square|sq|terrace|"
    r"highway|hwy|parkway|pkwy)\b\.?"
    r"|\b[A-ZÄÖÜ][\wäöüß-]{1,40}(?:straße|strasse|str\.|weg|platz|allee|gasse|ring)\s{1,3}\d{1,4}[a-z]?\b")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _iban_valid(text: str) -> bool:
    compact = text.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _redact_if(check: Callable[[str], bool]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return REDACTED if check(match.group()) else match.group()
    return replace


def _enough_digits(text: str) -> bool:
    return 9 <= sum(c.isdigit() for c in text) <= 15


_RULES: tuple[tuple[re.Pattern[str], Any], ...] = (
    (_PEM, REDACTED),
    (_ASSIGNMENT, rf"\1\2{REDACTED}"),
    (_URL, _redact_if(lambda url: _SECRET_URL.search(url) is not None)),
    (_EMAIL, REDACTED),
    (_SECRET, REDACTED),
    (_TOKEN_RUN, _redact_if(lambda run: _HAS_DIGIT(run) is not None and _HAS_LETTER(run) is not None)),
    (_IBAN, _redact_if(_iban_valid)),
    (_CARD, _redact_if(lambda text: _luhn(re.sub(r"\D", "", text)))),
    (_IPV4, REDACTED),
    (_IPV6, REDACTED),
    (_NATIONAL_ID, REDACTED),
    (_PHONE, _redact_if(_enough_digits)),
    (_STREET, REDACTED),
)
_KEY_SCRUBBER = EventScrubber(denylist=DENYLIST, recursive=True, send_default_pii=False)


def scrub_text(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


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
    cleaned: dict[str, Any] = _scrub({k: v for k, v in event.items() if k not in _DROP_KEYS})
    _KEY_SCRUBBER.scrub_dict(cleaned)
    return cast("Event", cleaned)


def key_scrubber() -> EventScrubber:
    """sentry-sdk's scrubber with our denylist, for the client's `event_scrubber` option."""
    return EventScrubber(denylist=list(DENYLIST), recursive=True, send_default_pii=False)
