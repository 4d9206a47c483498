"""The learned and hybrid routers: training, calibration, the miss budget, staleness, determinism, explanations."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from prompt_router import ModelError, PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.evaluation import read_cases
from prompt_router.routing import (
    ARTEFACT_NAME,
    NONE,
    DecisionRule,
    Evidence,
    LearnedModel,
    LearnedRouter,
    ModuleReason,
    router_from_settings,
    score_rows,
)
from prompt_router.training import DecisionSimulator, library_examples, save, to_json, train
from prompt_router.training.fitting import calibrate, fit_calibration

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = load_library(bundled_library_dir())
CASES = list(read_cases([ROOT / "ab_tests" / "cases.jsonl"], [LIBRARY]))
SUBSET = [c for i, c in enumerate(CASES) if i % 3 == 0]  # 100 cases keep the tests quick


@pytest.fixture(scope="module")
def model() -> LearnedModel:
    return train(LIBRARY, SUBSET, target_recall=0.95, folds=3)


def test_the_miss_budget_meets_the_recall_target_on_the_training_folds(model):
    oof = model.info["out_of_fold"]
    assert oof["hybrid_recall"] >= 0.95 and oof["learned_recall"] >= 0.95
    assert set(model.miss_budget) == {"hybrid", "learned"} and all(b > 0 for b in model.miss_budget.values())
    assert model.calibration.shape == (len(model.classes), 2) and (model.calibration[:, 0] > 0).all()
    assert model.info["cases"] == len(SUBSET) and model.info["library_examples"] == len(library_examples(LIBRARY, model.classes))


def test_the_knob_trades_recall_for_savings_monotonically(model):
    curve = model.info["curve"]
    assert [p["shift"] for p in curve] == sorted(p["shift"] for p in curve)
    recalls, reductions = [p["recall"] for p in curve], [p["reduction"] for p in curve]
    assert recalls == sorted(recalls) and reductions == sorted(reductions, reverse=True)


def test_training_and_routing_are_deterministic(model, tmp_path):
    again = train(LIBRARY, SUBSET, target_recall=0.95, folds=3)
    assert to_json(again) == to_json(model)  # same inputs, same artefact bytes
    path = tmp_path / "model.json"
    save(model, path)
    loaded = LearnedModel.load(path, LIBRARY.version)
    query = "make it so this runs by itself each morning"
    assert loaded.scores(query) == model.scores(query)
    a = LearnedRouter(LIBRARY, loaded).route(query, ["I wrote a script"])
    b = LearnedRouter(LIBRARY, model).route(query, ["I wrote a script"])
    assert a == b


def test_explanations_say_which_modules_came_from_triggers_and_which_from_the_model(model):
    router = LearnedRouter(LIBRARY, model, mode="hybrid")
    decision = router.route("plot the revenue and tell me what's new with the elections in Brazil")
    kinds = {m: decision.reasons[m].kind for m in decision.tool_modules}
    assert kinds["data_processing"] == "trigger"
    assert set(decision.scores) == set(model.classes)
    model_picks = [m for m, r in decision.reasons.items() if r.kind == "model"]
    for module in model_picks:
        assert decision.reasons[module].score == decision.scores[module]
        assert str(decision.reasons[module]).startswith("model probability")
    # What the model left out fits in the budget: every module it added is at least as likely
    # as any module it left out.
    left_out = [p for m, p in decision.scores.items() if m != NONE and m not in decision.modules]
    assert sum(left_out) <= router.rule.miss_budget + 1e-9
    assert all(decision.scores[m] >= max(left_out, default=0.0) for m in model_picks)
    assert "scores" in decision.to_dict()


def test_nothing_left_to_the_model_gives_core_only_prompts(model):
    router = LearnedRouter(LIBRARY, model, mode="hybrid")
    forced = router.with_shift(-50.0).route("what is the boiling point of water at altitude")  # the most aggressive knob
    assert forced.no_tools and forced.modules == LIBRARY.always_ids and not forced.fallback
    cautious = router.with_shift(50.0).route("what is the boiling point of water at altitude")  # no budget at all
    assert cautious.fallback and set(LIBRARY.tool_ids) <= set(cautious.modules)


def test_the_budget_leaves_out_the_least_likely_modules_while_their_sum_fits():
    rule = DecisionRule(LIBRARY, router="learned", miss_budget=0.1)
    scores = (("web_search", 0.9), ("browser", 0.06), ("workflow", 0.05), ("communication", 0.03),
              ("deployment", 0.01), (NONE, 0.05))
    decision = rule.decide(Evidence(scores=scores))
    # 0.01 + 0.03 + 0.05 = 0.09 fits the budget; adding 0.06 would not, so browser stays
    assert {m for m, r in decision.reasons.items() if r.kind == "model"} == {"web_search", "browser"}
    assert not decision.fallback and not decision.no_tools
    # a higher shift halves the budget: workflow can no longer be left out
    halved = rule.with_shift(np.log(2)).decide(Evidence(scores=scores))
    assert "workflow" in halved.modules and "deployment" not in halved.modules
    # a trigger match is kept whatever its score, and is never counted against the budget
    hit = rule.decide(Evidence(hits=(("deployment", ModuleReason("trigger", "deploy")),), scores=scores))
    assert "deployment" in hit.modules and "browser" in hit.modules


def test_calibration_maps_scores_to_observed_frequencies():
    rng = np.random.default_rng(0)
    # an over-confident scorer: the true probability is much softer than its score says
    truth = rng.uniform(0.01, 0.99, size=4000)
    labels = (rng.uniform(size=4000) < truth).astype(float)
    z = np.log(truth / (1 - truth)) * 3.0
    scores = 1 / (1 + np.exp(-z))
    table = fit_calibration(np.c_[scores, scores], np.c_[labels, np.zeros(4000)])
    assert table[0, 0] == pytest.approx(1 / 3, rel=0.15)
    assert tuple(table[1]) == (1.0, 0.0)  # a class with one label value keeps its raw score
    fixed = calibrate(np.c_[scores, scores], table)[:, 0]
    for low, high in ((0.0, 0.2), (0.4, 0.6), (0.8, 1.0)):
        band = (fixed >= low) & (fixed < high)
        assert labels[band].mean() == pytest.approx(fixed[band].mean(), abs=0.05)


def test_stale_artefact_is_rejected_clearly(model, tmp_path):
    library_dir = tmp_path / "lib"
    shutil.copytree(bundled_library_dir(), library_dir, ignore=shutil.ignore_patterns(ARTEFACT_NAME))
    save(model, library_dir / ARTEFACT_NAME)
    edited = library_dir / "tools" / "communication.md"
    edited.write_text(edited.read_text() + "\nAlways sign e-mails with the user's name.\n")
    library = load_library(library_dir)
    with pytest.raises(ModelError, match=r"stale: trained for library version \w+, but the library is now \w+; retrain"):
        LearnedModel.load(library_dir / ARTEFACT_NAME, library.version)
    with pytest.raises(ModelError, match="stale"):
        router_from_settings(library, RouterSettings(_env_file=None, router="hybrid"))
    with pytest.raises(ModelError, match="retrain"):
        LearnedRouter(library, model)


def test_auto_uses_hybrid_when_fresh_and_keyword_otherwise(model, tmp_path, caplog):
    library_dir = tmp_path / "lib"
    shutil.copytree(bundled_library_dir(), library_dir, ignore=shutil.ignore_patterns(ARTEFACT_NAME))
    library = load_library(library_dir)
    auto = RouterSettings(_env_file=None, router="auto")
    assert router_from_settings(library, auto).name == "keyword"  # no artefact
    save(model, library_dir / ARTEFACT_NAME)
    assert router_from_settings(library, auto).name == "hybrid"
    (library_dir / "library.yaml").write_text((library_dir / "library.yaml").read_text() + "\n# edited\n")
    with caplog.at_level(logging.WARNING, logger="prompt_router"):
        assert router_from_settings(load_library(library_dir), auto).name == "keyword"
    assert "stale" in caplog.text and "keyword router" in caplog.text
    with pytest.raises(ModelError, match="no learned-router artefact"):
        router_from_settings(library, RouterSettings(_env_file=None, router="learned", learned_model=tmp_path / "none.json"))


def test_bundled_artefact_matches_the_bundled_library():
    # A module edit without `prompt-router train` fails here, not silently in production.
    artefact = LearnedModel.load(bundled_library_dir() / ARTEFACT_NAME, LIBRARY.version)
    assert PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None)).router.name == "hybrid"
    sources = set(artefact.info["sources"])
    assert "cases.jsonl" in sources and {"hwu64.jsonl", "sgd.jsonl", "nl2bash.jsonl"} <= sources
    # the held-out sources never reach training
    assert not sources & {"clinc150.jsonl", "bfcl.jsonl", "selfinstruct.jsonl", "heldout.jsonl"}


def test_simulator_agrees_with_the_router(model):
    router = LearnedRouter(LIBRARY, model, mode="hybrid")
    rows = score_rows([model.vectorizer.transform(c.query, c.history) for c in SUBSET], model.weights, model.bias,
                      model.calibration)
    sim = DecisionSimulator(LIBRARY, SUBSET, rows, model.classes)
    recall, _ = sim.evaluate(model.miss_budget["hybrid"])
    passed = sum(all(m in router.route(c.query, c.history).modules for m in c.needs) for c in SUBSET)
    assert recall == pytest.approx(passed / len(SUBSET))
