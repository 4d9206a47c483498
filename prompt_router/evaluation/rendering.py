"""Rendering the report: Jinja2 templates (package data in `templates/`) for report.md and
report.html, the Markdown rendered to HTML by markdown-it-py.

report.md is the verdict followed by the details. report.html opens with the same verdict
written as HTML (figures, colours), then the charts, then the details' Markdown rendered to
HTML. The page is self-contained: inline CSS, charts as inline PNG, no scripts, and nothing
that loads from elsewhere (the Markdown renderer has no raw HTML, links or images).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from .cost_summary import BASELINE, policy_phrase
from .verdict import pct, signed_pct

# Markdown punctuation that could start emphasis, code, links, raw HTML or a table cell. An
# underscore between two letters or digits never starts emphasis (CommonMark), so file names
# like ab_tests/heldout.jsonl stay readable in report.md.
_MARKDOWN_SPECIAL = re.compile(r"[\\`*\[\]<>|#!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def markdown_text(value: Any) -> str:
    """Any text (a query, a file name, a sentence) as Markdown that shows it literally."""
    text = " ".join(str(value).split())  # one line: a newline would end a list item or table row
    return _MARKDOWN_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def markdown_code(value: Any) -> str:
    """Text as a Markdown code span, fenced with more backticks than it contains."""
    text = " ".join(str(value).split())
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padded = f" {text} " if text.startswith("`") or text.endswith("`") else text
    return f"{fence}{padded}{fence}"


def number(value: float | int, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("prompt_router.evaluation", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=markdown_text, code=markdown_code, pct=pct, signed=signed_pct, num=number,
                       policy=policy_phrase)
    return env


@functools.lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # No raw HTML, and no links or images: a report never points anywhere else.
    return MarkdownIt("commonmark", {"html": False}).enable("table").disable(["autolink", "link", "image"])


def markdown_to_html(text: str) -> Markup:
    return Markup(_markdown().render(text))  # markdown-it escapes every text it renders


def _scenarios(cost: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Per provider, one entry per scenario (rate x profile, in grid order): the full prompt's
    row and each policy's."""
    out: dict[str, dict[tuple[float, str], dict[str, Any]]] = {}
    for row in cost["rows"]:
        scenario = out.setdefault(row["provider"], {}).setdefault(
            (row["threads_per_hour"], row["profile"]),
            {"rate": row["threads_per_hour"], "profile": row["profile"], "static": None, "policies": {}})
        if row["policy"] == BASELINE:
            scenario["static"] = row
        else:
            scenario["policies"][row["policy"]] = row
    return {provider: [s for s in scenarios.values() if s["static"] is not None] for provider, scenarios in out.items()}


def _context(report: dict[str, Any]) -> dict[str, Any]:
    cost = report.get("cost")
    return {"r": report, "v": report["verdict"], "cost": cost,
            "policies": [p for p in cost["policies"] if p != BASELINE] if cost else [],
            "scenarios": _scenarios(cost) if cost else {}}


def render_markdown(report: dict[str, Any]) -> str:
    """report.md: the verdict, then every table."""
    return _environment().get_template("report.md").render(_context(report))


def render_html(report: dict[str, Any]) -> str:
    """report.html: the verdict, the charts (when matplotlib is installed), the details."""
    env = _environment()
    details = env.get_template("details.md").render(_context(report))
    try:
        from .charts import charts

        figures = charts(report)
        charts_missing = False
    except ImportError:
        figures, charts_missing = [], True
    return env.get_template("report.html").render(
        **_context(report), details=markdown_to_html(details), figures=figures, charts_missing=charts_missing)
