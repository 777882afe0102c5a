"""A monthly cost budget on Azure: ``azurerm_consumption_budget_resource_group`` on the platform's
resource group, notifying the monitoring action group at each threshold of actual spend.

Example::

    Budget(self, "Budget", BudgetProps(name="ml-budget", resource_group_id=rg.ref("id"),
                                       monthly_amount=2500, thresholds_percent=[50, 80, 100]),
           alert_target_id=monitoring.alert_target)

Start date. Azure requires a budget's start to be the first day of a month and, for a monthly
budget, not before the current month at creation — so a constant date breaks after a month, and a
date computed in Python would make synthesis time-dependent. The start is therefore the
Terraform expression :data:`START_OF_THIS_MONTH` (the first day of the month of the first
``apply``), and ``time_period`` is in ``lifecycle.ignore_changes``: the synthesized JSON is
byte-identical on every run, the budget starts when it is created, and later plans do not move it.
There is no end date (Azure then runs the budget for ten years).

Currency: Azure budgets are in the billing account's currency; ``currency`` cannot be set and is
only documentation here (make it match the billing account).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.resource import Resource
from ..core.run_props import BudgetProps as _CoreBudgetProps

__all__ = ["MAX_NOTIFICATIONS", "START_OF_THIS_MONTH", "Budget", "BudgetProps"]

#: Terraform expression for the first day of the current month (evaluated at apply).
START_OF_THIS_MONTH = "${formatdate(\"YYYY-MM-01'T'00:00:00Z\", timestamp())}"
#: Azure allows at most five notifications per budget.
MAX_NOTIFICATIONS = 5


class BudgetProps(_CoreBudgetProps):
    """The shared budget props plus the resource group the budget covers."""

    resource_group_id: str = Field(description="Resource Manager id of the resource group whose cost is budgeted.")

    @field_validator("thresholds_percent")
    @classmethod
    def _at_most_five(cls, values: list[int]) -> list[int]:
        if len(values) > MAX_NOTIFICATIONS:
            raise ValueError(
                f"Azure budgets notify at most {MAX_NOTIFICATIONS} thresholds, got {len(values)}; drop some"
            )
        return values


class Budget(MlopsConstruct):
    """A monthly budget of ``monthly_amount`` on one resource group with one notification per
    ``thresholds_percent`` entry (actual spend, ``GreaterThanOrEqualTo``) to ``alert_target_id``
    (an action group id).

    Attributes: ``resource`` (the ``azurerm_consumption_budget_resource_group``), ``budget_id``.
    """

    props_type = BudgetProps
    props_hint = "resource_group_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: BudgetProps,
        *,
        alert_target_id: str,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(alert_target_id, str) or not alert_target_id.strip():
            raise ConstructError(self.node.path, "alert_target_id must be an action group id")
        self.resource = Resource(
            self,
            "Resource",
            "azurerm_consumption_budget_resource_group",
            provider=provider,
            ignore_changes=["time_period"],
            name=f"budget-{props.name}",
            resource_group_id=props.resource_group_id,
            amount=props.monthly_amount,
            time_grain="Monthly",
            time_period={"start_date": START_OF_THIS_MONTH},
            notification=[
                {
                    "enabled": True,
                    "threshold": pct,
                    "threshold_type": "Actual",
                    "operator": "GreaterThanOrEqualTo",
                    "contact_groups": [alert_target_id],
                }
                for pct in props.thresholds_percent
            ],
        )
        self.budget_id: str = self.resource.ref("id")
