"""Telemetry overhead on route+build: no DSN vs a healthy, a hanging and an unreachable tracker,
all on loopback, with the default rate cap and uncapped. Prints medians, p99s and ratios.

    python benchmarks/telemetry_overhead.py
"""

from __future__ import annotations

import socket
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prompt_router import PromptRouter, RouterSettings

CONTEXT = {"current_date": "2026-11-22"}
QUERIES = [f"plot the sales for region {i} and email the chart to the team" for i in range(2000)]


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args) -> None:
        pass


def _hanging() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    kept: list[socket.socket] = []
    threading.Thread(target=lambda: [kept.append(sock.accept()[0]) for _ in iter(int, 1)], daemon=True).start()
    return sock, sock.getsockname()[1]


def _closed() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _times(router: PromptRouter) -> list[float]:
    out = []
    for query in QUERIES:
        start = time.perf_counter()
        router.system_prompt(query, context=CONTEXT)
        out.append((time.perf_counter() - start) * 1e6)
    return out


def main() -> None:
    ok = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=ok.serve_forever, daemon=True).start()
    hanging, hanging_port = _hanging()
    targets = {
        "healthy tracker": f"http://k@127.0.0.1:{ok.server_address[1]}/1",
        "hanging tracker": f"http://k@127.0.0.1:{hanging_port}/1",
        "closed port": f"http://k@127.0.0.1:{_closed()}/1",
    }
    base = PromptRouter.from_settings(RouterSettings(_env_file=None, route_cache_size=0))
    _times(base)  # warm up
    print(f"{'configuration':45} {'p50 µs':>8} {'p99 µs':>8} {'p50 ratio':>10} {'p99 ratio':>10}")
    for cap, label in ((100.0, "default cap 100/s"), (1e9, "uncapped")):
        for name, dsn in targets.items():
            router = PromptRouter.from_settings(RouterSettings(
                _env_file=None, route_cache_size=0, sentry_dsn=dsn, telemetry_max_events_per_second=cap))
            rounds_base, rounds_tel = [], []
            for _ in range(5):
                rounds_base += _times(base)
                rounds_tel += _times(router)
            router.close(1.0)
            b50, t50 = statistics.median(rounds_base), statistics.median(rounds_tel)
            b99 = statistics.quantiles(rounds_base, n=100)[98]
            t99 = statistics.quantiles(rounds_tel, n=100)[98]
            print(f"{name + ', ' + label:45} {t50:8.1f} {t99:8.1f} {t50 / b50:10.2f} {t99 / b99:10.2f}")
    print(f"{'no DSN (baseline)':45} {b50:8.1f} {b99:8.1f}")
    hanging.close()
    ok.shutdown()


if __name__ == "__main__":
    main()
