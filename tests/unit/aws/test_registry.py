"""AWS ContainerRegistry and ModelRegistry: scan on push, immutable, CMK, cleanup, approval gate, grants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.resource import Resource
from constructs_lib.core.schema import validate_stack

from .build_helpers import statements

TRUST = '{"Version":"2012-10-17","Statement":[]}'


def build_registries(build, containers: Any = None, models: Any = None) -> tuple[Any, dict[str, Any]]:
    h: dict[str, Any] = {}

    def body(stack, replica):
        h["role"] = Resource(stack, "Trainer", "aws_iam_role", name="trainer", assume_role_policy=TRUST)
        if containers is not None:
            h["c"] = ContainerRegistry(stack, "Images", containers)
        if models is not None:
            h["m"] = ModelRegistry(stack, "Models", models)
        if "c" in h:
            (h["pull"],) = h["c"].grant_pull(h["role"])
            (h["push"],) = h["c"].grant_push("ci-builder")
        if "m" in h:
            (h["write"],) = h["m"].grant_write(h["role"])
            (h["read"],) = h["m"].grant_read("deployer")

    return build(body), h


@pytest.fixture
def both(build):
    return build_registries(build, ContainerRegistryProps(name="ml-images"), ModelRegistryProps(name="ml-models"))


def test_schema_valid_and_least_privilege(both) -> None:
    built, _ = both
    assert validate_stack(built.doc, stack="aws") == []
    assert audit_stack(built.doc) == []


def test_repositories_scan_on_push_immutable_kms(both) -> None:
    built, h = both
    repos = {r["name"]: r for r in built.resources("aws_ecr_repository").values()}
    assert sorted(repos) == ["ml-images/serving", "ml-images/training"]
    for repo in repos.values():
        assert repo["image_scanning_configuration"] == {"scan_on_push": True}
        assert repo["image_tag_mutability"] == "IMMUTABLE"
        assert repo["encryption_configuration"] == [
            {"encryption_type": "KMS", "kms_key": built.ref(h["c"].key.resource, "arn")}
        ]
        assert repo["force_delete"] is False and repo["lifecycle"] == {"prevent_destroy": True}
    assert sorted(h["c"].repositories) == ["serving", "training"]


def test_untagged_images_expire(both) -> None:
    built, _ = both
    policies = built.resources("aws_ecr_lifecycle_policy")
    assert len(policies) == 2
    for p in policies.values():
        (rule,) = json.loads(p["policy"])["rules"]
        assert rule["selection"] == {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}
        assert rule["action"] == {"type": "expire"}


def test_grant_pull_and_push_are_exact(both) -> None:
    built, h = both
    pull = statements(built.by_path("aws_iam_role_policy", h["pull"].node.path))
    assert pull["RegistryLogin"]["Action"] == ["ecr:GetAuthorizationToken"] and pull["RegistryLogin"]["Resource"] == "*"
    assert pull["PullImages"]["Action"] == ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    assert sorted(pull["PullImages"]["Resource"]) == sorted(built.ref(r, "arn") for r in h["c"].repositories.values())
    push = statements(built.by_path("aws_iam_role_policy", h["push"].node.path))
    assert "ecr:PutImage" in push["PushImages"]["Action"] and "ecr:DeleteRepository" not in push["PushImages"]["Action"]
    assert built.by_path("aws_iam_role_policy", h["push"].node.path)["role"] == "ci-builder"
    assert h["c"].grant_pull(h["role"]) == [h["pull"]]  # same principal, same grant


def test_mutable_tags_and_no_scan_when_asked(build) -> None:
    built, _ = build_registries(build, ContainerRegistryProps(name="ml-images", repositories=["x1"], immutable_tags=False,
                                                               scan_on_push=False, deletion_protection=False))
    (repo,) = built.resources("aws_ecr_repository").values()
    assert repo["image_tag_mutability"] == "MUTABLE" and repo["image_scanning_configuration"] == {"scan_on_push": False}
    assert "lifecycle" not in repo


def test_manual_approval_gate(both) -> None:
    built, h = both
    group = built.by_path("aws_sagemaker_model_package_group", "aws/Models/Resource")
    assert group["model_package_group_name"] == "ml-models"
    write = statements(built.by_path("aws_iam_role_policy", h["write"].node.path))
    allowed = {a for s in write.values() if s["Effect"] == "Allow" for a in s["Action"]}
    assert "sagemaker:CreateModelPackage" in allowed
    assert "sagemaker:UpdateModelPackage" not in allowed  # approval stays with people
    deny = write["RegisterOnlyAsPendingManualApproval"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "sagemaker:CreateModelPackage"
    assert deny["Condition"] == {"StringNotEqualsIfExists": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}}
    read = statements(built.by_path("aws_iam_role_policy", h["read"].node.path))
    assert read["ReadVersions"]["Action"] == [
        "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"
    ]


def test_approver_role_requires_mfa_and_may_update(both) -> None:
    built, h = both
    approver = h["m"].approver_principal
    role = built.by_path("aws_iam_role", approver.node.path)
    trust = statements(role, "assume_role_policy")["PeopleOfThisAccountWithMfa"]
    assert trust["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    approve = [b for b in built.resources("aws_iam_role_policy").values()
               if b["role"] == built.ref(approver, "name")]
    (policy,) = approve
    update = statements(policy)["ApproveOrRejectVersions"]
    assert update["Action"] == ["sagemaker:UpdateModelPackage"]
    assert update["Resource"].endswith(":model-package/ml-models/*")


def test_automatic_approval_and_promotion_targets(build) -> None:
    built, h = build_registries(
        build, models=ModelRegistryProps(name="ml-models", approval="automatic", promotion_targets=["111122223333"])
    )
    assert h["m"].approver_principal is None
    write = statements(built.by_path("aws_iam_role_policy", h["write"].node.path))
    assert "sagemaker:UpdateModelPackage" in write["RegisterAndApproveVersions"]["Action"]
    assert "RegisterOnlyAsPendingManualApproval" not in write
    policy = built.by_path("aws_sagemaker_model_package_group_policy", "aws/Models/PromotionPolicy")
    (st,) = statements(policy, "resource_policy").values()
    assert st["Principal"]["AWS"][0].endswith(":iam::111122223333:root")
    assert "sagemaker:UpdateModelPackage" not in st["Action"]


def test_no_promotion_policy_by_default(both) -> None:
    built, h = both
    assert h["m"].policy is None and "aws_sagemaker_model_package_group_policy" not in built.doc["resource"]


def test_promotion_target_must_be_an_account(build) -> None:
    with pytest.raises(ValueError, match="12-digit AWS account id"):
        build_registries(build, models=ModelRegistryProps(name="ml-models", promotion_targets=["prod"]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"repositories": ["Bad_Name"]}, "lowercase letters"),
        ({"repositories": ["aa", "aa"]}, "unique"),
        ({"untagged_expiry_days": 0}, "greater than or equal to 1"),
        ({"repositories": []}, "at least 1"),
    ],
)
def test_container_props_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ContainerRegistryProps(name="ml-images", **kwargs)


def test_model_props_errors() -> None:
    with pytest.raises(ValidationError, match="'manual' or 'automatic'"):
        ModelRegistryProps(name="ml-models", approval="sometimes")


# --------------------------------------------------------------------------- platform: cross-account promotion


def _platform_doc(tmp_path, name: str, promotion_targets: list[str]) -> tuple[Any, dict[str, Any]]:
    from pathlib import Path

    from constructs_lib.core import engine
    from constructs_lib.core.spec import PlatformSpec, load_spec
    from constructs_lib.core.synth import stack_document
    from constructs_lib.platform import build_stack

    example = Path(__file__).resolve().parents[3] / "examples" / "retraining" / "aws.yaml"
    base = load_spec(str(example)).model_dump(exclude_none=True)
    base["registry"] = {"models": {"promotion_targets": promotion_targets}}
    stack = build_stack(engine.App(outdir=str(tmp_path / name)), PlatformSpec.model_validate(base))
    return stack, stack_document(stack)


def _policies(stack: Any, doc: dict[str, Any], store: str) -> tuple[list[dict], list[dict]]:
    """(bucket policy statements, key policy statements) of a platform store, in order."""
    ds = stack.stores[store]
    bucket = doc["resource"]["aws_s3_bucket_policy"][stack.get_logical_id(ds.bucket_policy)]
    key = doc["resource"]["aws_kms_key"][stack.get_logical_id(ds.key.resource)]
    return json.loads(bucket["policy"])["Statement"], json.loads(key["policy"])["Statement"]


def test_promotion_targets_may_read_model_artifacts_and_nothing_else(tmp_path) -> None:
    stack, doc = _platform_doc(tmp_path, "promo", ["444455556666", "111122223333"])
    plain_stack, plain = _platform_doc(tmp_path, "plain", [])
    arn = "${aws_s3_bucket." + stack.get_logical_id(stack.stores["artifacts"].resource) + ".arn}"
    partition = "${data.aws_partition.MlopsAwsPartition.partition}"
    roots = [f"arn:{partition}:iam::111122223333:root", f"arn:{partition}:iam::444455556666:root"]

    bucket, key = _policies(stack, doc, "artifacts")
    plain_bucket, plain_key = _policies(plain_stack, plain, "artifacts")
    # the artifacts store's policies keep every statement and gain exactly these
    assert bucket[: len(plain_bucket)] == plain_bucket and key[: len(plain_key)] == plain_key
    added_bucket, added_key = bucket[len(plain_bucket):], key[len(plain_key):]
    assert [(s["Sid"], s["Effect"], s["Principal"], s["Action"], s["Resource"]) for s in added_bucket] == [
        ("AccountsListModels", "Allow", {"AWS": roots}, ["s3:ListBucket"], arn),
        ("AccountsReadModels", "Allow", {"AWS": roots}, ["s3:GetObject", "s3:GetObjectVersion"], f"{arn}/models/*"),
    ]
    assert added_bucket[0]["Condition"] == {"StringLike": {"s3:prefix": "models/*"}}
    (decrypt,) = added_key
    assert (decrypt["Sid"], decrypt["Principal"], decrypt["Action"], decrypt["Resource"]) == (
        "AccountsDecryptModels", {"AWS": roots}, ["kms:Decrypt"], "*")
    region = "${aws_s3_bucket." + stack.get_logical_id(stack.stores["artifacts"].resource) + ".region}"
    assert decrypt["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{region}.amazonaws.com"}
    # the model package group policy names the same accounts
    (group_policy,) = doc["resource"]["aws_sagemaker_model_package_group_policy"].values()
    (st,) = statements(group_policy, "resource_policy").values()
    assert st["Principal"] == {"AWS": roots}
    # the data store is not opened; nothing else differs in kind
    assert _policies(stack, doc, "data") == _policies(plain_stack, plain, "data")
    everything = json.dumps(doc["resource"])
    assert everything.count("111122223333") == 4  # group policy, two bucket statements, key statement
    assert validate_stack(doc, stack="aws") == [] and audit_stack(doc) == []


def test_without_promotion_targets_no_store_is_opened(tmp_path) -> None:
    stack, doc = _platform_doc(tmp_path, "plain", [])
    assert "aws_sagemaker_model_package_group_policy" not in doc["resource"]
    for store in stack.stores:
        bucket, key = _policies(stack, doc, store)
        assert not [s for s in bucket + key if s["Sid"].startswith("Accounts")]
        assert all(s["Effect"] == "Deny" for s in bucket)
        assert [s["Sid"] for s in key] == ["EnableIamPoliciesOfThisAccount"]
