"""The reference example's AWS stack validates and applies into moto; boto3 sees what deployed.

``terraform validate`` covers the whole stack. The apply targets the resources moto can create
(:data:`~tests.deploy.conftest.MOTO_SUPPORTED_TYPES` and their dependencies): stores, keys, the
network and its endpoints, ECR repositories, tracker secrets, IAM roles and grants, the model
package group. Batch, the MLflow server and the feature group are covered by synth assertions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.deploy


@pytest.fixture(scope="module")
def reference_deployed(reference_out, moto_deploy, tmp_path_factory) -> dict[str, Any]:
    (aws,) = [s for s in reference_out.stacks if s.name == "reference-aws"]
    from .conftest import PLATFORM_MOTO_SERVICES

    result = moto_deploy(
        aws.directory,
        tmp_path_factory.mktemp("reference-aws"),
        services=PLATFORM_MOTO_SERVICES,
        only_moto_supported=True,
    )
    print(f"terraform steps (s): {result['seconds']}; skipped (not in moto): {result['skipped']}")
    result["outputs"] = {k: v["value"] for k, v in result["outputs"].items()}
    result["spec_regions"] = json.loads((aws.directory / "cdk.tf.json").read_text())["provider"]["aws"]
    return result


@pytest.mark.parametrize("store", ["data", "artifacts"])
def test_reference_store_is_versioned_encrypted_and_private(reference_deployed, boto3_client, store: str) -> None:
    outputs = reference_deployed["outputs"]
    bucket, key_arn = outputs[f"store_{store}_name"], outputs[f"store_{store}_key"]
    region = reference_deployed["spec_regions"][0]["region"]
    s3 = boto3_client("s3", region)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    sse = rule["ApplyServerSideEncryptionByDefault"]
    assert sse["SSEAlgorithm"] == "aws:kms" and sse["KMSMasterKeyID"] == key_arn
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    kms = boto3_client("kms", region)
    assert kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"] is True
    recovery = outputs[f"store_{store}_recovery"]
    assert recovery["replica_region"] == reference_deployed["spec_regions"][1]["region"]
    assert recovery["rpo_minutes"] == 15


def _region(reference_deployed) -> str:
    return reference_deployed["spec_regions"][0]["region"]


def _of_type(reference_deployed, tf_type: str) -> dict[str, Any]:
    return {k: v for k, v in reference_deployed["resources"].items() if k.startswith(f"{tf_type}.")}


def test_only_unsupported_types_were_skipped(reference_deployed) -> None:
    skipped_types = {a.split(".")[0] for a in reference_deployed["skipped"]}
    build_side = {
        "aws_batch_compute_environment", "aws_batch_job_definition", "aws_batch_job_queue",
        "aws_flow_log", "aws_iam_role_policy", "aws_iam_role_policy_attachment", "aws_launch_template",
        "aws_sagemaker_feature_group", "aws_sagemaker_mlflow_tracking_server",
    }
    # Automation (pipeline, triggers) is applied to moto from examples/retraining/aws.yaml by
    # test_automation_moto.py (AUTOMATION_MOTO_TYPES); here it is left out to keep this apply short
    # (the SQS queue and its policy each wait ~25 s for attribute propagation). The trigger key and
    # roles depend on the pipeline, so they are skipped with it. MWAA is never applied: moto 5.2 has
    # no MWAA backend.
    automation = {
        "aws_sagemaker_pipeline", "aws_scheduler_schedule", "aws_mwaa_environment",
        "aws_cloudwatch_event_rule", "aws_cloudwatch_event_target", "aws_cloudwatch_metric_alarm",
        "aws_sqs_queue", "aws_sqs_queue_policy", "aws_kms_key", "aws_kms_alias", "aws_iam_role",
    }
    # Run side (serving, routing, monitoring, budget) is applied to moto by test_serving_moto.py
    # from the constructs; in the reference stack it is skipped (see docs/aws-run.md).
    run_side = {
        "aws_sagemaker_model", "aws_sagemaker_endpoint_configuration", "aws_sagemaker_endpoint", "aws_s3_object",
        "aws_appautoscaling_target", "aws_appautoscaling_policy", "aws_route53_zone", "aws_route53_record",
        "aws_route53_health_check", "aws_route53_query_log", "aws_route53_key_signing_key",
        "aws_route53_hosted_zone_dnssec", "aws_cloudwatch_log_resource_policy", "aws_cloudwatch_dashboard",
        "aws_sns_topic", "aws_sns_topic_policy", "aws_sns_topic_subscription", "aws_budgets_budget",
        "aws_sagemaker_data_quality_job_definition", "aws_sagemaker_monitoring_schedule",
    }
    allowed = build_side | automation | run_side
    assert skipped_types <= allowed, skipped_types - allowed
    # Only resources of those kinds, or that depend on them, are skipped: every store, network,
    # registry, secret and training-role resource above was applied and checked.
    assert not any(a.startswith(("aws_s3_bucket.", "aws_vpc.", "aws_ecr_repository.", "aws_secretsmanager_secret."))
                   for a in reference_deployed["skipped"])


def test_vpc_has_private_subnets_and_endpoints(reference_deployed, boto3_client) -> None:
    ec2 = boto3_client("ec2", _region(reference_deployed))
    vpc_id = reference_deployed["outputs"]["network_id"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["10.40.0.0/20", "10.40.16.0/20"]
    assert all(s["MapPublicIpOnLaunch"] is False for s in subnets)
    assert ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"] == []
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
    services = {e["ServiceName"].split(".", 3)[-1]: e for e in endpoints}
    assert services["s3"]["VpcEndpointType"] == "Gateway"
    for name in ("sagemaker.api", "ecr.dkr", "ecr.api", "sts", "logs", "secretsmanager"):
        assert services[name]["VpcEndpointType"] == "Interface" and services[name]["PrivateDnsEnabled"] is True


def test_ecr_repositories_scan_on_push_immutable_kms(reference_deployed, boto3_client) -> None:
    ecr = boto3_client("ecr", _region(reference_deployed))
    repos = {r["repositoryName"]: r for r in ecr.describe_repositories()["repositories"]}
    ours = {n: r for n, r in repos.items() if n.startswith("reference-aws-prod-images/")}
    assert sorted(ours) == ["reference-aws-prod-images/serving", "reference-aws-prod-images/training"]
    for repo in ours.values():
        assert repo["imageScanningConfiguration"] == {"scanOnPush": True}
        assert repo["imageTagMutability"] == "IMMUTABLE"
        assert repo["encryptionConfiguration"]["encryptionType"] == "KMS"
        policy = json.loads(ecr.get_lifecycle_policy(repositoryName=repo["repositoryName"])["lifecyclePolicyText"])
        assert policy["rules"][0]["selection"]["tagStatus"] == "untagged"
    # the contract output: the registry host and each repository's URL
    registry = reference_deployed["outputs"]["container_registry"]
    assert registry["repositories"] == {n.split("/", 1)[1]: r["repositoryUri"] for n, r in ours.items()}
    assert {r["repositoryUri"].split("/", 1)[0] for r in ours.values()} == {registry["url"]}


def test_tracker_secret_exists_without_a_value(reference_deployed, boto3_client) -> None:
    sm = boto3_client("secretsmanager", _region(reference_deployed))
    secret = sm.describe_secret(SecretId="reference-aws-prod-mlflow/wandb-api-key")
    assert secret["KmsKeyId"].startswith("arn:aws:kms:")
    assert not secret.get("VersionIdsToStages")  # created empty: no version, no value in state
    with pytest.raises(sm.exceptions.ResourceNotFoundException):
        sm.get_secret_value(SecretId="reference-aws-prod-mlflow/wandb-api-key")


def test_training_role_and_grants_deployed(reference_deployed, boto3_client) -> None:
    iam = boto3_client("iam")
    role = iam.get_role(RoleName="reference-aws-prod-training-execution")["Role"]
    assert reference_deployed["outputs"]["training_principal"] == role["Arn"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert sorted(trust["Statement"][0]["Principal"]["Service"]) == ["ecs-tasks.amazonaws.com", "sagemaker.amazonaws.com"]
    names = iam.list_role_policies(RoleName="reference-aws-prod-training-execution")["PolicyNames"]
    assert any(n.startswith("reference-aws-prod-data-read-") for n in names)
    assert any(n.startswith("reference-aws-prod-artifacts-write-") for n in names)
    assert any(n.startswith("reference-aws-prod-images-pull-") for n in names)
    assert any(n.startswith("reference-aws-prod-models-write-") for n in names)


def test_model_package_group_deployed(reference_deployed, boto3_client) -> None:
    sagemaker = boto3_client("sagemaker", _region(reference_deployed))
    group = sagemaker.describe_model_package_group(ModelPackageGroupName="reference-aws-prod-models")
    assert group["ModelPackageGroupName"] == "reference-aws-prod-models"
    assert reference_deployed["outputs"]["model_registry"]["id"] == "reference-aws-prod-models"
