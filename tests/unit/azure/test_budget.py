"""Azure Budget: monthly consumption budget on the resource group, one notification per threshold
to the action group, a deterministic start date."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from constructs_lib.azure import Budget, BudgetProps
from constructs_lib.azure.budget import START_OF_THIS_MONTH
from constructs_lib.core import engine
from constructs_lib.core.spec import PlatformSpec, load_spec
from constructs_lib.core.synth import stack_document
from constructs_lib.platform import build_stack

from .build_helpers import Built

RG_ID = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml"
AG = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/microsoft.insights/actionGroups/ag"
ROOT = Path(__file__).resolve().parents[3]


def test_budget_thresholds_notify_the_alert_target() -> None:
    b = Built(lambda st: Budget(st, "Budget", BudgetProps(
        name="ml-budget", resource_group_id=RG_ID, monthly_amount=2500, thresholds_percent=[100, 50, 80],
    ), alert_target_id=AG))
    budget = b.at("azurerm_consumption_budget_resource_group", "Budget/Resource")
    assert (budget["amount"], budget["time_grain"], budget["resource_group_id"]) == (2500, "Monthly", RG_ID)
    assert [(n["threshold"], n["threshold_type"], n["operator"]) for n in budget["notification"]] == [
        (50, "Actual", "GreaterThanOrEqualTo"), (80, "Actual", "GreaterThanOrEqualTo"), (100, "Actual", "GreaterThanOrEqualTo")]
    assert all(n["contact_groups"] == [AG] and n["enabled"] for n in budget["notification"])
    assert budget["time_period"] == {"start_date": START_OF_THIS_MONTH}
    assert budget["lifecycle"]["ignore_changes"] == ["time_period"]


def test_budget_errors() -> None:
    with pytest.raises(ValidationError, match="at most 5 thresholds"):
        BudgetProps(name="ml-budget", resource_group_id=RG_ID, monthly_amount=1, thresholds_percent=[10, 20, 30, 40, 50, 60])
    with pytest.raises(ValidationError, match="distinct percentages"):
        BudgetProps(name="ml-budget", resource_group_id=RG_ID, monthly_amount=1, thresholds_percent=[50, 50])
    with pytest.raises(ValidationError):
        BudgetProps(name="ml-budget", resource_group_id=RG_ID, monthly_amount=0)
    with pytest.raises(ValueError, match="alert_target_id"):
        Built(lambda st: Budget(st, "B", BudgetProps(name="ml-budget", resource_group_id=RG_ID, monthly_amount=1),
                                alert_target_id=""))


def test_platform_budget_on_an_existing_resource_group() -> None:
    data = load_spec(ROOT / "examples" / "multi-region-serving" / "azure.yaml").model_dump()
    data["azure"]["create_resource_group"] = False
    data.pop("serving"), data.pop("routing")
    spec = PlatformSpec.model_validate(data)
    doc = stack_document(build_stack(engine.App(outdir="/tmp/cdktf-mlops-azure-budget"), spec))
    (budget,) = doc["resource"]["azurerm_consumption_budget_resource_group"].values()
    (rg,) = doc["data"]["azurerm_resource_group"]
    assert budget["resource_group_id"] == "${data.azurerm_resource_group.%s.id}" % rg
    assert [n["threshold"] for n in budget["notification"]] == [50, 80, 100]
    (ag,) = doc["resource"]["azurerm_monitor_action_group"]
    assert budget["notification"][0]["contact_groups"] == ["${azurerm_monitor_action_group.%s.id}" % ag]
