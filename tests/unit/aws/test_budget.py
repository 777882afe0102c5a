"""AWS Budget: monthly cost budget with one notification per threshold to the alert topic."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.aws import Budget, BudgetProps
from constructs_lib.core.schema import validate_stack

TOPIC = "arn:aws:sns:eu-west-1:123456789012:ml-alerts"


def test_budget_thresholds_and_target(build) -> None:
    built = build(lambda stack, replica: Budget(
        stack, "Budget", BudgetProps(name="ml-budget", monthly_amount=2500, thresholds_percent=[100, 50, 80]),
        alert_target_id=TOPIC))
    assert validate_stack(built.doc, stack="aws") == []
    budget = built.by_path("aws_budgets_budget", "aws/Budget/Resource")
    assert (budget["budget_type"], budget["time_unit"], budget["limit_amount"], budget["limit_unit"]) == (
        "COST", "MONTHLY", "2500.00", "USD")
    notes = budget["notification"]
    assert [n["threshold"] for n in notes] == [50, 80, 100]
    assert all(n["threshold_type"] == "PERCENTAGE" and n["notification_type"] == "ACTUAL"
               and n["comparison_operator"] == "GREATER_THAN" and n["subscriber_sns_topic_arns"] == [TOPIC]
               for n in notes)


def test_budget_errors(build) -> None:
    with pytest.raises(ValidationError, match="distinct percentages"):
        BudgetProps(name="ml-budget", monthly_amount=10, thresholds_percent=[80, 80])
    with pytest.raises(ValidationError):
        BudgetProps(name="ml-budget", monthly_amount=0)
    with pytest.raises(ValueError, match="not an SNS topic ARN"):
        build(lambda stack, replica: Budget(stack, "B", BudgetProps(name="ml-budget", monthly_amount=10),
                                            alert_target_id="ml-alerts"))
