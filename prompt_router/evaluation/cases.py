"""Labelled A/B cases: JSONL, one case per line, read as a stream.

    {"id": "dp-001", "query": "plot sales by month", "category": "data_processing",
     "needs": ["data_processing"], "history": ["I uploaded q3.csv"]}

`needs` lists the tool modules a correct answer requires (`[]` for none); `history` is
optional (absent or `null`), earlier user turns of the same thread, oldest first. Blank lines are skipped;
anything else malformed is an error naming file, line and field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import CaseFileError, Problem
from ..library import ModuleLibrary

# Every replay pins the date, so runs are reproducible byte for byte.
REPLAY_CONTEXT = {"current_date": "2026-01-01"}

_REQUIRED = {"id": str, "query": str, "category": str, "needs": list}
_OPTIONAL = {"history": list}


@dataclass(frozen=True)
class Case:
    id: str
    query: str
    category: str
    needs: tuple[str, ...]
    history: tuple[str, ...] = ()
    source: str = ""
    line: int = 0


def _parse(raw: str, path: str, line: int) -> Case:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise CaseFileError([Problem(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line)]) from None
    except RecursionError:
        raise CaseFileError([Problem(path, "invalid JSON: nested too deeply", line)]) from None
    if not isinstance(data, dict):
        raise CaseFileError([Problem(path, "a case must be a JSON object", line)])
    if data.get("history", ()) is None:
        del data["history"]  # `null` for an optional field means "not given"
    for key, kind in _REQUIRED.items():
        if key not in data:
            raise CaseFileError([Problem(path, "missing field", line, key)])
        if not isinstance(data[key], kind):
            raise CaseFileError([Problem(path, f"must be a {kind.__name__}", line, key)])
    for key, kind in _OPTIONAL.items():
        if key in data and not isinstance(data[key], kind):
            raise CaseFileError([Problem(path, f"must be a {kind.__name__} of strings", line, key)])
    unknown = sorted(data.keys() - _REQUIRED.keys() - _OPTIONAL.keys())
    if unknown:
        allowed = ", ".join([*_REQUIRED, *_OPTIONAL])
        raise CaseFileError([Problem(path, f"unknown field (allowed: {allowed})", line, unknown[0])])
    for key in ("needs", "history"):
        if not all(isinstance(v, str) for v in data.get(key, [])):
            raise CaseFileError([Problem(path, "must be a list of strings", line, key)])
    if not data["id"].strip() or not data["category"].strip():
        field = "id" if not data["id"].strip() else "category"
        raise CaseFileError([Problem(path, "must not be empty", line, field)])
    return Case(data["id"], data["query"], data["category"], tuple(data["needs"]),
                tuple(data.get("history", ())), path, line)


def read_cases(paths: Iterable[str | Path], libraries: Iterable[ModuleLibrary] = ()) -> Iterator[Case]:
    """Stream cases from JSONL files, validating each line as it is read.

    Memory stays flat except for the duplicate-id check, which keeps an 8-byte digest per
    case (about 70 MB for a million cases)."""
    libraries = list(libraries)
    seen: set[int] = set()
    locations: dict[int, tuple[str, int]] = {}  # for the first ids only, to bound memory
    for path in map(str, paths):
        try:
            handle = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CaseFileError([Problem(path, f"cannot read: {exc.strerror}")]) from None
        count = 0
        with handle:
            try:
                for line, raw in enumerate(handle, start=1):
                    if not raw.strip():
                        continue
                    case = _parse(raw, path, line)
                    for library in libraries:
                        unknown = [m for m in case.needs if m not in library.tool_ids]
                        if unknown:
                            raise CaseFileError([Problem(
                                path, f"{unknown[0]!r} is not a tool module of library {library.name} ({library.root})",
                                line, "needs")])
                    digest = int.from_bytes(hashlib.blake2b(case.id.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big")
                    if digest in seen:
                        first = locations.get(digest)
                        where = f"first at {first[0]}:{first[1]}" if first else "seen earlier"
                        raise CaseFileError([Problem(path, f"duplicate id {case.id!r} ({where})", line, "id")])
                    seen.add(digest)
                    if len(locations) < 100_000:
                        locations[digest] = (path, line)
                    count += 1
                    yield case
            except UnicodeDecodeError as exc:
                raise CaseFileError([Problem(path, f"not valid UTF-8 (byte {exc.start})")]) from None
        if count == 0:
            raise CaseFileError([Problem(path, "no cases: the file is empty")])
