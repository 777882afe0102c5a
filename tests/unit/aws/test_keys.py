"""AWS Key: rotation, deletion window, key policy, alias, grants, validation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import Key, KeyProps
from constructs_lib.core.schema import validate_stack

ROOT = (
    "arn:${data.aws_partition.MlopsAwsPartition.partition}:iam::"
    "${data.aws_caller_identity.MlopsAwsCallerIdentity.account_id}:root"
)


def build_key(build, **kwargs: Any):
    holder: dict[str, Any] = {}

    def body(stack, replica):
        provider = replica if kwargs.pop("replica", False) else None
        holder["key"] = Key(stack, "Key", KeyProps(**{"name": "ml-data", **kwargs}), provider=provider)

    built = build(body)
    return built, holder["key"]


def test_key_rotates_and_waits_before_deletion(build) -> None:
    built, key = build_key(build, rotation_days=180, deletion_window_days=14)
    body = built.by_path("aws_kms_key", "aws/Key/Resource")
    assert {k: body[k] for k in (
        "enable_key_rotation", "rotation_period_in_days", "deletion_window_in_days", "is_enabled",
        "key_usage", "customer_master_key_spec",
    )} == {
        "enable_key_rotation": True,
        "rotation_period_in_days": 180,
        "deletion_window_in_days": 14,
        "is_enabled": True,
        "key_usage": "ENCRYPT_DECRYPT",
        "customer_master_key_spec": "SYMMETRIC_DEFAULT",
    }
    assert body["lifecycle"] == {"prevent_destroy": True}
    assert key.key_id == key.resource.ref("arn")


def test_defaults_are_90_day_rotation_and_30_day_window(build) -> None:
    built, _ = build_key(build)
    body = built.by_path("aws_kms_key", "aws/Key/Resource")
    assert (body["rotation_period_in_days"], body["deletion_window_in_days"]) == (90, 30)


def test_key_policy_delegates_to_iam_of_the_own_account_only(build) -> None:
    built, _ = build_key(build)
    doc = json.loads(built.by_path("aws_kms_key", "aws/Key/Resource")["policy"])
    assert doc == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EnableIamPoliciesOfThisAccount",
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }


def test_alias_points_at_the_key(build) -> None:
    built, key = build_key(build)
    alias = built.by_path("aws_kms_alias", "aws/Key/Alias")
    assert alias["name"] == "alias/ml-data" == key.alias_name
    assert alias["target_key_id"] == built.ref(key.resource, "key_id")


def test_key_in_another_region_uses_that_provider_everywhere(build) -> None:
    built, _ = build_key(build, replica=True)
    assert built.by_path("aws_kms_key", "aws/Key/Resource")["provider"] == "aws.replica"
    assert built.by_path("aws_kms_alias", "aws/Key/Alias")["provider"] == "aws.replica"
    policy = built.by_path("aws_kms_key", "aws/Key/Resource")["policy"]
    assert "MlopsAwsCallerIdentity_replica" in policy and "MlopsAwsPartition_replica" in policy
    assert built.doc["data"]["aws_caller_identity"]["MlopsAwsCallerIdentity_replica"]["provider"] == "aws.replica"


def test_deletion_protection_can_be_turned_off(build) -> None:
    built, _ = build_key(build, deletion_protection=False)
    assert "lifecycle" not in built.by_path("aws_kms_key", "aws/Key/Resource")


def test_key_blocks_match_the_bundled_schemas(build) -> None:
    built, _ = build_key(build, replica=True)
    assert validate_stack(built.doc) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "aws/ml"}, "should match pattern"),
        ({"name": "ml data"}, "should match pattern"),
        ({"rotation_days": 30}, "greater than or equal to 90"),
        ({"rotation_days": 3000}, "less than or equal to 2560"),
        ({"deletion_window_days": 5}, "greater than or equal to 7"),
        ({"deletion_window_days": 31}, "less than or equal to 30"),
    ],
)
def test_invalid_settings_are_rejected_with_the_allowed_range(kwargs, message) -> None:
    with pytest.raises(ValidationError, match=message) as err:
        KeyProps(**{"name": "ml-data", **kwargs})
    assert next(iter(kwargs)) in str(err.value)


def test_reserved_aws_alias_prefix_is_rejected_naming_the_construct(build) -> None:
    # KeyProps validation already refuses '/', so build the props unvalidated to reach the
    # construct's own AWS alias check.
    def body(stack, replica):
        Key(stack, "Key", KeyProps.model_construct(name="aws/ml"))

    with pytest.raises(ValueError, match=r"^aws/Key: key name 'aws/ml' .*must not start with 'aws/'"):
        build(body)


def test_key_needs_key_props(build) -> None:
    def body(stack, replica):
        Key(stack, "Key", {"name": "ml-data"})  # type: ignore[arg-type]

    with pytest.raises(TypeError, match=r"^aws/Key: props must be constructs_lib\.core\.props\.KeyProps"):
        build(body)


def test_description_and_tags_reach_the_key(build) -> None:
    built, _ = build_key(build, description="Encrypts features", tags={"team": "ml"})
    body = built.by_path("aws_kms_key", "aws/Key/Resource")
    assert body["description"] == "Encrypts features"
    assert body["tags"] == {"team": "ml"}


def test_add_to_resource_policy_appends_a_named_statement(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        key = holder["key"] = Key(stack, "Key", KeyProps(name="logs"))
        key.add_to_resource_policy(
            {
                "Sid": "AllowCloudWatchLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                "Resource": "*",
            }
        )
        with pytest.raises(ValueError, match="already has a statement"):
            key.add_to_resource_policy({"Sid": "AllowCloudWatchLogs", "Effect": "Allow"})
        with pytest.raises(ValueError, match="needs a Sid"):
            key.add_to_resource_policy({"Effect": "Allow"})

    built = build(body)
    doc = json.loads(built.by_path("aws_kms_key", "aws/Key/Resource")["policy"])
    assert [s["Sid"] for s in doc["Statement"]] == ["EnableIamPoliciesOfThisAccount", "AllowCloudWatchLogs"]


def test_grant_gives_exactly_the_actions_on_this_key(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        key = holder["key"] = Key(stack, "Key", KeyProps(name="ml-data"))
        holder["policy"] = key.grant("trainer", "kms:Decrypt", via_service="s3")
        holder["again"] = key.grant("trainer", "kms:Decrypt", via_service="s3")

    built = build(body)
    assert holder["policy"] is holder["again"]
    body = built.by_path("aws_iam_role_policy", holder["policy"].node.path)
    assert body["role"] == "trainer"
    assert json.loads(body["policy"])["Statement"] == [
        {
            "Sid": "UseKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": built.ref(holder["key"].resource, "arn"),
            "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
        }
    ]


@pytest.mark.parametrize("actions", [(), ("kms:*",), ("s3:GetObject",), ("kms:Decrypt", "kms:Re*")])
def test_grant_refuses_wildcards_and_foreign_actions(build, actions) -> None:
    def body(stack, replica):
        Key(stack, "Key", KeyProps(name="ml-data")).grant("trainer", *actions)

    with pytest.raises(ValueError, match="explicit kms: actions"):
        build(body)
