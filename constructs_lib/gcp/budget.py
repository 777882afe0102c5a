"""A monthly Cloud Billing budget for the platform's project, alerting the monitoring channels.

``Budget`` is the GCP member of the ``Budget`` family (same class name on AWS and Azure). From one
:class:`BudgetProps` it emits ``google_billing_budget`` (child ``Resource``) on the billing account
``billing_account``:

* ``budget_filter.projects = ["projects/<number>"]`` (this project only), calendar month, all
  services, credits included as usual (``INCLUDE_ALL_CREDITS``);
* ``amount.specified_amount`` = ``monthly_amount`` in ``currency`` (units and nanos) — the
  currency must be the billing account's currency, or the API refuses the budget;
* one ``threshold_rules`` entry per ``thresholds_percent`` on *actual* spend (``CURRENT_SPEND``);
* ``all_updates_rule.monitoring_notification_channels`` = the alert target (the monitoring e-mail
  channels, at most 5), and the billing account's default e-mails to billing admins kept.

Budgets live on the billing account, not in the project: the identity that applies the stack needs
``roles/billing.costsManager`` on the billing account, and the ``billingbudgets.googleapis.com``
API is enabled in the project. With *user* application default credentials the Budget API also
needs a quota project: set ``billing_project`` and ``user_project_override = true`` on the
``google`` provider (a service account of the project needs neither). A budget alerts; it never
caps or stops spending. Billing budgets take no labels, so ``tags`` are not applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, model_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.resource import Resource
from ..core.run_props import BudgetProps as CoreBudgetProps
from ._common import PROJECT_PATTERN, project_number, require_services

__all__ = ["BILLING_ACCOUNT_PATTERN", "MAX_CHANNELS", "Budget", "BudgetProps"]

BILLING_ACCOUNT_PATTERN = r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$"
MAX_CHANNELS = 5
"""Cloud Billing sends budget alerts to at most five monitoring channels."""


class BudgetProps(CoreBudgetProps):
    """GCP budget props: the shared :class:`~constructs_lib.core.run_props.BudgetProps` plus the
    billing account the budget is created on and the project it watches."""

    billing_account: str = Field(
        pattern=BILLING_ACCOUNT_PATTERN,
        description="Billing account id (XXXXXX-XXXXXX-XXXXXX) that pays for `project`; required.",
    )
    project: str = Field(pattern=PROJECT_PATTERN, description="Project whose spend the budget watches.")

    @model_validator(mode="before")
    @classmethod
    def _need_account(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("billing_account"):
            raise ValueError(
                "billing_account is required on GCP: budgets are created on a Cloud Billing "
                "account (`gcloud billing projects describe PROJECT` shows it as "
                "billingAccounts/XXXXXX-XXXXXX-XXXXXX)"
            )
        return data


class Budget(MlopsConstruct):
    """A monthly budget on one project with alert thresholds sent to the monitoring channels.

    Public attributes: ``resource`` (the ``google_billing_budget``), ``budget_id`` (token),
    ``thresholds`` (the fractions written to ``threshold_rules``).
    """

    props_type = BudgetProps
    props_hint = "billing_account and project"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: BudgetProps,
        *,
        alert_target_id: str | Sequence[str],
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        channels = [alert_target_id] if isinstance(alert_target_id, str) else list(alert_target_id)
        if not channels:
            raise ConstructError(self.node.path, "alert_target_id is empty; pass the monitoring alert_target")
        if len(channels) > MAX_CHANNELS:
            raise ConstructError(
                self.node.path,
                f"{len(channels)} notification channels given; Cloud Billing budgets "
                f"notify at most {MAX_CHANNELS} (use a mailing list address)"
            )
        deps = require_services(self, props.project, ["billingbudgets.googleapis.com"], provider=provider)
        units = int(props.monthly_amount)
        nanos = round((props.monthly_amount - units) * 1_000_000_000)
        self.thresholds = [p / 100 for p in props.thresholds_percent]
        self.resource = Resource(
            self,
            "Resource",
            "google_billing_budget",
            provider=provider,
            depends_on=deps,
            billing_account=props.billing_account,
            display_name=props.name[:60],
            budget_filter={
                "projects": [f"projects/{project_number(self, props.project, provider=provider)}"],
                "calendar_period": "MONTH",
                "credit_types_treatment": "INCLUDE_ALL_CREDITS",
            },
            amount={"specified_amount": {"currency_code": props.currency, "units": str(units), "nanos": nanos or None}},
            threshold_rules=[{"threshold_percent": t, "spend_basis": "CURRENT_SPEND"} for t in self.thresholds],
            all_updates_rule={
                "monitoring_notification_channels": channels,
                "disable_default_iam_recipients": False,
            },
        )
        self.budget_id: str = self.resource.ref("id")

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Budget({self.node.path!r})"
