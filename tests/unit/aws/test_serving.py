"""AWS Endpoint: placeholder model (two-phase path), autoscaling, capture, encryption, private access."""

from __future__ import annotations

import base64
import gzip
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import DataStore, DataStoreProps, Endpoint, EndpointProps, Network, NetworkProps
from constructs_lib.aws.serving import (
    SKLEARN_INFERENCE_ACCOUNTS,
    VARIANT_NAME,
    failover_rto_minutes,
    has_instance_storage,
    placeholder_artifact,
)
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.run_props import EndpointProps as CoreEndpointProps
from constructs_lib.core.schema import validate_stack

from .build_helpers import statements
from .conftest import PRIMARY_REGION, REPLICA_REGION

ROOT = Path(__file__).resolve().parents[3]


def build_endpoints(build, **overrides: Any) -> tuple[Any, dict[str, Any]]:
    """A replicated data store, a network, and the endpoint in the primary and replica regions."""
    h: dict[str, Any] = {}
    fields = dict(name="churn", min_instances=2, max_instances=6, target_invocations_per_instance=200,
                  scale_in_cooldown_seconds=600, scale_out_cooldown_seconds=30, data_capture_percent=20)
    fields.update(overrides)

    def body(stack, replica):
        h["store"] = DataStore(
            stack, "Data",
            DataStoreProps(name="ml-data", access_logging=False, replication={"region": REPLICA_REGION}),
            replica_provider=replica,
        )
        h["net"] = Network(stack, "Net", NetworkProps(name="ml-net", zone_names=[f"{PRIMARY_REGION}a", f"{PRIMARY_REGION}b"],
                                                        interface_endpoints=[], flow_logs=False))
        h["primary"] = Endpoint(stack, "Primary", EndpointProps(region=PRIMARY_REGION, **fields),
                                capture_store=h["store"], network=h["net"])
        h["replica"] = Endpoint(stack, "Replica", EndpointProps(region=REPLICA_REGION, **fields),
                                capture_store=h["store"], provider=replica)

    return build(body), h


@pytest.fixture
def two(build):
    return build_endpoints(build)


def test_schema_valid_and_least_privilege(two) -> None:
    built, _ = two
    assert validate_stack(built.doc, stack="aws") == []
    assert audit_stack(built.doc) == []


def test_autoscaling_min_max_target_and_cooldowns(two) -> None:
    built, h = two
    target = built.by_path("aws_appautoscaling_target", "aws/Primary/ScalingTarget")
    assert (target["min_capacity"], target["max_capacity"]) == (2, 6)
    assert target["scalable_dimension"] == "sagemaker:variant:DesiredInstanceCount"
    assert target["resource_id"] == f"endpoint/{built.ref(h['primary'].resource, 'name')}/variant/{VARIANT_NAME}"
    policy = built.by_path("aws_appautoscaling_policy", "aws/Primary/ScalingPolicy")
    tracking = policy["target_tracking_scaling_policy_configuration"]
    assert policy["policy_type"] == "TargetTrackingScaling"
    assert tracking["predefined_metric_specification"]["predefined_metric_type"] == "SageMakerVariantInvocationsPerInstance"
    assert (tracking["target_value"], tracking["scale_in_cooldown"], tracking["scale_out_cooldown"]) == (200, 600, 30)
    config = built.by_path("aws_sagemaker_endpoint_configuration", "aws/Primary/BootstrapConfig")
    (variant,) = config["production_variants"]
    assert variant["initial_instance_count"] == 2 and variant["instance_type"] == "ml.m5.large"


def test_capture_goes_to_the_regional_bucket_with_its_key(two) -> None:
    built, h = two
    store = h["store"]
    primary = built.by_path("aws_sagemaker_endpoint_configuration", "aws/Primary/BootstrapConfig")["data_capture_config"]
    replica = built.by_path("aws_sagemaker_endpoint_configuration", "aws/Replica/BootstrapConfig")["data_capture_config"]
    assert primary["initial_sampling_percentage"] == 20 and primary["enable_capture"] is True
    assert primary["destination_s3_uri"] == f"s3://{built.ref(store.resource, 'id')}/data-capture/churn"
    assert primary["kms_key_id"] == built.ref(store.key.resource, "arn")
    assert replica["destination_s3_uri"] == f"s3://{built.ref(store.replica, 'id')}/data-capture/churn"
    assert replica["kms_key_id"] == built.ref(store.replica_key.resource, "arn")
    assert sorted(o["capture_mode"] for o in primary["capture_options"]) == ["Input", "Output"]


def test_zero_capture_percent_disables_capture(build) -> None:
    built, h = build_endpoints(build, data_capture_percent=0)
    config = built.by_path("aws_sagemaker_endpoint_configuration", "aws/Primary/BootstrapConfig")
    assert "data_capture_config" not in config and h["primary"].capture_uri is None


def test_volumes_and_logs_use_the_endpoint_key(two) -> None:
    built, h = two
    key = built.ref(h["primary"].key.resource, "arn")
    assert built.by_path("aws_sagemaker_endpoint_configuration", "aws/Primary/BootstrapConfig")["kms_key_arn"] == key
    group = built.by_path("aws_cloudwatch_log_group", "aws/Primary/LogGroup")
    assert group["name"] == "/aws/sagemaker/Endpoints/churn" and group["kms_key_id"] == key
    assert group["retention_in_days"] == 365
    endpoint = built.by_path("aws_sagemaker_endpoint", "aws/Primary/Resource")
    assert built.address(h["primary"].log_group) in endpoint["depends_on"]


def test_private_network_and_isolation(two) -> None:
    built, h = two
    model = built.by_path("aws_sagemaker_model", "aws/Primary/PlaceholderModel")
    assert model["enable_network_isolation"] is True
    assert model["vpc_config"]["subnets"] == [built.ref(s, "id") for s in h["net"].subnets]
    assert model["vpc_config"]["security_group_ids"] == [built.ref(h["primary"].security_group, "id")]
    sg_rules = [r for r in built.resources("aws_vpc_security_group_egress_rule").values()
                if "Primary" in r["//"]["metadata"]["path"]]
    assert {r["from_port"] for r in sg_rules} == {443} and len(sg_rules) == 2
    assert not [r for r in built.resources("aws_vpc_security_group_ingress_rule").values()
                if "Primary" in r["//"]["metadata"]["path"]]
    # without a network (replica here): no vpc_config, isolation still on
    replica = built.by_path("aws_sagemaker_model", "aws/Replica/PlaceholderModel")
    assert "vpc_config" not in replica and replica["enable_network_isolation"] is True


def test_placeholder_model_path_is_deployable_before_training(two) -> None:
    built, h = two
    obj = built.by_path("aws_s3_object", "aws/Replica/PlaceholderArtifact")
    assert obj["bucket"] == built.ref(h["store"].replica, "id")  # same-region artifact
    assert obj["kms_key_id"] == built.ref(h["store"].replica_key.resource, "arn")
    assert obj["server_side_encryption"] == "aws:kms"
    with tarfile.open(fileobj=io.BytesIO(base64.b64decode(obj["content_base64"])), mode="r:gz") as tar:
        script = tar.extractfile("code/placeholder.py").read().decode()
    assert "def model_fn" in script and "def predict_fn" in script
    model = built.by_path("aws_sagemaker_model", "aws/Replica/PlaceholderModel")["primary_container"]
    account = SKLEARN_INFERENCE_ACCOUNTS[REPLICA_REGION]
    assert model["image"].startswith(f"{account}.dkr.ecr.{REPLICA_REGION}.amazonaws.com/sagemaker-scikit-learn:")
    assert model["model_data_url"] == h["replica"].placeholder_uri.replace(
        h["store"].replica.ref("id"), built.ref(h["store"].replica, "id"))
    assert model["environment"]["SAGEMAKER_PROGRAM"] == "placeholder.py"
    # the pipeline owns the deployed configuration
    endpoint = built.by_path("aws_sagemaker_endpoint", "aws/Replica/Resource")
    assert endpoint["lifecycle"]["ignore_changes"] == ["endpoint_config_name"]


def test_placeholder_artifact_is_deterministic() -> None:
    assert placeholder_artifact() == placeholder_artifact()
    assert gzip.decompress(placeholder_artifact())[:19] == b"code/placeholder.py"


def test_own_placeholder_image_writes_no_artifact(build) -> None:
    built, _ = build_endpoints(build, placeholder_image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/noop:1")
    assert "aws_s3_object" not in built.doc["resource"]
    model = built.by_path("aws_sagemaker_model", "aws/Primary/PlaceholderModel")["primary_container"]
    assert model == {"image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/noop:1"}


def test_execution_role_is_scoped_to_this_endpoint(two) -> None:
    built, h = two
    policy = statements(built.by_path("aws_iam_role_policy", "aws/Primary/ExecutionPolicy"))
    bucket = built.ref(h["store"].resource, "arn")
    assert policy["WriteCapturedData"]["Resource"] == f"{bucket}/data-capture/churn/*"
    assert policy["WriteCapturedData"]["Action"] == ["s3:PutObject"]
    assert sorted(policy["ReadModelArtifacts"]["Resource"]) == [f"{bucket}/models/*", f"{bucket}/serving/churn/*"]
    assert policy["EncryptCapturedData"]["Condition"] == {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}
    assert policy["PullPlaceholderImage"]["Resource"].endswith(":repository/sagemaker-scikit-learn")
    trust = json.loads(built.by_path("aws_iam_role", "aws/Primary/ExecutionRole")["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}


def test_health_alarm_and_recovery(two) -> None:
    built, h = two
    alarm = built.by_path("aws_cloudwatch_metric_alarm", "aws/Primary/HealthAlarm")
    assert alarm["metric_name"] == "Invocation5XXErrors" and alarm["statistic"] == "Average"
    assert alarm["threshold"] == 0.25 and alarm["treat_missing_data"] == "notBreaching"
    assert h["primary"].health_alarm_name == alarm["alarm_name"] == "churn-health"
    # no data, and no failover by itself: the routing in front of endpoints has the failover RTO
    rec = h["primary"].recovery
    assert (rec.rpo_minutes, rec.rto_minutes, rec.replica_region) == (None, None, None)
    assert failover_rto_minutes(30) == 6 and failover_rto_minutes(10) == 5
    region = h["primary"].region
    assert h["primary"].invoke_url == (
        f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{h['primary'].endpoint_name}/invocations"
    )


def test_serverless_has_no_instances_scaling_or_capture(build) -> None:
    built, h = build_endpoints(build, serverless={"memory_gib": 4, "max_concurrency": 20})
    config = built.by_path("aws_sagemaker_endpoint_configuration", "aws/Primary/BootstrapConfig")
    (variant,) = config["production_variants"]
    assert variant["serverless_config"] == {"max_concurrency": 20, "memory_size_in_mb": 4096}
    assert "instance_type" not in variant and "data_capture_config" not in config
    assert "aws_appautoscaling_target" not in built.doc["resource"]
    assert h["primary"].scaling_target is None and h["primary"].serverless


def test_gpu_instance_storage_gets_no_volume_key(build) -> None:
    assert has_instance_storage("ml.g5.xlarge") and has_instance_storage("ml.m5d.large")
    assert not has_instance_storage("ml.m5.large")
    built, h = build_endpoints(build, gpu=True)
    config = built.by_path("aws_sagemaker_endpoint_configuration", "aws/Primary/BootstrapConfig")
    assert config["production_variants"][0]["instance_type"] == "ml.g5.xlarge"
    assert "kms_key_arn" not in config
    assert (h["primary"].vcpus, h["primary"].gpus) == (4, 1)


def test_props_errors(build) -> None:
    with pytest.raises(ValidationError, match="must not exceed max_instances"):
        EndpointProps(name="churn", region="eu-west-1", min_instances=5, max_instances=2)
    with pytest.raises(ValidationError, match="serverless endpoints have no GPUs"):
        EndpointProps(name="churn", region="eu-west-1", gpu=True, serverless={})
    with pytest.raises(ValidationError, match="region"):
        EndpointProps(name="churn", region="Europe")
    with pytest.raises(ValueError, match="region is unknown"):
        build(lambda stack, replica: Endpoint(stack, "E", CoreEndpointProps(name="churn")))
    with pytest.raises(ValueError, match="needs a store"):
        build(lambda stack, replica: Endpoint(stack, "E", EndpointProps(name="churn", region="eu-west-1")))
    with pytest.raises(ValueError, match="placeholder_image"):
        build(lambda stack, replica: Endpoint(stack, "E", EndpointProps(name="churn", region="xx-nowhere-9")))


def test_platform_serves_every_region_and_routing_covers_every_endpoint(tmp_path) -> None:
    from constructs_lib.core import engine
    from constructs_lib.core.spec import PlatformSpec, load_spec
    from constructs_lib.core.synth import stack_document
    from constructs_lib.platform import build_stack

    base = load_spec(ROOT / "examples" / "multi-region-serving" / "aws.yaml").model_dump(exclude_none=True)
    base["regions"] = ["us-east-1", "eu-west-1", "ap-southeast-2"]
    base["routing"]["policy"] = "latency"
    base["serving"]["endpoints"].append({"name": "fraud", "serverless": {"memory_gib": 2}})
    spec = PlatformSpec.model_validate(base)
    stack = build_stack(engine.App(outdir=str(tmp_path)), spec)
    doc = stack_document(stack)
    assert validate_stack(doc, stack="aws") == [] and audit_stack(doc) == []
    assert sorted(stack.endpoints) == ["churn", "fraud"]
    for name, regional in stack.endpoints.items():
        assert list(regional) == spec.regions  # every region has the endpoint
        assert all(e.region == r for r, e in regional.items())
    records = doc["resource"]["aws_route53_record"].values()
    for name in ("churn", "fraud"):
        covered = {r["latency_routing_policy"]["region"] for r in records if r["name"] == f"{name}.{spec.routing.domain}"}
        assert covered == set(spec.regions)  # routing covers every endpoint
    # the third region gets its own provider, network and capture store
    providers = {p.get("alias") for p in doc["provider"]["aws"]}
    assert {None, "replica", "r2"} <= providers
    stores = [b["bucket"] for b in doc["resource"]["aws_s3_bucket"].values()]
    assert any("serving-ap-southeast-2" in str(b) for b in stores)
