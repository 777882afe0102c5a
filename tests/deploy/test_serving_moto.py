"""The run side applies into moto: SageMaker endpoints, alert topics, alarms, dashboard, Route 53.

One apply per module of a two-region stack built from the constructs: a capture store, a private
network, the endpoint in us-east-1 and eu-west-1 (own placeholder image: the placeholder artifact
is an S3 object, and moto enforces the store's TLS-only bucket policy against its plain-HTTP
endpoint), latency routing, monitoring and a budget. Types moto cannot create are skipped by
:func:`~tests.deploy.conftest.moto_targets` and listed in docs/aws-run.md.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from constructs_lib.aws import (
    Budget,
    BudgetProps,
    DataStore,
    DataStoreProps,
    Endpoint,
    EndpointProps,
    Monitoring,
    MonitoringProps,
    Network,
    NetworkProps,
    Routing,
    RoutingProps,
)
from constructs_lib.core import engine
from constructs_lib.core.providers import declare_provider
from constructs_lib.core.synth import stack_document

pytestmark = pytest.mark.deploy

PRIMARY, SECOND = "us-east-1", "eu-west-1"
IMAGE = "123456789012.dkr.ecr.{region}.amazonaws.com/noop:1"


def _stack(outdir: str) -> dict[str, Any]:
    app = engine.App(outdir=outdir)
    stack = engine.TerraformStack(app, "serving")
    declare_provider(stack, "aws", region=PRIMARY)
    second = declare_provider(stack, "aws", alias="replica", region=SECOND)
    store = DataStore(stack, "Data", DataStoreProps(name="ml-serving-data", access_logging=False, deletion_protection=False))
    net = Network(stack, "Net", NetworkProps(name="ml-serving", zone_names=[f"{PRIMARY}a", f"{PRIMARY}b"],
                                             interface_endpoints=[], flow_logs=False))
    endpoints = [
        Endpoint(stack, "Primary", EndpointProps(name="churn", region=PRIMARY, min_instances=2, max_instances=5,
                                                 data_capture_percent=30, placeholder_image=IMAGE.format(region=PRIMARY)),
                 capture_store=store, network=net),
        Endpoint(stack, "Second", EndpointProps(name="churn", region=SECOND, data_capture_percent=0,
                                                placeholder_image=IMAGE.format(region=SECOND)), provider=second),
    ]
    Routing(stack, "Routing", RoutingProps(name="churn", domain="ml.example.com"), endpoints=endpoints)
    monitoring = Monitoring(stack, "Monitoring", MonitoringProps(name="ml-serving", region=PRIMARY,
                                                                 alert_emails=["oncall@example.com"], latency_p99_ms=250))
    for e in endpoints:
        monitoring.watch_endpoint(e)
    Budget(stack, "Budget", BudgetProps(name="ml-serving", monthly_amount=100), alert_target_id=monitoring.alert_target)
    engine.TerraformOutput(stack, "alert_topic", value=monitoring.alert_target)
    return stack_document(stack)


@pytest.fixture(scope="module")
def deployed(moto_deploy, tmp_path_factory) -> dict[str, Any]:
    from .conftest import MOTO_SUPPORTED_TYPES, RUN_MOTO_SERVICES, RUN_MOTO_TYPES

    work = tmp_path_factory.mktemp("serving-moto")
    result = moto_deploy(
        _stack(str(work / "out")), work / "tf", services=RUN_MOTO_SERVICES, only_moto_supported=True,
        supported=MOTO_SUPPORTED_TYPES | RUN_MOTO_TYPES,
        check_no_drift=False,  # moto does not read SageMaker models/configs back faithfully (RUN_MOTO_TYPES)
    )
    print(f"terraform steps (s): {result['seconds']}; skipped (not in moto): {result['skipped']}")
    return result


def test_only_unsupported_types_were_skipped(deployed) -> None:
    skipped = {a.split(".")[0] for a in deployed["skipped"]}
    assert skipped <= {
        "aws_appautoscaling_policy", "aws_appautoscaling_target", "aws_budgets_budget",
        "aws_route53_hosted_zone_dnssec", "aws_route53_key_signing_key", "aws_route53_query_log",
        "aws_sagemaker_data_quality_job_definition", "aws_sagemaker_monitoring_schedule",
        "aws_route53_query_log", "aws_cloudwatch_log_resource_policy",
    }
    assert "aws_sagemaker_endpoint" not in skipped and "aws_cloudwatch_metric_alarm" not in skipped


def test_endpoint_config_capture_and_encryption(deployed, boto3_client) -> None:
    sm = boto3_client("sagemaker", PRIMARY)
    config = sm.describe_endpoint_config(EndpointConfigName="churn-bootstrap")
    (variant,) = config["ProductionVariants"]
    assert (variant["VariantName"], variant["InitialInstanceCount"], variant["InstanceType"]) == ("AllTraffic", 2, "ml.m5.large")
    assert config["KmsKeyId"].startswith("arn:aws:kms:us-east-1:")
    capture = config["DataCaptureConfig"]
    assert capture["InitialSamplingPercentage"] == 30 and capture["DestinationS3Uri"].endswith("/data-capture/churn")
    model = sm.describe_model(ModelName="churn-placeholder")
    # moto 5.2 keeps neither EnableNetworkIsolation nor VpcConfig: tests/unit/aws/test_serving.py covers them
    assert model["PrimaryContainer"]["Image"] == IMAGE.format(region=PRIMARY)
    assert model["ExecutionRoleArn"].endswith(":role/churn-us-east-1-serving")
    assert sm.describe_endpoint(EndpointName="churn")["EndpointConfigName"] == "churn-bootstrap"
    assert boto3_client("sagemaker", SECOND).describe_endpoint(EndpointName="churn")["EndpointName"] == "churn"


def test_alert_topics_are_encrypted_with_email_subscriptions(deployed, boto3_client) -> None:
    for region in (PRIMARY, SECOND):
        sns = boto3_client("sns", region)
        (topic,) = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":ml-serving-alerts")]
        attrs = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
        assert attrs["KmsMasterKeyId"].startswith("arn:aws:kms:")
        policy = json.loads(attrs["Policy"])
        assert any("budgets.amazonaws.com" in json.dumps(s.get("Principal")) for s in policy["Statement"])
        subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "oncall@example.com")]


def test_alarms_and_dashboard(deployed, boto3_client) -> None:
    cw = boto3_client("cloudwatch", PRIMARY)
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
    assert alarms["churn-latency-p99"]["Threshold"] == 250_000 and alarms["churn-latency-p99"]["ExtendedStatistic"] == "p99"
    assert alarms["churn-health"]["MetricName"] == "Invocation5XXErrors"
    assert alarms["churn-no-invocations"]["TreatMissingData"] == "breaching"
    assert alarms["churn-cpu"]["Threshold"] == 160  # 80% x 2 vCPUs of ml.m5.large
    second = {a["AlarmName"] for a in boto3_client("cloudwatch", SECOND).describe_alarms()["MetricAlarms"]}
    assert {"churn-health", "churn-latency-p99", "churn-error-rate"} <= second
    board = json.loads(cw.get_dashboard(DashboardName="ml-serving")["DashboardBody"])
    assert len(board["widgets"]) >= 6


def test_route53_records_and_health_checks(deployed, boto3_client) -> None:
    r53 = boto3_client("route53")
    (zone,) = [z for z in r53.list_hosted_zones()["HostedZones"] if z["Name"] == "ml.example.com."]
    records = [r for r in r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
               if r["Type"] == "CNAME"]
    assert sorted(r["SetIdentifier"] for r in records) == [SECOND, PRIMARY]
    for r in records:
        assert r["Region"] == r["SetIdentifier"] and r["HealthCheckId"]
        assert r["ResourceRecords"] == [{"Value": f"runtime.sagemaker.{r['Region']}.amazonaws.com"}]
    checks = {c["Id"]: c for c in r53.list_health_checks()["HealthChecks"]}
    assert {checks[r["HealthCheckId"]]["HealthCheckConfig"]["Type"] for r in records} == {"CLOUDWATCH_METRIC"}
