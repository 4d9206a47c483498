"""`auto`: the delivery plan's cheapest policy for the model's pricing family and the traffic
this process observes, or the full prompt with the reason said once; a thread keeps the
policy it started with."""

from __future__ import annotations

import logging
import os

import pytest

from prompt_router import PromptRouter, RouterSettings, bundled_library_dir, load_library
from prompt_router.integration import ConversationRouter, DeliveryPlan, PlanCell, Traffic, TrafficMeter
from prompt_router.integration.plan import PLAN_NAME

from ..conftest import DATE, Clock

LIBRARY = load_library(bundled_library_dir())
BUNDLES = (("toolkit", "web_search"), ("toolkit", "web_search", "data_processing", "code_development"))
QUERY = [{"role": "user", "content": "search the web for the ECB decision"}]


def cell(provider: str, rate: float, best: str, saving: float, turns: float = 5.0, steps: float = 0.0) -> PlanCell:
    return PlanCell(provider, rate, turns, steps, best, {"static": 0.0, best: saving})  # type: ignore[arg-type]


PLAN = DeliveryPlan(LIBRARY.version, BUNDLES, (
    cell("anthropic", 60.0, "catalogue", 0.20), cell("anthropic", 6000.0, "static", 0.0),
    cell("anthropic-1h", 600.0, "bundles", 0.15), cell("openai-5", 600.0, "per_request", -0.05),
    cell("anthropic-opus-5.5", 600.0, "sticky", 0.02),
))


QUIET = Traffic(60.0, 5.0, 0.0)


def conversation(plan=PLAN, traffic=QUIET, **settings) -> ConversationRouter:
    return ConversationRouter(PromptRouter(LIBRARY, settings=RouterSettings(_env_file=None, router="keyword", **settings)),
                              plan=plan, traffic=traffic)


def served(conv: ConversationRouter, thread_id: str = "t", **kwargs) -> tuple[str, str]:
    prepared = conv.prepare(thread_id, QUERY, context=DATE, **kwargs)
    return prepared.policy, prepared.result.labels["policy_reason"]


def test_auto_is_the_default_and_serves_the_plans_cheapest_policy_for_the_model():
    conv = conversation()
    assert RouterSettings(_env_file=None).delivery_policy == "auto"
    assert served(conv, model="claude-sonnet-5") == ("catalogue", "plan")
    assert served(conv, "b", model="claude-opus-5-5") == ("sticky", "plan")  # its own family: 0.05x reads
    assert served(conversation(model="claude-sonnet-5"), "c") == ("catalogue", "plan")  # the `model` setting
    one_hour = conversation(model="claude-sonnet-5", delivery_pricing="anthropic-1h")
    prepared = one_hour.prepare("d", QUERY, context=DATE)
    assert prepared.policy == "bundles" and [b.name for b in prepared.blocks[2:]] == list(BUNDLES[0])


@pytest.mark.parametrize(("kwargs", "settings", "reason"), [
    ({}, {}, "no_model"),
    ({"model": "my-finetune-v3"}, {}, "unknown_model"),
    ({"model": "claude-sonnet-5"}, {"delivery_pricing": "nonesuch"}, "unknown_model"),
    ({"model": "gpt-5.2"}, {}, "no_saving"),  # the cell's best saving is negative: never dearer than static
    ({"model": "deepseek-chat"}, {}, "no_cell"),
])
def test_auto_serves_the_full_prompt_and_says_why_once(caplog, kwargs, settings, reason):
    conv = conversation(**settings)
    with caplog.at_level(logging.INFO, logger="prompt_router"):
        results = [conv.prepare(f"t{i}", QUERY, context=DATE, **kwargs) for i in range(5)]
    assert all(r.policy == "static" and r.result.mode == "static" for r in results)
    assert all(r.result.labels["policy_reason"] == reason and r.result.labels["policy"] == "static" for r in results)
    lines = [r.getMessage() for r in caplog.records if "delivery policy auto" in r.getMessage()]
    assert len(lines) == 1, lines  # once per cause, not per request
    assert "my-finetune" not in caplog.text  # a model name may come from a client's request: never logged
    assert results[0].text == conv.router.full_prompt(DATE).text


def test_auto_reads_the_plan_file_next_to_the_library_and_refuses_a_stale_or_broken_one(tmp_path, caplog):
    path = tmp_path / "delivery_plan.json"
    conv = conversation(plan=None, delivery_plan=path, model="claude-sonnet-5")
    conv.chooser.refresh_seconds = 0.0  # re-read at once (default: every 10 s)
    assert served(conv, "a") == ("static", "no_plan")
    path.write_text(DeliveryPlan("0" * 16, BUNDLES, PLAN.cells).to_json())
    assert served(conv, "b") == ("static", "stale_plan")
    path.write_text('{"format": "prompt-router.delivery-plan/1", "library_version": "x", "cells": [{"best": "cheapest"}]}')
    with caplog.at_level(logging.WARNING, logger="prompt_router"):
        assert served(conv, "c") == ("static", "bad_plan")
    assert str(path) in caplog.text and "'cheapest' is not one of" in caplog.text  # the file and the field at fault
    path.write_text(PLAN.to_json())
    assert served(conv, "d") == ("catalogue", "plan")
    absent = tmp_path / "absent.json"
    assert served(conversation(plan=None, delivery_plan=absent, model="claude-sonnet-5"), "e") == ("static", "no_plan")
    assert conversation(plan=None, delivery_plan=absent, delivery_policy="bundles").prepare(
        "f", QUERY, context=DATE).result.labels["policy_reason"] == "no_plan"


def test_the_bundled_plan_matches_the_bundled_library_and_auto_serves_it():
    # A module edit without `prompt-router plan` fails here, not silently (as static) in production.
    plan = DeliveryPlan.load(bundled_library_dir() / PLAN_NAME, LIBRARY.version)
    assert plan.bundles and {"anthropic", "openai-5", "deepseek", "none"} <= {c.provider for c in plan.cells}
    assert all(c.best == "static" or c.saving[c.best] > 0 for c in plan.cells)
    conv = conversation(plan=None, model="claude-sonnet-5")
    assert served(conv, "a")[1] in {"plan", "no_saving"}  # read and used: never no_plan or stale_plan


def test_a_thread_keeps_its_policy_when_the_plan_changes(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(PLAN.to_json())
    conv = conversation(plan=None, delivery_plan=path, model="claude-sonnet-5")
    conv.chooser.refresh_seconds = 0.0
    assert served(conv, "old") == ("catalogue", "plan")
    cheaper_static = DeliveryPlan(LIBRARY.version, BUNDLES, (cell("anthropic", 60.0, "catalogue", -0.01),))
    path.write_text(cheaper_static.to_json())
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert served(conv, "new") == ("static", "no_saving")
    old = conv.prepare("old", [*QUERY, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "thanks"}],
                       context=DATE)
    assert (old.policy, old.result.labels["policy_reason"]) == ("catalogue", "thread")
    assert old.attachments  # its modules stay where they were delivered


# --- observed traffic ------------------------------------------------------------------------------


def test_the_meter_measures_threads_per_hour_turns_and_tool_steps_over_a_sliding_window():
    clock = Clock(1000.0)
    meter = TrafficMeter(600.0, buckets=10, warmup_seconds=60.0, clock=clock)
    assert meter.traffic() is None
    for _ in range(10):  # 10 threads of 3 turns, each turn with 2 tool steps, over 2 minutes
        for turn in range(3):
            meter.observe(new_thread=turn == 0, tool_step=False)
            meter.observe(new_thread=False, tool_step=True)
            meter.observe(new_thread=False, tool_step=True)
            clock.now += 4.0
    assert meter.traffic() == Traffic(10 * 3600 / 120, 3.0, 2.0)
    clock.now += 30.0
    assert meter.traffic() == Traffic(10 * 3600 / 150, 3.0, 2.0)  # the same traffic, over a longer time
    clock.now += 600.0
    assert meter.traffic() == Traffic(0.0, 0.0, 0.0)  # the window moved past it
    with pytest.raises(ValueError):
        Traffic(-1.0, 1.0, 0.0)


def test_auto_follows_the_observed_traffic_for_new_threads():
    clock = Clock(1000.0)
    conv = conversation(traffic=TrafficMeter(3600.0, warmup_seconds=60.0, clock=clock), model="claude-sonnet-5")
    conv.chooser.refresh_seconds = 0.0
    assert served(conv, "first") == ("static", "measuring_traffic")
    for i in range(3):  # a quiet service: a new thread every 20 minutes or so
        clock.now += 1200.0
        conv.prepare(f"quiet{i}", QUERY, context=DATE)
    assert served(conv, "quiet") == ("catalogue", "plan")  # the 60 threads/h cell
    for i in range(4000):  # then a busy hour
        clock.now += 0.5
        conv.prepare(f"busy{i}", QUERY, context=DATE)
    assert served(conv, "busy") == ("static", "no_saving")  # the 6,000 threads/h cell: routing saves nothing
    assert served(conv, "quiet0") == ("catalogue", "thread")
    workers = conversation(traffic=TrafficMeter(3600.0, warmup_seconds=0.0, clock=clock), model="claude-sonnet-5",
                           traffic_workers=100)
    for i in range(30):  # 30 threads/h here, 3,000 across the fleet: the 6,000 cell is nearer
        clock.now += 120.0
        workers.prepare(f"w{i}", QUERY, context=DATE)
    assert served(workers, "fleet") == ("static", "no_saving")
