"""The retraining example's AWS automation applies into moto; boto3 sees pipeline, schedule and rules.

``examples/retraining/aws.yaml`` (data and artifacts stores, pipeline ``train`` and all three
retraining triggers, no MWAA) is synthesized and applied with one ``-target`` per resource of
:data:`~tests.deploy.conftest.MOTO_SUPPORTED_TYPES`, ``RUN_MOTO_TYPES`` (the drift alarm) and
``AUTOMATION_MOTO_TYPES`` (pipeline, schedule, rules and targets, dead-letter queue and its
policy): that is every resource of the stack. The plan after the apply must be empty but for
``KNOWN_MOTO_GAPS``: moto reads all automation types back as the provider wrote them.

What moto cannot show (see docs/aws-automation.md): it never delivers to a SageMaker target
(neither EventBridge nor Scheduler invokes the pipeline) and its ``TestEventPattern`` is a stub,
so the rules' patterns are matched against sample events with moto's in-process matcher.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.deploy

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "retraining" / "aws.yaml"
RETRY_POLICY = {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 3600}


def _json(document: Any) -> Any:
    """An IAM / SQS / KMS policy document that boto3 returns as a string or already parsed."""
    return json.loads(document) if isinstance(document, str) else document


@pytest.fixture(scope="module")
def spec():
    from constructs_lib.core.spec import load_specs

    (loaded,) = load_specs([EXAMPLE])
    return loaded


@pytest.fixture(scope="module")
def deployed(spec, moto_deploy, tmp_path_factory) -> dict[str, Any]:
    from constructs_lib.platform import synthesize

    from .conftest import AUTOMATION_MOTO_SERVICES, AUTOMATION_MOTO_TYPES, MOTO_SUPPORTED_TYPES, RUN_MOTO_TYPES

    work = tmp_path_factory.mktemp("automation-moto")
    (stack,) = synthesize([EXAMPLE], outdir=work / "cdktf.out").stacks
    result = moto_deploy(
        stack.directory, work / "tf", services=AUTOMATION_MOTO_SERVICES, only_moto_supported=True,
        supported=MOTO_SUPPORTED_TYPES | RUN_MOTO_TYPES | AUTOMATION_MOTO_TYPES,
        check_no_drift=True,  # moto reads the automation types back faithfully (AUTOMATION_MOTO_TYPES)
    )
    print(f"terraform steps (s): {result['seconds']}; skipped (not in moto): {result['skipped']}")
    result["outputs"] = {k: v["value"] for k, v in result["outputs"].items()}
    result["stack"] = json.loads((stack.directory / "cdk.tf.json").read_text())
    result["region"] = spec.primary_region
    return result


def _one(deployed: dict[str, Any], tf_type: str, construct_id: str, where: str = "resources") -> dict[str, Any]:
    """The body (stack JSON) or state values of the only ``tf_type`` whose id starts with ``construct_id``."""
    if where == "stack":
        found = [body for name, body in deployed["stack"]["resource"][tf_type].items() if name.startswith(f"{construct_id}_")]
    else:
        found = [v for a, v in deployed["resources"].items() if a.startswith(f"{tf_type}.{construct_id}_")]
    assert len(found) == 1, (tf_type, construct_id, len(found))
    return found[0]


def _names(spec) -> dict[str, str]:
    retrain = spec.resource_name("retrain")
    return {
        "pipeline": spec.resource_name(spec.retraining.pipeline, max_length=32),
        "retrain": retrain,
        "schedule": f"{retrain}-schedule",
        "on_new_data": f"{retrain}-on-new-data",
        "on_drift": f"{retrain}-on-drift",
        "alarm": f"{retrain}-drift",
        "queue": f"{retrain}-dlq",
    }


def _trigger_role(iam, role_name: str, service: str, source_arn: str, pipeline_arn: str) -> str:
    """Check a trigger role: only ``service`` for ``source_arn`` may assume it, it may only start the pipeline."""
    role = iam.get_role(RoleName=role_name)["Role"]
    (trust,) = _json(role["AssumeRolePolicyDocument"])["Statement"]
    assert trust["Principal"] == {"Service": service} and trust["Action"] == "sts:AssumeRole"
    # the ARN the construct builds for the condition is the ARN the service really gives the trigger
    assert trust["Condition"]["ArnEquals"] == {"aws:SourceArn": source_arn}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": source_arn.split(":")[4]}
    statements = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        statements += _json(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])["Statement"]
    starts = [s for s in statements if s["Sid"] == "StartThisPipeline"]
    assert [(s["Action"], s["Resource"]) for s in starts] in (
        [("sagemaker:StartPipelineExecution", pipeline_arn)], [(["sagemaker:StartPipelineExecution"], pipeline_arn)],
    )
    return role["Arn"]


def _pipeline_target(events, rule_name: str, pipeline_arn: str, role_arn: str, queue_arn: str, parameters) -> None:
    (target,) = events.list_targets_by_rule(Rule=rule_name)["Targets"]
    assert target["Id"] == "start-pipeline" and target["Arn"] == pipeline_arn
    assert target["RoleArn"] == role_arn
    assert target["DeadLetterConfig"] == {"Arn": queue_arn}
    assert target["RetryPolicy"] == RETRY_POLICY
    assert target["SageMakerPipelineParameters"] == {"PipelineParameterList": parameters}


def _parameters(spec) -> list[dict[str, str]]:
    (pipeline,) = [p for p in spec.pipelines if p.name == spec.retraining.pipeline]
    return [{"Name": k, "Value": v} for k, v in sorted(pipeline.parameters.items())]


def _queue(deployed, boto3_client, spec) -> dict[str, str]:
    sqs = boto3_client("sqs", deployed["region"])
    url = sqs.get_queue_url(QueueName=_names(spec)["queue"])["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_whole_example_applied(deployed) -> None:
    from .conftest import AUTOMATION_MOTO_TYPES

    skipped = {a.split(".")[0] for a in deployed["skipped"]}
    assert skipped <= {"aws_mwaa_environment"}, skipped  # moto has no MWAA; the example has none
    applied = {a.split(".")[0] for a in deployed["targets"]}
    assert AUTOMATION_MOTO_TYPES | {"aws_cloudwatch_metric_alarm"} <= applied


def test_pipeline_role_and_definition(deployed, spec, boto3_client) -> None:
    names = _names(spec)
    sm = boto3_client("sagemaker", deployed["region"])
    pipeline = sm.describe_pipeline(PipelineName=names["pipeline"])
    assert names["pipeline"] == "retraining-aws-dev-train"
    assert pipeline["PipelineArn"] == deployed["outputs"]["pipeline_train"]["trigger"]
    assert pipeline["PipelineName"] == deployed["outputs"]["pipeline_train"]["id"] == pipeline["PipelineDisplayName"]
    assert pipeline["PipelineArn"] == f"arn:aws:sagemaker:{deployed['region']}:123456789012:pipeline/{names['pipeline']}"

    iam = boto3_client("iam")
    role = iam.get_role(RoleName=f"{names['pipeline']}-pipeline")["Role"]
    assert pipeline["RoleArn"] == role["Arn"]
    (trust,) = _json(role["AssumeRolePolicyDocument"])["Statement"]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}

    written = _one(deployed, "aws_sagemaker_pipeline", "pipeline-train", "stack")["pipeline_definition"]
    definition = json.loads(pipeline["PipelineDefinition"])
    assert definition == json.loads(written)
    # the placeholder: the spec's parameters as String defaults and one Fail step
    assert [{"Name": p["Name"], "Value": p["DefaultValue"]} for p in definition["Parameters"]] == _parameters(spec)
    assert [(s["Name"], s["Type"]) for s in definition["Steps"]] == [("NotPublishedYet", "Fail")]


def test_schedule_starts_pipeline_with_converted_cron_and_key(deployed, spec, boto3_client) -> None:
    from constructs_lib.aws.retraining import to_schedule_expression

    names = _names(spec)
    pipeline_arn = deployed["outputs"]["pipeline_train"]["trigger"]
    schedule = boto3_client("scheduler", deployed["region"]).get_schedule(Name=names["schedule"], GroupName="default")
    assert schedule["ScheduleExpression"] == to_schedule_expression(spec.retraining.schedule) == "cron(0 3 ? * MON *)"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["State"] == "ENABLED" and schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}

    target = schedule["Target"]
    assert target["Arn"] == pipeline_arn  # Scheduler's templated SageMaker StartPipelineExecution target
    assert target["RetryPolicy"] == RETRY_POLICY
    assert target["SageMakerPipelineParameters"] == {"PipelineParameterList": _parameters(spec)}
    iam = boto3_client("iam")
    role_arn = _trigger_role(iam, names["schedule"], "scheduler.amazonaws.com", schedule["Arn"], pipeline_arn)
    assert target["RoleArn"] == role_arn

    written = _one(deployed, "aws_scheduler_schedule", "retraining_Schedule", "stack")
    if written.get("kms_key_arn"):
        key_arn = _one(deployed, "aws_kms_key", "retraining_Key")["arn"]
        assert schedule["KmsKeyArn"] == key_arn
        key = boto3_client("kms", deployed["region"]).describe_key(KeyId=key_arn)["KeyMetadata"]
        assert key["KeyState"] == "Enabled" and key["KeyManager"] == "CUSTOMER"
        # the role may decrypt this schedule's payload, and nothing else
        decrypt = iam.get_role_policy(RoleName=names["schedule"], PolicyName=f"{names['retrain']}-schedule-decrypt")
        (statement,) = _json(decrypt["PolicyDocument"])["Statement"]
        assert statement["Resource"] == key_arn
        assert statement["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:scheduler:schedule:arn": schedule["Arn"]}}
    else:
        assert "KmsKeyArn" not in schedule


def test_new_data_rule_matches_store_prefix_and_targets_pipeline(deployed, spec, boto3_client) -> None:
    names = _names(spec)
    events = boto3_client("events", deployed["region"])
    rule = events.describe_rule(Name=names["on_new_data"])
    assert rule["State"] == "ENABLED" and rule["EventBusName"] == "default"
    data = spec.retraining.on_new_data
    assert (data.store, data.prefix) == ("data", "incoming/")
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [deployed["outputs"][f"store_{data.store}_name"]]},
            "object": {"key": [{"prefix": data.prefix}]},
        },
    }
    pipeline_arn = deployed["outputs"]["pipeline_train"]["trigger"]
    role_arn = _trigger_role(boto3_client("iam"), names["on_new_data"], "events.amazonaws.com", rule["Arn"], pipeline_arn)
    queue_arn = _queue(deployed, boto3_client, spec)["QueueArn"]
    _pipeline_target(events, names["on_new_data"], pipeline_arn, role_arn, queue_arn, _parameters(spec))


def test_drift_alarm_bridged_to_pipeline_by_rule(deployed, spec, boto3_client) -> None:
    names = _names(spec)
    drift = spec.retraining.on_drift
    (alarm,) = boto3_client("cloudwatch", deployed["region"]).describe_alarms(AlarmNames=[names["alarm"]])["MetricAlarms"]
    assert (alarm["Namespace"], alarm["MetricName"]) == (f"cdktf-mlops/{spec.name}", drift.metric)
    assert alarm["Threshold"] == drift.threshold and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Period"] == drift.evaluation_minutes * 60 and alarm["Statistic"] == "Maximum"
    assert alarm["ActionsEnabled"] is True and alarm["AlarmActions"] == []  # EventBridge starts the pipeline

    events = boto3_client("events", deployed["region"])
    rule = events.describe_rule(Name=names["on_drift"])
    assert rule["State"] == "ENABLED"
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "resources": [alarm["AlarmArn"]],
        "detail": {"state": {"value": ["ALARM"]}},
    }
    pipeline_arn = deployed["outputs"]["pipeline_train"]["trigger"]
    role_arn = _trigger_role(boto3_client("iam"), names["on_drift"], "events.amazonaws.com", rule["Arn"], pipeline_arn)
    queue_arn = _queue(deployed, boto3_client, spec)["QueueArn"]
    _pipeline_target(events, names["on_drift"], pipeline_arn, role_arn, queue_arn, _parameters(spec))


def test_rule_patterns_select_the_right_events(deployed, spec, boto3_client) -> None:
    """moto's TestEventPattern is a stub: match the deployed patterns with moto's own matcher."""
    try:
        from moto.events.models import EventPattern
    except ImportError as exc:  # pragma: no cover - moto internals moved
        pytest.skip(f"moto's event pattern matcher is not importable: {exc}")
    names = _names(spec)
    region = deployed["region"]
    events = boto3_client("events", region)
    new_data = EventPattern.load(events.describe_rule(Name=names["on_new_data"])["EventPattern"])
    drift = EventPattern.load(events.describe_rule(Name=names["on_drift"])["EventPattern"])

    def s3_event(bucket: str, key: str, detail_type: str = "Object Created") -> dict[str, Any]:
        return {
            "version": "0", "id": "0", "detail-type": detail_type, "source": "aws.s3", "account": "123456789012",
            "time": "2024-01-01T03:00:00Z", "region": region, "resources": [f"arn:aws:s3:::{bucket}"],
            "detail": {"version": "0", "bucket": {"name": bucket}, "object": {"key": key, "size": 1}, "reason": "PutObject"},
        }

    data, artifacts = deployed["outputs"]["store_data_name"], deployed["outputs"]["store_artifacts_name"]
    assert new_data.matches_event(s3_event(data, "incoming/2024/01/batch.parquet"))
    assert not new_data.matches_event(s3_event(data, "raw/batch.parquet"))
    assert not new_data.matches_event(s3_event(artifacts, "incoming/batch.parquet"))
    assert not new_data.matches_event(s3_event(data, "incoming/batch.parquet", "Object Deleted"))

    (alarm,) = boto3_client("cloudwatch", region).describe_alarms(AlarmNames=[names["alarm"]])["MetricAlarms"]

    def alarm_event(arn: str, state: str) -> dict[str, Any]:
        return {
            "version": "0", "id": "0", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
            "account": "123456789012", "time": "2024-01-01T03:00:00Z", "region": region, "resources": [arn],
            "detail": {"alarmName": arn.rsplit(":", 1)[-1], "state": {"value": state}, "previousState": {"value": "OK"}},
        }

    assert drift.matches_event(alarm_event(alarm["AlarmArn"], "ALARM"))
    assert not drift.matches_event(alarm_event(alarm["AlarmArn"], "OK"))
    assert not drift.matches_event(alarm_event(alarm["AlarmArn"] + "-other", "ALARM"))


def test_dead_letter_queue_encrypted_and_only_for_the_rules(deployed, spec, boto3_client) -> None:
    names = _names(spec)
    attrs = _queue(deployed, boto3_client, spec)
    key_arn = _one(deployed, "aws_kms_key", "retraining_Key")["arn"]
    assert attrs["KmsMasterKeyId"] == key_arn and attrs["KmsDataKeyReusePeriodSeconds"] == "300"
    assert attrs["MessageRetentionPeriod"] == str(14 * 24 * 3600)

    events = boto3_client("events", deployed["region"])
    rule_arns = sorted(events.describe_rule(Name=names[k])["Arn"] for k in ("on_new_data", "on_drift"))
    (statement,) = _json(attrs["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == attrs["QueueArn"]
    assert sorted(statement["Condition"]["ArnEquals"]["aws:SourceArn"]) == rule_arns

    # the key policy names the queue by a built ARN (no cycle): it must be the queue's real ARN
    kms = boto3_client("kms", deployed["region"])
    policy = _json(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    (grant,) = [s for s in policy["Statement"] if s.get("Sid") == "EventBridgeDeadLetterQueueOnly"]
    assert grant["Principal"] == {"Service": "events.amazonaws.com"}
    assert grant["Condition"] == {"StringEquals": {"kms:EncryptionContext:aws:sqs:arn": attrs["QueueArn"]}}
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
