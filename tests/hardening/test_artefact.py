"""A damaged learned_router.json never crashes start-up: `auto` falls back to the keyword
router and says why; an explicitly configured artefact that is missing is a clear error
(finding 7)."""

from __future__ import annotations

import base64
import json
import logging
import math
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from prompt_router import ModelError, PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.cli import EXIT_OK, EXIT_USAGE, main
from prompt_router.routing import ARTEFACT_NAME, LearnedModel


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lib") / "modules"
    shutil.copytree(bundled_library_dir(), root)
    return root


def _weights_with_nan(data: dict) -> str:
    weights = np.frombuffer(base64.b64decode(data["weights_float16_base64"]), dtype=np.float16).copy()
    weights[7] = np.nan
    return base64.b64encode(weights.tobytes()).decode()


CORRUPTIONS = {
    "missing library_version": lambda d: d.pop("library_version"),
    "bad base64": lambda d: d.update(weights_float16_base64="!!!x"),
    "wrong weight count": lambda d: d.update(weights_float16_base64=d["weights_float16_base64"][:-8]),
    "missing miss budget": lambda d: d.pop("miss_budget"),
    "negative miss budget": lambda d: d["miss_budget"].update({"hybrid": -0.1}),
    "calibration pair missing": lambda d: d["calibration"].pop(),
    "calibration not finite": lambda d: d["calibration"][0].__setitem__(0, float("nan")),
    "unknown feature key": lambda d: d["features"].update(colour="blue"),
    "NaN weights": lambda d: d.update(weights_float16_base64=_weights_with_nan(d)),
    "NaN bias": lambda d: d["bias"].__setitem__(0, float("nan")),
    "not JSON": None,
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_a_corrupted_artefact_falls_back_to_keyword_routing(name, pristine, tmp_path, caplog, capsys, monkeypatch):
    root = tmp_path / "modules"
    shutil.copytree(pristine, root)
    artefact = root / ARTEFACT_NAME
    if CORRUPTIONS[name] is None:
        artefact.write_text("{ not json")
    else:
        data = json.loads(artefact.read_text())
        CORRUPTIONS[name](data)
        artefact.write_text(json.dumps(data))  # json.dumps writes NaN as the (invalid JSON) token NaN
    library = load_library(root)
    with pytest.raises(ModelError, match=str(artefact)):
        LearnedModel.load(artefact, library.version)
    with caplog.at_level(logging.WARNING, logger="prompt_router"):
        router = PromptRouter.from_settings(RouterSettings(_env_file=None, modules_dir=root))
    assert router.router.name == "keyword" and "using the keyword router" in caplog.text
    for variable in [v for v in os.environ if v.startswith("PROMPT_ROUTER_")]:
        monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)
    assert main(["route", "--json", "--modules", str(root), "plot sales.csv"]) == EXIT_OK
    out = capsys.readouterr().out

    def refuse(constant: str) -> float:
        raise AssertionError(f"route --json printed {constant}")

    decision = json.loads(out, parse_constant=refuse)
    assert decision["router"] == "keyword" and "data_processing" in decision["modules"]


def test_scores_are_finite_json_with_a_sound_artefact(capsys, monkeypatch, tmp_path):
    for variable in [v for v in os.environ if v.startswith("PROMPT_ROUTER_")]:
        monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)
    assert main(["route", "--json", "plot sales.csv"]) == EXIT_OK
    decision = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    assert decision["router"] == "hybrid" and all(math.isfinite(v) for v in decision["scores"].values())


def test_a_configured_artefact_that_is_missing_is_a_clear_error(tmp_path, capsys, monkeypatch):
    missing = tmp_path / "nowhere" / "model.json"
    with pytest.raises(ModelError, match="no learned-router artefact"):
        PromptRouter.from_settings(RouterSettings(_env_file=None, learned_model=missing))
    for variable in [v for v in os.environ if v.startswith("PROMPT_ROUTER_")]:
        monkeypatch.delenv(variable)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROMPT_ROUTER_LEARNED_MODEL", str(missing))
    assert main(["route", "x"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err and "no learned-router artefact" in err
