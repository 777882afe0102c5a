"""AWS FeatureStore: offline store on the data store (its key), optional KMS online store, grants."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import DataStore, DataStoreProps, FeatureStore, FeatureStoreProps
from constructs_lib.core.build_props import FeatureGroupSettings
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.resource import Resource
from constructs_lib.core.schema import validate_stack

from .build_helpers import statements

TRUST = '{"Version":"2012-10-17","Statement":[]}'
GROUP = FeatureGroupSettings(name="customer_features", record_identifier="customer_id",
                             features={"ltv": "fractional", "orders_30d": "integral", "segment": "string"})


def build_features(build, props: Any) -> tuple[Any, dict[str, Any]]:
    h: dict[str, Any] = {}

    def body(stack, replica):
        h["store"] = DataStore(stack, "Data", DataStoreProps(name="ml-data", access_logging=False))
        h["role"] = Resource(stack, "Trainer", "aws_iam_role", name="trainer", assume_role_policy=TRUST)
        h["f"] = FeatureStore(stack, "Features", props, offline_store=h["store"])
        h["read"] = h["f"].grant_read(h["role"])
        h["write"] = h["f"].grant_write("ingest")

    return build(body), h


@pytest.fixture
def online(build):
    return build_features(build, FeatureStoreProps(name="ml-features", online=True, groups=[GROUP]))


def test_schema_valid_and_least_privilege(online) -> None:
    built, _ = online
    assert validate_stack(built.doc, stack="aws") == []
    assert audit_stack(built.doc) == []


def test_feature_group_definitions(online) -> None:
    built, h = online
    group = built.by_path("aws_sagemaker_feature_group", "aws/Features/GroupCustomerFeatures")
    assert group["feature_group_name"] == "ml-features-customer-features"
    assert group["record_identifier_feature_name"] == "customer_id" and group["event_time_feature_name"] == "event_time"
    assert {d["feature_name"]: d["feature_type"] for d in group["feature_definition"]} == {
        "customer_id": "String", "event_time": "String", "ltv": "Fractional", "orders_30d": "Integral", "segment": "String",
    }
    assert group["role_arn"] == built.ref(h["f"].role, "arn") and group["lifecycle"] == {"prevent_destroy": True}


def test_offline_store_on_data_store_with_its_key_and_online_kms(online) -> None:
    built, h = online
    group = built.by_path("aws_sagemaker_feature_group", "aws/Features/GroupCustomerFeatures")
    s3 = group["offline_store_config"]["s3_storage_config"]
    assert s3["s3_uri"] == f"s3://{built.ref(h['store'].resource, 'id')}/feature-store/ml-features"
    assert s3["kms_key_id"] == built.ref(h["store"].key.resource, "arn")
    assert group["online_store_config"] == {
        "enable_online_store": True,
        "security_config": {"kms_key_id": built.ref(h["f"].key.resource, "arn")},
    }


def test_grants_are_exact(online) -> None:
    built, h = online
    data_read, features_read = h["read"]  # the data store's read grant, then the feature-store policy
    assert data_read.node.path.startswith("aws/Data/")
    read = statements(built.by_path("aws_iam_role_policy", features_read.node.path))
    assert read["ReadRecords"]["Action"] == ["sagemaker:BatchGetRecord", "sagemaker:DescribeFeatureGroup", "sagemaker:GetRecord"]
    assert read["ReadOnlineStoreKey"]["Condition"] == {"StringLike": {"kms:ViaService": "sagemaker.*.amazonaws.com"}}
    (write_policy,) = h["write"]
    write = statements(built.by_path("aws_iam_role_policy", write_policy.node.path))
    assert "sagemaker:PutRecord" in write["WriteRecords"]["Action"]
    assert "sagemaker:GetRecord" not in write["WriteRecords"]["Action"]
    # grant_read also grants the offline store (the data store's own read grant)
    trainer = built.ref(h["role"], "name")
    names = sorted(b["name"] for b in built.resources("aws_iam_role_policy").values() if b["role"] == trainer)
    assert any(n.startswith("ml-data-read-") for n in names)


def test_offline_only_has_no_key(build) -> None:
    built, h = build_features(build, FeatureStoreProps(name="ml-features", groups=[GROUP], deletion_protection=False))
    group = built.by_path("aws_sagemaker_feature_group", "aws/Features/GroupCustomerFeatures")
    assert "online_store_config" not in group and "lifecycle" not in group
    assert h["f"].key is None
    read = statements(built.by_path("aws_iam_role_policy", h["read"][-1].node.path))
    assert "ReadOnlineStoreKey" not in read


def test_no_groups_grants_only_offline(build) -> None:
    built, h = build_features(build, FeatureStoreProps(name="ml-features"))
    (offline_read,) = h["read"]  # the data store's read grant only
    assert offline_read.node.path.startswith("aws/Data/") and h["write"] == []
    assert "aws_sagemaker_feature_group" not in built.doc["resource"]


@pytest.mark.parametrize(
    ("group", "message"),
    [
        ({"name": "Bad", "features": {"x": "string"}}, "should match pattern"),
        ({"name": "g1", "features": {}}, "at least 1"),
        ({"name": "g1", "features": {"entity_id": "string"}}, "must not repeat"),
        ({"name": "g1", "features": {"x": "vector"}}, "'string', 'integral' or 'fractional'"),
    ],
)
def test_props_errors(group: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        FeatureStoreProps(name="ml-features", groups=[group])


def test_offline_store_must_be_a_data_store(build) -> None:
    with pytest.raises(TypeError, match="offline_store must be"):
        build(lambda stack, replica: FeatureStore(stack, "F", FeatureStoreProps(name="ml-features"), offline_store="b"))
