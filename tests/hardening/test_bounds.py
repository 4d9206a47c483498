"""Every per-request cost is bounded: history turns, huge tokens, the caches (in bytes), the
context (findings 1, 2 and 8 of issue 14)."""

from __future__ import annotations

import os
import threading

import pytest

from prompt_router import ContextError, PromptRouter, RouterSettings, load_library
from prompt_router.cache import ByteLRU, memoize, text_bytes

from ..conftest import DATE, SMALL, write_library
from .support import no_hang, peak_mb


@pytest.fixture(scope="module")
def default_router():
    router = PromptRouter.from_settings(RouterSettings(_env_file=None))
    assert router.router.name == "hybrid"  # the default, the router the finding was about
    return router


def test_a_10_mb_history_turn_costs_bounded_time_and_memory(default_router):
    """Finding 1: one 10 MB earlier turn made every request of the thread cost 3.5 s and 1.7 GB."""
    history = ["word " * 2_000_000]
    with no_hang():
        first = peak_mb(lambda: default_router.system_prompt("ok", history=history, context=DATE))
        again = peak_mb(lambda: [default_router.system_prompt(q, history=history, context=DATE) for q in ("and now", "chart it")])
    # Turns are clipped to max_scan_chars (32,000) before anything else reads them.
    assert first < 16 and again < 16, (first, again)
    result = default_router.system_prompt("chart it", history=history, context=DATE)
    assert result.mode == "dynamic"


def test_400_queries_of_one_huge_token_stay_within_bounded_memory():
    """Finding 2: 400 queries of one 30,000-character token held 2.66 GB (hybrid), 100 MB (keyword)."""
    for kind, bound in (("keyword", 8), ("auto", 64)):
        router = PromptRouter.from_settings(RouterSettings(_env_file=None, router=kind))
        queries = [os.urandom(15000).hex() for _ in range(400)]
        used = peak_mb(lambda: [router.system_prompt(q, context=DATE) for q in queries])  # noqa: B023
        assert used < bound, (kind, used)


def test_route_cache_is_bounded_in_bytes(small_library):
    budget = 256 * 1024
    router = PromptRouter(small_library, settings=RouterSettings(_env_file=None, route_cache_max_bytes=budget))
    for i in range(300):
        router.system_prompt(f"deploy {i} " + "ж" * 3000, context=DATE)  # ~12 KB of key each, under the char cap
    stats = router.cache_stats["route"]
    assert 0 < stats.bytes <= budget and stats.size < 300 and stats.max_bytes == budget
    router.system_prompt("deploy 299 " + "ж" * 3000, context=DATE)  # the most recent ones are still there
    assert router.cache_stats["route"].hits == 1


def test_build_caches_are_bounded_in_bytes_whatever_the_context_values(tmp_path):
    library = load_library(write_library(tmp_path / "lib", {**SMALL, "core/ws.md": "Workspace: {{ root }}\n"},
                                         library_yaml="variables:\n  root: {description: the workspace}\n"))
    budget = 512 * 1024
    router = PromptRouter(library, settings=RouterSettings(_env_file=None, build_cache_max_bytes=budget))
    for i in range(40):
        router.system_prompt("deploy", context={**DATE, "root": f"/{i}/" + "x" * 8_000})
    stats = router.cache_stats["build"]
    assert stats.bytes <= budget * 3 // 4 and stats.size < 40
    assert router.builder._render_cached.stats().bytes <= budget // 4


@pytest.mark.parametrize("value", [None, ["a"], {"a": 1}, object()])
def test_context_values_are_strings_or_numbers_or_a_context_error(tmp_path, value):
    """Finding 8: None gave a RenderError, a list or dict a TypeError from the render cache."""
    library = load_library(write_library(tmp_path / "lib", {**SMALL, "core/ws.md": "Workspace: {{ workspace_root }}\n"},
                                         library_yaml="variables:\n  workspace_root: {description: the workspace}\n"))
    router = PromptRouter(library, settings=RouterSettings(_env_file=None))
    with pytest.raises(ContextError, match="workspace_root"):
        router.system_prompt("x", context={**DATE, "workspace_root": value})


def test_a_context_value_too_long_to_render_is_a_context_error(tmp_path):
    root = write_library(tmp_path / "lib", {**SMALL, "core/ws.md": "Root: {{ root }}\n"},
                         library_yaml="variables:\n  root: {description: the workspace}\n")
    router = PromptRouter.from_settings(RouterSettings(_env_file=None, modules_dir=root, template_max_output_chars=10_000))
    assert "Root: /srv" in router.system_prompt("x", context={**DATE, "root": "/srv"}).text
    with pytest.raises(ContextError, match="more than 10,000 characters"):
        router.system_prompt("x", context={**DATE, "root": "/" * 20_000})


# --- the byte-bounded LRU itself ----------------------------------------------------------------


def test_byte_lru_evicts_least_recently_used_within_entries_and_bytes():
    cache: ByteLRU[str] = ByteLRU(max_entries=3, max_bytes=10_000, max_entry_bytes=5_000)
    for key in "abc":
        assert cache.put(key, key.upper(), 100)
    assert cache.get("a") == "A"  # a is now the most recent
    cache.put("d", "D", 100)
    assert cache.get("b") is None and cache.get("a") == "A" and len(cache) == 3
    assert not cache.put("huge", "H", 6_000)  # over the per-entry cap: never stored
    for key in "efgh":
        cache.put(key, key, 3_000)
    assert cache.bytes <= 10_000 and len(cache) == 3  # 3 x (3,000 + overhead) fits, 4 would not
    stats = cache.stats()
    assert stats.bytes == cache.bytes and stats.max_bytes == 10_000 and stats.maxsize == 3
    cache.put("h", "h2", 10)  # replacing a key re-charges it
    assert cache.get("h") == "h2" and cache.bytes < 10_000
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


def test_memoize_is_disabled_by_zero_and_counts_text_bytes():
    calls = []
    cached = memoize(lambda x: calls.append(x) or x * 2, max_entries=0, max_bytes=1024, size=lambda a, v: text_bytes(a))
    cached("a"), cached("a")
    assert calls == ["a", "a"] and cached.stats().size == 0
    assert text_bytes(["ab", b"ab", 3]) > text_bytes(["ab"])
    assert text_bytes(["ж" * 1000]) > text_bytes(["z" * 1000])  # wide characters cost more


def test_byte_lru_is_consistent_under_threads():
    cache: ByteLRU[int] = ByteLRU(max_entries=50, max_bytes=50 * 1_000)

    def work(offset: int) -> None:
        for i in range(2_000):
            key = (offset + i) % 120
            if cache.get(key) is None:
                cache.put(key, key, 500)

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) <= 50 and cache.bytes == len(cache) * (500 + 200) <= 50_000


def test_byte_lru_gives_hit_entries_a_second_chance_but_keeps_a_new_one():
    cache: ByteLRU[str] = ByteLRU(max_entries=3, max_bytes=10_000)
    for key in "abc":
        cache.put(key, key, 10)
    for key in "abc":
        cache.get(key)  # every entry hit since it was stored
    cache.put("d", "d", 10)
    assert cache.get("d") == "d" and len(cache) == 3  # the new entry stays; the oldest of the others went
    assert cache.get("a") is None and cache.get("b") == "b"
