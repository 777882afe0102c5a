"""AWS automation: SageMaker pipeline, retraining triggers, MWAA, the kit's automation factories, checkov + IAM audit."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import DataStore, DataStoreProps
from constructs_lib.aws.airflow import LOG_TYPES, MWAA_INTERFACE_ENDPOINTS, Airflow, AirflowProps
from constructs_lib.aws.kit import Kit
from constructs_lib.aws.pipelines import PIPELINE_DEFINITION_VERSION, Pipeline, PipelineProps
from constructs_lib.aws.retraining import Retraining, RetrainingProps, to_schedule_expression
from constructs_lib.core import engine
from constructs_lib.core.automation_props import AirflowSettings, DriftTrigger, NewDataTrigger
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.providers import PROVIDERS
from constructs_lib.core.resource import Provider
from constructs_lib.core.schema import validate_stack
from constructs_lib.core.spec import load_spec
from constructs_lib.core.synth import stack_document, synth_app

from .build_helpers import role_actions, statements
from .conftest import Built

REPO = Path(__file__).resolve().parents[3]


# --------------------------------------------------------------------------- helpers


def _stores(stack: Any) -> dict[str, DataStore]:
    return {
        name: DataStore(stack, name, DataStoreProps(name=f"ml-{name}", deletion_protection=False))
        for name in ("data", "artifacts")
    }


def build_all(
    build,
    *,
    pipeline: PipelineProps | None = None,
    retraining: RetrainingProps | None = None,
    airflow: AirflowProps | None = None,
    subnet_ids: list[str] | None = None,
) -> tuple[Built, dict[str, Any]]:
    """A stack with data + artifacts stores, a pipeline, and optionally retraining and airflow."""
    made: dict[str, Any] = {}

    def body(stack, _replica):
        stores = made["stores"] = _stores(stack)
        made["pipeline"] = Pipeline(
            stack, "Train", pipeline or PipelineProps(name="ml-train", parameters={"epochs": "10"}),
            artifacts_store=stores["artifacts"],
        )
        if retraining is not None:
            made["retraining"] = Retraining(stack, "Retrain", retraining, pipeline=made["pipeline"], stores=stores)
        if airflow is not None:
            made["airflow"] = Airflow(stack, "Airflow", airflow, dags_store=stores["artifacts"], subnet_ids=subnet_ids)

    return build(body), made


def all_triggers() -> RetrainingProps:
    return RetrainingProps(
        name="ml-retrain",
        pipeline="train",
        schedule="0 3 * * 1",
        on_new_data=NewDataTrigger(store="data", prefix="incoming/"),
        on_drift=DriftTrigger(metric="feature_drift", threshold=0.25, evaluation_minutes=30),
        metric_namespace="cdktf-mlops/unit",
    )


def one(built: Built, tf_type: str) -> dict[str, Any]:
    blocks = built.resources(tf_type)
    assert len(blocks) == 1, f"expected one {tf_type}, got {sorted(blocks)}"
    return next(iter(blocks.values()))


def role_ref(built: Built, element: Any) -> str:
    return built.ref(element, "name")


# --------------------------------------------------------------------------- pipeline


def test_pipeline_without_definition_gets_a_valid_placeholder(build) -> None:
    built, made = build_all(build)
    body = one(built, "aws_sagemaker_pipeline")
    definition = json.loads(body["pipeline_definition"])
    assert definition["Version"] == PIPELINE_DEFINITION_VERSION == "2020-12-01"
    assert definition["Parameters"] == [{"Name": "epochs", "Type": "String", "DefaultValue": "10"}]
    assert [(s["Type"], bool(s["Arguments"]["ErrorMessage"])) for s in definition["Steps"]] == [("Fail", True)]
    assert body["pipeline_name"] == body["pipeline_display_name"] == "ml-train"
    assert body["role_arn"] == built.ref(made["pipeline"].principal, "arn")
    trust = statements(built.by_path("aws_iam_role", "aws/Train/Role"), "assume_role_policy")
    assert trust["TrustedServicesOfThisAccount"]["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def test_pipeline_role_reads_and_writes_the_artifacts_store_only(build) -> None:
    built, made = build_all(build)
    assert role_actions(built.doc, role_ref(built, made["pipeline"].principal)) == {
        "s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
        "s3:AbortMultipartUpload", "kms:Decrypt", "kms:GenerateDataKey",
    }
    artifacts = built.ref(made["stores"]["artifacts"].resource, "arn")
    data = built.ref(made["stores"]["data"].resource, "arn")
    policies = [b["policy"] for b in built.resources("aws_iam_role_policy").values()
                if role_ref(built, made["pipeline"].principal) in b["role"]]
    assert policies and all(artifacts in p and data not in p for p in policies)


def test_given_definition_is_kept_and_parameters_become_defaults(build) -> None:
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "epochs", "Type": "String", "DefaultValue": "1"}],
        "Steps": [{"Name": "Check", "Type": "Fail", "Arguments": {"ErrorMessage": "x"}}],
    }
    built, _ = build_all(
        build, pipeline=PipelineProps(name="ml-train", definition=definition, parameters={"epochs": "5", "lr": "0.1"})
    )
    written = json.loads(one(built, "aws_sagemaker_pipeline")["pipeline_definition"])
    assert written["Steps"] == definition["Steps"]
    assert {p["Name"]: p["DefaultValue"] for p in written["Parameters"]} == {"epochs": "5", "lr": "0.1"}
    assert definition["Parameters"][0]["DefaultValue"] == "1"  # the caller's dict is not modified


def test_definition_without_steps_is_rejected(build) -> None:
    with pytest.raises(ValueError, match="non-empty 'Steps'"):
        build_all(build, pipeline=PipelineProps(name="ml-train", definition={"Version": "2020-12-01"}))


def test_grant_start_allows_starting_this_pipeline_only_and_is_remembered(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, _replica):
        stores = _stores(stack)
        p = Pipeline(stack, "Train", PipelineProps(name="ml-train"), artifacts_store=stores["artifacts"])
        (holder["first"],) = p.grant_start("ci-runner")
        (holder["second"],) = p.grant_start("ci-runner")
        holder["pipeline"] = p

    built = build(body)
    assert holder["first"] is holder["second"]
    policies = [b for b in built.resources("aws_iam_role_policy").values() if b["role"] == "ci-runner"]
    assert len(policies) == 1
    st = json.loads(policies[0]["policy"])["Statement"]
    assert st == [{"Sid": "StartThisPipeline", "Effect": "Allow", "Action": ["sagemaker:StartPipelineExecution"],
                   "Resource": built.ref(holder["pipeline"].resource, "arn")}]


def test_wrong_props_type_names_the_expected_model(build) -> None:
    with pytest.raises(TypeError, match="PipelineProps"):
        build(lambda stack, _r: Pipeline(stack, "P", DataStoreProps(name="ml-x"), artifacts_store=None))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- cron conversion


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("0 3 * * 1", "cron(0 3 ? * MON *)"),
        ("30 2 1 * *", "cron(30 2 1 * ? *)"),
        ("* * * * *", "cron(* * * * ? *)"),
        ("*/15 * * * *", "cron(0/15 * * * ? *)"),
        ("0 */6 * * *", "cron(0 0/6 * * ? *)"),
        ("0 0 */2 * *", "cron(0 0 1/2 * ? *)"),
        ("0 3 * * 0", "cron(0 3 ? * SUN *)"),
        ("0 3 * * 7", "cron(0 3 ? * SUN *)"),
        ("0 3 * * 1-5", "cron(0 3 ? * MON-FRI *)"),
        ("0 3 * * 0,6", "cron(0 3 ? * SUN,SAT *)"),
        ("0 3 * * 5-7", "cron(0 3 ? * SUN,FRI,SAT *)"),
        ("0 3 * * mon,wed,fri", "cron(0 3 ? * MON,WED,FRI *)"),
        ("0 3 * * */2", "cron(0 3 ? * SUN,TUE,THU,SAT *)"),
        ("0 3 * * 0-6", "cron(0 3 * * ? *)"),
        ("15 4 1,15 jan,jul *", "cron(15 4 1,15 JAN,JUL ? *)"),
        ("0 9-17/2 * * *", "cron(0 9-17/2 * * ? *)"),
        ("0 3 ? * 1", "cron(0 3 ? * MON *)"),  # '?' as a whole field means any (core.cron)
    ],
)
def test_cron_to_eventbridge(cron: str, expected: str) -> None:
    assert to_schedule_expression(cron) == expected


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("0 3 1 * 1", "either"),
        ("60 3 * * *", "minute value 60 is outside 0-59"),
        ("0 24 * * *", "hour value 24 is outside 0-23"),
        ("0 3 0 * *", "day-of-month value 0 is outside 1-31"),
        ("0 3 * 13 *", "month value 13 is outside 1-12"),
        ("0 3 * * 8", "day-of-week value 8 is outside 0-7"),
        ("0 3 * * funday", "day-of-week value 'funday' is not a number"),
        ("0 3 L * *", "Quartz extension"),
        ("0 3 1-5/0 * *", "step must be at least 1"),
        ("0 5-2 * * *", "runs backwards"),
        ("0 3 * *", "5-field"),
    ],
)
def test_cron_conversion_errors(cron: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_schedule_expression(cron)


# --------------------------------------------------------------------------- retraining


def test_schedule_trigger(build) -> None:
    built, made = build_all(build, retraining=all_triggers())
    schedule = one(built, "aws_scheduler_schedule")
    assert schedule["schedule_expression"] == "cron(0 3 ? * MON *)"
    assert schedule["schedule_expression_timezone"] == "UTC"
    assert schedule["flexible_time_window"] == {"mode": "OFF"}
    assert schedule["kms_key_arn"] == built.ref(made["retraining"].key.resource, "arn")
    target = schedule["target"]
    assert target["arn"] == built.ref(made["pipeline"].resource, "arn")
    assert target["sagemaker_pipeline_parameters"] == {"pipeline_parameter": [{"name": "epochs", "value": "10"}]}
    assert made["retraining"].triggers["schedule"].terraform_resource_type == "aws_scheduler_schedule"


def test_new_data_rule_filters_the_named_store_and_prefix(build) -> None:
    built, made = build_all(build, retraining=all_triggers())
    rule = built.by_path("aws_cloudwatch_event_rule", "aws/Retrain/OnNewDataRule")
    pattern = json.loads(rule["event_pattern"])
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [built.ref(made["stores"]["data"].resource, "id")]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "incoming/"}]
    target = built.by_path("aws_cloudwatch_event_target", "aws/Retrain/OnNewDataTarget")
    assert target["arn"] == built.ref(made["pipeline"].resource, "arn")
    assert target["rule"] == built.ref(made["retraining"].rules["on_new_data"], "name")
    assert target["dead_letter_config"]["arn"] == built.ref(made["retraining"].dead_letter_queue, "arn")
    assert target["sagemaker_pipeline_target"] == {"pipeline_parameter_list": [{"name": "epochs", "value": "10"}]}
    # the DataStore sends its events to EventBridge, which the rule relies on
    notifications = [b for b in built.resources("aws_s3_bucket_notification").values()
                     if b["bucket"] == built.ref(made["stores"]["data"].resource, "id")]
    assert notifications and notifications[0]["eventbridge"] is True


def test_drift_alarm_and_its_rule(build) -> None:
    built, made = build_all(build, retraining=all_triggers())
    alarm = one(built, "aws_cloudwatch_metric_alarm")
    assert (alarm["namespace"], alarm["metric_name"], alarm["threshold"], alarm["period"]) == (
        "cdktf-mlops/unit", "feature_drift", 0.25, 1800)
    assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["treat_missing_data"] == "notBreaching"
    assert alarm["evaluation_periods"] == 1
    pattern = json.loads(built.by_path("aws_cloudwatch_event_rule", "aws/Retrain/OnDriftRule")["event_pattern"])
    assert pattern["detail-type"] == ["CloudWatch Alarm State Change"]
    assert pattern["resources"] == [built.ref(made["retraining"].triggers["on_drift"], "arn")]
    assert pattern["detail"] == {"state": {"value": ["ALARM"]}}


def test_drift_namespace_defaults_to_the_stack_name(build) -> None:
    props = RetrainingProps(name="ml-retrain", pipeline="train", schedule=None, on_drift=DriftTrigger())
    built, _ = build_all(build, retraining=props)
    assert one(built, "aws_cloudwatch_metric_alarm")["namespace"] == "cdktf-mlops/aws"
    assert built.resources("aws_scheduler_schedule") == {}


def test_each_trigger_identity_can_only_start_the_pipeline(build) -> None:
    built, made = build_all(build, retraining=all_triggers())
    retraining = made["retraining"]
    assert sorted(retraining.roles) == ["on_drift", "on_new_data", "schedule"]
    pipeline_arn = built.ref(made["pipeline"].resource, "arn")
    for kind, role in retraining.roles.items():
        policies = [json.loads(b["policy"])["Statement"] for b in built.resources("aws_iam_role_policy").values()
                    if b["role"] == role_ref(built, role)]
        allowed = [(tuple(s["Action"]), s["Resource"]) for sts in policies for s in sts]
        expected = [(("sagemaker:StartPipelineExecution",), pipeline_arn)]
        if kind == "schedule":  # Scheduler decrypts its CMK-encrypted payload with the execution role
            expected.append((("kms:Decrypt",), built.ref(retraining.key.resource, "arn")))
        assert sorted(allowed) == sorted(expected), kind
        trust = json.loads(built.by_path("aws_iam_role", role.node.path)["assume_role_policy"])["Statement"]
        service = "scheduler.amazonaws.com" if kind == "schedule" else "events.amazonaws.com"
        assert [s["Principal"]["Service"] for s in trust] == [service]
        assert "aws:SourceArn" in trust[0]["Condition"]["ArnEquals"]
    decrypt = [s for b in built.resources("aws_iam_role_policy").values() for s in json.loads(b["policy"])["Statement"]
               if s["Sid"] == "DecryptThisSchedulePayload"]
    assert decrypt[0]["Condition"]["StringEquals"]["kms:EncryptionContext:aws:scheduler:schedule:arn"].endswith(
        ":schedule/default/ml-retrain-schedule")


def test_dead_letter_queue_is_encrypted_and_only_the_rules_may_send(build) -> None:
    built, made = build_all(build, retraining=all_triggers())
    queue = one(built, "aws_sqs_queue")
    assert queue["kms_master_key_id"] == built.ref(made["retraining"].key.resource, "arn")
    st = json.loads(one(built, "aws_sqs_queue_policy")["policy"])["Statement"]
    assert [s["Action"] for s in st] == ["sqs:SendMessage"]
    assert sorted(st[0]["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        built.ref(r, "arn") for r in made["retraining"].rules.values())


def test_schedule_only_creates_no_rules_or_queue(build) -> None:
    built, made = build_all(build, retraining=RetrainingProps(name="ml-retrain", pipeline="train"))
    assert sorted(made["retraining"].triggers) == ["schedule"]
    assert built.resources("aws_cloudwatch_event_rule") == {}
    assert built.resources("aws_sqs_queue") == {}


def test_retraining_props_errors(build) -> None:
    with pytest.raises(ValidationError, match="at least one trigger"):
        RetrainingProps(name="ml-retrain", pipeline="train", schedule=None)
    with pytest.raises(ValidationError, match="5-field"):
        RetrainingProps(name="ml-retrain", pipeline="train", schedule="daily")
    with pytest.raises(ValueError, match="'lake' is not one of the stores"):
        build_all(build, retraining=RetrainingProps(
            name="ml-retrain", pipeline="train", on_new_data=NewDataTrigger(store="lake")))
    with pytest.raises(ValueError, match="EventBridge allows only one"):
        build_all(build, retraining=RetrainingProps(name="ml-retrain", pipeline="train", schedule="0 3 1 * 1"))


# --------------------------------------------------------------------------- airflow


def test_airflow_is_private_encrypted_and_logs_everything(build) -> None:
    built, made = build_all(build, airflow=AirflowProps(name="ml-airflow", size="medium", max_workers=5,
                                                        zone_names=["eu-west-1a", "eu-west-1b"]))
    env = one(built, "aws_mwaa_environment")
    airflow = made["airflow"]
    assert env["webserver_access_mode"] == "PRIVATE_ONLY"
    assert env["kms_key"] == built.ref(airflow.key.resource, "arn")
    assert env["environment_class"] == "mw1.medium" and env["max_workers"] == 5
    assert env["logging_configuration"] == {t: {"enabled": True, "log_level": "INFO"} for t in LOG_TYPES}
    assert len(LOG_TYPES) == 5
    assert env["source_bucket_arn"] == built.ref(made["stores"]["artifacts"].resource, "arn")
    assert env["dag_s3_path"] == "dags"
    assert "requirements_s3_path" not in env and "plugins_s3_path" not in env
    net = env["network_configuration"]
    assert net["subnet_ids"] == [built.ref(s, "id") for s in airflow.network.subnets]
    assert len(net["subnet_ids"]) == 2
    assert sorted(s for s in airflow.network.endpoints if s != "s3") == sorted(MWAA_INTERFACE_ENDPOINTS)
    sg = built.ref(airflow.security_group, "id")
    assert net["security_group_ids"] == [sg]
    ingress = [b for b in built.resources("aws_vpc_security_group_ingress_rule").values() if b["security_group_id"] == sg]
    assert [(b["ip_protocol"], b.get("referenced_security_group_id"), b.get("cidr_ipv4")) for b in ingress] == [("-1", sg, None)]


def test_airflow_execution_role_is_least_privilege(build) -> None:
    built, made = build_all(build, airflow=AirflowProps(name="ml-airflow", zone_names=["eu-west-1a", "eu-west-1b"]))
    role = role_ref(built, made["airflow"].principal)
    st = statements(built.by_path("aws_iam_role_policy", "aws/Airflow/RolePolicy"))
    assert re.fullmatch(r"arn:\$\{[^}]+\}:sqs:\$\{[^}]+\}:\*:airflow-celery-\*", st["CeleryQueues"]["Resource"])
    assert st["EnvironmentKeyThroughSqsAndS3"]["Resource"] == built.ref(made["airflow"].key.resource, "arn")
    assert "kms:ViaService" in st["EnvironmentKeyThroughSqsAndS3"]["Condition"]["StringLike"]
    assert st["MwaaMetrics"]["Condition"] == {"StringEquals": {"cloudwatch:namespace": "AmazonMWAA"}}
    assert all(s["Resource"] != "*" for sid, s in st.items()
               if sid not in ("AccountPublicAccessBlock", "DescribeLogGroups", "MwaaMetrics"))
    actions = role_actions(built.doc, role)
    assert not any(a.endswith(":*") or a == "*" for a in actions)
    assert {"s3:GetObject", "s3:ListBucket", "airflow:PublishMetrics"} <= actions
    assert not {"s3:PutObject", "s3:DeleteObject"} & actions  # DAGs are read-only for MWAA
    trust = statements(built.by_path("aws_iam_role", "aws/Airflow/Role"), "assume_role_policy")
    assert trust["TrustedServicesOfThisAccount"]["Principal"]["Service"] == [
        "airflow-env.amazonaws.com", "airflow.amazonaws.com"]


def test_airflow_in_given_subnets_creates_no_network(build) -> None:
    built, made = build_all(build, airflow=AirflowProps(name="ml-airflow"), subnet_ids=["subnet-1", "subnet-2", "subnet-3"])
    assert made["airflow"].network is None
    assert built.resources("aws_vpc") == {}
    assert one(built, "aws_mwaa_environment")["network_configuration"]["subnet_ids"] == ["subnet-1", "subnet-2"]
    assert [b["id"] for b in built.doc["data"]["aws_subnet"].values()] == ["subnet-1"]


def test_airflow_needs_two_subnets(build) -> None:
    with pytest.raises(ValueError, match="two private subnets"):
        build_all(build, airflow=AirflowProps(name="ml-airflow"), subnet_ids=["subnet-1"])


def test_airflow_props_errors() -> None:
    with pytest.raises(ValidationError, match="size"):
        AirflowProps(name="ml-airflow", size="huge")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="max_workers"):
        AirflowProps(name="ml-airflow", max_workers=0)
    with pytest.raises(ValidationError, match="dags_prefix"):
        AirflowProps(name="ml-airflow", dags_prefix="dags")


# --------------------------------------------------------------------------- the kit's automation + scan


class _Stack(engine.TerraformStack):
    """A bare stack shaped like PlatformStack (its attributes), independent of the platform plan."""

    def __init__(self, scope: Any, name: str) -> None:
        super().__init__(scope, name)
        self.stores: dict[str, DataStore] = {}
        self.network = self.training = self.containers = self.models = self.tracking = self.features = None
        self.monitoring = self.budget = self.retraining = self.airflow = None
        self.endpoints: dict[str, Any] = {}
        self.routing: dict[str, Any] = {}
        self.pipelines: dict[str, Any] = {}


def _automate(stack: Any, spec: Any) -> None:
    """The plan's automation steps on ``stack``: pipelines, retraining, airflow, then the outputs."""
    from constructs_lib.core.contract import emit_outputs

    kit = Kit(stack, spec)
    stack.pipelines = kit.pipelines()
    stack.retraining = kit.retraining()
    stack.airflow = kit.airflow()
    emit_outputs(stack, kit.cloud_outputs())


def _spec_stack(tmp_path: Path) -> tuple[Any, Any, Any]:
    spec = load_spec(str(REPO / "examples/retraining/aws.yaml"))
    spec = spec.model_copy(update={"airflow": AirflowSettings()})
    app = engine.App(outdir=str(tmp_path))
    stack = _Stack(app, spec.name)
    source, version = PROVIDERS["aws"]
    Provider(stack, "aws", "aws", source=source, version=version, region=spec.primary_region)
    for store in spec.storage.stores:
        stack.stores[store] = DataStore(
            stack, store, DataStoreProps(name=spec.resource_name(store), **spec.store_settings()))
    return app, stack, spec


def test_kit_automation_wires_the_spec(tmp_path) -> None:
    _app, stack, spec = _spec_stack(tmp_path)
    _automate(stack, spec)
    doc = stack_document(stack)
    r = doc["resource"]
    assert [b["pipeline_name"] for b in r["aws_sagemaker_pipeline"].values()] == ["retraining-aws-dev-train"]
    assert len(r["aws_scheduler_schedule"]) == 1 and len(r["aws_cloudwatch_metric_alarm"]) == 1
    assert len(r["aws_mwaa_environment"]) == 1
    assert next(iter(r["aws_cloudwatch_metric_alarm"].values()))["namespace"] == "cdktf-mlops/retraining-aws"
    env = next(iter(r["aws_mwaa_environment"].values()))
    assert env["source_bucket_arn"] == "${" + f"aws_s3_bucket.{stack.get_logical_id(stack.stores['artifacts'].resource)}.arn" + "}"
    pipeline = stack.pipelines["train"]
    assert doc["output"]["pipeline_train"]["value"] == {
        "id": "${" + f"aws_sagemaker_pipeline.{stack.get_logical_id(pipeline.resource)}.id" + "}",
        "trigger": "${" + f"aws_sagemaker_pipeline.{stack.get_logical_id(pipeline.resource)}.arn" + "}",
    }
    assert doc["output"]["airflow_uri"]["value"].endswith(".webserver_url}")
    assert validate_stack(doc, stack=spec.name) == []
    assert audit_stack(doc) == []


def test_full_stack_scans_clean(tmp_path) -> None:
    pytest.importorskip("checkov", reason="checkov is not installed (pip install checkov==3.3.*)")
    from constructs_lib.core.scan import scan

    app, stack, spec = _spec_stack(tmp_path)
    _automate(stack, spec)
    synth_app(app)
    results = scan(tmp_path)
    assert len(results) == 1
    result = results[0]
    assert result.passed > 100
    assert result.problems == []  # parsing errors, reasonless acknowledgements, least-privilege audit
    assert [(f.check_id, f.resource) for f in result.failed] == []
    # nothing of the automation constructs needed an acknowledgement
    automation = ("pipeline-", "retraining_", "airflow_")
    assert [f for f in result.acknowledged
            if f.resource.split(".", 1)[1].startswith(automation) and "Network" not in f.resource] == []


# --------------------------------------------------------------------------- MWAA in the platform network


def _platform(tmp_path: Path, **changes: Any) -> tuple[Any, dict[str, Any]]:
    """The retraining example with ``changes`` applied, through the platform front door."""
    from constructs_lib.core.spec import PlatformSpec
    from constructs_lib.platform import build_stack

    base = load_spec(str(REPO / "examples/retraining/aws.yaml")).model_dump(exclude_none=True)
    spec = PlatformSpec.model_validate({**base, **changes})
    stack = build_stack(engine.App(outdir=str(tmp_path)), spec)
    return stack, stack_document(stack)


def _ref(stack: Any, element: Any, attribute: str) -> str:
    return f"${{{element.terraform_resource_type}.{stack.get_logical_id(element)}.{attribute}}}"


def test_platform_places_mwaa_in_its_own_network(tmp_path) -> None:
    from constructs_lib.aws.network import DEFAULT_INTERFACE_ENDPOINTS

    stack, doc = _platform(tmp_path, network={"zones": 2}, airflow={})
    r = doc["resource"]
    network = stack.network
    assert network is not None and network.node.path.endswith("/network")
    # one VPC: the platform's; the Airflow construct created none and looked nothing up
    assert len(r["aws_vpc"]) == 1 and network.resource is not None
    assert not any(p.startswith(f"{stack.node.path}/airflow/") for p in
                   (b["//"]["metadata"]["path"] for b in r["aws_vpc_endpoint"].values()))
    assert "aws_subnet" not in doc.get("data", {}) and "aws_vpc" not in doc.get("data", {})
    # the platform network carries its defaults and MWAA's endpoints: union, sorted, each once
    expected = sorted(set(DEFAULT_INTERFACE_ENDPOINTS) | set(MWAA_INTERFACE_ENDPOINTS))
    assert len(expected) == 17
    assert network.props.interface_endpoints == expected
    interface = [b["service_name"].split("}.", 1)[1] for b in r["aws_vpc_endpoint"].values()
                 if b["vpc_endpoint_type"] == "Interface"]
    assert sorted(interface) == expected and len(interface) == len(set(interface))
    # MWAA in the first two private subnets (two different zones), the network's VPC, CIDR, S3 prefix list
    (env,) = r["aws_mwaa_environment"].values()
    subnets = network.subnets
    assert env["network_configuration"]["subnet_ids"] == [_ref(stack, s, "id") for s in subnets[:2]]
    zones = [r["aws_subnet"][stack.get_logical_id(s)]["availability_zone"] for s in subnets[:2]]
    assert zones == ["eu-west-1a", "eu-west-1b"]
    airflow = stack.node.find_child("airflow")
    assert airflow.network is network
    assert r["aws_security_group"][stack.get_logical_id(airflow.security_group)]["vpc_id"] == _ref(stack, network.resource, "id")
    sg = _ref(stack, airflow.security_group, "id")
    egress = {b["description"]: b for b in r["aws_vpc_security_group_egress_rule"].values() if b["security_group_id"] == sg}
    assert egress["HTTPS to the VPC interface endpoints"]["cidr_ipv4"] == "10.40.0.0/16"
    assert egress["HTTPS to S3 through the gateway endpoint"]["prefix_list_id"] == _ref(
        stack, network.endpoints["s3"], "prefix_list_id")
    assert validate_stack(doc, stack="aws") == [] and audit_stack(doc) == []


def test_platform_network_without_airflow_keeps_its_default_endpoints(tmp_path) -> None:
    from constructs_lib.aws.network import DEFAULT_INTERFACE_ENDPOINTS

    stack, doc = _platform(tmp_path, network={"zones": 1})  # one zone is fine without airflow
    assert stack.network.props.interface_endpoints == sorted(DEFAULT_INTERFACE_ENDPOINTS)
    assert "aws_mwaa_environment" not in doc["resource"] and len(doc["resource"]["aws_vpc"]) == 1


def test_one_zone_platform_network_refuses_airflow_naming_the_setting(tmp_path) -> None:
    with pytest.raises(ValueError, match=r"network\.zones: .* zones is 1; set network\.zones to 2 or 3"):
        _platform(tmp_path, network={"zones": 1}, airflow={})


def test_existing_platform_network_hosts_mwaa_unchanged(tmp_path) -> None:
    from constructs_lib.aws.network import DEFAULT_INTERFACE_ENDPOINTS

    existing = {"network_id": "vpc-0abc", "subnet_ids": ["subnet-a", "subnet-b", "subnet-c"]}
    stack, doc = _platform(tmp_path, network={"existing": existing}, airflow={})
    r = doc["resource"]
    assert "aws_vpc" not in r  # neither the platform nor Airflow creates a VPC
    # the existing network's endpoints are not changed for MWAA: it must reach those services itself
    assert stack.network.props.interface_endpoints == sorted(DEFAULT_INTERFACE_ENDPOINTS)
    (env,) = r["aws_mwaa_environment"].values()
    assert env["network_configuration"]["subnet_ids"] == ["subnet-a", "subnet-b"]
    airflow = stack.node.find_child("airflow")
    assert r["aws_security_group"][stack.get_logical_id(airflow.security_group)]["vpc_id"] == "vpc-0abc"
    assert list(doc["data"]["aws_vpc"].values())[0]["id"] == "vpc-0abc" and len(doc["data"]["aws_vpc"]) == 1
    assert "aws_subnet" not in doc["data"]


def test_spec_without_platform_network_gives_mwaa_its_own(tmp_path) -> None:
    stack, doc = _platform(tmp_path, airflow={})
    assert stack.network is None
    airflow = stack.node.find_child("airflow")
    assert airflow.network is not None and airflow.network.node.scope is airflow
    assert len(doc["resource"]["aws_vpc"]) == 1


def _network(stack: Any, zones: int, services: list[str]) -> Any:
    from constructs_lib.aws import Network, NetworkProps

    return Network(stack, "Net", NetworkProps(name="ml-net", zones=zones, interface_endpoints=services,
                                              zone_names=["eu-west-1a", "eu-west-1b", "eu-west-1c"][:zones]))


def test_airflow_in_a_given_network_uses_its_ids(build) -> None:
    made: dict[str, Any] = {}

    def body(stack, _replica):
        made["net"] = _network(stack, 3, list(MWAA_INTERFACE_ENDPOINTS))
        made["airflow"] = Airflow(stack, "Airflow", AirflowProps(name="ml-airflow"),
                                  dags_store=_stores(stack)["artifacts"], network=made["net"])

    built = build(body)
    net = made["net"]
    assert made["airflow"].network is net and len(built.resources("aws_vpc")) == 1
    env = one(built, "aws_mwaa_environment")
    assert env["network_configuration"]["subnet_ids"] == [built.ref(s, "id") for s in net.subnets[:2]]
    assert "data" not in built.doc or "aws_subnet" not in built.doc["data"]
    assert validate_stack(built.doc, stack="aws") == []


@pytest.mark.parametrize(
    ("zones", "services", "message"),
    [
        (1, list(MWAA_INTERFACE_ENDPOINTS), r"network aws/Net has 1; set its zones to 2 or 3"),
        (2, ["ecr.api", "logs"], r"no interface endpoint for airflow\.api, airflow\.env, airflow\.ops, ecr\.dkr, kms, "
                                 r"monitoring, sqs.*NetworkProps\.interface_endpoints"),
    ],
)
def test_airflow_refuses_a_network_it_cannot_run_in(build, zones: int, services: list[str], message: str) -> None:
    def body(stack, _replica):
        Airflow(stack, "Airflow", AirflowProps(name="ml-airflow"), dags_store=_stores(stack)["artifacts"],
                network=_network(stack, zones, services))

    with pytest.raises(ValueError, match=message):
        build(body)


def test_airflow_takes_subnet_ids_or_network_not_both(build) -> None:
    def body(stack, _replica):
        Airflow(stack, "Airflow", AirflowProps(name="ml-airflow"), dags_store=_stores(stack)["artifacts"],
                network=_network(stack, 2, list(MWAA_INTERFACE_ENDPOINTS)), subnet_ids=["subnet-1", "subnet-2"])

    with pytest.raises(ValueError, match="not both"):
        build(body)
