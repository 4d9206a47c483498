"""`prompt-router train`: fit the learned router and write its artefact next to the library."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..evaluation.cases import read_cases
from ..library import load_library
from ..routing import ARTEFACT_NAME
from ..training import save, train
from ._common import fraction, load_settings, positive_int


def register(sub: Any) -> None:
    p = sub.add_parser("train", help="fit the learned router on labelled cases and the library's examples")
    p.add_argument("--cases", nargs="+", required=True, metavar="FILE", help="A/B-format JSONL (never your held-out file)")
    p.add_argument("--modules", metavar="DIR", help="library (default: the configured one)")
    p.add_argument("--out", metavar="FILE", help="artefact path (default: learned_router.json in the library)")
    p.add_argument("--target-recall", type=fraction, default=0.97, help="share of cases that must get every needed module (out of fold)")
    p.add_argument("--folds", type=positive_int, default=5, help="cross-validation folds for fitting thresholds (>= 2)")
    p.set_defaults(func=cmd_train)


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give the artefact's file name")
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot create {folder} ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"--out {out}: {folder} is not writable")


def cmd_train(args: argparse.Namespace) -> int:
    if args.folds < 2:
        raise UsageError("--folds must be at least 2")
    settings = load_settings()
    root = Path(args.modules) if args.modules else settings.library_dir()
    library = load_library(root, settings.library_limits())
    out = Path(args.out) if args.out else Path(library.root) / ARTEFACT_NAME
    _check_writable(out)  # before minutes of training, not after
    cases = list(read_cases(args.cases, [library]))
    model = train(library, cases, target_recall=args.target_recall, folds=args.folds)
    try:
        save(model, out)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot write the artefact ({exc.strerror or exc})") from None
    oof = model.info["out_of_fold"]
    print(f"trained on {len(cases)} cases + {model.info['library_examples']} library examples, "
          f"{model.info['vocabulary']:,} features, library {library.name} {library.version}")
    print(f"out-of-fold ({args.folds} folds), target recall {args.target_recall:.1%}:")
    for mode in ("keyword", "learned", "hybrid"):
        print(f"  {mode:8} recall {oof[f'{mode}_recall']:.1%}  mean reduction {oof[f'{mode}_reduction']:.1%}")
    print(f"wrote {out} ({out.stat().st_size / 1024:,.0f} KB)")
    return 0
