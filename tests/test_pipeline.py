"""PromptRouter: the flag, error fallback, observers, caches, settings, encodings."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prompt_router import (
    ContextError,
    EncodingUnavailableError,
    PromptRouter,
    RouterSettings,
    TokenCounter,
    bundled_library_dir,
    load_library,
)

from .conftest import DATE

_LIBRARY = load_library(bundled_library_dir())
_ROUTER = PromptRouter(_LIBRARY, settings=RouterSettings(_env_file=None, router="keyword"))


class Recorder:
    def __init__(self) -> None:
        self.results, self.errors = [], []

    def on_result(self, result):
        self.results.append(result)

    def on_error(self, error, result):
        self.errors.append(error)


def test_dynamic_prompt_is_smaller_and_explains_itself():
    result = _ROUTER.system_prompt("plot sales.csv by month", context=DATE)
    assert result.mode == "dynamic"
    assert "data_processing" in result.decision.modules and "web_search" not in result.decision.modules
    assert result.prompt.tokens < result.full_tokens and result.tokens_saved > 0


def test_static_mode_is_the_full_prompt_byte_for_byte():
    static = PromptRouter(_LIBRARY, settings=RouterSettings(_env_file=None, use_dynamic_routing=False))
    full = _ROUTER.full_prompt(DATE).text
    for query in ("plot sales.csv", "hello", ""):
        result = static.system_prompt(query, context=DATE)
        assert result.mode == "static" and result.text == full
    assert _ROUTER.system_prompt("plot it", context=DATE, dynamic=False).text == full


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_static_equals_dynamic_when_everything_is_selected(query):
    result = _ROUTER.system_prompt(query, context=DATE)
    if result.decision.modules == _LIBRARY.ids:
        assert result.text == _ROUTER.full_prompt(DATE).text
    again = _ROUTER.system_prompt(query, context=DATE)
    assert again.text == result.text and again.decision == result.decision


def test_runtime_rollback_flag():
    router = PromptRouter(_LIBRARY, settings=RouterSettings(_env_file=None))
    assert router.system_prompt("deploy", context=DATE).mode == "dynamic"
    router.use_dynamic_routing = False
    assert router.system_prompt("deploy", context=DATE).mode == "static"


class ExplodingRouter:
    name = "exploding"
    library = _LIBRARY

    def route(self, query, history=()):
        raise RuntimeError("boom")


def test_router_fault_falls_back_to_full_prompt_and_is_reported():
    recorder = Recorder()
    router = PromptRouter(_LIBRARY, router=ExplodingRouter(), settings=RouterSettings(_env_file=None), observers=[recorder])
    result = router.system_prompt("plot it", context=DATE)
    assert result.mode == "error" and result.text == router.full_prompt(DATE).text
    assert result.error == "RuntimeError: boom"
    assert [str(e) for e in recorder.errors] == ["boom"] and recorder.results == [result]


def test_failing_observer_never_reaches_the_caller():
    class Broken:
        def on_result(self, result):
            raise ValueError("observer bug")

        def on_error(self, error, result):
            raise ValueError("observer bug")

    router = PromptRouter(_LIBRARY, settings=RouterSettings(_env_file=None), observers=[Broken()])
    assert router.system_prompt("deploy", context=DATE).mode == "dynamic"


def test_missing_required_variable_is_a_caller_error(tmp_path):
    from .conftest import SMALL, write_library

    files = {**SMALL, "core/ws.md": "---\norder: 3\n---\nRoot {{ root }}.\n"}
    library = load_library(write_library(tmp_path / "lib", files, library_yaml="variables:\n  root: {}\n"))
    router = PromptRouter(library, settings=RouterSettings(_env_file=None))
    with pytest.raises(ContextError, match="root"):
        router.system_prompt("chart")
    assert "Root /a." in router.system_prompt("chart", context={"root": "/a"}).text


def test_current_date_is_filled_in_unless_given():
    import datetime

    assert f"Today's date is {datetime.date.today().isoformat()}." in _ROUTER.system_prompt("hi").text
    assert "Today's date is 2020-02-02." in _ROUTER.system_prompt("hi", context={"current_date": "2020-02-02"}).text


def test_route_cache_statistics():
    router = PromptRouter(_LIBRARY, settings=RouterSettings(_env_file=None, route_cache_size=10))
    for _ in range(3):
        router.system_prompt("deploy my app", context=DATE)
    router.system_prompt("x" * 5000, context=DATE)  # too long to cache
    stats = router.cache_stats
    assert (stats["route"].hits, stats["route"].misses, stats["route"].size) == (2, 1, 1)
    assert stats["build"].hits >= 2


def test_many_threads_get_identical_results():
    queries = ["plot sales", "deploy the site", "hello", "email my boss", "write a poem about rust"] * 40
    expected = [_ROUTER.system_prompt(q, context=DATE).text for q in queries]
    outputs: list[list[str]] = []

    def work():
        outputs.append([_ROUTER.system_prompt(q, context=DATE).text for q in queries])

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outputs == [expected] * 6


def test_settings_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMPT_ROUTER_USE_DYNAMIC_ROUTING", "false")
    monkeypatch.setenv("PROMPT_ROUTER_FALLBACK", "core")
    s = RouterSettings(_env_file=None)
    assert s.use_dynamic_routing is False and s.fallback == "core"
    env = tmp_path / ".env"
    env.write_text("PROMPT_ROUTER_HISTORY_TURNS=5\nOTHER_APP_SETTING=1\n")
    assert RouterSettings(_env_file=env).history_turns == 5
    monkeypatch.setenv("PROMPT_ROUTER_FALLBACK", "sometimes")
    with pytest.raises(Exception, match="fallback"):
        RouterSettings(_env_file=None)


def test_unknown_encoding_is_a_clear_error():
    with pytest.raises(EncodingUnavailableError, match="unknown tiktoken encoding 'nope_base'"):
        TokenCounter("nope_base")


def test_encoding_that_cannot_be_downloaded_is_a_clear_error(monkeypatch, tmp_path):
    # Route tiktoken's download to a closed loopback port: no traffic leaves this machine.
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(var, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    from prompt_router.tokens import get_encoding

    get_encoding.cache_clear()
    with pytest.raises(EncodingUnavailableError, match="'p50k_base' could not be loaded.*TIKTOKEN_CACHE_DIR"):
        TokenCounter("p50k_base")


def test_env_example_loads_to_the_defaults():
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / ".env.example"
    assert RouterSettings(_env_file=example) == RouterSettings(_env_file=None)
