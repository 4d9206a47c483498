"""Compare learned-router feature sets by cross-validation on the development cases only
(out-of-fold predictions), so the held-out file plays no part in the choice.

    python benchmarks/learned_compare.py [--target 0.99]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from prompt_router import bundled_library_dir, load_library
from prompt_router.evaluation import read_cases
from prompt_router.routing import FeatureConfig
from prompt_router.training import train

ROOT = Path(__file__).resolve().parent.parent
CANDIDATES = {
    "word 1-2-grams": FeatureConfig(chars=False),
    "char 3-5-grams": FeatureConfig(words=False, word_bigrams=False),
    "word 1-2 + char 3-5 (default)": FeatureConfig(),
    "word 1-2 + char 2-4": FeatureConfig(char_min=2, char_max=4),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", type=float, default=0.99)
    args = parser.parse_args()
    library = load_library(bundled_library_dir())
    cases = list(read_cases([ROOT / "ab_tests" / "cases.jsonl"], [library]))
    print(f"{'features':32} {'vocab':>6} {'hybrid recall':>14} {'hybrid red.':>12} {'learned recall':>15} "
          f"{'learned red.':>13} {'train s':>8}")
    for name, config in CANDIDATES.items():
        start = time.perf_counter()
        model = train(library, cases, target_recall=args.target, config=config)
        oof = model.info["out_of_fold"]
        print(f"{name:32} {model.info['vocabulary']:6d} {oof['hybrid_recall']:14.3f} {oof['hybrid_reduction']:12.3f} "
              f"{oof['learned_recall']:15.3f} {oof['learned_reduction']:13.3f} {time.perf_counter() - start:8.1f}")
    print(f"{'keyword only':32} {'':6} {oof['keyword_recall']:14.3f} {oof['keyword_reduction']:12.3f}")


if __name__ == "__main__":
    main()
