"""Azure Monitoring: action group as alert target, alerts with the props' thresholds on endpoints,
training and stores, endpoint logs to Log Analytics, a workbook dashboard."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from constructs_lib.azure import DataStore, DataStoreProps, Endpoint, EndpointProps, Monitoring, MonitoringProps
from constructs_lib.azure.monitoring import ENDPOINT_LOG_CATEGORIES, STORE_AVAILABILITY_PERCENT

from .build_helpers import WHERE, WORKSPACE_ID, Built

THRESHOLDS = dict(latency_p99_ms=300, error_rate_percent=2.5, cpu_percent=70, gpu_percent=95, memory_percent=75)


def mon_props(**kw) -> MonitoringProps:
    return MonitoringProps(name="ml-mon", **WHERE, alert_emails=["a@example.com", "b@example.com"], **kw)


@pytest.fixture(scope="module")
def built() -> Built:
    def build(st):
        mon = Monitoring(st, "Mon", mon_props(log_retention_days=90, **THRESHOLDS))
        ep = Endpoint(st, "Ep", EndpointProps(name="churn", **WHERE, workspace_id=WORKSPACE_ID, gpu=True,
                                              data_capture_percent=0))
        store = DataStore(st, "Data", DataStoreProps(name="ml-data", **WHERE, replication={"region": "northeurope"}))
        training = SimpleNamespace(props=SimpleNamespace(name="ml-train", workspace_id=WORKSPACE_ID))
        mon.watch_endpoint(ep)
        mon.watch_endpoint(ep)  # idempotent
        mon.watch_training(training)
        mon.watch_store(store)
        return mon
    return Built(build)


def _criteria(alert: dict) -> dict:
    (c,) = alert["criteria"]
    return c


def test_alert_target_is_an_email_action_group(built: Built) -> None:
    ag = built.at("azurerm_monitor_action_group", "Mon/Resource")
    assert [r["email_address"] for r in ag["email_receiver"]] == ["a@example.com", "b@example.com"]
    assert all(r["use_common_alert_schema"] for r in ag["email_receiver"])
    assert len(ag["short_name"]) <= 12
    # Every alert notifies it.
    target = built.ref("azurerm_monitor_action_group", "Mon/Resource", "id")
    for alert in built.of("azurerm_monitor_metric_alert").values():
        assert alert["action"] == [{"action_group_id": target}]
    for alert in built.of("azurerm_monitor_scheduled_query_rules_alert_v2").values():
        assert alert["action"] == {"action_groups": [target]}


def test_endpoint_alarm_thresholds_are_the_props(built: Built) -> None:
    alarms = built.built.alarms
    base = "churn-westeurope"
    expected = {
        f"{base}-latency-p99": ("RequestLatency_P99", "GreaterThan", 300),
        f"{base}-cpu": ("CpuUtilizationPercentage", "GreaterThan", 70),
        f"{base}-memory": ("CpuMemoryUtilizationPercentage", "GreaterThan", 75),
        f"{base}-gpu": ("GpuUtilizationPercentage", "GreaterThan", 95),
        "ml-train-failed-runs": ("Failed Runs", "GreaterThan", 0),
        "ml-data-availability": ("Availability", "LessThan", STORE_AVAILABILITY_PERCENT),
    }
    metric = built.of("azurerm_monitor_metric_alert")
    got = {a["name"]: (_criteria(a)["metric_name"], _criteria(a)["operator"], _criteria(a)["threshold"])
           for a in metric.values()}
    assert got == expected
    assert set(alarms) == set(expected) | {f"{base}-error-rate", f"{base}-no-invocations"}
    logs = {a["name"]: _criteria(a) for a in built.of("azurerm_monitor_scheduled_query_rules_alert_v2").values()}
    assert (logs[f"{base}-error-rate"]["operator"], logs[f"{base}-error-rate"]["threshold"]) == ("GreaterThan", 2.5)
    assert "ResponseCode" in logs[f"{base}-error-rate"]["query"]
    assert (logs[f"{base}-no-invocations"]["operator"], logs[f"{base}-no-invocations"]["threshold"]) == ("LessThan", 1)
    cpu = built.at("azurerm_monitor_metric_alert", f"Mon/Alarm-{base}-cpu")
    assert cpu["scopes"] == [built.ref("azapi_resource", "Ep/Deployment", "id")]
    lat = built.at("azurerm_monitor_metric_alert", f"Mon/Alarm-{base}-latency-p99")
    assert lat["scopes"] == [built.ref("azapi_resource", "Ep/Resource", "id")]


def test_logs_diagnostics_and_dashboard(built: Built) -> None:
    logs = built.at("azurerm_log_analytics_workspace", "Mon/Logs")
    assert logs["retention_in_days"] == 90 and logs["local_authentication_enabled"] is False
    diag = built.at("azurerm_monitor_diagnostic_setting", "Mon/Diagnostics-churn-westeurope")
    assert diag["target_resource_id"] == built.ref("azapi_resource", "Ep/Resource", "id")
    assert diag["log_analytics_workspace_id"] == built.ref("azurerm_log_analytics_workspace", "Mon/Logs", "id")
    assert sorted(c["category"] for c in diag["enabled_log"]) == sorted(ENDPOINT_LOG_CATEGORIES)
    workbook = built.at("azurerm_application_insights_workbook", "Mon/Dashboard")
    data = json.loads(workbook["data_json"])
    titles = [i["content"].get("title") for i in data["items"] if i["type"] == 3]
    assert any("churn (westeurope)" in t for t in titles) and any("failed training runs" in t for t in titles)


def test_props_errors() -> None:
    with pytest.raises(ValidationError, match="30-730"):
        mon_props(log_retention_days=1000)
    with pytest.raises(ValidationError, match="dedicated Log"):
        mon_props(encryption={"key_id": "https://kv.vault.azure.net/keys/k"})
    with pytest.raises(ValidationError, match="not email addresses"):
        MonitoringProps(name="ml-mon", **WHERE, alert_emails=["nobody"])
