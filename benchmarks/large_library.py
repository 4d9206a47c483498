"""Delivery policies on a library too large to send whole: recall, tokens and money.

The large library (ab_tests/large: 391 tool modules from public catalogues, a full prompt of
~281k tokens, more than a 200k context) is routed by a hybrid router trained here on half of
its cases (split by a hash of the case id) and measured on the other half:

- routing recall (every needed module in the request) and what on-demand loading makes
  reachable (the load tool lists every module, so a miss costs one extra step);
- tokens per request and cost per request under each policy and provider, from the same cost
  simulation as `prompt-router plan` (static is priced as if it could be sent, to show what the
  impossible baseline would cost).

    python benchmarks/large_library.py [--quick] [--model FILE] [--shift S]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zlib
from pathlib import Path

from prompt_router import PromptRouter, RouterSettings, load_library
from prompt_router.evaluation import read_cases
from prompt_router.evaluation.costs import POLICIES, PROFILES, GridSpec, cost_grid
from prompt_router.integration.pricing import PROVIDERS
from prompt_router.routing.model import LearnedModel
from prompt_router.training import save, train

ROOT = Path(__file__).resolve().parent.parent
LARGE = ROOT / "ab_tests" / "large"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer providers and scenarios")
    parser.add_argument("--model", type=Path, help="reuse this trained artefact (or train and write it there); "
                                                   "training takes ~7 minutes on 2 cores")
    parser.add_argument("--shift", type=float, default=0.0,
                        help="the hybrid router's recall-vs-savings shift (negative: a larger miss budget)")
    args = parser.parse_args()
    library = load_library(LARGE / "library")
    cases = list(read_cases([LARGE / "cases.jsonl"], [library]))
    train_cases = [c for c in cases if zlib.crc32(c.id.encode()) % 2 == 0]
    test_cases = [c for c in cases if zlib.crc32(c.id.encode()) % 2 == 1]
    with tempfile.TemporaryDirectory() as tmp:
        artefact = args.model or Path(tmp) / "learned_router.json"
        if args.model is not None and args.model.exists():
            LearnedModel.load(artefact, library.version)  # a stale or broken one fails here
            print(f"reusing {artefact}")
        else:
            start = time.perf_counter()
            model = train(library, train_cases, target_recall=0.97, folds=3 if args.quick else 5)
            print(f"trained on {len(train_cases)} cases in {time.perf_counter() - start:.0f} s "
                  f"(out-of-fold hybrid recall {model.info['out_of_fold']['hybrid_recall']:.1%}, "
                  f"reduction {model.info['out_of_fold']['hybrid_reduction']:.1%})")
            save(model, artefact)
        for kind in ("keyword", "hybrid"):
            settings = RouterSettings(_env_file=None, modules_dir=LARGE / "library", router=kind,
                                      learned_model=artefact if kind == "hybrid" else None,
                                      learned_threshold_shift=args.shift)
            router = PromptRouter(library, settings=settings)
            full = router.full_prompt().tokens
            passed = tokens = 0
            for case in test_cases:
                result = router.system_prompt(case.query, history=case.history)
                passed += all(m in result.decision.modules for m in case.needs)
                tokens += result.prompt.tokens
            print(f"{kind:8} router on {len(test_cases)} held-back cases: recall {passed / len(test_cases):.1%}, "
                  f"{tokens / len(test_cases):,.0f} system tokens per request (full prompt {full:,}); "
                  f"reachable with the load tool: 100% (it lists all {len(library.tool_ids)} tool modules)")
        # `router` is the hybrid one from the loop's last pass: the cost model serves it as measured
        names = ("anthropic", "openai-5", "none") if args.quick else ("anthropic", "openai-4o", "openai-5", "openai-5.6",
                                                                      "deepseek", "none")
        profiles = (PROFILES["5 turns"],) if args.quick else (PROFILES["1 turn"], PROFILES["5 turns"], PROFILES["agent loop"])
        spec = GridSpec(tuple(PROVIDERS[n] for n in names), rates=(600.0,), profiles=profiles,
                        policies=tuple(POLICIES.values()), threads=120, measured_requests=800)
        rows = cost_grid(router, test_cases, spec)
    print()
    print(f"{'scenario':28} {'policy':12} {'tokens/request':>15} {'cost/request':>13} {'vs static':>10}")
    for row in rows:
        scenario = f"{row['provider']}, {row['profile']}"
        print(f"{scenario:28} {row['policy']:12} {row['tokens_per_request']:15,.0f} {row['cost_per_request']:13,.0f} "
              f"{row['saving_vs_static']:+10.1%}")


if __name__ == "__main__":
    main()
