"""Rebuild the public-source corpus: `python ab_tests/corpus/build.py --mirrors DIR`.

DIR holds bare git mirrors named `owner+name` (what the `fetch` tool brings, e.g.
/work/.mirror); each source is read at its pinned commit, mapped to the library's tool modules
by its reviewed mapping (sources/<name>.py), deduplicated, capped per label and per target so
that no intent dominates, and written as A/B cases to ab_tests/corpus/<name>.jsonl. Sampling
is by a hash of the text, so a rebuild gives the same bytes. SOURCES.md lists every source
with its repository, commit, licence and counts.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import pkgutil
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from sources._base import MODULES, GitTree, Raw, Source  # noqa: E402

# Whole sources never used for training, trigger tuning, threshold fitting or any choice.
# Chosen before any router was run on the corpus, by size, diversity and label quality:
# clinc150 (1,000 crowd-written assistant requests, 5 targets), bfcl (real users' function-
# calling requests, all 10 modules) and selfinstruct (whose authors ask that its user-oriented
# set not be used for training).
HELD_OUT: frozenset[str] = frozenset({"clinc150", "bfcl", "selfinstruct"})
MAX_QUERY_CHARS = 2000


def discover() -> list[Source]:
    import sources

    found = []
    for info in sorted(pkgutil.iter_modules(sources.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"sources.{info.name}")
        found.append(module.SOURCE)
    return found


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text)).strip()


def _rank(source: str, text: str) -> bytes:
    return hashlib.sha256(f"{source}\0{text}".encode()).digest()


def _target(needs: tuple[str, ...]) -> str:
    return "no_tools" if not needs else needs[0] if len(needs) == 1 else "multi_tool"


def git_dir(source: Source, mirrors: Path) -> Path:
    """The bare repository of `source` under `mirrors` (`owner+name`, or its `repo` folder)."""
    base = mirrors / source.repo.replace("/", "+")
    for candidate in (base, base / "repo", base / "repo" / ".git", base / ".git"):
        if (candidate / "objects").is_dir():
            return candidate
    raise SystemExit(f"{source.name}: no mirror of {source.repo} under {mirrors} (fetch github:{source.repo})")


def collect(source: Source, mirrors: Path) -> list[tuple[Raw, tuple[str, ...]]]:
    unknown: Counter[str] = Counter()
    kept: list[tuple[Raw, tuple[str, ...]]] = []
    for raw in source.read(GitTree(git_dir(source, mirrors), source.commit)):
        if raw.label not in source.mapping:
            unknown[raw.label] += 1
            continue
        needs = source.mapping[raw.label]
        if needs is None:
            continue
        bad = set(needs) - MODULES
        if bad:
            raise SystemExit(f"{source.name}: label {raw.label!r} maps to unknown module(s) {sorted(bad)}")
        text = " ".join(raw.text.split())
        if not text or len(text) > MAX_QUERY_CHARS:
            continue
        kept.append((Raw(raw.label, text, raw.lang, raw.key), tuple(sorted(needs))))
    if unknown:
        raise SystemExit(f"{source.name}: labels with no mapping (map them, or to None to leave them out): "
                         + ", ".join(f"{k} ({v})" for k, v in unknown.most_common()))
    return kept


def sample(source: Source, items: list[tuple[Raw, tuple[str, ...]]], taken: set[str]) -> list[tuple[Raw, tuple[str, ...]]]:
    """Deduplicate (within the source and against `taken`), then cap per label and per target."""
    seen: dict[str, tuple[Raw, tuple[str, ...]]] = {}
    conflicting: set[str] = set()
    for raw, needs in items:
        key = _norm(raw.text)
        if key in taken:
            continue
        if key in seen and seen[key][1] != needs:
            conflicting.add(key)  # the same text under labels that map differently: ambiguous
        seen.setdefault(key, (raw, needs))
    unique = [v for k, v in seen.items() if k not in conflicting]
    unique.sort(key=lambda item: _rank(source.name, item[0].text))
    per_label: Counter[str] = Counter()
    per_target: Counter[str] = Counter()
    out = []
    cap_label = source.max_per_label
    for raw, needs in unique:
        target = _target(needs)
        if per_label[raw.label] >= cap_label or per_target[target] >= source.max_per_target:
            continue
        per_label[raw.label] += 1
        per_target[target] += 1
        out.append((raw, needs))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, required=True, help="folder of bare mirrors named owner+name")
    parser.add_argument("--only", nargs="*", help="rebuild only these sources")
    args = parser.parse_args()
    sources = discover()  # all of them: a partial rebuild still claims the others' texts and lists them
    # Held-out sources first: their texts are removed from every other source.
    sources.sort(key=lambda s: (s.name not in HELD_OUT, s.name))
    taken: set[str] = set()
    for source in sources:
        if args.only and source.name not in args.only:
            # still claims its texts, so a rebuilt source stays disjoint from the held-out ones
            taken.update(_norm(json.loads(line)["query"]) for line in _lines(source))
            continue
        chosen = sample(source, collect(source, args.mirrors), taken)
        taken.update(_norm(raw.text) for raw, _ in chosen)
        chosen.sort(key=lambda item: (_target(item[1]), item[0].label, _rank(source.name, item[0].text)))
        counter: Counter[str] = Counter()
        lines = []
        for raw, needs in chosen:
            counter[raw.label] += 1
            label = re.sub(r"[^\w.-]+", "_", raw.label)
            case_id = f"{source.name}-{label}-{counter[raw.label]:03d}"
            category = _target(needs) if raw.lang == "en" else "non_english"
            lines.append(json.dumps({"id": case_id, "query": raw.text, "category": category, "needs": list(needs)},
                                    ensure_ascii=False))
        (HERE / f"{source.name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"{source.name}: {len(chosen)} cases {dict(Counter(_target(n) for _, n in chosen))}")
    write_sources(sources)
    return 0


def _lines(source: Source) -> list[str]:
    path = HERE / f"{source.name}.jsonl"
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()] if path.exists() else []


def write_sources(sources: list[Source]) -> None:
    """SOURCES.md, from every source's committed case file."""
    by_target: dict[str, int] = defaultdict(int)
    lines = ["# Public-source corpus", "",
             "Built by `python ab_tests/corpus/build.py --mirrors DIR` from the pinned commits below; "
             "label mappings are in `sources/<name>.py`. Held-out sources are never used for training, "
             "trigger tuning, threshold fitting or any other choice.", "",
             "| source | repository | commit | licence | held out | cases | languages | what it is |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for source in sorted(sources, key=lambda s: s.name):
        cases = [json.loads(line) for line in _lines(source)]
        languages: Counter[str] = Counter("non-English" if c["category"] == "non_english" else "en" for c in cases)
        for case in cases:
            by_target[_target(tuple(case["needs"]))] += 1
        langs = ", ".join(f"{k} {v}" for k, v in languages.most_common())
        lines.append(f"| {source.name} | [{source.repo}](https://github.com/{source.repo}) | `{source.commit[:12]}` | "
                     f"{source.licence} | {'yes' if source.name in HELD_OUT else 'no'} | {len(cases):,} | {langs} | "
                     f"{source.description} |")
    lines += ["", "Cases per target: " + ", ".join(f"{k} {v:,}" for k, v in sorted(by_target.items())), ""]
    for source in sorted(sources, key=lambda s: s.name):
        if source.notes:
            lines += [f"## {source.name}: mapping notes", "", *(f"- {n}" for n in source.notes), ""]
    (HERE / "SOURCES.md").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
