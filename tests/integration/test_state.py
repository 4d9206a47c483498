"""The thread-store contract, for the in-memory store and for Redis (a real redis-server on
127.0.0.1), sync and asyncio; one round trip per request; fleet-wide switches; a Redis
outage never fails a request and is recovered from by itself."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest
import redis

from prompt_router import PromptRouter, RouterSettings, StateStoreError, bundled_library_dir, load_library
from prompt_router.integration import (
    ConversationRouter,
    MemoryThreadStore,
    RedisThreadStore,
    Switches,
    ThreadState,
    arm_for,
    store_from_settings,
)

from ..conftest import DATE
from .chat import user
from .redis_server import RedisServer

LIBRARY = load_library(bundled_library_dir())


@pytest.fixture(params=["memory", "redis"])
def store(request, redis_server, prefix):
    if request.param == "memory":
        yield MemoryThreadStore(max_modules=4)
        return
    store = RedisThreadStore(redis_server.url, key_prefix=prefix, max_modules=4)
    yield store
    store.close()


def conversation(store=None, **settings) -> ConversationRouter:
    settings.setdefault("delivery_policy", "sticky")  # sticky routing is what the store serves here
    return ConversationRouter(PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, **settings)), store=store)


# --- the contract ----------------------------------------------------------------------------------


def test_record_sets_the_arm_once_adds_modules_and_bounds_them(store):
    assert store.get("t") is None
    assert store.record("t", arm="dynamic", modules=["web_search"]) == ThreadState("dynamic", frozenset({"web_search"}))
    state = store.record("t", arm="static", modules=["browser", "web_search"], delivered=["deployment"], bundle="b1")
    assert state == ThreadState("dynamic", frozenset({"web_search", "browser"}), frozenset({"deployment"}), "b1")
    assert store.record("t", arm="dynamic", bundle="b2").bundle == "b1"  # set once
    full = store.record("t", arm="dynamic", modules=["a", "b", "c"], delivered=["d"])
    assert len(full.modules) + len(full.delivered) == 4 and "a" in full.modules  # bounded: 4 ids a thread
    assert store.get("t") == full
    # a static thread keeps no modules: it is always sent the full prompt
    assert store.record("s", arm="static", modules=["browser"]) == ThreadState("static")
    store.reset("t")
    assert store.get("t") is None
    long_id = "x" * 100_000
    assert store.record(long_id, arm="dynamic", modules=["m"]).modules == {"m"} and store.get(long_id) is not None


def test_the_async_spelling_gives_the_same_results(store):
    async def main():
        first = await store.arecord("a", arm="static", bundle="b")
        second = await store.arecord("a", arm="dynamic", modules=["web_search"])
        got = await store.aget("a")
        await store.areset("a")
        return first, second, got, await store.aget("a")

    first, second, got, gone = asyncio.run(main())
    assert first == second == got == ThreadState("static", bundle="b") and gone is None


def test_concurrent_records_are_atomic(store):
    barrier = threading.Barrier(8)
    arms: list[str] = []

    def work(i: int) -> None:
        barrier.wait()
        arms.append(store.record("shared", arm="dynamic" if i % 2 else "static", modules=[f"m{i}"]).arm)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = store.get("shared")
    assert len(set(arms)) == 1 and state.arm == arms[0]  # one arm won, everyone saw it
    assert len(state.modules) == (4 if state.arm == "dynamic" else 0)


def test_redis_entries_expire_when_idle_and_each_record_restarts_the_timer(redis_server, prefix):
    store = RedisThreadStore(redis_server.url, key_prefix=prefix, ttl_seconds=30)
    store.record("t", arm="dynamic")
    client = redis_server.client()
    key = f"{prefix}thread:t"
    assert 29_000 < client.pttl(key) <= 30_000
    client.pexpire(key, 5_000)
    store.record("t", arm="dynamic")
    assert client.pttl(key) > 29_000
    client.script_flush()  # a restarted or flushed Redis forgets scripts: the store loads it again
    assert store.record("t", arm="dynamic", modules=["x"]).modules == {"x"}


def test_the_redis_url_is_checked_and_never_shown(redis_server):
    from prompt_router import SettingsError

    with pytest.raises(SettingsError, match="must start with redis://") as info:
        RedisThreadStore("http://user:hunter2@127.0.0.1/0")
    assert "hunter2" not in str(info.value)
    with pytest.raises(ValueError) as bad:
        RouterSettings(_env_file=None, state_url="user:hunter2@localhost:6379")
    assert "hunter2" not in str(bad.value)
    settings = RouterSettings(_env_file=None, state_url=redis_server.url.replace("redis://", "redis://:hunter2@"))
    assert "hunter2" not in repr(settings) and "hunter2" not in repr(store_from_settings(settings))
    assert isinstance(store_from_settings(RouterSettings(_env_file=None)), MemoryThreadStore)


# --- one round trip per request ------------------------------------------------------------------


class RoundTrips:
    """Counts what redis-py puts on the wire: one send per command or pipeline."""

    def __init__(self, monkeypatch, method: str = "send_packed_command") -> None:
        self.count = 0
        original = getattr(redis.connection.AbstractConnection, method)

        def counted(connection, *args, **kwargs):
            self.count += 1
            return original(connection, *args, **kwargs)

        monkeypatch.setattr(redis.connection.AbstractConnection, method, counted)


def test_a_request_makes_one_round_trip_to_redis(redis_server, prefix, monkeypatch):
    store = RedisThreadStore(redis_server.url, key_prefix=prefix, switch_refresh_seconds=60)
    conv = conversation(store)
    conv.prepare("warm", [user("hi")], context=DATE)  # loads the script once
    trips = RoundTrips(monkeypatch)
    turns = ["plot sales.csv by month", "thanks", "now email it to the team", "and deploy the dashboard"]
    for n in range(1, len(turns) + 1):
        conv.prepare("t", [user(t) for t in turns[:n]], context=DATE)
    assert trips.count == len(turns)  # the record, with the switches read in the same pipeline
    before = trips.count
    conv.set_switches(Switches(dynamic=False))
    for _ in range(5):
        conv.prepare("t", [user("hi")], context=DATE)
    assert trips.count == before + 1  # the write; while killed, requests only read the cached switches


def test_sticky_results_match_the_in_memory_store(redis_server, prefix):
    turns = ["plot sales.csv by month", "thanks, looks good", "now email it to the team", "great", "deploy it"]
    shared, local = conversation(RedisThreadStore(redis_server.url, key_prefix=prefix)), conversation()
    for n in range(1, len(turns) + 1):
        messages = [user(t) for t in turns[:n]]
        a, b = shared.prepare("t", messages, context=DATE), local.prepare("t", messages, context=DATE)
        assert (a.decision.modules, a.decision.reasons, a.arm, a.text) == (b.decision.modules, b.decision.reasons, b.arm, b.text)
    assert shared.thread_state("t") == local.thread_state("t")


def test_aprepare_uses_the_asyncio_client(redis_server, prefix):
    store = RedisThreadStore(redis_server.url, key_prefix=prefix)
    conv = conversation(store, history_turns=0)  # only stickiness can keep the module

    async def main():
        first = await conv.aprepare("t", [user("plot sales.csv by month")], context=DATE)
        second = await conv.aprepare("t", [user("plot sales.csv by month"), user("thanks")], context=DATE)
        await conv.aclose()
        return first, second

    first, second = asyncio.run(main())
    assert "data_processing" in second.decision.modules and second.decision.reasons["data_processing"].kind == "sticky"
    assert store.get("t").modules == first.decision.kept_modules


# --- switches --------------------------------------------------------------------------------------


def test_switches_are_shared_through_the_store(redis_server, prefix):
    one = conversation(RedisThreadStore(redis_server.url, key_prefix=prefix, switch_refresh_seconds=0))
    two = conversation(RedisThreadStore(redis_server.url, key_prefix=prefix, switch_refresh_seconds=0))
    assert two.prepare("t", [user("deploy it")], context=DATE).arm == "dynamic"
    one.set_switches(Switches(dynamic=False))
    killed = two.prepare("t", [user("deploy it")], context=DATE)
    assert killed.arm == "static" and killed.result.mode == "static"
    one.set_switches(Switches(rollout_percent=0.0))  # routing back on, no new thread routed
    assert two.prepare("t", [user("deploy it")], context=DATE).arm == "dynamic"  # an existing thread keeps its arm
    assert two.prepare("new", [user("deploy it")], context=DATE).arm == "static"
    assert two.switches() == Switches(rollout_percent=0.0)
    with pytest.raises(ValueError):
        Switches(rollout_percent=120)


def test_local_switches_without_a_shared_store():
    conv = conversation()
    conv.set_switches(Switches(dynamic=False))
    assert conv.prepare("t", [user("deploy it")], context=DATE).result.mode == "static"
    conv.set_switches(Switches(rollout_percent=0))
    ids = [f"t{i}" for i in range(20)]
    assert {conv.prepare(t, [user("deploy it")], context=DATE).arm for t in ids} == {"static"}
    assert conv.switches() == Switches(rollout_percent=0)


# --- outages ---------------------------------------------------------------------------------------


def test_a_redis_outage_degrades_to_per_request_routing_and_recovers(tmp_path, caplog, monkeypatch):
    server = RedisServer(tmp_path / "redis").start()
    try:
        store = RedisThreadStore(server.url, key_prefix="o:", timeout_seconds=0.05)
        conv = ConversationRouter(PromptRouter(LIBRARY, settings=RouterSettings(
            _env_file=None, state_retry_seconds=0.2, history_turns=0, fallback="core", router="keyword",
            delivery_policy="sticky")),
                                  store=store)
        follow_up = [user("plot sales.csv by month"), user("thanks, looks good")]
        assert "data_processing" in conv.prepare("t", follow_up[:1], context=DATE).decision.modules
        server.stop()
        caplog.set_level(logging.INFO, logger="prompt_router")
        attempts = RoundTrips(monkeypatch, "connect")
        served = [conv.prepare("t", follow_up, context=DATE) for _ in range(50)]
        assert all(p.result.mode == "dynamic" and p.result.labels["thread_state"] == "unavailable" for p in served)
        assert "data_processing" not in served[0].decision.modules  # no stickiness while the store is away
        assert attempts.count <= 2  # the breaker: not one connection attempt per request
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "ConnectionError" in warnings[0].getMessage() and "6379" not in warnings[0].getMessage()
        assert conv.outage.degraded and conv.outage.outages == 1
        server.start()
        for _ in range(200):  # the breaker's back-off (0.2 s, doubling) passes, one request probes, and it is back
            recovered = conv.prepare("t", follow_up, context=DATE)
            if "thread_state" not in recovered.result.labels:
                break
            threading.Event().wait(0.02)
        assert "thread_state" not in recovered.result.labels and not conv.outage.degraded
        assert any("answers again" in r.getMessage() for r in caplog.records)
        # Redis came back empty: the thread starts afresh (its hash gives the same arm)
        assert recovered.arm == arm_for("t", 100.0, "prompt-router")
    finally:
        server.stop()


def test_store_errors_never_reach_the_caller_and_name_no_url():
    class Broken:
        def get(self, thread_id):
            raise StateStoreError("boom")

        def record(self, thread_id, **kwargs):
            raise RuntimeError("a bug in a custom store")

        def reset(self, thread_id):
            raise StateStoreError("boom")

    conv = conversation(Broken())
    prepared = conv.prepare("t", [user("deploy it")], context=DATE)
    assert prepared.result.mode == "dynamic" and "deployment" in prepared.decision.modules
    assert conv.prepare("t", [user("deploy it")], context=DATE, dynamic=True).result.mode == "dynamic"
    with pytest.raises(StateStoreError):
        conv.reset_thread("t")  # an admin action says when it did not happen


def test_in_memory_arms_hold_while_the_entry_lives_and_eviction_is_counted():
    """What the in-memory store promises, and what it cannot: a thread's arm holds while its
    entry lives, whatever the percentage does; once evicted, the thread is new to the store
    and gets its hash's arm under the percentage of that time (docs/deployment.md)."""
    router = PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, rollout_percent=50.0))
    store = MemoryThreadStore(max_threads=2)
    conv = ConversationRouter(router, store=store)
    moved = next(t for t in (f"t{i}" for i in range(100)) if arm_for(t, 50.0, "prompt-router") == "static")
    assert conv.prepare(moved, [user("deploy it")], context=DATE).arm == "static"
    conv.set_switches(Switches(rollout_percent=100.0))
    assert conv.prepare(moved, [user("deploy it")], context=DATE).arm == "static"  # recorded: it holds
    conv.prepare("other-1", [user("hi")], context=DATE)
    conv.prepare("other-2", [user("hi")], context=DATE)
    assert store.evicted == 1 and store.get(moved) is None
    assert conv.prepare(moved, [user("deploy it")], context=DATE).arm == "dynamic"  # new to the store
