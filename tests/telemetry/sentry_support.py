"""Test helpers: a loopback collector for what the real sentry-sdk sends, and its decoder."""

from __future__ import annotations

import gzip
import json
import threading
import time
import zlib
from typing import Any

from werkzeug import Request, Response


def decode_body(body: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli

        return brotli.decompress(body)
    return body


def parse_envelope(raw: bytes) -> tuple[dict[str, Any], list[tuple[dict[str, Any], Any]]]:
    """Envelope framing: a header line, then items of (header line, payload)."""
    header_line, _, rest = raw.partition(b"\n")
    items = []
    while rest.strip():
        item_header_line, _, rest = rest.partition(b"\n")
        item_header = json.loads(item_header_line)
        length = item_header.get("length")
        if length is None:
            payload, _, rest = rest.partition(b"\n")
        else:
            payload, rest = rest[:length], rest[length:].lstrip(b"\n")
        try:
            items.append((item_header, json.loads(payload)))
        except ValueError:
            items.append((item_header, payload))
    return json.loads(header_line), items


class Collector:
    """Receives envelopes on a pytest-httpserver and keeps the raw and decoded bodies."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.items: list[tuple[dict[str, Any], Any]] = []
        self._lock = threading.Lock()

    def handler(self, request: Request) -> Response:
        raw = decode_body(request.get_data(), request.headers.get("Content-Encoding"))
        _, items = parse_envelope(raw)
        with self._lock:
            self.raw.append(raw)
            self.items.extend(items)
        return Response("{}", status=200, content_type="application/json")

    def events(self, kind: str = "event") -> list[dict[str, Any]]:
        with self._lock:
            return [payload for header, payload in self.items if header.get("type") == kind]

    def everything(self) -> str:
        with self._lock:
            return "\n".join(r.decode("utf-8", "replace") for r in self.raw)

    def wait_for(self, count: int, kind: str = "event", timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.events(kind)) < count:
            time.sleep(0.02)
        return self.events(kind)


def dsn_for(server: Any, project: int = 1) -> str:
    return f"http://publickey@127.0.0.1:{server.port}/{project}"
