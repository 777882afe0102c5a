"""gcp.Budget: billing budget on the project, thresholds and channels; the billing account rule."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.core.schema import validate_stack
from constructs_lib.gcp import Budget, BudgetProps

from .conftest import PROJECT

ACCOUNT = "01ABCD-23EF45-6789AB"
CHANNELS = ["projects/p/notificationChannels/1", "projects/p/notificationChannels/2"]


def props(**kw) -> BudgetProps:
    return BudgetProps(**{"name": "ml-budget", "monthly_amount": 2500.5, "billing_account": ACCOUNT, "project": PROJECT, **kw})


def test_budget_amount_thresholds_channels(build) -> None:
    holder: dict = {}
    built = build(lambda s: holder.setdefault("b", Budget(s, "Budget", props(thresholds_percent=[100, 50, 80]), alert_target_id=CHANNELS)))
    body = built.by_path("google_billing_budget", "gcp/Budget/Resource")
    assert body["billing_account"] == ACCOUNT
    assert body["amount"] == {"specified_amount": {"currency_code": "USD", "units": "2500", "nanos": 500_000_000}}
    assert body["threshold_rules"] == [
        {"threshold_percent": t, "spend_basis": "CURRENT_SPEND"} for t in (0.5, 0.8, 1.0)
    ]
    assert body["all_updates_rule"]["monitoring_notification_channels"] == CHANNELS
    assert body["budget_filter"]["projects"][0].startswith("projects/${data.google_project.")
    assert body["budget_filter"]["calendar_period"] == "MONTH"
    assert validate_stack(built.doc, stack="gcp") == []


def test_single_channel_string(build) -> None:
    built = build(lambda s: Budget(s, "Budget", props(), alert_target_id=CHANNELS[0]))
    body = built.by_path("google_billing_budget", "gcp/Budget/Resource")
    assert body["all_updates_rule"]["monitoring_notification_channels"] == CHANNELS[:1]
    assert "nanos" in body["amount"]["specified_amount"]


def test_too_many_channels(build) -> None:
    with pytest.raises(ValueError, match="at most 5"):
        build(lambda s: Budget(s, "Budget", props(), alert_target_id=[f"c{i}" for i in range(6)]))


def test_billing_account_required() -> None:
    with pytest.raises(ValidationError, match="billing_account is required on GCP"):
        BudgetProps(name="ml-budget", monthly_amount=10, project=PROJECT)
    with pytest.raises(ValidationError, match="billing_account"):
        props(billing_account="not-an-account")
    with pytest.raises(ValidationError, match="thresholds_percent"):
        props(thresholds_percent=[80, 80])


def test_platform_builds_budget_in_the_billing_account(tmp_path) -> None:
    from pathlib import Path

    import pytest

    from constructs_lib.core import engine
    from constructs_lib.core.errors import SpecError
    from constructs_lib.core.spec import load_spec
    from constructs_lib.core.synth import stack_document
    from constructs_lib.platform import build_stack

    path = Path(__file__).resolve().parents[3] / "examples" / "multi-region-serving" / "gcp.yaml"
    spec = load_spec(path)
    stack = build_stack(engine.App(), spec)
    doc = stack_document(stack)
    (budget,) = doc["resource"]["google_billing_budget"].values()
    assert budget["billing_account"] == spec.gcp.billing_account
    assert doc["output"]["recovery_serving"]["value"]["rto_minutes"] == 4
    # Without a billing account the spec itself is refused, naming the field.
    bad = tmp_path / "no_billing.yaml"
    bad.write_text(path.read_text().replace("  billing_account: 012345-6789AB-CDEF01", ""))
    with pytest.raises(SpecError, match="gcp.billing_account"):
        load_spec(bad)
