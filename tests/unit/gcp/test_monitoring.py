"""gcp.Monitoring: alert target, alarm thresholds from props, CMEK log bucket, dashboard."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from constructs_lib.core.schema import validate_stack
from constructs_lib.gcp import DataStore, DataStoreProps, Endpoint, EndpointProps, Monitoring, MonitoringProps

from .conftest import PROJECT

EMAILS = ["oncall@example.com", "ml@example.com"]


def props(**kw) -> MonitoringProps:
    return MonitoringProps(**{"name": "ml-mon", "project": PROJECT, "location": "us-central1", "alert_emails": EMAILS, **kw})


def make(build, *, gpu: bool = False, replicate: bool = True, **kw):
    holder: dict = {}

    def body(stack):
        mon = holder["mon"] = Monitoring(stack, "Monitoring", props(**kw))
        ep = holder["ep"] = Endpoint(stack, "ep", EndpointProps(name="churn", project=PROJECT, location="us-central1", gpu=gpu))
        store = holder["store"] = DataStore(
            stack, "data", DataStoreProps(name="ml-data", project=PROJECT, location="us-central1",
                                          replication={"region": "us-east1"} if replicate else None)
        )
        mon.watch_endpoint(ep)
        holder["store_alarms"] = mon.watch_store(store)

    return build(body), holder


def condition(built, mon, key):
    body = built.by_path("google_monitoring_alert_policy", mon.alarms[key].node.path)
    assert body["notification_channels"] == [
        "${" + built.address(c) + ".id}" for c in mon.channels.values()
    ]
    return body["conditions"][0]


def test_alert_target_is_email_channels(build) -> None:
    built, h = make(build)
    channels = built.resources("google_monitoring_notification_channel")
    assert sorted(b["labels"]["email_address"] for b in channels.values()) == sorted(EMAILS)
    assert {b["type"] for b in channels.values()} == {"email"}
    assert len(h["mon"].alert_target) == 2


def test_endpoint_alarm_thresholds_follow_props(build) -> None:
    built, h = make(build, latency_p99_ms=300, error_rate_percent=2.5, cpu_percent=70, memory_percent=90, gpu_percent=95, gpu=True)
    mon = h["mon"]
    assert set(mon.alarms) == {f"churn-us-central1-{k}" for k in ("latency", "errors", "no-traffic", "cpu", "memory", "gpu")} | {f"{h['store'].resource.get('name')}-replication"}
    lat = condition(built, mon, "churn-us-central1-latency")["condition_threshold"]
    assert lat["threshold_value"] == 300 and lat["comparison"] == "COMPARISON_GT"
    assert "prediction_latencies" in lat["filter"] and 'endpoint_id="churn"' in lat["filter"]
    assert lat["aggregations"][0]["per_series_aligner"] == "ALIGN_PERCENTILE_99"
    err = condition(built, mon, "churn-us-central1-errors")["condition_threshold"]
    assert err["threshold_value"] == 0.025 and "error_count" in err["filter"] and "prediction_count" in err["denominator_filter"]
    zero = condition(built, mon, "churn-us-central1-no-traffic")["condition_threshold"]
    assert zero["comparison"] == "COMPARISON_LT" and zero["threshold_value"] == 1
    assert zero["evaluation_missing_data"] == "EVALUATION_MISSING_DATA_ACTIVE"
    assert condition(built, mon, "churn-us-central1-cpu")["condition_threshold"]["threshold_value"] == 0.7
    assert condition(built, mon, "churn-us-central1-gpu")["condition_threshold"]["threshold_value"] == 0.95
    mem = condition(built, mon, "churn-us-central1-memory")["condition_threshold"]
    assert mem["threshold_value"] == round(32 * 1024**3 * 0.9)  # g2-standard-8: 32 GiB
    assert 'deployment_resource_pool_id="churn-pool"' in mem["filter"]


def test_cpu_endpoint_has_no_gpu_alarm(build) -> None:
    _, h = make(build)
    assert "churn-us-central1-gpu" not in h["mon"].alarms


def test_replication_alarm(build) -> None:
    built, h = make(build, replication_lag_minutes=20)
    cond = condition(built, h["mon"], f"{h['store'].resource.get('name')}-replication")["condition_threshold"]
    assert "replication/turbo_max_delay" in cond["filter"] and cond["threshold_value"] == 1200


def test_regional_store_has_no_replication_alarm(build) -> None:
    _, h = make(build, replicate=False)
    assert h["store_alarms"] == {}


def test_log_bucket_retention_and_cmek(build) -> None:
    built, h = make(build, log_retention_days=400)
    mon = h["mon"]
    bucket = built.by_path("google_logging_project_bucket_config", "gcp/Monitoring/LogBucket")
    assert bucket["retention_days"] == 400
    assert bucket["cmek_settings"] == {"kms_key_name": "${" + built.address(mon.key.resource) + ".id}"}
    assert mon.key.location == "us-central1"
    sink = built.by_path("google_logging_project_sink", "gcp/Monitoring/LogSink")
    assert sink["destination"].endswith("/locations/us-central1/buckets/ml-mon-logs")
    assert 'resource.type="aiplatform.googleapis.com/Endpoint"' in sink["filter"]


def test_dashboard_grows_with_watches(build) -> None:
    built, _ = make(build)
    dash = json.loads(built.by_path("google_monitoring_dashboard", "gcp/Monitoring/Dashboard")["dashboard_json"])
    titles = [w["title"] for w in dash["gridLayout"]["widgets"]]
    assert "churn us-central1: p99 latency (ms)" in titles and any("replication" in t for t in titles)


def test_data_quality_commands(build) -> None:
    _, h = make(build)
    assert list(h["mon"].data_quality_commands) == ["churn/us-central1"]
    _, h = make(build, data_quality=False)
    assert h["mon"].data_quality_commands == {}


def test_watch_twice_refused(build) -> None:
    def body(stack):
        mon = Monitoring(stack, "Monitoring", props())
        ep = Endpoint(stack, "ep", EndpointProps(name="churn", project=PROJECT, location="us-central1"))
        mon.watch_endpoint(ep)
        mon.watch_endpoint(ep)

    with pytest.raises(ValueError, match="watched twice"):
        build(body)


def test_schema_valid(build) -> None:
    built, _ = make(build, gpu=True)
    assert validate_stack(built.doc, stack="gcp") == []


def test_props_errors() -> None:
    with pytest.raises(ValidationError, match="not email addresses"):
        props(alert_emails=["nobody"])
    with pytest.raises(ValidationError, match="cpu_percent"):
        props(cpu_percent=0)
