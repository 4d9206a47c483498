"""The benchmark runs end to end on a tiny configuration and writes well-formed figures.
No timing is asserted: these machines are shared and noisy."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _latency_rows(node):
    if isinstance(node, dict):
        if "p50_us" in node:
            yield node
        for value in node.values():
            yield from _latency_rows(value)


def test_benchmark_tiny_run_writes_well_formed_json(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--tiny", "--out", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Targets" in proc.stdout
    data = json.loads(out.read_text())
    assert {"bundled", "matcher", "scale", "query_length", "memory_mb", "concurrency", "checks"} <= data.keys()
    rows = list(_latency_rows(data))
    assert len(rows) >= 10
    for row in rows:
        assert 0 < row["p50_us"] <= row["p99_us"] <= row["max_us"] and math.isfinite(row["max_us"])
        assert row["calls"] > 0 and row["calls_per_s"] > 0
    assert set(data["bundled"]) >= {"route", "build (warm)", "route+build (warm)", "route+build (cold)",
                                    "static (full prompt)", "naive baseline"}
    assert all(entry["identical_results"] for entry in data["concurrency"].values())
    for check in data["checks"].values():
        assert isinstance(check["met"], bool) and check["measured"] >= 0
    scale = next(iter(data["scale"].values()))
    assert scale["modules"] > scale["triggers"] / 101 and scale["load_s"] > 0
