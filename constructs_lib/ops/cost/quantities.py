"""Quantities from a synthesized stack: what each resource bills, how much, under which assumption.

An extractor (one per priced Terraform type, registered with :func:`extractor`) reads a resource's
JSON body and returns :class:`Line` s: a catalogue key, a region, a unit and three monthly
quantities — ``fixed`` (runs whatever the load), ``estimate`` (under the usage profile) and
``ceiling`` (every pool and endpoint at its maximum). ``fixed <= estimate <= ceiling`` holds for
every line (:meth:`Line.checked`). Pricing the lines is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from .profiles import HOURS_PER_MONTH, Usage, UsageError

__all__ = ["EXTRACTORS", "Line", "Stack", "extractor", "one_per_month", "pool_line", "refs", "runs_per_month", "tier_shares"]

_REF = re.compile(r"\$\{([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.[a-z_]+")
DAYS_PER_MONTH = HOURS_PER_MONTH / 24


@dataclass(frozen=True)
class Line:
    """One cost component of a resource (before pricing)."""

    name: str
    key: str
    unit: str
    region: str
    fixed: float
    estimate: float
    ceiling: float
    note: str = ""
    #: What the advice looks for: endpoint, pool-spot, pool-ondemand, storage, replication, airflow, ...
    tag: str = ""
    #: The profile's own demand before it was raised to ``fixed`` (pools: node-hours wanted), or -1.
    demand: float = -1.0

    def checked(self) -> Line:
        """This line with ``estimate`` raised to ``fixed`` and ``ceiling`` raised to ``estimate``."""
        estimate = max(self.fixed, self.estimate)
        return replace(self, estimate=estimate, ceiling=max(self.ceiling, estimate))


def refs(value: Any) -> list[tuple[str, str]]:
    """Every ``${type.name.attr}`` reference inside ``value`` (any nesting), as (type, name)."""
    found: list[tuple[str, str]] = []

    def walk(v: Any) -> None:
        if isinstance(v, str):
            found.extend(_REF.findall(v))
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(value)
    return list(dict.fromkeys(found))


def _field_count(field_: str, span: int) -> float:
    """How many values a cron field matches out of ``span`` (``*``, ``?``, lists, ranges, steps)."""
    if field_ in ("*", "?"):
        return span
    total = 0.0
    for part in field_.split(","):
        base, _, step = part.partition("/")
        if base in ("*", "?"):
            width = span
        elif "-" in base:
            lo, hi = base.split("-", 1)
            width = (int(hi) - int(lo) + 1) if lo.isdigit() and hi.isdigit() else span
        else:
            width = 1
        total += width / int(step) if step.isdigit() and int(step) else width
    return total


def runs_per_month(expression: str) -> float:
    """Runs per month of a cron expression (AWS ``cron(m h dom mon dow y)``, ``rate(n unit)`` or
    5-field Unix cron). Unknown shapes count as hourly, which the caller states."""
    text = expression.strip()
    rate = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", text)
    if rate:
        n, unit = int(rate.group(1)), rate.group(2)
        per_day = {"minute": 1440, "hour": 24, "day": 1}[unit.rstrip("s")] / n
        return per_day * DAYS_PER_MONTH
    body = text[5:-1] if text.startswith("cron(") else text
    parts = body.split()
    if len(parts) < 5:
        return HOURS_PER_MONTH
    minute, hour, dom, _month, dow = parts[:5]
    per_day = _field_count(minute, 60) * _field_count(hour, 24)
    if dom in ("*", "?") and dow in ("*", "?"):
        days = DAYS_PER_MONTH
    elif dom in ("*", "?"):
        days = _field_count(dow, 7) * DAYS_PER_MONTH / 7
    else:
        days = _field_count(dom, 31)
    return per_day * days


def tier_shares(transitions: list[tuple[float, str]], age_days: float, first: str) -> list[tuple[str, float]]:
    """Share of a store's data in each storage class when data ages evenly up to ``age_days``:
    ``first`` until the first transition day, then each transition's class."""
    age = max(age_days, 1.0)
    points = sorted((d, c) for d, c in transitions if d >= 0)
    shares: dict[str, float] = {}
    start, current = 0.0, first
    for day, cls in points:
        shares[current] = shares.get(current, 0.0) + max(0.0, min(day, age) - min(start, age)) / age
        start, current = day, cls
    shares[current] = shares.get(current, 0.0) + max(0.0, age - min(start, age)) / age
    return [(c, s) for c, s in shares.items() if s > 0]


class Stack:
    """One synthesized stack: its resources by address, provider regions and the usage to apply."""

    def __init__(self, name: str, doc: dict[str, Any], usage: Usage) -> None:
        self.name = name
        self.doc = doc
        self.usage = usage
        self.resources: dict[tuple[str, str], dict[str, Any]] = {
            (t, n): body for t, items in doc.get("resource", {}).items() for n, body in items.items()
        }
        self.providers: dict[str, str] = {}
        for ptype, configs in doc.get("provider", {}).items():
            for cfg in configs:
                alias = f"{ptype}.{cfg['alias']}" if cfg.get("alias") else ptype
                region = cfg.get("region")
                if isinstance(region, str) and "${" not in region:
                    self.providers[alias] = region

    def items(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(type, name, body) of every resource, sorted by address."""
        for (t, n), body in sorted(self.resources.items()):
            yield t, n, body

    def of_type(self, tf_type: str) -> list[tuple[str, dict[str, Any]]]:
        """(name, body) of every resource of ``tf_type``, sorted by name."""
        return [(n, b) for (t, n), b in sorted(self.resources.items()) if t == tf_type]

    def get(self, tf_type: str, name: str) -> dict[str, Any] | None:
        """The body of ``tf_type.name``, or None."""
        return self.resources.get((tf_type, name))

    def referring(self, tf_type: str, target: tuple[str, str]) -> list[tuple[str, dict[str, Any]]]:
        """Resources of ``tf_type`` whose body references ``target`` (type, name)."""
        return [(n, b) for n, b in self.of_type(tf_type) if target in refs(b)]

    @staticmethod
    def path(body: dict[str, Any]) -> str:
        """The construct path of a resource body."""
        return body.get("//", {}).get("metadata", {}).get("path", "")

    def param(self, name: str, tf_type: str, res: str, body: dict[str, Any]) -> float:
        """Usage parameter ``name`` for resource ``tf_type.res``."""
        return self.usage.get(name, f"{tf_type}.{res}", self.path(body))

    def region(self, tf_type: str, body: dict[str, Any], depth: int = 0) -> str:
        """The region of a resource: its provider's (AWS), its ``location`` / ``region`` or its
        parent's (Azure, GCP), else the default provider's; ``unknown`` when only a token says."""
        for key in ("region", "location"):
            value = body.get(key)
            if isinstance(value, str) and value and "${" not in value:
                return value.lower() if tf_type.startswith("google_") else value
        if depth < 4:
            for ref_key in ("parent_id", "key_vault_id", "storage_account_id", "resource_group_name", "key_ring", "cluster"):
                for t, n in refs(body.get(ref_key, "")):
                    parent = self.get(t, n)
                    if parent is not None:
                        return self.region(t, parent, depth + 1)
        provider = body.get("provider") or tf_type.split("_", 1)[0]
        return self.providers.get(provider, "unknown")

    def hours_share(self, capacity: str, pool: str, partners: set[str], tf_type: str, res: str,
                    body: dict[str, Any]) -> float:
        """Node-hours of one capacity part (``spot`` / ``on-demand``) of training pool ``pool``."""
        hours = self.param("training_node_hours", tf_type, res, body)
        if partners >= {"spot", "on-demand"}:
            share = self.param("spot_share", tf_type, res, body)
            return hours * (share if capacity == "spot" else 1 - share)
        return hours


def pool_line(stack: Stack, tf_type: str, res: str, body: dict[str, Any], *, name: str, key: str,
              region: str, min_nodes: float, max_nodes: float, capacity: str, pool: str,
              partners: set[str], note: str = "") -> Line:
    """The node-hours line of one capacity part of a training pool (fixed: its min nodes all month)."""
    hours = stack.hours_share(capacity, pool, partners, tf_type, res, body)
    ceiling = max_nodes * HOURS_PER_MONTH
    if hours > ceiling + 1e-9:
        raise UsageError(
            f"usage: training_node_hours for {tf_type}.{res} ({stack.path(body)}) comes to {hours:g} node-hours "
            f"on this part, more than its max {max_nodes:g} nodes x {HOURS_PER_MONTH:g} h = {ceiling:g}; lower it"
        )
    spot_note = ("spot/low-priority capacity priced at the on-demand price: the most it can cost "
                 "(no per-SKU spot price in the catalogue)") if capacity == "spot" else ""
    return Line(name=name, key=key, unit="hours", region=region, fixed=min_nodes * HOURS_PER_MONTH,
                estimate=hours, ceiling=ceiling, note="; ".join(x for x in (spot_note, note) if x),
                tag=f"pool-{capacity}:{pool}", demand=hours)


def one_per_month(tf_type: str, key: str, label: str, unit: str,
                  region: str = "") -> Callable[[Stack, str, dict[str, Any]], list[Line]]:
    """An extractor of a resource that bills one ``unit`` per month whatever the load (in ``region``,
    or the resource's own when empty)."""

    def extract(stack: Stack, name: str, body: dict[str, Any]) -> list[Line]:
        return [Line(label, key, unit, region or stack.region(tf_type, body), 1, 1, 1)]

    return extract


Extractor = Callable[[Stack, str, dict[str, Any]], list[Line]]
#: Terraform type -> extractor.
EXTRACTORS: dict[str, Extractor] = {}


def extractor(*types: str) -> Callable[[Extractor], Extractor]:
    """Register the decorated function as the extractor of ``types``."""

    def register(fn: Extractor) -> Extractor:
        for t in types:
            EXTRACTORS[t] = fn
        return fn

    return register
