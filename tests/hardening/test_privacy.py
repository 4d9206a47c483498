"""Nothing personal leaves: the scrubber's patterns, sentry-sdk's EventScrubber, withheld
exception messages, log lines without user text; and no thread outlives a dropped router
(the privacy and resource items of issue 14)."""

from __future__ import annotations

import ast
import gc
import logging
import socket
import threading
import time
from pathlib import Path

import pytest
from sentry_sdk.scrubber import EventScrubber

from prompt_router import ContextError, PromptRouter, PromptRouterError, RouterSettings, bundled_library_dir, load_library
from prompt_router.routing import RoutingDecision
from prompt_router.telemetry import events, make_client, scrub_event
from prompt_router.telemetry.scrub import REDACTED, scrub_text
from prompt_router.telemetry.sentry import _LIVE

from ..conftest import DATE

PACKAGE = Path(__file__).resolve().parents[2] / "prompt_router"
LIBRARY = load_library(bundled_library_dir())
CARD = "4111 1111 1111 1111"


@pytest.mark.parametrize("kind, text", [
    ("phone", "call +44 20 7946 0958"), ("phone", "call (555) 123-4567"), ("phone", "call 555.123.4567"),
    ("iban", "pay DE89 3704 0044 0532 0130 00"), ("iban", "pay GB82WEST12345698765432"),
    ("card", f"card {CARD}"), ("card", "card 5500-0055-5555-5559"), ("card", "card 4111111111111111"),
    ("national id", "ssn 078-05-1120"), ("national id", "NI AB 12 34 56 C"), ("national id", "tax id 123456789012"),
    ("ipv4", "from 192.168.10.254"), ("ipv6", "from 2001:db8::8a2e:370:7334"), ("ipv6", "fe80::1ff:fe23:4567:890a"),
    ("street", "at 221B Baker Street"), ("street", "at 1600 Pennsylvania Ave NW"), ("street", "in der Hauptstraße 5"),
    ("password", "password=hunter2"), ("password", "pwd: 'my secret'"), ("password", "api_key=abc123"),
    ("pem", "-----BEGIN RSA PRIVATE KEY-----\nMIIabc\n-----END RSA PRIVATE KEY-----"),
    ("pem", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk (cut off)"),
    ("webhook", "https://hooks.slack.com/services/T000/B000/XXXX"), ("webhook", "https://discord.com/api/webhooks/1/abc"),
    ("url credentials", "https://user:pw@example.com/x"), ("url token", "https://example.com/cb?access_token=abc"),
    ("email", "jane.doe@example.com"), ("token", "sk-live-4f9a8b7c6d5e4f3a2b1c0d9e8f7a"),
])
def test_personal_data_is_redacted(kind, text):
    secret = text.split(" ", 1)[-1] if kind not in ("pem",) else text
    cleaned = scrub_text(f"before {text} after")
    assert REDACTED in cleaned, (kind, cleaned)
    for part in ("hunter2", "my secret", "4111", "0958", "123-4567", "1120", "Baker", "192.168", "8a2e", "MIIabc", "XXXX",
                 "user:pw", "access_token=abc", "jane.doe", "4f9a8b"):
        if part in secret:
            assert part not in cleaned, (kind, cleaned)


@pytest.mark.parametrize("text", ["Routing: 7 modules selected", "Prompt built: 1234 tokens", "on 2026-01-01 at 12:30:45",
                                  "card 4111 1111 1111 1112", "see https://docs.python.org/3/library/re.html",
                                  "RuntimeError: routing failed at step 3 of 10"])
def test_ordinary_text_is_kept(text):
    assert scrub_text(text) == text


def test_sentry_sdk_event_scrubber_runs_on_the_whole_event_and_in_the_client():
    event = {"contexts": {"custom": {"password": "hunter2", "nested": [{"Authorization": "Bearer x"}]}},
             "tags": {"prompt_router.mode": "dynamic", "query": "plot my salary"}, "release": "prompt-router@1.2.3"}
    cleaned = scrub_event(event)
    assert "hunter2" not in repr(cleaned) and "Bearer" not in repr(cleaned) and "salary" not in repr(cleaned)
    assert cleaned["tags"]["prompt_router.mode"] == "dynamic" and cleaned["release"] == "prompt-router@1.2.3"
    client = make_client(RouterSettings(_env_file=None, sentry_dsn="http://key@127.0.0.1:9/1"))
    try:
        scrubber = client.options["event_scrubber"]
        assert isinstance(scrubber, EventScrubber) and "query" in scrubber.denylist and scrubber.recursive
    finally:
        client.close(timeout=0)


class LeakyError(PromptRouterError):
    """A PromptRouterError subclass defined outside prompt_router (e.g. in a custom router)."""


def _result():
    return PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, router="keyword")).system_prompt("x", context=DATE)


def test_messages_of_exceptions_defined_elsewhere_are_withheld_even_when_chained():
    result = _result()
    event, _ = events.error_event(_raised(LeakyError(f"user wrote {CARD}")), result, {})
    values = event["exception"]["values"]
    assert all(CARD not in v["value"] for v in values) and values[-1]["type"] == "LeakyError"
    ours = ContextError("context is missing required variable(s): workspace_root")
    ours.__cause__ = RuntimeError(f"parsing {CARD}")
    event, _ = events.error_event(_raised(ours), result, {})
    by_type = {v["type"]: v["value"] for v in event["exception"]["values"]}
    assert by_type["ContextError"] == str(ours) and CARD not in by_type["RuntimeError"]


def _raised(error: BaseException) -> BaseException:
    try:
        raise error
    except BaseException as caught:
        return caught


def test_the_routing_failed_log_line_names_the_type_only(caplog):
    class Router:
        name = "custom"
        library = LIBRARY

        def route(self, query, history=(), sticky=()) -> RoutingDecision:
            raise ValueError(f"cannot route {query!r}")

    router = PromptRouter(LIBRARY, router=Router(), settings=RouterSettings(_env_file=None))
    with caplog.at_level(logging.DEBUG, logger="prompt_router"):
        result = router.system_prompt(f"my card is {CARD}", context=DATE)
    assert result.mode == "error" and CARD in (result.error or "")  # the caller gets it
    assert "routing failed (ValueError)" in caplog.text and CARD not in caplog.text


def test_no_log_call_in_the_package_formats_user_text():
    """Every logging call's arguments, checked statically: types, observers, our own errors."""
    allowed = {"type(exc).__name__", "observer",
               "where", "type(error).__name__",  # litellm.py: the hook stage, a literal of ours
               "self.router.library.version",  # watch.py: a content hash
               "cause", "self.retry_seconds",  # outage.py: the store error's type name, a setting
               "policy", "explanation"}  # auto.py: a policy name; a reason of ours (+ a pricing family, traffic figures)
    # factory.py: a ModelError; watch.py: a SettingsError about the library files; auto.py: a
    # ModelError about the delivery plan file. Their messages are ours (paths, lines,
    # versions), never a request's text.
    ours_only = {"exc"}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "logger"):
                for arg in node.args[1:]:
                    text = ast.unparse(arg)
                    assert text in allowed or (text in ours_only and path.name in ("factory.py", "watch.py", "auto.py")), f"{path}: logger.{node.func.attr}({text})"


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _threads(name: str) -> int:
    return sum(t.name == name for t in threading.enumerate())


def test_a_router_that_is_never_closed_leaks_no_thread():
    """Every router not closed leaked two threads (ours and the SDK's transport)."""
    settings = RouterSettings(_env_file=None, sentry_dsn=f"http://key@127.0.0.1:{_closed_port()}/1", router="keyword")
    ours, sdk = _threads("prompt-router-telemetry"), _threads("sentry-sdk.BackgroundWorker")
    gc.collect()
    live = len(_LIVE)
    idle = PromptRouter.from_settings(settings)
    assert _threads("prompt-router-telemetry") == ours  # started lazily, by the first event
    del idle
    for _ in range(3):
        router = PromptRouter.from_settings(settings)
        router.system_prompt("deploy the app", context=DATE)
        router.observers[0].flush(2)
        del router
    gc.collect()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (_threads("prompt-router-telemetry") > ours or _threads("sentry-sdk.BackgroundWorker") > sdk):
        time.sleep(0.05)
    assert _threads("prompt-router-telemetry") == ours and _threads("sentry-sdk.BackgroundWorker") <= sdk
    assert len(_LIVE) == live  # nothing left for the exit hook either
