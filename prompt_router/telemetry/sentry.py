"""Reporting routing to a Sentry-compatible tracker (GlitchTip, Sentry, Bugsink) with sentry-sdk.

A library must not hijack its host's Sentry: this never calls `sentry_sdk.init`, uses its own
`sentry_sdk.Client` (no default or auto-enabled integrations) and captures through that client
with its own `Scope`, so our events go to our DSN with only our data, and the host's events,
tags, user and breadcrumbs are untouched. (`Scope.capture_event` would merge the host's global
and isolation scopes into our events; `Client.capture_event(event, scope=ours)` does not.)

Capture is fire-and-forget: the request thread only draws the sampling decision and puts the
immutable result on a bounded queue; a daemon thread builds, scrubs and hands events to the
SDK, whose own transport thread does the HTTP. A full queue drops (and counts) events.

The thread is started lazily, by the first event of the process that reports it, and again
in a forked child: a router created before a pre-fork server forks its workers still reports.
It holds the observer only weakly: a router that is dropped without `close()` stops its
thread (and closes its client, whose transport thread goes too) when it is collected; at
interpreter exit every observer still alive is closed, flushing within its shutdown timeout.
A forked child also gets a new client of its own (the parent's transport has its queue,
locks and keep-alive sockets, which must not be shared) and fresh locks.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import random
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentry_sdk._types import Event

import contextlib

import sentry_sdk

from ..results import Observer, PromptResult, ProviderRequest
from ..settings import RouterSettings
from . import events
from .scrub import key_scrubber, scrub_event

logger = logging.getLogger("prompt_router.telemetry")
_STOP = object()
_LIVE: weakref.WeakSet[SentryTelemetry] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for telemetry in list(_LIVE):
        telemetry._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


@atexit.register
def _close_live() -> None:
    """At exit, flush and close the observers nobody closed (each within its timeout)."""
    for telemetry in list(_LIVE):
        telemetry.close()


def _drain(owner: weakref.ref[SentryTelemetry], items: queue.Queue[Any]) -> None:
    """The telemetry thread. It holds its observer weakly, so that an observer nobody
    references any more can be collected; then its finaliser sends _STOP."""
    while True:
        item = items.get()
        try:
            telemetry = owner()
            if item is _STOP or telemetry is None:
                return
            telemetry._send(item)
        except Exception:  # telemetry must never take anything down, itself included
            logger.debug("prompt-router telemetry: could not send an event", exc_info=True)
        finally:
            telemetry = None
            items.task_done()


def _abandoned(items: queue.Queue[Any], client: Any, owns_client: bool) -> None:
    """An observer was collected without close(): stop its thread and its client's."""
    with contextlib.suppress(queue.Full):
        items.put_nowait(_STOP)
    if owns_client:
        with contextlib.suppress(Exception):
            client.close(timeout=0)


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("prompt-router")
    except PackageNotFoundError:
        return "unknown"


def make_client(settings: RouterSettings) -> sentry_sdk.Client:
    """Our own client: only our DSN, no integrations, no PII, no hostname, no frame locals."""
    assert settings.sentry_dsn is not None
    return sentry_sdk.Client(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        # An explicit release also stops the SDK from running `git` to guess one.
        release=settings.sentry_release or f"prompt-router@{_package_version()}",
        default_integrations=False,
        auto_enabling_integrations=False,
        integrations=[],
        include_local_variables=False,
        max_breadcrumbs=0,
        server_name="",
        auto_session_tracking=False,
        enable_backpressure_handling=False,
        sample_rate=1.0,  # sampling is ours, decided before anything is built
        before_send=scrub_event,
        before_send_transaction=scrub_event,
        event_scrubber=key_scrubber(),
        transport_queue_size=settings.telemetry_queue_size,
        shutdown_timeout=settings.telemetry_shutdown_timeout,
    )


class SentryTelemetry(Observer):
    """A RouterObserver that reports routing decisions, prompt sizes, timing and faults."""

    def __init__(
        self,
        client: Any,
        *,
        sample_rate: float = 1.0,
        traces_sample_rate: float = 0.0,
        provider_sample_rate: float = 1.0,
        queue_size: int = 1000,
        max_per_second: float = 100.0,
        shutdown_timeout: float = 2.0,
        owns_client: bool = True,
        extra_tags: dict[str, str] | None = None,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.client = client
        self._client_factory = client_factory  # makes this process's own client after a fork
        self.sample_rate = sample_rate
        self.traces_sample_rate = traces_sample_rate
        self.provider_sample_rate = provider_sample_rate
        self.shutdown_timeout = shutdown_timeout
        self.extra_tags = dict(extra_tags or {})
        self.dropped = 0
        # A token bucket bounds the background work: in CPython the telemetry thread shares
        # the GIL with request threads, so unbounded event building would slow requests.
        self._rate = max_per_second
        self._allowance = max_per_second
        self._last = time.monotonic()
        self._owns_client = owns_client
        self._scope = sentry_sdk.Scope()  # ours alone: never merged with the host's scopes
        self._queue_size = queue_size
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._random = random.random
        self._closed = False
        self._pid: int | None = None  # the process whose thread drains the queue
        self._start_lock = threading.Lock()
        self._forked = False
        # Collected without close(): stop the thread (if it ever ran) and the client's transport.
        self._finalizer: Any = weakref.finalize(self, _abandoned, self._queue, self.client, self._owns_client)
        self._finalizer.atexit = False  # exit is _close_live's, with a flush
        _LIVE.add(self)

    def _after_fork(self) -> None:
        """In a forked child: fresh lock; the client is replaced when the child first reports."""
        self._start_lock = threading.Lock()
        self._forked = True

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._start_lock:
            if self._pid == pid:
                return
            forked = self._forked or self._pid is not None
            if self._forked and self._owns_client and self._client_factory is not None:
                # nor its client: never closed here, its sockets are the parent's too
                self.client = self._client_factory()
            self._forked = False
            if self._pid is not None:  # a forked child: the parent's thread and queue are not ours
                self._queue = queue.Queue(maxsize=self._queue_size)
            if forked:  # the finaliser must stop this process's queue and client
                self._finalizer.detach()
                self._finalizer = weakref.finalize(self, _abandoned, self._queue, self.client, self._owns_client)
                self._finalizer.atexit = False
            thread = threading.Thread(target=_drain, args=(weakref.ref(self), self._queue),
                                      name="prompt-router-telemetry", daemon=True)
            thread.start()
            self._pid = pid

    @classmethod
    def from_settings(cls, settings: RouterSettings) -> SentryTelemetry | None:
        """None when telemetry is off or there is nowhere to send: then nothing is attached."""
        if not settings.telemetry_enabled:
            return None
        options: dict[str, Any] = {
            "sample_rate": settings.telemetry_sample_rate, "traces_sample_rate": settings.telemetry_traces_sample_rate,
            "provider_sample_rate": settings.telemetry_provider_sample_rate,
            "queue_size": settings.telemetry_queue_size, "shutdown_timeout": settings.telemetry_shutdown_timeout,
            "max_per_second": settings.telemetry_max_events_per_second}
        if settings.telemetry_use_host_client:
            host = sentry_sdk.get_client()
            if host.is_active():
                return cls(host, owns_client=False, **options)
        if settings.sentry_dsn is None:
            return None
        return cls(make_client(settings), client_factory=lambda: make_client(settings), **options)

    def apply_settings(self, settings: RouterSettings) -> None:
        """Sampling and rate limits apply at once (the DSN and queue size need a new client:
        the router makes one when those change)."""
        self.sample_rate = settings.telemetry_sample_rate
        self.traces_sample_rate = settings.telemetry_traces_sample_rate
        self.provider_sample_rate = settings.telemetry_provider_sample_rate
        self._rate = settings.telemetry_max_events_per_second
        self._allowance = min(self._allowance, self._rate)
        self.shutdown_timeout = settings.telemetry_shutdown_timeout

    # --- the request path: a random draw and a non-blocking put ---------------------------------

    def on_result(self, result: PromptResult) -> None:
        sampled = self._random() < self.sample_rate
        traced = self.traces_sample_rate > 0 and self._random() < self.traces_sample_rate
        if sampled or traced:
            self._put(("result", result, time.time(), sampled, traced))

    def on_error(self, error: BaseException, result: PromptResult) -> None:
        self._put(("error", error, result))

    def on_provider_request(self, request: ProviderRequest) -> None:
        """For the integration layer: what was actually sent to the provider (sampled on its own)."""
        if self._random() < self.provider_sample_rate:
            self._put(("provider", request))

    def _put(self, item: tuple[Any, ...]) -> None:
        if self._closed:
            return
        self._ensure_thread()
        now = time.monotonic()  # races between request threads only blur the rate a little
        self._allowance = min(self._rate, self._allowance + (now - self._last) * self._rate)
        self._last = now
        if self._allowance < 1.0:
            self.dropped += 1
            return
        self._allowance -= 1.0
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1

    # --- the telemetry thread ---------------------------------------------------------------------

    def _send(self, item: tuple[Any, ...]) -> None:
        for event, hint in self._events(item):
            self.client.capture_event(scrub_event(event), hint=hint, scope=self._scope)

    def _events(self, item: tuple[Any, ...]) -> list[tuple[Event, dict[str, Any] | None]]:
        kind = item[0]
        if kind == "result":
            _, result, finished_at, sampled, traced = item
            out: list[tuple[Event, dict[str, Any] | None]] = []
            if sampled:
                out += [(events.routing_event(result, self.extra_tags), None), (events.prompt_event(result, self.extra_tags), None)]
            if traced:
                out.append((events.transaction_event(result, finished_at, self.extra_tags), None))
            return out
        if kind == "error":
            _, error, result = item
            return [events.error_event(error, result, getattr(self.client, "options", None))]
        _, request = item
        return [(events.provider_request_event(request, self.extra_tags), None)]

    # --- shutdown -----------------------------------------------------------------------------------

    def flush(self, timeout: float | None = None) -> bool:
        """Wait (at most `timeout` seconds) until queued events are handed to the SDK and sent."""
        deadline = time.monotonic() + (self.shutdown_timeout if timeout is None else timeout)
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.005)
        remaining = max(0.0, deadline - time.monotonic())
        self.client.flush(timeout=remaining)
        return not self._queue.unfinished_tasks

    def close(self, timeout: float | None = None) -> None:
        """Flush with a bounded timeout, stop the thread, and close our own client."""
        if self._closed:
            return
        self.flush(timeout)
        self._closed = True
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_STOP)
        self._finalizer.detach()
        if self._owns_client:
            self.client.close(timeout=0)
        _LIVE.discard(self)
