"""What each delivery policy costs on the request path: `ConversationRouter.prepare` vs route+build.

    python benchmarks/delivery.py            # ~1 minute on 2 cores
    python benchmarks/delivery.py --quick

Threads of 5 turns built from the A/B cases (distinct queries, as in real traffic), served one
request after another on one core with the in-memory store, as one worker does. For each
policy, the same requests go through `prepare` and, as the reference, through
`PromptRouter.system_prompt` (route + build, the same router and caches, cleared before each
run). Prints p50/p99 of both and what `prepare` adds at p50 (the target: at most 50 µs), and
the same with the provider format (`anthropic_request`) included. Runs alternate between the
policies and the reference, so the differences hold on a noisy machine; figures are medians
over the runs. The last row serves the catalogue policy with an observer attached (a no-op
one): only then does `prepare` work out the thread figures for telemetry (a cached routing of
the previous turn).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time

from _workload import threads

from prompt_router import Observer, PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.integration import ConversationRouter, DeliveryPlan, PlanCell, Traffic, anthropic_request

DATE = {"current_date": "2026-11-22"}
POLICIES = ("static", "per_request", "sticky", "bundles", "catalogue", "auto")
OBSERVED = "catalogue, observed"  # with an observer: the thread figures are computed


def plan_for(library) -> DeliveryPlan:
    """Three nested bundles and one cell whose best policy is the catalogue: enough for the
    bundles policy and for auto to serve a routed policy."""
    tools = library.tool_ids
    bundles = (("toolkit", "web_search"), ("toolkit", "web_search", "data_processing", "code_development"), tools)
    nested = tuple(tuple(dict.fromkeys(b)) for b in bundles)
    nested = (nested[0], nested[1], (*nested[1], *(m for m in tools if m not in nested[1])))
    cell = PlanCell("anthropic", 600.0, 5.0, 0.0, "catalogue", {"static": 0.0, "catalogue": 0.05})
    return DeliveryPlan(library.version, nested, (cell,))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_prepare(router: PromptRouter, policy: str, plan: DeliveryPlan, workload, formatted: bool) -> list[float]:
    router.clear_caches()
    router.observers = [Observer()] if policy == OBSERVED else []
    conversation = ConversationRouter(router, policy=policy.split(",")[0], plan=plan,  # type: ignore[arg-type]
                                      traffic=Traffic(600.0, 5.0, 0.0))
    times = []
    for thread_id, requests in workload:
        for messages in requests:
            start = time.perf_counter()
            prepared = conversation.prepare(thread_id, messages, context=DATE, model="claude-sonnet-5")
            if formatted:
                anthropic_request(prepared, messages, model="claude-sonnet-5")
            times.append(time.perf_counter() - start)
    return times


def run_reference(router: PromptRouter, workload) -> list[float]:
    """route + build: what `prepare` is compared with (no observer)."""
    router.clear_caches()
    router.observers = []
    times = []
    for _, requests in workload:
        for messages in requests:
            texts = [m["content"] for m in messages if m["role"] == "user"]
            start = time.perf_counter()
            router.system_prompt(texts[-1], history=texts[:-1], context=DATE)
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--router", default="keyword", choices=["keyword", "hybrid"])
    args = parser.parse_args()
    count = 100 if args.quick else 400
    runs = 3 if args.quick else args.runs
    library = load_library(bundled_library_dir())
    router = PromptRouter(library, settings=RouterSettings(_env_file=None, router=args.router))
    plan = plan_for(library)
    workload = threads(count)
    rows = (*POLICIES, OBSERVED)
    figures: dict[str, dict[str, list[float]]] = {p: {"p50": [], "p99": [], "fp50": [], "ref": []} for p in rows}
    gc.disable()
    try:
        for _ in range(runs):
            for policy in rows:
                reference = run_reference(router, workload)
                prepared = run_prepare(router, policy, plan, workload, formatted=False)
                formatted = run_prepare(router, policy, plan, workload, formatted=True)
                f = figures[policy]
                f["ref"].append(percentile(reference, 0.5))
                f["p50"].append(percentile(prepared, 0.5))
                f["p99"].append(percentile(prepared, 0.99))
                f["fp50"].append(percentile(formatted, 0.5))
                gc.collect()
    finally:
        gc.enable()
    print(f"{args.router} router, bundled library, {count} threads x 5 turns = {count * 5} requests per run; "
          f"medians of {runs} runs\n")
    print("| policy | route+build p50 µs | prepare p50 µs | prepare p99 µs | added p50 µs | prepare + anthropic_request p50 µs |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for policy in rows:
        f = {k: statistics.median(v) * 1e6 for k, v in figures[policy].items()}
        print(f"| {policy} | {f['ref']:.1f} | {f['p50']:.1f} | {f['p99']:.1f} | {f['p50'] - f['ref']:.1f} | {f['fp50']:.1f} |")


if __name__ == "__main__":
    main()
