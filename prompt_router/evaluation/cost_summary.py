"""The cost model's rows, summed up per provider and explained in words.

Generic over policies: whatever policies the rows contain are summarised (in the order they
first appear); `static`, the full prompt, is the baseline every saving is measured against.
A negative saving never stands alone: `explain` says which caching rule makes the routed
prompt dearer, with the cache figures of the scenario where it is worst.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from statistics import fmean
from typing import Any

from ..integration.pricing import CachePricing

BASELINE = "static"

# How a policy reads in a sentence; an unknown policy is named as it is.
POLICY_PHRASES: dict[str, str] = {
    "static": "the full prompt",
    "per_request": "routing every request",
    "sticky": "routing once per thread (modules only added)",
    "bundles": "serving nested module bundles",
    "catalogue": "the catalogue (modules loaded inside the conversation)",
    "auto": "the auto policy",
}

# Policies whose system prompt never changes: routed modules travel inside the conversation.
IN_CONVERSATION = frozenset({"catalogue"})

INPUT_ONLY = ("Money figures are input cost only: output tokens cost the same under every policy, so with them "
              "each percentage would be 2-3x smaller.")


def policy_phrase(policy: str) -> str:
    return POLICY_PHRASES.get(policy, f"the {policy} policy")


def scenario(row: Mapping[str, Any]) -> str:
    return f"{row['threads_per_hour']:,.0f} threads/h, {row['profile']}"


def policies_in(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The routed policies the rows contain, in order of first appearance (the baseline out)."""
    return list(dict.fromkeys(str(r["policy"]) for r in rows if r["policy"] != BASELINE))


def _missed(row: Mapping[str, Any] | None) -> float:
    """The share of the input paid at the full price: neither read from nor written to the cache."""
    return max(0.0, 1.0 - row["cache_read_share"] - row["cache_write_share"]) if row else 1.0


def explain(row: Mapping[str, Any], static: Mapping[str, Any] | None, pricing: CachePricing) -> str:
    """Why `row` (a negative saving) costs more than the full prompt in the same scenario."""
    what = f"{policy_phrase(row['policy'])} costs {-row['saving_vs_static']:.0%} more than the full prompt ({scenario(row)})"
    base_writes = static["cache_write_share"] if static else 0.0
    in_conversation = row["policy"] in IN_CONVERSATION
    if pricing.caching == "none":
        why = "its requests carried more tokens than the full prompt's"
    elif pricing.caching == "breakpoints" and pricing.write > 1.0 and row["cache_write_share"] > base_writes:
        changing = "modules delivered inside the conversation are" if in_conversation else "a changing system prompt is"
        why = (f"{changing} written to the cache at {pricing.write:g}x while the full prompt is read at {pricing.read:g}x "
               f"({row['cache_write_share']:.0%} of its input is cache writes, against {base_writes:.0%} for the full prompt)")
    else:
        changing = ("modules delivered inside the conversation miss" if in_conversation
                    else "routed prompts that change from request to request miss")
        why = (f"the full prompt is one prefix every request reads from the cache at {pricing.read:g}x, while {changing} "
               f"the cache and pay 1x ({_missed(row):.0%} of its input misses, against {_missed(static):.0%} for the "
               "full prompt)")
    if (row["thread_turns"] > 1 or row["tool_steps"] > 0) and not in_conversation:
        why += "; a module set that changes mid-thread also discards the cached conversation behind it"
    return f"{what}: {why}."


def _policy_summary(rows: list[Mapping[str, Any]], statics: Mapping[tuple[float, str], Mapping[str, Any]],
                    pricing: CachePricing) -> dict[str, Any]:
    worst = min(rows, key=lambda r: r["saving_vs_static"])
    best = max(rows, key=lambda r: r["saving_vs_static"])
    return {
        "scenarios": len(rows),
        "scenarios_saving": sum(r["saving_vs_static"] > 0 for r in rows),
        "mean_saving": fmean(r["saving_vs_static"] for r in rows),
        "min_saving": worst["saving_vs_static"],
        "min_scenario": scenario(worst),
        "max_saving": best["saving_vs_static"],
        "max_scenario": scenario(best),
        "mean_token_saving": fmean(r["token_saving_vs_static"] for r in rows),
        "why": explain(worst, statics.get((worst["threads_per_hour"], worst["profile"])), pricing)
        if worst["saving_vs_static"] < 0 else None,
    }


def _sentence(pricing: CachePricing, best: str, s: Mapping[str, Any],
              policies: Mapping[str, Mapping[str, Any]]) -> tuple[str, str]:
    """(outcome, one plain sentence) for a provider."""
    lead = "Without prompt caching" if pricing.caching == "none" else f"On {pricing.label}"
    phrase = policy_phrase(best)
    span = (f"from {s['min_saving']:+.0%} ({s['min_scenario']}) to {s['max_saving']:+.0%} ({s['max_scenario']})"
            if f"{s['min_saving']:+.0%}" != f"{s['max_saving']:+.0%}" else "in every scenario")
    if all(p["max_saving"] <= 0 for p in policies.values()):
        return "costs more", (f"{lead}, no routing policy saves money in any scenario: even the best, {phrase}, "
                              f"costs {-s['mean_saving']:.0%} more than the full prompt on average, {span}.")
    if s["min_saving"] >= 0:
        return "saves", (f"{lead}, {phrase} saves {s['mean_saving']:.0%} of the input cost on average and never "
                         f"costs more than the full prompt, {span}.")
    average = f"saves {s['mean_saving']:.0%}" if s["mean_saving"] >= 0 else f"costs {-s['mean_saving']:.0%} more"
    return "mixed", (f"{lead}, routing saves money only in some scenarios: the best policy, {phrase}, {average} "
                     f"on average, with a saving in {s['scenarios_saving']} of {s['scenarios']} scenarios, {span}.")


def summarise(rows: Sequence[Mapping[str, Any]], providers: Sequence[CachePricing]) -> dict[str, dict[str, Any]]:
    """Per provider (in the order given): each policy's saving over the grid's scenarios
    (mean, worst and best with where), the best policy on average, the outcome in one word
    and one sentence, and why any negative figure is negative."""
    out: dict[str, dict[str, Any]] = {}
    for pricing in providers:
        mine = [r for r in rows if r["provider"] == pricing.name and r.get("saving_vs_static") is not None]
        if not mine:
            continue
        statics = {(r["threads_per_hour"], r["profile"]): r for r in mine if r["policy"] == BASELINE}
        policies = {name: _policy_summary([r for r in mine if r["policy"] == name], statics, pricing)
                    for name in policies_in(mine)}
        summary: dict[str, Any] = {"label": pricing.label, "caching": pricing.caching, "read": pricing.read,
                                   "write": pricing.write, "policies": policies,
                                   "mean_ceiling_saving": fmean(r["ceiling_saving"] for r in statics.values())
                                   if statics else None}
        if policies:
            best = max(policies, key=lambda name: policies[name]["mean_saving"])
            outcome, sentence = _sentence(pricing, best, policies[best], policies)
            worst = min(policies, key=lambda name: policies[name]["min_saving"])
            summary.update({"best_policy": best, "mean_saving": policies[best]["mean_saving"], "outcome": outcome,
                            "sentence": sentence, "why": policies[worst]["why"]})
        out[pricing.name] = summary
    return out


def cost_section(rows: Sequence[Mapping[str, Any]], providers: Sequence[CachePricing], grid: Mapping[str, Any],
                 price_per_million: float, requests_per_month: int) -> dict[str, Any]:
    """The report's `cost` section: the parameters, every row (with dollars at the given base
    price and volume) and the per-provider summary."""
    usd = price_per_million / 1_000_000 * requests_per_month
    statics = {(r["provider"], r["threads_per_hour"], r["profile"]): r["cost_per_request"]
               for r in rows if r["policy"] == BASELINE}
    priced = []
    for row in rows:
        static = statics.get((row["provider"], row["threads_per_hour"], row["profile"]))
        priced.append({**row, "usd_per_month": row["cost_per_request"] * usd,
                       "usd_saving_per_month": (static - row["cost_per_request"]) * usd if static is not None else None})
    return {
        "basis": "input tokens",
        "note": INPUT_ONLY,
        "price_per_million_input_tokens": price_per_million,
        "requests_per_month": requests_per_month,
        "grid": dict(grid),
        "policies": [BASELINE, *policies_in(rows)],
        "rows": priced,
        "providers": summarise(rows, providers),
    }
