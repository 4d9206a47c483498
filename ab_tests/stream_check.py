"""Check that the A/B harness streams: generate a large case file by cycling the bundled
cases (fresh ids) and replay it through the real CLI, reporting throughput and peak memory.

    python ab_tests/stream_check.py --cases 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    args = parser.parse_args()
    source = [json.loads(line) for line in (HERE / "cases.jsonl").read_text(encoding="utf-8").splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.jsonl"
        with big.open("w", encoding="utf-8") as out:
            for i in range(args.cases):
                case = dict(source[i % len(source)], id=f"s{i}")
                out.write(json.dumps(case, ensure_ascii=False) + "\n")
        size_mb = big.stat().st_size / 2**20
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "prompt_router.cli", "ab-test", "--cases", str(big), "--report-dir", str(Path(tmp) / "r"),
             "--quiet", "--no-cache-sim"],
            capture_output=True, text=True,
        )
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr)
            return 1
        report = json.loads((Path(tmp) / "r" / "report.json").read_text())
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.cases:,} cases ({size_mb:,.0f} MB of JSONL) in {elapsed:,.1f} s: "
          f"{args.cases / elapsed:,.0f} cases/s end to end ({report['run']['cases_per_second']:,.0f} cases/s replay), "
          f"peak RSS {peak_mb:,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
