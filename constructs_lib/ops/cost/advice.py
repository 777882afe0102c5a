"""Optimisation advice: what a spec change saves per month under the chosen usage profile.

Every item names the spec change, the monthly saving (``computed``, an ``up to`` bound with the
source of the bound, or ``unpriced`` with the quantities involved) and what it costs in risk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .catalogue import Catalogue
from .engine import Component, ResourceCost, StackCost
from .profiles import HOURS_PER_MONTH

__all__ = ["Advice", "advise"]

_MAX_DISCOUNT = {"aws": "aws.spot.max_discount", "gcp": "gcp.spot.max_discount", "azure": "azure.low_priority.max_discount"}
#: (cool class after 30 days, archive class after 180 days) per cloud, as the library's lifecycle emits.
_TIERS = {"aws": ("aws.s3.standard_ia", "aws.s3.glacier_ir"), "azure": ("azure.blob.cool", "azure.blob.cold"),
          "gcp": ("gcp.gcs.nearline", "gcp.gcs.coldline")}


@dataclass(frozen=True)
class Advice:
    """One optimisation: its saving under the profile, the spec change that gets it, the trade-off."""

    title: str
    saving: float | None
    kind: str  # "computed" | "up to" | "unpriced"
    change: str
    detail: str

    def sort_key(self) -> tuple[float, str]:
        return (-(self.saving or 0.0), self.title)


def _spec_name(r: ResourceCost) -> str:
    """The spec name of an endpoint / pool from its top-level construct id (prefix and region dropped)."""
    top = r.path.split("/")[1] if "/" in r.path else r.path
    top = re.sub(r"^(endpoint|serving|routing)-", "", top)
    if r.region and top.endswith("-" + r.region):
        return top[: -len(r.region) - 1]
    return re.sub(r"-(?:[a-z]{2,}-)?[a-z]+-?\d+$", "", top) or top


def _lines(stack: StackCost, prefix: str) -> list[tuple[ResourceCost, Component]]:
    return [(r, c) for r in stack.resources for c in r.components if c.line.tag.startswith(prefix)]


def _endpoints(stack: StackCost) -> list[Advice]:
    out = []
    for r, c in _lines(stack, "endpoint:"):
        _, _, lo, hi = c.line.tag.split(":")
        low, high = float(lo), float(hi)
        if low <= 1 or c.price is None:
            if low > 1:
                out.append(Advice(f"Lower min instances of {r.address}", None, "unpriced",
                                  f"serving.endpoints[{_spec_name(r)}].min_instances: 1",
                                  f"{(low - 1) * HOURS_PER_MONTH:g} {c.line.unit} fewer; {c.unpriced_reason}"))
            continue
        load = 0.0 if high == low else (c.line.estimate / HOURS_PER_MONTH - low) / (high - low)
        after = (1 + load * (high - 1)) * HOURS_PER_MONTH
        saving = (c.line.estimate - after) * c.price.price
        if saving > 0.005:
            out.append(Advice(f"Lower min instances of {r.address} ({r.region})", saving, "computed",
                              f"serving.endpoints[{_spec_name(r)}].min_instances: 1",
                              f"{low:g} -> 1 always-on instance; one instance is one failure domain "
                              "(2+ spread across zones for availability)"))
        if stack.cloud == "aws" and load == 0:
            out.append(Advice(f"Serverless inference for low traffic on {r.address} ({r.region})", c.monthly,
                              "up to", f"serving.endpoints[{_spec_name(r)}].serverless: {{...}} (AWS only)",
                              "the instance cost goes away; serverless compute is billed per GB-second "
                              "(no serverless rate in the catalogue), with cold starts"))
    return out


def _pools(stack: StackCost, catalogue: Catalogue) -> list[Advice]:
    out = []
    key = _MAX_DISCOUNT.get(stack.cloud, "")
    row = catalogue.lookup(key, "global")
    for r, c in _lines(stack, "pool-"):
        capacity, pool = c.line.tag.split(":", 1)
        if c.price is not None and c.line.demand >= 0 and c.line.fixed > 0:
            saving = (c.line.estimate - c.line.demand) * c.price.price
            if saving > 0.005:
                out.append(Advice(f"Scale training pool {pool} to zero ({r.address})", saving, "computed",
                                  f"training.pools[{pool}].min_nodes: 0",
                                  f"{c.line.fixed:g} node-hours of minimum nodes beyond the profile's "
                                  f"{c.line.demand:g} node-hours; nodes start on the next job (minutes)"))
        if c.line.estimate <= 0:
            continue
        what = ("move the on-demand fallback's hours to spot/low-priority capacity"
                if capacity == "pool-on-demand" else "spot/low-priority hours are priced at on-demand here")
        change = (f"training.pools[{pool}].on_demand_fallback: false (or spot: true)"
                  if capacity == "pool-on-demand" else "none: already spot; the estimate is an upper bound")
        if row is None or c.price is None:
            if capacity != "pool-on-demand":
                continue  # already spot, and no discount to quote: nothing to advise
            reason = c.unpriced_reason or f"no {key or 'spot'} discount in the catalogue"
            out.append(Advice(f"Spot capacity for pool {pool} ({r.address})", None, "unpriced", change,
                              f"{what}; {c.line.estimate:g} {c.line.unit}; {reason}"))
            continue
        out.append(Advice(f"Spot capacity for pool {pool} ({r.address})", (c.monthly or 0.0) * row.price, "up to",
                          change, f"{what}; at most {row.price:.0%} off ({row.source_title}: {row.source}); spot nodes can be reclaimed"))
    return out


def _tiering(stack: StackCost, catalogue: Catalogue) -> list[Advice]:
    out = []
    cool, cold = _TIERS.get(stack.cloud, ("", ""))
    for r in stack.resources:
        stores = [c for c in r.components if c.line.tag.startswith("storage:data")]
        if len(stores) != 1 or stores[0].price is None or not cool:
            continue
        c = stores[0]
        suffix = c.line.key.split(".", 3)[3] if stack.cloud != "aws" else ""
        keys = [k + (f".{suffix}" if suffix else "") for k in (cool, cold)]
        rows = [catalogue.lookup(k, c.line.region) for k in keys]
        gb = c.line.estimate
        if any(x is None for x in rows):
            missing = ", ".join(k for k, x in zip(keys, rows) if x is None)
            out.append(Advice(f"Lifecycle tiering of {r.address}", None, "unpriced",
                              "storage.lifecycle: {infrequent_access_after_days: 30, archive_after_days: 180}",
                              f"{gb:g} {c.line.unit} all in one class; no {c.line.region} price for {missing}"))
            continue
        age = 365.0
        tiered = gb * (30 / age * c.price.price + 150 / age * rows[0].price + 185 / age * rows[1].price)  # type: ignore[union-attr]
        out.append(Advice(f"Lifecycle tiering of {r.address}", (c.monthly or 0.0) - tiered, "computed",
                          "storage.lifecycle: {infrequent_access_after_days: 30, archive_after_days: 180}",
                          f"{gb:g} {c.line.unit} aged evenly over a year; retrieval fees and minimum storage "
                          "durations of the colder classes are not counted"))
    return out


def _replication(stack: StackCost) -> list[Advice]:
    parts = _lines(stack, "replication") + _lines(stack, "storage:data:replica")
    if not parts:
        return []
    priced = sum(c.monthly or 0.0 for _, c in parts)
    unpriced = [f"{c.line.estimate:g} {c.line.unit} {c.line.name}" for _, c in parts if c.price is None]
    detail = "replica stores and cross-region transfer" + (f"; unpriced: {', '.join(sorted(set(unpriced)))}" if unpriced else "")
    return [Advice("Cross-region replicas and transfer", priced if priced else None,
                   "computed" if not unpriced else ("up to" if priced else "unpriced"),
                   "storage.replicate: false (or a cheaper storage.replica_region)",
                   detail + "; without replicas a regional outage loses the recovery point (RPO)")]


def _airflow(stack: StackCost) -> list[Advice]:
    parts = _lines(stack, "airflow")
    if not parts:
        return []
    fixed = sum(c.fixed or 0.0 for _, c in parts)
    unpriced = [f"{c.line.fixed:g} {c.line.unit} {c.line.name}" for _, c in parts if c.price is None]
    return [Advice("Idle Airflow environment", fixed if fixed else None, "computed" if fixed else "unpriced",
                   "remove `airflow:` and start pipelines with retraining.schedule / on_new_data / on_drift",
                   "a managed Airflow environment bills every hour whether DAGs run or not"
                   + (f"; unpriced: {', '.join(unpriced)}" if unpriced else ""))]


def advise(stack: StackCost, catalogue: Catalogue) -> list[Advice]:
    """Every optimisation for ``stack`` under its profile, largest saving first."""
    items = _endpoints(stack) + _pools(stack, catalogue) + _tiering(stack, catalogue) + _replication(stack) + _airflow(stack)
    return sorted(items, key=Advice.sort_key)
