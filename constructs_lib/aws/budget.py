"""Cost guardrail: a monthly AWS Budget with alerts to the alert topic.

What ``Budget`` builds: one ``aws_budgets_budget`` (the construct's ``resource``) of the
provider's account, named ``props.name``, type ``COST``, ``MONTHLY``, limit ``monthly_amount`` in ``currency`` (AWS Budgets
accepts the account's billing currency, normally USD), and one notification per entry of
``thresholds_percent``: when *actual* spend exceeds that percentage of the limit, AWS Budgets
publishes to ``alert_target_id`` (an SNS topic ARN). The topic's policy must let
``budgets.amazonaws.com`` publish and, for a KMS-encrypted topic, its key policy must let Budgets
use the key: :class:`~.monitoring.Monitoring` topics do both. A budget has no recovery objectives
(it holds no data); the account's billing data stays with AWS.
"""

from __future__ import annotations

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.resource import Resource
from ..core.run_props import BudgetProps
from . import _iam

__all__ = ["Budget", "BudgetProps"]


class Budget(MlopsConstruct):
    """A monthly cost budget of the account with a notification per threshold.

    Args:
        scope: parent construct.
        id: construct id.
        props: the core :class:`~constructs_lib.core.run_props.BudgetProps`.
        alert_target_id: ARN (or token) of the SNS topic that receives the notifications.
        provider: the ``aws`` provider (budgets are global). Defaults to the stack's default provider.

    Attributes:
        resource: the ``aws_budgets_budget``.
        budget_name: its name (literal); ``budget_id`` the same (the platform's ``budget_id`` output).
        thresholds_percent: the notification thresholds, ascending.
    """

    props_type = BudgetProps
    props: BudgetProps

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
        if not alert_target_id or not isinstance(alert_target_id, str):
            raise ConstructError(self.node.path, "alert_target_id must be the ARN of an SNS topic")
        if not engine.Token.is_unresolved(alert_target_id) and not alert_target_id.startswith("arn:"):
            raise ConstructError(
                self.node.path,
                f"alert_target_id {alert_target_id!r} is not an SNS topic ARN "
                "(arn:aws:sns:<region>:<account>:<name>)"
            )
        self.thresholds_percent: list[int] = list(props.thresholds_percent)
        self.budget_name: str = props.name
        self.budget_id: str = self.budget_name
        self.resource: Resource = Resource(
            self,
            "Resource",
            "aws_budgets_budget",
            provider=provider,
            account_id=_iam.account_id(self, provider),
            name=props.name,
            budget_type="COST",
            time_unit="MONTHLY",
            limit_amount=f"{props.monthly_amount:.2f}",
            limit_unit=props.currency,
            notification=[
                {
                    "comparison_operator": "GREATER_THAN",
                    "threshold": threshold,
                    "threshold_type": "PERCENTAGE",
                    "notification_type": "ACTUAL",
                    "subscriber_sns_topic_arns": [alert_target_id],
                }
                for threshold in self.thresholds_percent
            ],
        )
