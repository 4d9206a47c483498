"""Threads built from the A/B cases, shared by the request-path benchmarks."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def threads(count: int, turns: int = 5) -> list[tuple[str, list[list[dict]]]]:
    """`count` threads of `turns` user turns of distinct A/B-case queries (as real traffic
    has): each thread's id and the messages of every request, a reply between turns."""
    queries = [json.loads(line)["query"] for line in (ROOT / "ab_tests" / "cases.jsonl").read_text().splitlines() if line.strip()]
    out = []
    for t in range(count):
        messages: list[dict] = []
        requests = []
        for k in range(turns):
            messages = [*messages, {"role": "user", "content": f"{queries[(t * turns + k) % len(queries)]} (#{t})"}]
            requests.append(messages)
            messages = [*messages, {"role": "assistant", "content": "Done."}]
        out.append((f"thread-{t}", requests))
    return out
