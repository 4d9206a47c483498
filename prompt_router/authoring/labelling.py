"""Queries (or logged requests) -> a case file to label, the router's current guess prefilled.

Input, one record per line:

- plain text: one user query per line;
- JSON lines (`.jsonl`, or any file whose first record starts with `{`): an object with a
  `query` (and optional `history`, `id`, `category`), e.g. the host's own decision log or an
  older case file; or a logged chat request with OpenAI-style `messages`, whose last user
  turn is the query and earlier user turns the history.

Output: A/B cases (evaluation/cases.py) whose `needs` are the tool modules the router picks
today for a reason of its own (a trigger, the model, a requirement). Every case's category
starts with `unreviewed:` until a person has checked it: `:guess` when the router placed the
request, `:no-tools` when the model judged no tool needed, `:fallback` when nothing placed it
(then `needs` is empty and a label is most needed), or `:<category>` from the input.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CaseFileError, Problem
from ..integration import message_text
from ..pipeline import PromptRouter
from ..routing import RoutingDecision

UNREVIEWED = "unreviewed"
_GUESS_KINDS = frozenset({"trigger", "history", "model", "required"})


@dataclass(frozen=True)
class QueryRecord:
    query: str
    history: tuple[str, ...] = ()
    id: str | None = None
    category: str | None = None
    line: int = 0


@dataclass
class LabelStats:
    written: int = 0
    duplicates: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def _strings(value: Any, path: str, line: int, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise CaseFileError([Problem(path, "must be a list of strings", line, key)])
    return tuple(value)


def _record(data: Any, path: str, line: int) -> QueryRecord:
    if not isinstance(data, dict):
        raise CaseFileError([Problem(path, "a record must be a JSON object", line)])
    if "messages" in data and "query" not in data:
        messages = data["messages"]
        if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
            raise CaseFileError([Problem(path, "must be a list of chat messages", line, "messages")])
        turns = [message_text(m) for m in messages if m.get("role") == "user"]
        if not turns:
            raise CaseFileError([Problem(path, "has no user message", line, "messages")])
        return QueryRecord(turns[-1], tuple(turns[:-1]), line=line)
    query = data.get("query")
    if not isinstance(query, str):
        raise CaseFileError([Problem(path, "missing, or not a string (give `query` or `messages`)", line, "query")])
    ident, category = data.get("id"), data.get("category")
    for key, value in (("id", ident), ("category", category)):
        if value is not None and not isinstance(value, str):
            raise CaseFileError([Problem(path, "must be a string", line, key)])
    history = _strings(data.get("history", []), path, line, "history")
    return QueryRecord(query, history, ident, category, line)


def read_queries(path: str | Path) -> Iterator[QueryRecord]:
    """Stream records from a query file (see the module docstring)."""
    name = str(path)
    try:
        handle = open(name, encoding="utf-8-sig")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise CaseFileError([Problem(name, f"cannot read: {exc.strerror}")]) from None
    with handle:
        json_lines: bool | None = True if name.endswith((".jsonl", ".ndjson")) else None
        try:
            for number, raw in enumerate(handle, start=1):
                text = raw.rstrip("\n")
                if not text.strip():
                    continue
                if json_lines is None:
                    json_lines = text.lstrip().startswith("{")
                if not json_lines:
                    yield QueryRecord(text.strip(), line=number)
                    continue
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise CaseFileError([Problem(name, f"invalid JSON: {exc.msg} (column {exc.colno})", number)]) from None
                yield _record(data, name, number)
        except UnicodeDecodeError as exc:
            raise CaseFileError([Problem(name, f"not valid UTF-8 (byte {exc.start})")]) from None


def guess(decision: RoutingDecision) -> tuple[list[str], str]:
    """The tool modules the router chose for a reason of its own, and how it decided."""
    needs = [m for m in decision.tool_modules if decision.reasons[m].kind in _GUESS_KINDS]
    if decision.fallback:
        return [], "fallback"
    if decision.no_tools:
        return [], "no-tools"
    return needs, "guess"


def label_cases(records: Iterable[QueryRecord], router: PromptRouter, stats: LabelStats | None = None,
                *, id_prefix: str = "q") -> Iterator[dict[str, Any]]:
    """One case per distinct (query, history), in input order."""
    stats = stats if stats is not None else LabelStats()
    seen: set[tuple[str, tuple[str, ...]]] = set()
    used_ids: set[str] = set()
    for record in records:
        key = (record.query, record.history)
        if key in seen:
            stats.duplicates += 1
            continue
        seen.add(key)
        needs, kind = guess(router.route(record.query, record.history))
        ident = record.id or f"{id_prefix}-{stats.written + 1:05d}"
        if ident in used_ids:
            ident = f"{ident}-{record.line}"
        used_ids.add(ident)
        stats.written += 1
        stats.by_kind[kind] = stats.by_kind.get(kind, 0) + 1
        case: dict[str, Any] = {"id": ident, "query": record.query, "category": f"{UNREVIEWED}:{record.category or kind}",
                                "needs": needs}
        if record.history:
            case["history"] = list(record.history)
        yield case
