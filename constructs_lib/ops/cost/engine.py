"""Price the quantities of each synthesized stack: per resource, per stack, against the budget."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...core.errors import MlopsError
from . import aws as _aws  # noqa: F401  (registers the AWS extractors)
from . import gcp as _gcp  # noqa: F401  (registers the Google Cloud extractors)
from .azure import AZAPI_CLASSES, azapi_type
from .catalogue import Catalogue, PriceRow
from .classes import classify
from .profiles import Usage
from .quantities import EXTRACTORS, Line, Stack

__all__ = ["Budget", "Component", "CostError", "ResourceCost", "StackCost", "analyse_stack", "resource_class"]


class CostError(MlopsError):
    """An output folder without stacks, or a stack that cannot be read."""


@dataclass(frozen=True)
class Component:
    """A priced (or unpriced) line of a resource: quantities and, when known, the price row."""

    line: Line
    price: PriceRow | None
    unpriced_reason: str = ""

    def cost(self, qty: float) -> float | None:
        """``qty`` x price, or None when unpriced."""
        return None if self.price is None else qty * self.price.price

    @property
    def fixed(self) -> float | None:
        return self.cost(self.line.fixed)

    @property
    def monthly(self) -> float | None:
        return self.cost(self.line.estimate)

    @property
    def ceiling(self) -> float | None:
        return self.cost(self.line.ceiling)


@dataclass(frozen=True)
class ResourceCost:
    """One resource of a stack: its class and its components."""

    address: str
    tf_type: str
    path: str
    region: str
    cls: str
    reason: str
    components: tuple[Component, ...] = ()

    def total(self, which: str) -> float:
        """Sum of the priced components' ``fixed`` / ``monthly`` / ``ceiling`` costs."""
        return sum(getattr(c, which) or 0.0 for c in self.components)

    @property
    def unpriced(self) -> list[Component]:
        """The components without a price."""
        return [c for c in self.components if c.price is None]


@dataclass(frozen=True)
class Budget:
    """The monthly budget a stack declares (its budget resource's amount)."""

    amount: float
    currency: str
    address: str


@dataclass(frozen=True)
class StackCost:
    """A stack's resources, totals and budget."""

    name: str
    cloud: str
    resources: tuple[ResourceCost, ...]
    budget: Budget | None
    advice: tuple[Any, ...] = field(default=())

    def total(self, which: str) -> float:
        """Sum over resources of ``fixed`` / ``monthly`` / ``ceiling`` (priced parts only)."""
        return sum(r.total(which) for r in self.resources)

    @property
    def unpriced_components(self) -> list[tuple[ResourceCost, Component]]:
        """(resource, component) of every priced-class resource's unpriced component."""
        return [(r, c) for r in self.resources for c in r.unpriced]

    @property
    def unpriced_resources(self) -> list[ResourceCost]:
        """Resources of class ``unpriced``."""
        return [r for r in self.resources if r.cls == "unpriced"]

    @property
    def complete(self) -> bool:
        """Whether every billing resource and component has a price (totals are then not a lower bound)."""
        return not self.unpriced_components and not self.unpriced_resources


def resource_class(tf_type: str, body: dict[str, Any]) -> tuple[str, str] | None:
    """(class, reason) of one resource: by its Terraform type, or by ARM type for ``azapi_resource``."""
    if tf_type == "azapi_resource":
        return AZAPI_CLASSES.get(azapi_type(body))
    return classify(tf_type)


def _cloud(doc: dict[str, Any]) -> str:
    providers = set(doc.get("provider", {}))
    for cloud, names in (("aws", {"aws"}), ("azure", {"azurerm", "azapi"}), ("gcp", {"google", "google-beta"})):
        if providers & names:
            return cloud
    return "unknown"


def _budget(stack: Stack) -> Budget | None:
    for tf_type, name, body in stack.items():
        if tf_type == "aws_budgets_budget" and body.get("time_unit", "MONTHLY") == "MONTHLY":
            return Budget(float(body["limit_amount"]), body.get("limit_unit", "USD"), f"{tf_type}.{name}")
        if tf_type.startswith("azurerm_consumption_budget_") and body.get("time_grain", "Monthly") == "Monthly":
            return Budget(float(body["amount"]), "billing currency", f"{tf_type}.{name}")
        if tf_type == "google_billing_budget":
            amount = body.get("amount", {}).get("specified_amount", {})
            if "units" in amount:
                return Budget(float(amount["units"]) + float(amount.get("nanos", 0)) / 1e9,
                              amount.get("currency_code", "billing currency"), f"{tf_type}.{name}")
    return None


def _price(line: Line, catalogue: Catalogue) -> Component:
    row = catalogue.lookup(line.key, line.region)
    if row is not None:
        return Component(line, row)
    known = catalogue.regions_of(line.key)
    if known:
        other = catalogue.lookup(line.key, known[0])
        assert other is not None
        reason = (f"no {line.region} price for {line.key} (the catalogue has {', '.join(known)}: "
                  f"{other.price:g} {other.currency}/{other.unit}); add a row with --prices")
    else:
        reason = f"no price for {line.key} in the catalogue; add a row with --prices"
    return Component(line, None, reason)


def analyse_stack(stack_dir: Path, usage: Usage, catalogue: Catalogue) -> StackCost:
    """The cost of the stack synthesized in ``stack_dir`` (its ``cdk.tf.json``)."""
    path = Path(stack_dir) / "cdk.tf.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CostError(f"{path}: not valid JSON ({exc.msg}); synthesize again") from None
    stack = Stack(Path(stack_dir).name, doc, usage)
    resources = []
    for tf_type, name, body in stack.items():
        cls = resource_class(tf_type, body) or ("unclassified", "no class: report this type to the cdktf-mlops maintainers")
        components: tuple[Component, ...] = ()
        if cls[0] == "priced" and tf_type in EXTRACTORS:
            lines = [ln.checked() for ln in EXTRACTORS[tf_type](stack, name, body)]
            components = tuple(_price(ln, catalogue) for ln in lines)
        resources.append(ResourceCost(f"{tf_type}.{name}", tf_type, stack.path(body),
                                      stack.region(tf_type, body), cls[0], cls[1], components))
    return StackCost(stack.name, _cloud(doc), tuple(resources), _budget(stack))
