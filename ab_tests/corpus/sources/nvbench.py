"""nvBench: natural-language requests for charts over relational databases (NL2VIS).

Repository: TsinghuaDatabaseGroup/nvBench at commit 544fbc218a2c2fd5dac7591371e3e01ccd6afb93.
Licence: MIT (README.md, section "License": "nvBench is available under the MIT license").

Read: the Vega-Lite pages nvBench_VegaLite/VIS_<n>.html (NVBench.json itself is over the
snapshot's 4 MiB limit). Each page lists one (NL, VIS) pair: up to three natural-language
queries for the same chart and, under "Properties", the chart type. All 7,241 pages are
read except 7 that are over the snapshot's 4 MiB limit (absent, skipped). The text is one NL
query, verbatim (HTML entities decoded). The label is the chart type from the page's
properties (Bar, Pie, Line, Scatter, Stacked Bar, Grouping Line, Grouping Scatter; written in
snake case), not the request's wording.

Every chart type maps to data_processing: each request asks for a chart (or the aggregate behind
it) computed over tabular data.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from sources._base import GitTree, Raw, Source

_ROW = re.compile(r"<tr><td>\d+</td><td><h4>NL Queries: </h4><ol>(.*?)</ol>.*?<b>Chart: </b>([^<]+)</p>", re.S)
_QUERY = re.compile(r"<li><p>(.*?)</p></li>", re.S)
_PAGE = re.compile(r"^nvBench_VegaLite/VIS_(\d+)\.html$")



def read(tree: GitTree) -> Iterator[Raw]:
    pages = []
    for path in tree.ls("nvBench_VegaLite"):
        match = _PAGE.match(path)
        if match:
            pages.append((int(match.group(1)), path))
    for _, path in sorted(pages):
        try:
            page = tree.read_text(path)
        except Exception:  # a page over the snapshot's size limit is absent
            continue
        for row in _ROW.finditer(page):
            chart = html.unescape(row.group(2)).strip().lower().replace(" ", "_")
            for number, query in enumerate(_QUERY.findall(row.group(1)), start=1):
                text = html.unescape(query).strip()
                if text:
                    yield Raw(chart, text, "en", f"{path}#{number}")


DATA = ("data_processing",)
MAPPING: dict[str, tuple[str, ...] | None] = {
    "bar": DATA,
    "pie": DATA,
    "line": DATA,
    "scatter": DATA,
    "stacked_bar": DATA,
    "grouping_line": DATA,
    "grouping_scatter": DATA,
}

SOURCE = Source(
    name="nvbench",
    repo="TsinghuaDatabaseGroup/nvBench",
    commit="544fbc218a2c2fd5dac7591371e3e01ccd6afb93",
    licence="MIT",
    description="nvBench: natural-language requests for bar/pie/line/scatter charts over database tables",
    read=read,
    mapping=MAPPING,
    max_per_label=30,
    max_per_target=200,
    notes=(
        "All chart types -> data_processing. The requests name tables and columns of a database the "
        "user is assumed to have (e.g. 'Show the number of documents per weekday with a bar chart'); "
        "no request asks for code, so code_development is not added.",
        "Some requests are awkward machine-assisted paraphrases (nvBench was synthesised from Spider "
        "SQL and then edited by people); they are kept verbatim.",
    ),
)
