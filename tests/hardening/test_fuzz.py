"""Fuzzing module files, case files, stdin lines and queries: only the documented exceptions
ever escape, every example finishes in bounded time, and output is whole or absent."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from prompt_router import CaseFileError, LibraryError, PromptRouter, RouterSettings, load_library
from prompt_router.cli import EXIT_OK, main
from prompt_router.evaluation import read_cases

from ..conftest import DATE, SMALL, write_library

MODULES = Path(__file__).resolve().parents[2] / "modules"

# Generous: a hang detector, not a performance assertion (see benchmarks/ for figures).
FUZZ = settings(max_examples=60, deadline=timedelta(seconds=10), suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)

KEYS = ["description", "triggers", "requires", "order", "cache_stable", "tools", "examples", "trigers", "triggers"]
TRIGGERS = ["chart", "re:(a+)+b", "re:\\b", "re:(", "analy*", "=go", "*", "", "re:\\d{4}", "x" * 300, "c\u200bsv"]
SNIPPETS = ["{{ current_date }}", "{{ \"ab\" * 300000000 }}", "{% for i in range(3) %}-{% endfor %}", "{{ 7 ** 99999999 }}",
            "{{ undefined_var }}", "{% if %}", "{{ ''.__class__ }}", "plain text", "\u0000", "\ud800"]
VALUES = st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none(), st.lists(st.sampled_from(TRIGGERS), max_size=4),
                   st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@st.composite
def module_files(draw) -> bytes:
    meta = draw(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=3))
    front = "".join(f"{key}: {json.dumps(value, ensure_ascii=False)}\n" for key, value in meta)
    body = " ".join(draw(st.lists(st.one_of(st.sampled_from(SNIPPETS), st.text(max_size=30), st.just("Guidance.")),
                                  min_size=1, max_size=4)))
    text = draw(st.sampled_from(["---\n{front}---\n{body}\n", "{body}\n", "---\n{front}{body}\n", "---\n{front}---\n"])).format(
        front=front, body=body)
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = draw(st.sampled_from(["", "\ufeff"])) + text.replace("\n", newline)
    encoding = draw(st.sampled_from(["utf-8"] * 4 + ["utf-16", "latin-1"]))
    tail = draw(st.one_of(st.just(b""), st.just(b""), st.just(b""), st.binary(max_size=4)))
    return text.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace") + tail


@settings(FUZZ, max_examples=40)
@given(files=st.lists(module_files(), min_size=1, max_size=3), query=st.text(max_size=200))
def test_any_module_file_loads_or_is_a_library_error(files, query):
    with tempfile.TemporaryDirectory() as directory:
        root = write_library(Path(directory) / "lib", SMALL)
        for index, data in enumerate(files):
            (root / "tools" / f"fuzz{index}.md").write_bytes(data)
        try:
            library = load_library(root)
        except LibraryError as exc:
            assert exc.problems and all(str(p).startswith(str(root)) for p in exc.problems)
            event("library error")
            return
        event("library loaded")
        router = PromptRouter(library, settings=RouterSettings(_env_file=None, router="keyword"))
        result = router.system_prompt(query, context=DATE)
        assert result.mode == "dynamic" and result.text == router.builder.build(result.decision, DATE).text


CASE_VALUES = st.one_of(st.text(max_size=10), st.integers(), st.none(), st.lists(st.text(max_size=10), max_size=3),
                        st.lists(st.sampled_from(["deployment", "nope", "identity"]), max_size=2))


@st.composite
def case_lines(draw) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(st.text(max_size=40))
    fields = {"id": draw(st.text(min_size=1, max_size=8)), "query": draw(st.text(max_size=30)), "category": "c", "needs": []}
    for _ in range(draw(st.integers(0, 3))):
        fields[draw(st.sampled_from(["id", "query", "category", "needs", "history", "extra"]))] = draw(CASE_VALUES)
    return json.dumps(fields)


@FUZZ
@given(lines=st.lists(case_lines(), max_size=6), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_any_case_file_reads_whole_or_is_a_case_file_error(lines, encoding, bundled):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "cases.jsonl"
        path.write_bytes("\n".join(lines).encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace"))
        try:
            cases = list(read_cases([path], [bundled]))
        except CaseFileError as exc:
            assert exc.problems and all(p.path == str(path) for p in exc.problems)
            event("case file error")
            return
        event("cases read")
        assert cases and all(isinstance(c.query, str) and all(isinstance(h, str) for h in c.history) for c in cases)


QUERIES = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from("a \u200b\u00ad\u0441\ud800\U0001F600é+#_\n\r\t\x00"), max_size=2_000),
    st.builds(lambda word, n: word * n, st.text(min_size=1, max_size=5), st.integers(1, 20_000)),
)


@FUZZ
@given(query=QUERIES, history=st.lists(QUERIES, max_size=4), sticky=st.lists(st.text(max_size=20), max_size=3))
def test_any_query_gets_a_routed_prompt(query, history, sticky, default_router):
    result = default_router.system_prompt(query, history=history, sticky=sticky, context=DATE)
    assert result.mode == "dynamic" and result.prompt.tokens > 0 and result.query_chars == len(query)


@settings(FUZZ, max_examples=25)
@given(lines=st.lists(st.binary(max_size=60).filter(lambda b: b"\n" not in b), min_size=1, max_size=8))
def test_route_stdin_answers_every_line(lines):
    stdin = io.TextIOWrapper(io.BytesIO(b"\n".join(lines) + b"\n"), encoding="utf-8", errors="strict")
    stdout, stderr = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("PROMPT_ROUTER_")]:
            patch.delenv(name)
        patch.setenv("PROMPT_ROUTER_ROUTER", "keyword")
        patch.setattr(sys, "stdin", stdin)
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["route", "--stdin", "--modules", str(MODULES)])
    assert code == EXIT_OK, stderr.getvalue()
    rows = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(rows) == len(lines) and all(row["modules"] for row in rows)


@pytest.fixture(scope="module")
def default_router():
    return PromptRouter.from_settings(RouterSettings(_env_file=None))
