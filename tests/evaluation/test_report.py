"""The A/B report people read: the verdict first (its numbers are report.json's), every
negative money figure explained where it appears, the Markdown rendered as HTML (no raw
tables in a <pre>), self-contained, generic over delivery policies."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from statistics import fmean

import pytest

from prompt_router import PromptRouter, RouterSettings
from prompt_router.evaluation import Arm, build_report, cost_section, read_cases, render_html, render_markdown, run_ab
from prompt_router.evaluation.cost_summary import explain
from prompt_router.evaluation.pricing import ANTHROPIC, NO_CACHE, OPENAI_5
from prompt_router.evaluation.rendering import markdown_code, markdown_text, markdown_to_html
from prompt_router.evaluation.verdict import verdict

from .test_ab import case, write_cases

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Checks nesting while it parses; keeps the tags, the attributes that load or link
    something, and the text of each top-level section by id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.text: dict[str, list[str]] = {}
        self._section: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        attributes = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href", "action", "poster", "srcset") and v]
        if tag == "section":
            self._section.append(attributes.get("id"))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag == "section":
            self._section.pop()

    def handle_data(self, data):
        if self._section and self._section[-1]:
            self.text.setdefault(self._section[-1], []).append(data)

    def section(self, name: str) -> str:
        return " ".join(" ".join(self.text.get(name, [])).split())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.stack == [], f"unclosed: {page.stack}"
    return page


def _row(provider: str, rate: float, profile: str, turns: int, policy: str, saving: float, *, read: float = 0.5,
         write: float = 0.0, tokens: float = 0.3) -> dict:
    cost = 1000 * (1 - saving)
    return {"provider": provider, "threads_per_hour": rate, "profile": profile, "thread_turns": turns, "tool_steps": 0,
            "policy": policy, "requests": 600, "tokens_per_request": 8000 * (1 - tokens), "cost_per_request": cost,
            "relative_cost": cost / 8000, "cache_read_share": read, "cache_write_share": write,
            "saving_vs_static": saving, "ceiling_saving": 0.4, "ceiling_share": saving / 0.4,
            "token_saving_vs_static": 0.0 if policy == "static" else tokens}


# Two providers, two scenarios each, and a policy the report has never heard of.
ROWS = [
    *(r for rate in (60.0, 6000.0) for r in (
        _row("anthropic", rate, "1 turn", 1, "static", 0.0, read=0.9, write=0.01),
        _row("anthropic", rate, "1 turn", 1, "per_request", -0.41 if rate == 60 else 0.12, read=0.3, write=0.55),
        _row("anthropic", rate, "1 turn", 1, "sticky", -0.20 if rate == 60 else 0.15, read=0.5, write=0.3),
        _row("anthropic", rate, "1 turn", 1, "catalogue", 0.05, read=0.85, write=0.05),
    )),
    *(r for turns, profile in ((1, "1 turn"), (5, "5 turns")) for r in (
        _row("none", 600.0, profile, turns, "static", 0.0, read=0.0),
        _row("none", 600.0, profile, turns, "per_request", 0.31, read=0.0),
        _row("none", 600.0, profile, turns, "sticky", 0.25, read=0.0),
        _row("none", 600.0, profile, turns, "catalogue", 0.22, read=0.0),
    )),
]
GRID = {"threads_per_hour": [60.0, 6000.0], "profiles": [{"name": "1 turn", "threads": 10}, {"name": "5 turns", "threads": 4}],
        "measured_requests": 600, "providers": [], "policies": [], "cases": 4, "seed": 1}


@pytest.fixture
def report(tmp_path, small_library):
    cases = write_cases(tmp_path / "dev.jsonl", [
        case("hit", "plot the revenue", ["charts"], "data"),
        case("xss", "<script>alert(1)</script> | **deploy** it `now` [x](https://example.com/a.png)", ["deploy", "art"], "ops"),
        case("chat", "hello there", [], "chat"),
    ])
    held = write_cases(tmp_path / "held.jsonl", [case("h1", "deploy the site", ["deploy"], "ops")])
    settings = RouterSettings(_env_file=None)
    arm_a = Arm("A", PromptRouter(small_library, settings=settings), False)
    arm_b = Arm("B", PromptRouter(small_library, settings=settings), True)
    run = run_ab(read_cases([cases, held], [small_library]), arm_a, arm_b)
    cost = cost_section(ROWS, (ANTHROPIC, OPENAI_5, NO_CACHE), GRID, 3.0, 1_000_000)
    built = build_report(run, [str(cases), str(held)], {"min_recall": 0.9, "min_reduction": None, "each_file": True},
                         cost=cost)
    return json.loads(json.dumps({k: v for k, v in built.items() if not k.startswith("_")})), built


def test_the_verdict_opens_the_page_with_report_json_numbers(report):
    public, built = report
    page = parse(render_html(built))
    verdict = page.section("verdict")
    assert page.tags.index("section") < page.tags.index("img")  # the verdict comes before any chart
    o = public["overall"]
    assert f"{o['b']['recall'] * 100:.1f}%" in verdict and f"{o['reduction_mean'] * 100:.1f}%" in verdict
    for name, group in public["by_set"].items():
        assert name in verdict and f"{group['b']['recall'] * 100:.1f}%" in verdict
    # per provider: the best policy's mean saving over the grid, as report.json's rows give it
    for provider, label in (("anthropic", ANTHROPIC.label), ("none", NO_CACHE.label)):
        rows = [r for r in public["cost"]["rows"] if r["provider"] == provider and r["policy"] != "static"]
        means = {p: fmean(r["saving_vs_static"] for r in rows if r["policy"] == p) for p in ("per_request", "sticky", "catalogue")}
        best = max(means, key=means.__getitem__)
        assert public["cost"]["providers"][provider]["best_policy"] == best
        assert label in verdict and f"{means[best] * 100:+.0f}%" in verdict
    assert "openai-5" not in public["cost"]["providers"]  # no rows, no verdict
    # gates: a file below --min-recall fails by name
    failing = [name for name, g in public["by_set"].items() if g["b"]["recall"] < 0.9]
    assert failing and public["gates"]["passed"] is False
    assert all(any(name in f for f in public["gates"]["failures"]) for name in failing)
    assert "Gates failed" in verdict and "input cost only" in verdict and "2-3x smaller" in verdict


def test_every_negative_money_figure_is_explained_where_it_appears(report):
    public, built = report
    anthropic = public["cost"]["providers"]["anthropic"]
    assert anthropic["policies"]["per_request"]["min_saving"] == pytest.approx(-0.41)
    why = anthropic["why"]
    assert why.startswith("routing every request costs 41% more than the full prompt (60 threads/h, 1 turn)")
    assert "written to the cache at 1.25x while the full prompt is read at 0.1x" in why
    assert "55% of its input is cache writes, against 1% for the full prompt" in why
    assert public["cost"]["providers"]["none"]["why"] is None  # nothing negative, nothing to explain
    page = parse(render_html(built))
    assert why in page.section("verdict")  # beside the negative figures in the verdict table
    assert why in page.section("charts")  # under the chart with the negative bar
    markdown = render_markdown(public)
    for policy in ("per_request", "sticky"):
        assert f"**Why {policy} is negative:**" in markdown
    assert "**Why catalogue is negative:**" not in markdown
    # the explanation follows the provider's caching rules: automatic caching has no writes to blame
    worst = next(r for r in ROWS if r["provider"] == "anthropic" and r["saving_vs_static"] == -0.41)
    static = next(r for r in ROWS if r["provider"] == "anthropic" and r["policy"] == "static")
    assert "change from request to request miss the cache and pay 1x (15% of its input misses, against 9% for the full prompt)" in explain(
        worst, static, OPENAI_5)
    # a policy that delivers modules inside the conversation keeps its system prompt: the writes are the conversation's
    catalogue = {**worst, "policy": "catalogue", "thread_turns": 5}
    reason = explain(catalogue, static, ANTHROPIC)
    assert "modules delivered inside the conversation are written to the cache at 1.25x" in reason
    assert "changing system prompt" not in reason and "mid-thread" not in reason
    assert "mid-thread also discards the cached conversation" in explain({**worst, "thread_turns": 5}, static, ANTHROPIC)


def test_the_html_renders_the_markdown_and_loads_nothing_from_elsewhere(report):
    _, built = report
    html = render_html(built)
    page = parse(html)
    assert "pre" not in page.tags and "script" not in page.tags
    assert page.tags.count("table") >= 8  # the details' Markdown tables are HTML tables
    details = page.section("details")
    assert "| ---" not in details and "Mean reduction **" not in details and "Recall by module (B)" in details
    assert "<strong>" in html and "**deploy**" in details  # our bold is bold; the user's asterisks are text
    assert page.urls and all(u.startswith("data:image/png;base64,") for u in page.urls)  # charts inline, no links
    assert not re.search(r"url\(|@import|https?://(?!example\.com)", html)
    # the hostile query is shown as text, not as markup
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "https://example.com/a.png" in details and "example.com" not in "".join(page.urls)
    # generic over policies: an unknown one gets its column
    assert "catalogue" in page.section("verdict")


def test_markdown_escaping_shows_any_text_literally():
    hostile = "a_b *x* `c` <b>|</b> [l](u) ![i](http://x/y.png) # _u_"
    html = markdown_to_html(f"| q |\n| --- |\n| {markdown_text(hostile)} |\n\n{markdown_code('a ` b')}")
    assert html.count("<td>") == 1 and "<em>" not in html and "<img" not in html and "<a " not in html
    assert "a_b *x* `c` &lt;b&gt;|&lt;/b&gt; [l](u) ![i](http://x/y.png) # _u_" in html
    assert "<code>a ` b</code>" in html
    assert markdown_text("ab_tests/heldout.jsonl") == "ab_tests/heldout.jsonl"  # readable in report.md


def test_without_the_cost_model_the_report_says_so(report):
    _, built = report
    built = {**built, "cost": None}
    built["verdict"] = verdict(built)
    html = render_html(built)
    assert "cost model was skipped" in parse(html).section("verdict")
    assert "Money with provider prompt caching" not in render_markdown({k: v for k, v in built.items() if k[0] != "_"})


def test_report_md_opens_with_the_verdict(report):
    public, _ = report
    markdown = render_markdown(public)
    assert markdown.index("## Verdict") < markdown.index("## Summary")
    verdict = markdown[markdown.index("## Verdict"):markdown.index("## Summary")]
    assert "| provider | per_request | sticky | catalogue |" in verdict
    assert "Why the negative figures:" in verdict


def test_schema_2_is_documented_field_by_field(report):
    public, _ = report
    readme = (Path(__file__).resolve().parents[2] / "ab_tests" / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## report.json schema"):]
    assert "prompt-router.ab-report/2" in section
    documented = {part for quoted in re.findall(r"`([^`]+)`", section) for part in re.findall(r"[a-z_0-9]+", quoted)}
    fields = set(public) | set(public["cost"]) | set(public["cost"]["rows"][0]) | set(public["cost"]["providers"]["anthropic"])
    fields |= set(public["cost"]["providers"]["anthropic"]["policies"]["sticky"]) | set(public["gates"])
    fields |= set(public["gates"]["checks"][0]) | set(public["verdict"]) | set(public["verdict"]["money"][0])
    fields |= set(public["verdict"]["recall"]) | set(public["verdict"]["files"][0]) | set(public["cost"]["grid"])
    assert sorted(fields - documented) == []


def test_the_gate_fails_when_auto_costs_more_than_static_anywhere(tmp_path, small_library):
    cases = write_cases(tmp_path / "dev.jsonl", [case("hit", "plot the revenue", ["charts"], "data")])
    settings = RouterSettings(_env_file=None)
    run = run_ab(read_cases([cases], [small_library]), Arm("A", PromptRouter(small_library, settings=settings), False),
                 Arm("B", PromptRouter(small_library, settings=settings), True))

    def gates(auto_savings):
        rows = ROWS + [_row("anthropic", rate, "1 turn", 1, "auto", s) for rate, s in zip((60.0, 6000.0), auto_savings)]
        built = build_report(run, [str(cases)], {"min_recall": None, "min_reduction": None, "each_file": False},
                             cost=cost_section(rows, (ANTHROPIC, NO_CACHE), GRID, 3.0, 1_000_000))
        return built["gates"], verdict(built)["gates"]["sentence"]

    held, sentence = gates((0.0, 0.12))  # static where nothing saves, a saving elsewhere
    assert held["passed"] and held["checks"] == [{"scope": "cost model", "metric": "auto saving vs static", "value": 0.0,
                                                  "threshold": -0.005, "passed": True}]
    assert "auto policy costs no more than the full prompt" in sentence
    broken, sentence = gates((-0.03, 0.12))
    assert not broken["passed"] and broken["failures"] == ["anthropic at 60 threads/h, 1 turn: auto costs 3.0% more than static"]
    assert sentence.startswith("Gates failed: anthropic at 60 threads/h")
    without_auto = build_report(run, [str(cases)], {"min_recall": None, "min_reduction": None, "each_file": False},
                                cost=cost_section(ROWS, (ANTHROPIC, NO_CACHE), GRID, 3.0, 1_000_000))["gates"]
    assert without_auto["checks"] == [] and without_auto["passed"]
