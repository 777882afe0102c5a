"""AWS Monitoring: encrypted alert topics, alarm thresholds from props, failure rules, data quality."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import (
    DataStore,
    DataStoreProps,
    Endpoint,
    EndpointProps,
    Monitoring,
    MonitoringProps,
    Network,
    NetworkProps,
    Training,
    TrainingProps,
)
from constructs_lib.aws.monitoring import MODEL_MONITOR_ACCOUNTS
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.schema import validate_stack

from .build_helpers import statements
from .conftest import PRIMARY_REGION, REPLICA_REGION

PROPS = dict(name="ml-monitoring", region=PRIMARY_REGION, alert_emails=["a@example.com", "b@example.com"],
             latency_p99_ms=300, error_rate_percent=2.5, cpu_percent=70, gpu_percent=95, memory_percent=60,
             replication_lag_minutes=30)


def build_monitoring(build, **overrides: Any) -> tuple[Any, dict[str, Any]]:
    h: dict[str, Any] = {}

    def body(stack, replica):
        h["store"] = DataStore(stack, "Data", DataStoreProps(name="ml-data", access_logging=False,
                                                             replication={"region": REPLICA_REGION}),
                               replica_provider=replica)
        h["net"] = Network(stack, "Net", NetworkProps(name="ml-net", zone_names=[f"{PRIMARY_REGION}a", f"{PRIMARY_REGION}b"],
                                                        interface_endpoints=[], flow_logs=False))
        h["gpu"] = Endpoint(stack, "Gpu", EndpointProps(name="churn", region=PRIMARY_REGION, gpu=True),
                            capture_store=h["store"], network=h["net"])
        h["standby"] = Endpoint(stack, "Standby", EndpointProps(name="churn", region=REPLICA_REGION),
                                capture_store=h["store"], provider=replica)
        h["training"] = Training(stack, "Training", TrainingProps(name="ml-train", pools=[{"name": "cpu"}]),
                                 network=h["net"])
        m = h["m"] = Monitoring(stack, "Monitoring", MonitoringProps(**{**PROPS, **overrides}))
        h["gpu_alarms"] = m.watch_endpoint(h["gpu"])
        h["standby_alarms"] = m.watch_endpoint(h["standby"], expect_traffic=False)
        h["rules"] = m.watch_training(h["training"])
        h["store_alarms"] = m.watch_store(h["store"])

    return build(body), h


@pytest.fixture
def full(build):
    return build_monitoring(build)


def body_of(built, resource) -> dict[str, Any]:
    return built.by_path(resource.terraform_resource_type, resource.node.path)


def test_schema_valid_and_least_privilege(full) -> None:
    built, _ = full
    assert validate_stack(built.doc, stack="aws") == []
    assert audit_stack(built.doc) == []


def test_alert_topic_per_region_encrypted_with_email_subscriptions(full) -> None:
    built, h = full
    m = h["m"]
    assert sorted(m.alert_topics) == sorted([PRIMARY_REGION, REPLICA_REGION])
    topics = built.resources("aws_sns_topic")
    assert len(topics) == 2 and all(t["kms_master_key_id"].startswith("${aws_kms_key.") for t in topics.values())
    assert m.alert_target == m.alert_topics[PRIMARY_REGION]
    assert m.alert_targets == [m.alert_topics[PRIMARY_REGION], m.alert_topics[REPLICA_REGION]]  # primary first
    primary = built.by_path("aws_sns_topic", "aws/Monitoring/Resource")
    assert primary["kms_master_key_id"] == built.ref(m._sites[PRIMARY_REGION].key.resource, "arn")
    subs = built.resources("aws_sns_topic_subscription").values()
    assert sorted(s["endpoint"] for s in subs) == ["a@example.com", "a@example.com", "b@example.com", "b@example.com"]
    assert {s["protocol"] for s in subs} == {"email"}
    policy = statements(built.by_path("aws_sns_topic_policy", "aws/Monitoring/TopicPolicy"))
    publish = policy["AlarmSourcesOfThisAccountPublish"]
    assert sorted(publish["Principal"]["Service"]) == ["budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]
    assert "aws:SourceAccount" in publish["Condition"]["StringEquals"]
    key_policy = statements(built.by_path("aws_kms_key", "aws/Monitoring/AlertKey/Resource"))
    assert key_policy["AlarmSourcesOfThisAccountPublishEncrypted"]["Action"] == ["kms:Decrypt", "kms:GenerateDataKey*"]


def test_endpoint_alarm_thresholds_are_the_props(full) -> None:
    built, h = full
    a = {k: body_of(built, v) for k, v in h["gpu_alarms"].items()}
    assert sorted(a) == ["cpu", "error-rate", "gpu", "latency-p99", "memory", "no-invocations"]
    assert a["latency-p99"]["extended_statistic"] == "p99" and a["latency-p99"]["threshold"] == 300_000  # µs
    assert a["error-rate"]["threshold"] == 0.025 and a["error-rate"]["statistic"] == "Average"
    assert a["no-invocations"]["threshold"] == 0 and a["no-invocations"]["treat_missing_data"] == "breaching"
    assert a["no-invocations"]["comparison_operator"] == "LessThanOrEqualToThreshold"
    assert a["cpu"]["threshold"] == 70 * 4 and a["gpu"]["threshold"] == 95 * 1 and a["memory"]["threshold"] == 60
    assert a["cpu"]["namespace"] == "/aws/sagemaker/Endpoints"
    topic = built.ref(h["m"].topic, "arn")
    for alarm in a.values():
        assert alarm["alarm_actions"] == [topic] and alarm["actions_enabled"] is True
        assert alarm["dimensions"]["VariantName"] == "AllTraffic"


def test_standby_has_no_zero_traffic_alarm_and_uses_its_regions_topic(full) -> None:
    built, h = full
    assert "no-invocations" not in h["standby_alarms"] and "gpu" not in h["standby_alarms"]
    alarm = body_of(built, h["standby_alarms"]["latency-p99"])
    assert alarm["provider"] == "aws.replica"
    assert alarm["alarm_actions"] == [built.ref(h["m"]._sites[REPLICA_REGION].topic, "arn")]


def test_training_failures_reach_the_topic(full) -> None:
    built, h = full
    batch = json.loads(body_of(built, h["rules"]["batch-job-failed"])["event_pattern"])
    assert batch["detail"]["status"] == ["FAILED"]
    assert batch["detail"]["jobQueue"] == [built.ref(q, "arn") for q in h["training"].pools.values()]
    sm = json.loads(body_of(built, h["rules"]["sagemaker-training-failed"])["event_pattern"])
    assert sm["detail"] == {"TrainingJobStatus": ["Failed"], "RoleArn": [built.ref(h["training"].principal, "arn")]}
    targets = built.resources("aws_cloudwatch_event_target").values()
    assert {t["arn"] for t in targets} == {built.ref(h["m"].topic, "arn")}


def test_replication_lag_alarm(full) -> None:
    built, h = full
    lag = body_of(built, h["store_alarms"]["replication-latency"])
    assert lag["metric_name"] == "ReplicationLatency" and lag["threshold"] == 30 * 60
    assert lag["dimensions"]["RuleId"] == "replicate-everything"
    assert lag["dimensions"]["DestinationBucket"] == built.ref(h["store"].replica, "id")
    assert body_of(built, h["store_alarms"]["replication-failures"])["metric_name"] == "OperationsFailedReplication"


def test_single_region_store_gets_no_replication_alarm(build) -> None:
    h: dict[str, Any] = {}

    def body(stack, replica):
        store = DataStore(stack, "D", DataStoreProps(name="ml-data", access_logging=False))
        h["out"] = Monitoring(stack, "M", MonitoringProps(**PROPS)).watch_store(store)

    build(body)
    assert h["out"] == {}


def test_dashboard_lists_every_watched_thing(full) -> None:
    built, _ = full
    board = json.loads(built.by_path("aws_cloudwatch_dashboard", "aws/Monitoring/Dashboard")["dashboard_body"])
    titles = [w["properties"]["title"] for w in board["widgets"]]
    assert any(f"({PRIMARY_REGION})" in t for t in titles) and any(f"({REPLICA_REGION})" in t for t in titles)
    assert any("replication" in t for t in titles)


def test_data_quality_on_captured_data(full) -> None:
    built, h = full
    assert sorted(h["m"].data_quality) == sorted([f"churn/{PRIMARY_REGION}", f"churn/{REPLICA_REGION}"])
    job = built.by_path("aws_sagemaker_data_quality_job_definition", f"aws/Monitoring/churn-{PRIMARY_REGION}/DataQualityJob")
    assert job["data_quality_app_specification"]["image_uri"].startswith(MODEL_MONITOR_ACCOUNTS[PRIMARY_REGION])
    assert job["data_quality_job_output_config"]["kms_key_id"] == built.ref(h["store"].key.resource, "arn")
    assert job["network_config"]["enable_inter_container_traffic_encryption"] is True
    assert job["job_resources"]["cluster_config"]["volume_kms_key_id"] == built.ref(h["gpu"].key.resource, "arn")
    assert "data_quality_baseline_config" not in job  # phase 1: statistics only
    schedule = built.by_path("aws_sagemaker_monitoring_schedule", f"aws/Monitoring/churn-{PRIMARY_REGION}/DataQualitySchedule")
    assert schedule["monitoring_schedule_config"]["monitoring_type"] == "DataQuality"
    policy = statements(built.by_path("aws_iam_role_policy", f"aws/Monitoring/churn-{PRIMARY_REGION}/DataQualityPolicy"))
    assert policy["ReadCapturedData"]["Resource"].endswith("/data-capture/churn/*")


def test_baseline_turns_on_constraint_checks(build) -> None:
    built, _ = build_monitoring(build, data_quality_baseline_uri="s3://ml-baselines/churn/")
    job = built.by_path("aws_sagemaker_data_quality_job_definition", f"aws/Monitoring/churn-{PRIMARY_REGION}/DataQualityJob")
    assert job["data_quality_baseline_config"]["constraints_resource"]["s3_uri"] == "s3://ml-baselines/churn/constraints.json"


def test_data_quality_off(build) -> None:
    built, _ = build_monitoring(build, data_quality=False)
    assert "aws_sagemaker_monitoring_schedule" not in built.doc["resource"]


def test_props_errors() -> None:
    with pytest.raises(ValidationError, match="not email addresses"):
        MonitoringProps(name="ml-monitoring", alert_emails=["nobody"])
    with pytest.raises(ValidationError, match="S3 URI"):
        MonitoringProps(name="ml-monitoring", alert_emails=["a@example.com"], data_quality_baseline_uri="/tmp/x")
