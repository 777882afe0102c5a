"""AWS Training: spot + fallback Batch pools, scale to zero, caps, private placement, one role."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import Network, NetworkProps, Training, TrainingProps
from constructs_lib.aws.training import MachineSpec
from constructs_lib.core.build_props import TrainingPoolSettings
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.schema import validate_stack

from .build_helpers import statements

IMAGE = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/ml/training:bootstrap"


def build_training(build, props: Any) -> tuple[Any, Training, Network]:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        net = holder["net"] = Network(stack, "Net", NetworkProps(name="ml-net", zone_names=["eu-west-1a", "eu-west-1b"]))
        holder["t"] = Training(stack, "Training", props, network=net)

    built = build(body)
    return built, holder["t"], holder["net"]


@pytest.fixture
def default(build):
    return build_training(build, TrainingProps(name="ml-train", job_image=IMAGE))


def envs_of(built, pool: str) -> dict[str, dict[str, Any]]:
    return {
        b["//"]["metadata"]["path"].rsplit("/", 1)[-1]: b
        for b in built.resources("aws_batch_compute_environment").values()
        if f"/Training/{pool}/" in b["//"]["metadata"]["path"]
    }


def test_schema_valid_and_least_privilege(default) -> None:
    built, _, _ = default
    assert validate_stack(built.doc, stack="aws") == []
    assert audit_stack(built.doc) == []


def test_spot_first_with_on_demand_fallback_scale_to_zero_and_cap(default) -> None:
    built, training, _ = default
    gpu = envs_of(built, "gpu")
    assert sorted(gpu) == ["OnDemand", "Spot"]
    spot, od = gpu["Spot"]["compute_resources"], gpu["OnDemand"]["compute_resources"]
    assert (spot["type"], spot["allocation_strategy"]) == ("SPOT", "SPOT_CAPACITY_OPTIMIZED")
    assert (od["type"], od["allocation_strategy"]) == ("EC2", "BEST_FIT_PROGRESSIVE")
    # default gpu pool: g5.xlarge (4 vCPUs), max 2 nodes, min 0
    assert spot["min_vcpus"] == 0 and spot["max_vcpus"] == 8 and od["max_vcpus"] == 8
    assert spot["instance_type"] == ["g5.xlarge"]
    assert spot["ec2_configuration"] == [{"image_type": "ECS_AL2023_NVIDIA"}]
    cpu = envs_of(built, "cpu")["Spot"]["compute_resources"]
    assert cpu["max_vcpus"] == 16 and cpu["instance_type"] == ["m6i.xlarge"]  # 4 nodes x 4 vCPUs
    queue = built.by_path("aws_batch_job_queue", "aws/Training/gpu/Resource")
    assert [o["compute_environment"] for o in queue["compute_environment_order"]] == [
        built.ref(training.compute_environments["gpu"][0], "arn"),
        built.ref(training.compute_environments["gpu"][1], "arn"),
    ]
    assert [o["order"] for o in queue["compute_environment_order"]] == [1, 2]
    assert training.pools["gpu"] is training.compute_environments["gpu"][0].node.scope.node.find_child("Resource")


def test_private_subnets_no_public_ip_and_no_ingress(default) -> None:
    built, training, net = default
    spot = envs_of(built, "cpu")["Spot"]["compute_resources"]
    assert spot["subnets"] == [built.ref(s, "id") for s in net.subnets]
    assert spot["security_group_ids"] == [built.ref(training.security_group, "id")]
    assert "aws_vpc_security_group_ingress_rule" in built.doc["resource"]  # only the endpoints' one
    ingress = [r for r in built.resources("aws_vpc_security_group_ingress_rule").values()
               if "Training" in r["//"]["metadata"]["path"]]
    assert ingress == []
    egress = [r for r in built.resources("aws_vpc_security_group_egress_rule").values()
              if "Training" in r["//"]["metadata"]["path"]]
    assert sorted((r["from_port"], r.get("cidr_ipv4", "prefix-list")) for r in egress) == [
        (443, "10.40.0.0/16"),
        (443, "prefix-list"),
    ]
    assert "0.0.0.0/0" not in json.dumps(built.doc)
    assert "associate_public_ip_address" not in json.dumps(built.resources("aws_launch_template"))


def test_launch_template_encrypted_gp3_imdsv2(default) -> None:
    built, training, _ = default
    lt = built.by_path("aws_launch_template", "aws/Training/gpu/LaunchTemplate")
    (mapping,) = lt["block_device_mappings"]
    ebs = mapping["ebs"]
    assert ebs["encrypted"] == "true" and ebs["volume_type"] == "gp3" and ebs["volume_size"] == 200
    assert ebs["kms_key_id"] == built.ref(training.key.resource, "arn")
    assert lt["metadata_options"]["http_tokens"] == "required"
    assert lt["metadata_options"]["http_put_response_hop_limit"] == 1


def test_disk_key_names_the_roles_that_launch_nodes(default, build) -> None:
    built, training, _ = default
    key = statements(built.by_path("aws_kms_key", "aws/Training/Key/Resource"))
    assert sorted(key) == ["EbsVolumeGrantsOfTheNodeLaunchers", "EbsVolumesOfTheNodeLaunchers", "EnableIamPoliciesOfThisAccount"]
    assert key["EnableIamPoliciesOfThisAccount"]["Principal"]["AWS"].endswith(":root")
    use, grants = key["EbsVolumesOfTheNodeLaunchers"], key["EbsVolumeGrantsOfTheNodeLaunchers"]
    roles = use["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert [r.rsplit("/", 1)[-1] for r in roles] == ["AWSServiceRoleForAutoScaling", "AWSServiceRoleForBatch", "AWSServiceRoleForEC2Spot"]
    assert all(":role/aws-service-role/" in r and "${data.aws_partition." in r for r in roles)
    for st in (use, grants):
        assert st["Condition"]["StringLike"] == {"kms:ViaService": "ec2.*.amazonaws.com"}
        assert st["Condition"]["ArnEquals"]["aws:PrincipalArn"] == roles
        assert "kms:CallerAccount" in st["Condition"]["StringEquals"]
    assert "kms:CreateGrant" not in use["Action"] and grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    # without spot pools, EC2 Spot's role is not named
    on_demand, _, _ = build_training(build, TrainingProps(name="ml-train", pools=[TrainingPoolSettings(name="cpu", spot=False)]))
    key = statements(on_demand.by_path("aws_kms_key", "aws/Training/Key/Resource"))
    named = key["EbsVolumesOfTheNodeLaunchers"]["Condition"]["ArnEquals"]["aws:PrincipalArn"]
    assert [r.rsplit("/", 1)[-1] for r in named] == ["AWSServiceRoleForAutoScaling", "AWSServiceRoleForBatch"]


def test_one_execution_role_for_sagemaker_and_batch_jobs(default) -> None:
    built, training, _ = default
    roles = {b["name"]: b for b in built.resources("aws_iam_role").values()}
    trust = statements(roles["ml-train-execution"], "assume_role_policy")["TrustedServicesOfThisAccount"]
    assert trust["Principal"]["Service"] == ["ecs-tasks.amazonaws.com", "sagemaker.amazonaws.com"]
    assert "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    job = built.by_path("aws_batch_job_definition", "aws/Training/gpu/JobDefinition")
    container = json.loads(job["container_properties"])
    assert container["jobRoleArn"] == built.ref(training.principal, "arn")
    assert container["image"] == IMAGE and container["privileged"] is False
    assert {r["type"]: r["value"] for r in container["resourceRequirements"]} == {"VCPU": "4", "MEMORY": "14745", "GPU": "1"}
    assert job["retry_strategy"]["evaluate_on_exit"][0] == {"action": "RETRY", "on_status_reason": "Host EC2*"}
    assert training.vpc_config["SecurityGroupIds"] == [training.security_group_id]


def test_execution_role_base_policy_is_exact(default) -> None:
    built, _, _ = default
    policy = statements(built.by_path("aws_iam_role_policy", "aws/Training/ExecutionPolicy"))
    assert sorted(policy) == ["DescribeNetwork", "JobLogs", "JobMetrics", "JobNetworkInterfacesInThisNetwork"]
    eni = policy["JobNetworkInterfacesInThisNetwork"]
    assert "*" not in eni["Resource"] and len(eni["Resource"]) == 4  # ENIs, 2 subnets, the security group
    assert policy["JobMetrics"]["Condition"] == {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}}
    attachments = [a["policy_arn"] for a in built.resources("aws_iam_role_policy_attachment").values()]
    assert len(attachments) == 1 and attachments[0].endswith(":iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role")


def test_spot_without_fallback_and_on_demand_only(build) -> None:
    props = TrainingProps(
        name="ml-train",
        pools=[
            TrainingPoolSettings(name="gpu", gpu=True, machine_type="g5.2xlarge", max_nodes=8, on_demand_fallback=False, min_nodes=1),
            TrainingPoolSettings(name="cpu", spot=False),
        ],
    )
    built, training, _ = build_training(build, props)
    gpu = envs_of(built, "gpu")
    assert sorted(gpu) == ["Spot"]
    assert gpu["Spot"]["compute_resources"]["max_vcpus"] == 64 and gpu["Spot"]["compute_resources"]["min_vcpus"] == 8
    assert sorted(envs_of(built, "cpu")) == ["OnDemand"]
    assert training.job_definitions == {}  # no image, no job definition
    assert training.keep_alive_seconds == {"gpu": 600, "cpu": 600}


def test_unknown_machine_type_needs_a_spec(build) -> None:
    pools = [TrainingPoolSettings(name="cpu", machine_type="x9.huge")]
    with pytest.raises(ValueError, match="not in MACHINE_SPECS"):
        build_training(build, TrainingProps(name="ml-train", pools=pools))
    built, _, _ = build_training(
        build,
        TrainingProps(name="ml-train", pools=pools, machine_specs={"x9.huge": MachineSpec(vcpus=6, memory_mib=8192)}),
    )
    assert envs_of(built, "cpu")["Spot"]["compute_resources"]["max_vcpus"] == 24


def test_gpu_pool_on_cpu_machine_is_an_error(build) -> None:
    with pytest.raises(ValueError, match="has no GPU"):
        build_training(build, TrainingProps(name="ml-train", pools=[TrainingPoolSettings(name="gpu", gpu=True, machine_type="m6i.xlarge")]))


@pytest.mark.parametrize(
    ("pools", "message"),
    [
        ([{"name": "big", "min_nodes": 5, "max_nodes": 2}], "must not exceed max_nodes"),
        ([{"name": "cpu"}, {"name": "cpu"}], "must be unique"),
        ([{"name": "cpu", "disk_size_gib": 10}], "greater than or equal to 30"),
    ],
)
def test_props_errors(pools: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TrainingProps(name="ml-train", pools=pools)


def test_network_is_required_type(build) -> None:
    with pytest.raises(TypeError, match="network must be"):
        build(lambda stack, replica: Training(stack, "T", TrainingProps(name="ml-train"), network="vpc-1"))


def test_reference_platform_training_identity_gets_exactly_its_grants(tmp_path) -> None:
    from pathlib import Path

    from constructs_lib.core import engine
    from constructs_lib.core.spec import load_spec
    from constructs_lib.core.synth import stack_document
    from constructs_lib.platform import build_stack

    from constructs_lib.aws.tracking import _MLFLOW_ACTIONS as MLFLOW_ACTIONS

    from .build_helpers import role_actions

    spec = load_spec(Path(__file__).resolve().parents[3] / "examples" / "reference" / "aws.yaml")
    stack = build_stack(engine.App(outdir=str(tmp_path)), spec)
    doc = stack_document(stack)
    assert validate_stack(doc, stack="aws") == [] and audit_stack(doc) == []
    (role_id,) = [k for k, v in doc["resource"]["aws_iam_role"].items() if v["name"].endswith("-training-execution")]
    actions = role_actions(doc, f"aws_iam_role.{role_id}.")
    assert actions == {
        # running in the private network (base policy)
        "ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
        "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs", "logs:CreateLogGroup",
        "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents", "cloudwatch:PutMetricData",
        # data read, artifacts write (+ their keys through S3)
        "s3:ListBucket", "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject",
        "s3:AbortMultipartUpload", "kms:Decrypt", "kms:GenerateDataKey",
        # images
        "ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
        # model registry: register pending versions only
        "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages",
        "sagemaker:CreateModelPackage", "sagemaker:AddTags",
        # tracking and its secrets
        *MLFLOW_ACTIONS,
        "sagemaker:CreatePresignedMlflowTrackingServerUrl", "sagemaker:DescribeMlflowTrackingServer",
        "secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret",
        # feature store read
        "sagemaker:GetRecord", "sagemaker:BatchGetRecord", "sagemaker:DescribeFeatureGroup", "kms:DescribeKey",
    }
    assert "sagemaker:UpdateModelPackage" not in actions and "sagemaker:PutRecord" not in actions
    outputs = set(doc["output"])
    assert {"training_principal", "training_pools", "container_registry", "tracking_uri", "aws_training_vpc_config",
            "model_registry", "network_id"} <= outputs
    assert doc["output"]["training_principal"]["value"] == f"${{aws_iam_role.{role_id}.arn}}"
