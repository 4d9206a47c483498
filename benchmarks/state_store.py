"""What shared thread state costs: `ConversationRouter.prepare` with the Redis store vs in memory.

    python benchmarks/state_store.py            # starts its own redis-server on 127.0.0.1
    python benchmarks/state_store.py --quick

Threads of 5 turns built from the A/B cases (distinct queries, as in real traffic), served
one request after another on one core, as one worker does. Prints per store and router:
p50/p99 latency of `prepare`, the latency Redis adds over the in-memory store, requests/s
per worker, and Redis round trips per request; then what a dead Redis costs a request.
Everything runs in one process, the stores taking turns, so the differences hold on a
noisy machine; p50 and p99 are the medians over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

import redis
from _workload import threads

from prompt_router import PromptRouter, RouterSettings
from prompt_router.integration import ConversationRouter, RedisThreadStore

DATE = {"current_date": "2026-11-22"}


def start_redis(directory: str) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", directory],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(500):
        try:
            client.ping()
            return server, port
        except redis.ConnectionError:
            time.sleep(0.01)
    raise RuntimeError("redis-server did not start")


class RoundTrips:
    """Counts what redis-py puts on the wire: one send per command or pipeline, sync or asyncio."""

    def __init__(self) -> None:
        self.count = 0
        import redis.asyncio.connection as aconnection
        import redis.connection as connection

        for cls in (connection.AbstractConnection, aconnection.AbstractConnection):
            original = cls.send_packed_command
            if getattr(original, "counted", False):
                continue
            counted = self._wrap(original, asyncio.iscoroutinefunction(original))
            cls.send_packed_command = counted

    def _wrap(self, original, is_async):
        if is_async:
            async def counted(connection, *args, **kwargs):
                self.count += 1
                return await original(connection, *args, **kwargs)
        else:
            def counted(connection, *args, **kwargs):
                self.count += 1
                return original(connection, *args, **kwargs)
        counted.counted = True
        return counted


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(conversation: ConversationRouter, workload: list[tuple[str, list[list[dict]]]], prefix: str) -> list[float]:
    times = []
    for thread_id, requests in workload:
        for messages in requests:
            start = time.perf_counter()
            conversation.prepare(prefix + thread_id, messages, context=DATE)
            times.append(time.perf_counter() - start)
    return times


def run_async(conversation: ConversationRouter, workload: list[tuple[str, list[list[dict]]]], prefix: str) -> list[float]:
    async def main() -> list[float]:
        times = []
        for thread_id, requests in workload:
            for messages in requests:
                start = time.perf_counter()
                await conversation.aprepare(prefix + thread_id, messages, context=DATE)
                times.append(time.perf_counter() - start)
        await conversation.aclose()
        return times

    return asyncio.run(main())


WIRE = RoundTrips()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5, help="runs per store (medians are reported)")
    args = parser.parse_args()
    count = 100 if args.quick else 400
    workload = threads(count)
    with tempfile.TemporaryDirectory() as directory:
        server, port = start_redis(directory)
        url = f"redis://127.0.0.1:{port}/0"
        try:
            print(f"{count} threads x 5 turns = {count * 5} requests per run; medians of {args.runs} runs\n")
            print("| router | store | p50 µs | p99 µs | added p50 µs | added p99 µs | requests/s per worker | round trips/request |")
            print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for router_name in ("keyword", "hybrid"):
                router = PromptRouter.from_settings(RouterSettings(_env_file=None, router=router_name))
                stores = ("memory", "redis", "redis (asyncio)")
                p50s: dict[str, list[float]] = {name: [] for name in stores}
                p99s: dict[str, list[float]] = {name: [] for name in stores}
                rates: dict[str, list[float]] = {name: [] for name in stores}
                trips: dict[str, float] = {}
                for attempt in range(args.runs):  # stores take turns, so machine noise falls on all alike
                    for store_name in stores:
                        store = None if store_name == "memory" else RedisThreadStore(url, key_prefix=f"bench{attempt}:")
                        conversation = ConversationRouter(router, store=store)
                        run(conversation, workload[:20], f"warm{attempt}-")  # connections, the script
                        router.clear_caches()  # every run routes its queries afresh
                        runner = run_async if "asyncio" in store_name else run
                        before = WIRE.count
                        times = runner(conversation, workload, f"r{attempt}-")
                        trips[store_name] = (WIRE.count - before) / len(times)
                        p50s[store_name].append(percentile(times, 0.5) * 1e6)
                        p99s[store_name].append(percentile(times, 0.99) * 1e6)
                        rates[store_name].append(len(times) / sum(times))
                base_p50, base_p99 = statistics.median(p50s["memory"]), statistics.median(p99s["memory"])
                for store_name in stores:
                    p50, p99 = statistics.median(p50s[store_name]), statistics.median(p99s[store_name])
                    added = "– | –" if store_name == "memory" else f"{p50 - base_p50:.0f} | {p99 - base_p99:.0f}"
                    print(f"| {router_name} | {store_name} | {p50:.0f} | {p99:.0f} | {added} | "
                          f"{statistics.median(rates[store_name]):,.0f} | {trips[store_name]:.2f} |")

            # a dead Redis: the first request pays a refused connection, then the breaker skips the store
            router = PromptRouter.from_settings(RouterSettings(_env_file=None, router="keyword"))
            conversation = ConversationRouter(router, store=RedisThreadStore(url, key_prefix="dead:", timeout_seconds=0.1))
            run(conversation, workload[:5], "up-")
        finally:
            server.terminate()
            server.wait()
        first = run(conversation, workload[:1], "down-")[0]
        router.clear_caches()
        during = run(conversation, workload[:100], "down2-")
        router.clear_caches()
        memory = run(ConversationRouter(router), workload[:100], "mem-")
        print(f"\nRedis stopped: first request {first * 1e6:.0f} µs (connection refused, breaker opens); "
              f"then p50 {percentile(during, 0.5) * 1e6:.0f} µs / p99 {percentile(during, 0.99) * 1e6:.0f} µs "
              f"(in memory: {percentile(memory, 0.5) * 1e6:.0f} / {percentile(memory, 0.99) * 1e6:.0f} µs); "
              f"outages reported: {conversation.outage.outages}")


if __name__ == "__main__":
    main()
