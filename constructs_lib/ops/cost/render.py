"""Renderings of a cost report: Infracost-style JSON and Markdown (per stack, or a job summary)."""

from __future__ import annotations

import json
from typing import Any

from .advice import Advice
from .catalogue import PriceRow
from .engine import Component, ResourceCost, StackCost
from .profiles import HOURS_PER_MONTH, PARAMETERS, Usage

__all__ = ["assumptions", "money", "stack_markdown", "summary_markdown", "to_json"]


def money(x: float | None) -> str:
    """``$1,234.56`` (or ``unpriced``)."""
    return "unpriced" if x is None else f"${x:,.2f}"


def _num(x: float) -> float:
    return round(x, 6)


def assumptions(usage: Usage) -> list[str]:
    """The usage assumptions of a run, one line each (printed with every result)."""
    lines = [f"profile {usage.profile}" + (f" with usage file {usage.source}" if usage.source else ""),
             f"{HOURS_PER_MONTH:g} hours per month"]
    lines += [f"{k} = {usage.defaults[k]:g}: {PARAMETERS[k]}" for k in sorted(usage.defaults)]
    lines += [f"override: {x}" for x in usage.overridden()]
    lines.append("fixed = what runs whatever the load (min instances, servers, keys, zones, endpoints); "
                 "ceiling = every pool and endpoint at its max all month, usage as in the profile")
    lines.append("unpriced lines are left out of every total (the totals are then lower bounds); never counted as 0")
    return lines


def _source(row: PriceRow) -> dict[str, str]:
    return {"source": row.source, "title": row.source_title, "sourceDate": row.source_date,
            "dateRead": row.date_read, "howObtained": row.how_obtained, "origin": row.origin,
            "region": row.region, "note": row.note}


def _component(c: Component) -> dict[str, Any]:
    ln = c.line
    out: dict[str, Any] = {
        "name": ln.name, "unit": ln.unit, "region": ln.region, "sku": ln.key,
        "monthlyQuantity": _num(ln.estimate), "fixedMonthlyQuantity": _num(ln.fixed),
        "ceilingMonthlyQuantity": _num(ln.ceiling),
        "price": None if c.price is None else f"{c.price.price:g}",
        "currency": None if c.price is None else c.price.currency,
        "monthlyCost": None if c.monthly is None else f"{c.monthly:.4f}",
        "fixedMonthlyCost": None if c.fixed is None else f"{c.fixed:.4f}",
        "ceilingMonthlyCost": None if c.ceiling is None else f"{c.ceiling:.4f}",
        "priceSource": None if c.price is None else _source(c.price),
        "note": ln.note,
    }
    if c.price is None:
        out["unpricedReason"] = c.unpriced_reason
    return out


def _resource(r: ResourceCost) -> dict[str, Any]:
    return {
        "name": r.address, "resourceType": r.tf_type,
        "metadata": {"path": r.path, "region": r.region, "class": r.cls, "reason": r.reason},
        "monthlyCost": f"{r.total('monthly'):.4f}", "fixedMonthlyCost": f"{r.total('fixed'):.4f}",
        "ceilingMonthlyCost": f"{r.total('ceiling'):.4f}",
        "costComponents": [_component(c) for c in r.components],
    }


def _budget(s: StackCost) -> dict[str, Any] | None:
    if s.budget is None:
        return None
    return {"amount": f"{s.budget.amount:.2f}", "currency": s.budget.currency, "resource": s.budget.address,
            "fixedExceeds": s.total("fixed") > s.budget.amount, "estimateExceeds": s.total("monthly") > s.budget.amount,
            "ceilingExceeds": s.total("ceiling") > s.budget.amount}


def _advice(a: Advice) -> dict[str, Any]:
    return {"title": a.title, "monthlySaving": None if a.saving is None else f"{a.saving:.2f}",
            "kind": a.kind, "specChange": a.change, "detail": a.detail}


def to_json(stacks: list[StackCost], usage: Usage) -> str:
    """Infracost-style JSON (``projects[].breakdown.resources[].costComponents[]``) plus each price's source."""
    projects = []
    for s in stacks:
        projects.append({
            "name": s.name, "metadata": {"path": f"stacks/{s.name}", "cloud": s.cloud},
            "breakdown": {"resources": [_resource(r) for r in s.resources if r.cls != "free"],
                          "freeResources": sorted({r.tf_type for r in s.resources if r.cls == "free"}),
                          "totalMonthlyCost": f"{s.total('monthly'):.2f}",
                          "totalFixedMonthlyCost": f"{s.total('fixed'):.2f}",
                          "totalCeilingMonthlyCost": f"{s.total('ceiling'):.2f}",
                          "complete": s.complete},
            "budget": _budget(s), "advice": [_advice(a) for a in s.advice],
            "summary": _summary([s]),
        })
    doc = {"version": "0.2", "currency": "USD", "profile": usage.profile, "assumptions": assumptions(usage),
           "projects": projects,
           "totalMonthlyCost": f"{sum(s.total('monthly') for s in stacks):.2f}",
           "totalFixedMonthlyCost": f"{sum(s.total('fixed') for s in stacks):.2f}",
           "totalCeilingMonthlyCost": f"{sum(s.total('ceiling') for s in stacks):.2f}",
           "summary": _summary(stacks)}
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _summary(stacks: list[StackCost]) -> dict[str, int]:
    rs = [r for s in stacks for r in s.resources]
    return {"totalDetectedResources": len(rs),
            "totalSupportedResources": sum(r.cls == "priced" for r in rs),
            "totalFreeResources": sum(r.cls == "free" for r in rs),
            "totalUnsupportedResources": sum(r.cls == "unpriced" for r in rs),
            "totalUnpricedComponents": sum(len(r.unpriced) for r in rs)}


def _verdict(s: StackCost) -> str:
    if s.budget is None:
        return "no budget in this stack"
    amount = f"{s.budget.amount:,.2f} {s.budget.currency}"
    if s.total("fixed") > s.budget.amount:
        return f"**the fixed cost alone exceeds the budget** ({amount})"
    if s.total("monthly") > s.budget.amount:
        return f"**the estimate exceeds the budget** ({amount})"
    if s.total("ceiling") > s.budget.amount:
        return f"within the budget ({amount}); the ceiling exceeds it"
    return f"within the budget ({amount})" + ("" if s.complete else " as far as priced")


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


Group = tuple[tuple[str, str, str, str, bool], tuple[int, list[float], list[float], Component]]


def _grouped(s: StackCost) -> list[Group]:
    """Lines of the same type, name, region and price summed: (count, quantities, costs, a component)."""
    groups: dict[tuple[str, str, str, str, bool], tuple[int, list[float], list[float], Component]] = {}
    for r in s.resources:
        for c in r.components:
            key = (r.tf_type, c.line.name, c.line.region, c.line.unit, c.price is not None)
            n, qty, cost, first = groups.get(key, (0, [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], c))
            qty = [qty[0] + c.line.fixed, qty[1] + c.line.estimate, qty[2] + c.line.ceiling]
            cost = [cost[0] + (c.fixed or 0), cost[1] + (c.monthly or 0), cost[2] + (c.ceiling or 0)]
            groups[key] = (n + 1, qty, cost, first)
    return list(groups.items())


def _qty(q: list[float]) -> str:
    return " / ".join(f"{x:,.4g}" for x in q)


def stack_markdown(s: StackCost, usage: Usage, *, heading: str = "##", details: bool = True) -> str:
    """The Markdown cost section of one stack (self-contained: totals, lines, unpriced, advice, assumptions)."""
    out = [f"{heading} Cost of {s.name} ({s.cloud}, profile {usage.profile})", ""]
    out += ["| | fixed | estimate | ceiling |", "|---|---:|---:|---:|",
            f"| per month (priced lines) | {money(s.total('fixed'))} | {money(s.total('monthly'))} | {money(s.total('ceiling'))} |",
            "", f"Budget: {_verdict(s)}.", ""]
    if not s.complete:
        out += [f"Lower bound: {len(s.unpriced_components)} unpriced line(s) and {len(s.unpriced_resources)} "
                "unpriced resource(s) are not in the totals (listed below).", ""]
    groups = _grouped(s)
    priced = [g for g in groups if g[0][4]]
    if priced:
        out += ["| resources | line | quantity: fixed / estimate / ceiling | price | estimate | source |",
                "|---|---|---|---:|---:|---|"]
        for (tf_type, name, region, unit, _), (n, qty, cost, c) in sorted(priced, key=lambda g: (-g[1][2][1], g[0][:3])):
            assert c.price is not None
            out.append(f"| {n} x `{tf_type}` | {_esc(name)} ({region}) | {_qty(qty)} {unit} | "
                       f"{c.price.price:g} {c.price.currency}/{c.price.unit} | {money(cost[1])} | "
                       f"{_esc(c.price.source_title or c.price.source)}, read {c.price.date_read} |")
        out.append("")
    unpriced = [g for g in groups if not g[0][4]]
    if details and unpriced:
        out += ["Unpriced lines (not in the totals):", "",
                "| resources | line | quantity: fixed / estimate / ceiling | why |", "|---|---|---|---|"]
        for (tf_type, name, region, unit, _), (n, qty, _cost, c) in sorted(unpriced, key=lambda g: g[0][:3]):
            out.append(f"| {n} x `{tf_type}` | {_esc(name)} ({region}) | {_qty(qty)} {unit} | {_esc(c.unpriced_reason)} |")
        out.append("")
    if details and s.unpriced_resources:
        grouped: dict[tuple[str, str], int] = {}
        for r in s.unpriced_resources:
            grouped[(r.tf_type, r.reason)] = grouped.get((r.tf_type, r.reason), 0) + 1
        out += ["Unpriced resources (count: what they bill for):", ""]
        out += [f"- {n} x `{t}`: {_esc(reason)}" for (t, reason), n in sorted(grouped.items())]
        out.append("")
    if s.advice:
        out += ["| advice | monthly saving | spec change | detail |", "|---|---:|---|---|"]
        for a in s.advice:
            saving = "unpriced" if a.saving is None else ("up to " if a.kind == "up to" else "") + money(a.saving)
            out.append(f"| {_esc(a.title)} | {saving} | `{_esc(a.change)}` | {_esc(a.detail)} |")
        out.append("")
    if details:
        out += ["<details><summary>Assumptions</summary>", ""] + [f"- {_esc(x)}" for x in assumptions(usage)] + ["", "</details>", ""]
    return "\n".join(out)


def summary_markdown(stacks: list[StackCost], usage: Usage) -> str:
    """A GitHub job summary: one row per stack, then each stack's priced lines and advice."""
    out = [f"## Cost estimate (profile {usage.profile})", "",
           "| stack | fixed | estimate | ceiling | budget | unpriced |", "|---|---:|---:|---:|---|---:|"]
    for s in stacks:
        out.append(f"| {s.name} | {money(s.total('fixed'))} | {money(s.total('monthly'))} | {money(s.total('ceiling'))} "
                   f"| {_verdict(s)} | {len(s.unpriced_components) + len(s.unpriced_resources)} |")
    out += ["", "Totals count priced lines only; unpriced lines are listed per stack, never counted as 0.", ""]
    for s in stacks:
        out += ["<details><summary>" + s.name + "</summary>", "", stack_markdown(s, usage, heading="###"), "</details>", ""]
    return "\n".join(out)
