"""AWS Tracking: SageMaker MLflow on the artifact store, empty KMS secrets, exact grants."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import DataStore, DataStoreProps, Tracking, TrackingProps
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.resource import Resource
from constructs_lib.core.schema import validate_stack

from .build_helpers import statements

TRUST = '{"Version":"2012-10-17","Statement":[]}'


def build_tracking(build, props: Any) -> tuple[Any, dict[str, Any]]:
    h: dict[str, Any] = {}

    def body(stack, replica):
        h["store"] = DataStore(stack, "Artifacts", DataStoreProps(name="ml-artifacts", access_logging=False))
        h["role"] = Resource(stack, "Trainer", "aws_iam_role", name="trainer", assume_role_policy=TRUST)
        h["t"] = Tracking(stack, "Tracking", props, artifact_store=h["store"])
        (h["access"],) = h["t"].grant_access(h["role"])
        h["secrets"] = h["t"].grant_secret_read(h["role"])

    return build(body), h


@pytest.fixture
def with_wandb(build):
    return build_tracking(build, TrackingProps(name="ml-mlflow", saas_trackers=["wandb", "neptune"]))


def test_schema_valid_and_least_privilege(with_wandb) -> None:
    built, _ = with_wandb
    assert validate_stack(built.doc, stack="aws") == []
    assert audit_stack(built.doc) == []


def test_mlflow_server_on_artifact_store(with_wandb) -> None:
    built, h = with_wandb
    server = built.by_path("aws_sagemaker_mlflow_tracking_server", "aws/Tracking/Resource")
    assert server["tracking_server_size"] == "Small"
    assert server["artifact_store_uri"] == f"s3://{built.ref(h['store'].resource, 'id')}/mlflow"
    assert server["role_arn"] == built.ref(h["t"].role, "arn")
    assert server["automatic_model_registration"] is False
    # the server role gets the store's own grants and nothing else
    role_name = built.ref(h["t"].role, "name")
    policies = [b for b in built.resources("aws_iam_role_policy").values() if b["role"] == role_name]
    assert sorted(b["name"].split("-")[2] for b in policies) == ["read", "write"]


def test_secrets_are_empty_kms_encrypted_and_recoverable(with_wandb) -> None:
    built, h = with_wandb
    assert "aws_secretsmanager_secret_version" not in built.doc["resource"]
    secrets = {s["name"]: s for s in built.resources("aws_secretsmanager_secret").values()}
    assert sorted(secrets) == ["ml-mlflow/neptune-api-key", "ml-mlflow/wandb-api-key"]
    for s in secrets.values():
        assert s["kms_key_id"] == built.ref(h["t"].key.resource, "arn")
        assert s["recovery_window_in_days"] == 30
        assert "secret_string" not in s and "put-secret-value" in s["description"]
    assert sorted(h["t"].secrets) == ["neptune", "wandb"]


def test_grant_secret_read_is_exact(with_wandb) -> None:
    built, h = with_wandb
    (secrets,) = h["secrets"]
    policy = statements(built.by_path("aws_iam_role_policy", secrets.node.path))
    assert policy["ReadTrackerSecrets"]["Action"] == ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"]
    assert sorted(policy["ReadTrackerSecrets"]["Resource"]) == sorted(built.ref(s, "arn") for s in h["t"].secrets.values())
    kms = policy["DecryptTrackerSecrets"]
    assert kms["Action"] == ["kms:Decrypt"]
    assert kms["Condition"] == {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}
    # no one else can read the secrets: only this grant mentions GetSecretValue
    readers = [b for b in built.resources("aws_iam_role_policy").values() if "GetSecretValue" in b["policy"]]
    assert len(readers) == 1


def test_grant_access_scoped_to_the_server(with_wandb) -> None:
    built, h = with_wandb
    policy = statements(built.by_path("aws_iam_role_policy", h["access"].node.path))
    server_arn = built.ref(h["t"].resource, "arn")
    assert policy["LogExperiments"]["Resource"] == server_arn
    assert "sagemaker-mlflow:LogMetric" in policy["LogExperiments"]["Action"]
    assert not any("Delete" in a for a in policy["LogExperiments"]["Action"])
    assert policy["OpenTrackingServer"]["Action"] == [
        "sagemaker:CreatePresignedMlflowTrackingServerUrl", "sagemaker:DescribeMlflowTrackingServer"
    ]


def test_no_trackers_no_key_no_secret_grant(build) -> None:
    built, h = build_tracking(build, TrackingProps(name="ml-mlflow", server_size="large"))
    assert h["secrets"] == [] and h["t"].key is None
    assert "aws_secretsmanager_secret" not in built.doc["resource"]
    server = built.by_path("aws_sagemaker_mlflow_tracking_server", "aws/Tracking/Resource")
    assert server["tracking_server_size"] == "Large"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"saas_trackers": ["tensorboard"]}, "'wandb', 'neptune' or 'comet'"),
        ({"server_size": "huge"}, "'small', 'medium' or 'large'"),
        ({"secret_recovery_window_days": 3}, "greater than or equal to 7"),
    ],
)
def test_props_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TrackingProps(name="ml-mlflow", **kwargs)


def test_artifact_store_must_be_a_data_store(build) -> None:
    with pytest.raises(TypeError, match="artifact_store must be"):
        build(lambda stack, replica: Tracking(stack, "T", TrackingProps(name="ml-mlflow"), artifact_store="bucket"))
