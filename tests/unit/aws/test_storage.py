"""AWS DataStore: synthesized JSON, props validation, grants, schema validity and checkov."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import DataStore, DataStoreProps, Key
from constructs_lib.aws.storage import ACCESS_LOG_PREFIX, DEFAULT_REPLICA_RTO_MINUTES
from constructs_lib.core.acknowledge import Acknowledge
from constructs_lib.core.props import EncryptionProps, LifecycleProps, ReplicationProps
from constructs_lib.core.recovery import Recovery
from constructs_lib.core.resource import Resource
from constructs_lib.core.schema import validate_stack
from constructs_lib.core.tags import Tags

from .conftest import REPLICA_REGION, Built

ACCOUNT = "${data.aws_caller_identity.MlopsAwsCallerIdentity.account_id}"
REPLICA_ACCOUNT = "${data.aws_caller_identity.MlopsAwsCallerIdentity_replica.account_id}"
SUPPLIED_KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _store(built_holder: dict[str, Any], props: DataStoreProps, **kwargs: Any):
    def body(stack, replica):
        if getattr(props, "replication", None) is not None and "replica_provider" not in kwargs:
            kwargs["replica_provider"] = replica
        built_holder["ds"] = DataStore(stack, "Data", props, **kwargs)

    return body


def build_store(build, props: DataStoreProps | None = None, **kwargs: Any) -> tuple[Built, DataStore]:
    holder: dict[str, Any] = {}
    built = build(_store(holder, props or DataStoreProps(name="ml-data"), **kwargs))
    return built, holder["ds"]


def replicated(**kwargs: Any) -> DataStoreProps:
    return DataStoreProps(name="ml-data", replication=ReplicationProps(region=REPLICA_REGION), **kwargs)


def policy(body: dict[str, Any]) -> dict[str, Any]:
    return json.loads(body["policy"])


def statements(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in policy(body)["Statement"]}


# --------------------------------------------------------------------------- what is emitted


def test_default_store_emits_exactly_these_resource_types(build) -> None:
    built, _ = build_store(build)
    assert sorted(built.doc["resource"]) == [
        "aws_kms_alias",
        "aws_kms_key",
        "aws_s3_bucket",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_logging",
        "aws_s3_bucket_notification",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_versioning",
    ]
    assert len(built.resources("aws_s3_bucket")) == 2  # data + access logs
    assert sorted(built.doc["data"]) == ["aws_caller_identity", "aws_partition"]


@pytest.mark.parametrize("props", [DataStoreProps(name="ml-data"), replicated()], ids=["single", "replicated"])
def test_every_block_matches_both_bundled_aws_schemas(build, props) -> None:
    built, _ = build_store(build, props)
    assert validate_stack(built.doc, stack="aws") == []


def test_bucket_name_is_unique_per_account_and_protected(build) -> None:
    built, ds = build_store(build)
    bucket = built.by_path("aws_s3_bucket", "aws/Data/Resource")
    assert bucket["bucket"] == f"ml-data-{ACCOUNT}"
    assert bucket["force_destroy"] is False
    assert bucket["lifecycle"] == {"prevent_destroy": True}
    assert ds.resource.terraform_resource_type == "aws_s3_bucket"
    assert built.ref(ds.resource, "id") in json.dumps(built.by_path("aws_s3_bucket_versioning", "aws/Data/Versioning"))


def test_public_attributes_resolve_to_the_bucket_and_key(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        ds = holder["ds"] = DataStore(stack, "Data", DataStoreProps(name="ml-data"))
        Resource(stack, "Probe", "aws_ssm_parameter", name="probe", type="String",
                 value=f"{ds.store_name}|{ds.store_id}|{ds.key_id}")

    built = build(body)
    ds = holder["ds"]
    probe = built.by_path("aws_ssm_parameter", "aws/Probe")
    assert probe["value"] == "|".join(
        [built.ref(ds.resource, "id"), built.ref(ds.resource, "arn"), built.ref(ds.key.resource, "arn")]
    )
    assert isinstance(ds.key, Key) and ds.replica is None and ds.replica_key is None
    assert ds.recovery == Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)


def test_deletion_protection_off_removes_prevent_destroy_everywhere(build) -> None:
    built, _ = build_store(build, replicated(deletion_protection=False))
    for tf_type in ("aws_s3_bucket", "aws_kms_key"):
        for name, body in built.resources(tf_type).items():
            assert "lifecycle" not in body, name


def test_every_stateful_resource_is_protected_by_default(build) -> None:
    built, _ = build_store(build, replicated())
    buckets = built.resources("aws_s3_bucket")
    keys = built.resources("aws_kms_key")
    assert len(buckets) == 4 and len(keys) == 2
    for name, body in {**buckets, **keys}.items():
        assert body["lifecycle"] == {"prevent_destroy": True}, name


# --------------------------------------------------------------------------- bucket settings


@pytest.mark.parametrize(("versioning", "status"), [(True, "Enabled"), (False, "Suspended")])
def test_versioning_follows_props(build, versioning, status) -> None:
    built, _ = build_store(build, DataStoreProps(name="ml-data", versioning=versioning))
    body = built.by_path("aws_s3_bucket_versioning", "aws/Data/Versioning")
    assert body["versioning_configuration"] == {"status": status}
    # the log bucket is always versioned
    logs = built.by_path("aws_s3_bucket_versioning", "aws/Data/AccessLogs/Versioning")
    assert logs["versioning_configuration"] == {"status": "Enabled"}


def test_default_encryption_is_sse_kms_with_the_created_key(build) -> None:
    built, ds = build_store(build)
    body = built.by_path("aws_s3_bucket_server_side_encryption_configuration", "aws/Data/Encryption")
    assert body["rule"] == [
        {
            "apply_server_side_encryption_by_default": {
                "sse_algorithm": "aws:kms",
                "kms_master_key_id": built.ref(ds.key.resource, "arn"),
            },
            "bucket_key_enabled": True,
        }
    ]


def test_supplied_key_is_used_and_no_key_is_created(build) -> None:
    built, ds = build_store(build, DataStoreProps(name="ml-data", encryption=EncryptionProps(key_id=SUPPLIED_KEY)))
    assert built.resources("aws_kms_key") == {}
    assert ds.key is None and ds.key_id == SUPPLIED_KEY
    body = built.by_path("aws_s3_bucket_server_side_encryption_configuration", "aws/Data/Encryption")
    assert body["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"] == SUPPLIED_KEY


def test_public_access_blocked_and_acls_disabled_on_every_bucket(build) -> None:
    built, _ = build_store(build, replicated())
    blocks = built.resources("aws_s3_bucket_public_access_block")
    ownership = built.resources("aws_s3_bucket_ownership_controls")
    assert len(blocks) == len(ownership) == len(built.resources("aws_s3_bucket")) == 4
    for body in blocks.values():
        assert {k: body[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                     "restrict_public_buckets")} == dict.fromkeys(
            ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"), True
        )
    for body in ownership.values():
        assert body["rule"] == {"object_ownership": "BucketOwnerEnforced"}


def test_bucket_policy_denies_plain_http_old_tls_and_other_encryption(build) -> None:
    built, ds = build_store(build)
    arn = built.ref(ds.resource, "arn")
    key = built.ref(ds.key.resource, "arn")
    body = built.by_path("aws_s3_bucket_policy", "aws/Data/Policy")
    sids = statements(body)
    assert set(sids) == {"DenyInsecureTransport", "DenyTlsOlderThan12", "DenyUploadsWithoutKms",
                         "DenyUploadsWithAnotherKey"}
    assert all(s["Effect"] == "Deny" and s["Principal"] == "*" for s in sids.values())
    assert sids["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert sids["DenyInsecureTransport"]["Resource"] == [arn, f"{arn}/*"]
    assert sids["DenyTlsOlderThan12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}
    assert sids["DenyUploadsWithoutKms"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
    }
    assert sids["DenyUploadsWithAnotherKey"]["Condition"] == {
        "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key}
    }
    data = built.stack.node.find_child("Data")
    assert body["depends_on"] == [built.address(data.node.find_child("PublicAccessBlock"))]


def test_replica_policy_is_tls_only_and_kms_only_without_pinning_the_key(build) -> None:
    built, ds = build_store(build, replicated())
    sids = statements(built.by_path("aws_s3_bucket_policy", "aws/Data/Replica/Policy"))
    assert set(sids) == {"DenyInsecureTransport", "DenyTlsOlderThan12", "DenyUploadsWithoutKms"}
    assert sids["DenyInsecureTransport"]["Resource"] == [built.ref(ds.replica, "arn"), f"{built.ref(ds.replica, 'arn')}/*"]


def test_lifecycle_rules_use_the_days_from_props(build) -> None:
    lifecycle = LifecycleProps(
        infrequent_access_after_days=45,
        archive_after_days=400,
        noncurrent_version_expiry_days=21,
        abort_incomplete_upload_days=2,
    )
    built, _ = build_store(build, DataStoreProps(name="ml-data", lifecycle=lifecycle))
    rules = {r["id"]: r for r in built.by_path("aws_s3_bucket_lifecycle_configuration", "aws/Data/Lifecycle")["rule"]}
    assert rules == {
        "tiering": {
            "id": "tiering",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "transition": [{"days": 45, "storage_class": "STANDARD_IA"}, {"days": 400, "storage_class": "GLACIER_IR"}],
        },
        "expire-noncurrent-versions": {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {"noncurrent_days": 21},
        },
        "abort-incomplete-uploads": {
            "id": "abort-incomplete-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 2},
        },
    }


def test_lifecycle_tiering_can_be_turned_off(build) -> None:
    only_archive = LifecycleProps(infrequent_access_after_days=None, archive_after_days=90)
    built, _ = build_store(build, DataStoreProps(name="ml-data", lifecycle=only_archive))
    rules = {r["id"]: r for r in built.by_path("aws_s3_bucket_lifecycle_configuration", "aws/Data/Lifecycle")["rule"]}
    assert rules["tiering"]["transition"] == [{"days": 90, "storage_class": "GLACIER_IR"}]

    hot = LifecycleProps(infrequent_access_after_days=None, archive_after_days=None)
    built, _ = build_store(build, DataStoreProps(name="ml-data2", lifecycle=hot))
    rules = {r["id"] for r in built.by_path("aws_s3_bucket_lifecycle_configuration", "aws/Data/Lifecycle")["rule"]}
    assert rules == {"expire-noncurrent-versions", "abort-incomplete-uploads"}


def test_eventbridge_notifications_on_the_data_bucket(build) -> None:
    built, ds = build_store(build)
    body = built.by_path("aws_s3_bucket_notification", "aws/Data/Notifications")
    assert body == {**body, "bucket": built.ref(ds.resource, "id"), "eventbridge": True}


# --------------------------------------------------------------------------- access logging


def test_access_logs_go_to_a_dedicated_sse_s3_bucket_only_s3_logging_can_write(build) -> None:
    built, ds = build_store(build)
    log_bucket = built.by_path("aws_s3_bucket", "aws/Data/AccessLogs/Resource")
    assert log_bucket["bucket"] == f"ml-data-{ACCOUNT}-logs"
    assert ds.log_bucket is not None
    logging = built.by_path("aws_s3_bucket_logging", "aws/Data/AccessLogging")
    assert logging["bucket"] == built.ref(ds.resource, "id")
    assert logging["target_bucket"] == built.ref(ds.log_bucket, "id")
    assert logging["target_prefix"] == ACCESS_LOG_PREFIX
    sse = built.by_path("aws_s3_bucket_server_side_encryption_configuration", "aws/Data/AccessLogs/Encryption")
    assert sse["rule"] == [{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}]
    sids = statements(built.by_path("aws_s3_bucket_policy", "aws/Data/AccessLogs/Policy"))
    log_arn = built.ref(ds.log_bucket, "arn")
    assert sids["AllowServerAccessLogDelivery"] == {
        "Sid": "AllowServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": f"{log_arn}/{ACCESS_LOG_PREFIX}*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": built.ref(ds.resource, "arn")},
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
        },
    }
    assert sids["DenyInsecureTransport"]["Effect"] == "Deny"
    lifecycle = built.by_path("aws_s3_bucket_lifecycle_configuration", "aws/Data/AccessLogs/Lifecycle")
    assert lifecycle["rule"][0]["expiration"] == {"days": 365}


def test_access_logging_off_emits_no_log_bucket(build) -> None:
    built, ds = build_store(build, DataStoreProps(name="ml-data", access_logging=False))
    assert ds.log_bucket is None
    assert built.resources("aws_s3_bucket_logging") == {}
    assert len(built.resources("aws_s3_bucket")) == 1


# --------------------------------------------------------------------------- replication


def test_replication_needs_a_replica_provider(build) -> None:
    with pytest.raises(ValueError, match="replica_provider"):
        build_store(build, replicated(), replica_provider=None)


def test_replica_bucket_and_key_live_in_the_replica_region(build) -> None:
    built, ds = build_store(build, replicated())
    replica = built.by_path("aws_s3_bucket", "aws/Data/Replica/Resource")
    assert replica["provider"] == "aws.replica"
    assert replica["bucket"] == f"ml-data-{REPLICA_ACCOUNT}-dr"
    key = built.by_path("aws_kms_key", "aws/Data/Replica/Key/Resource")
    assert key["provider"] == "aws.replica" and key["enable_key_rotation"] is True
    sse = built.by_path("aws_s3_bucket_server_side_encryption_configuration", "aws/Data/Replica/Encryption")
    assert sse["rule"][0]["apply_server_side_encryption_by_default"]["kms_master_key_id"] == built.ref(
        ds.replica_key.resource, "arn"
    )
    for path in ("Versioning", "PublicAccessBlock", "Ownership", "Policy", "Lifecycle", "Encryption"):
        tf_type = {
            "Versioning": "aws_s3_bucket_versioning",
            "PublicAccessBlock": "aws_s3_bucket_public_access_block",
            "Ownership": "aws_s3_bucket_ownership_controls",
            "Policy": "aws_s3_bucket_policy",
            "Lifecycle": "aws_s3_bucket_lifecycle_configuration",
            "Encryption": "aws_s3_bucket_server_side_encryption_configuration",
        }[path]
        assert built.by_path(tf_type, f"aws/Data/Replica/{path}")["provider"] == "aws.replica", path
    assert built.by_path("aws_s3_bucket_versioning", "aws/Data/Replica/Versioning")["versioning_configuration"] == {
        "status": "Enabled"
    }
    replica_logs = built.by_path("aws_s3_bucket_logging", "aws/Data/Replica/AccessLogging")
    assert replica_logs["provider"] == "aws.replica"
    assert ds.replica is not None
    assert ds.recovery == Recovery(rpo_minutes=15, rto_minutes=DEFAULT_REPLICA_RTO_MINUTES, replica_region=REPLICA_REGION)


def test_replication_configuration_with_rtc_delete_markers_and_kms(build) -> None:
    built, ds = build_store(build, replicated())
    body = built.by_path("aws_s3_bucket_replication_configuration", "aws/Data/Replication")
    assert "provider" not in body  # configured on the source bucket, in the primary region
    assert body["bucket"] == built.ref(ds.resource, "id")
    role = built.stack.node.find_child("Data").node.find_child("ReplicationRole")
    assert body["role"] == built.ref(role, "arn")
    assert body["rule"] == [
        {
            "id": "replicate-everything",
            "priority": 1,
            "status": "Enabled",
            "filter": {"prefix": ""},
            "delete_marker_replication": {"status": "Enabled"},
            "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
            "destination": {
                "bucket": built.ref(ds.replica, "arn"),
                "storage_class": "STANDARD",
                "encryption_configuration": {"replica_kms_key_id": built.ref(ds.replica_key.resource, "arn")},
                "replication_time": {"status": "Enabled", "time": {"minutes": 15}},
                "metrics": {"status": "Enabled", "event_threshold": {"minutes": 15}},
            },
        }
    ]
    data = built.stack.node.find_child("Data")
    assert body["depends_on"] == [
        built.address(data.node.find_child("Versioning")),
        built.address(data.node.find_child("Replica").node.find_child("Versioning")),
        built.address(data.node.find_child("ReplicationPolicy")),
    ]


def test_replication_role_is_least_privilege(build) -> None:
    built, ds = build_store(build, replicated())
    src, dst = built.ref(ds.resource, "arn"), built.ref(ds.replica, "arn")
    role = built.by_path("aws_iam_role", "aws/Data/ReplicationRole")
    assert role["name"] == "ml-data-s3-replication"
    (trust,) = policy({"policy": role["assume_role_policy"]})["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}, "ArnLike": {"aws:SourceArn": src}}
    sids = statements(built.by_path("aws_iam_role_policy", "aws/Data/ReplicationPolicy"))
    assert {sid: (s["Action"], s["Resource"]) for sid, s in sids.items()} == {
        "ReadReplicationConfiguration": (["s3:GetReplicationConfiguration", "s3:ListBucket"], src),
        "ReadSourceObjectVersions": (
            ["s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication", "s3:GetObjectVersionTagging"],
            f"{src}/*",
        ),
        "WriteReplicas": (["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"], f"{dst}/*"),
        "DecryptSourceObjects": (["kms:Decrypt"], built.ref(ds.key.resource, "arn")),
        "EncryptReplicas": (["kms:Encrypt", "kms:GenerateDataKey"], built.ref(ds.replica_key.resource, "arn")),
    }
    assert sids["DecryptSourceObjects"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{built.ref(ds.resource, 'region')}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [src, f"{src}/*"]},
    }
    assert sids["EncryptReplicas"]["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": [dst, f"{dst}/*"]
    }


def test_replication_without_versioning_is_rejected_by_props() -> None:
    with pytest.raises(ValidationError, match="replication needs versioning"):
        DataStoreProps(name="ml-data", versioning=False, replication=ReplicationProps(region=REPLICA_REGION))


# --------------------------------------------------------------------------- props validation


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "ML_Data"}, "String should match pattern"),
        ({"name": "ml-data", "colour": "red"}, "Extra inputs are not permitted"),
        ({"name": "ml-data", "lifecycle": {"infrequent_access_after_days": 10}}, "at least 30"),
        ({"name": "ml-data", "lifecycle": {"infrequent_access_after_days": 60, "archive_after_days": 60}},
         "must be greater than"),
        ({"name": "ml-data", "encryption": {"rotation_days": 30}}, "greater than or equal to 90"),
        ({"name": "ml-data", "replication": {"region": "eu-central-1", "rpo_minutes": 5}}, "greater than or equal to 15"),
    ],
)
def test_props_errors_say_what_to_change(kwargs, message) -> None:
    with pytest.raises(ValidationError, match=message):
        DataStoreProps(**kwargs)


def test_reserved_bucket_prefix_is_rejected(build) -> None:
    with pytest.raises(ValueError, match="prefix S3 reserves"):
        build_store(build, DataStoreProps(name="xn--data"))


@pytest.mark.parametrize("key_id", ["alias/my-key", "1234abcd-12ab-34cd-56ef-1234567890ab",
                                    "arn:aws:kms:eu-west-1:111122223333:alias/my-key"])
def test_supplied_key_must_be_a_key_arn(build, key_id) -> None:
    with pytest.raises(ValueError, match="must be a KMS key ARN"):
        build_store(build, DataStoreProps(name="ml-data", encryption=EncryptionProps(key_id=key_id)))


def test_props_must_be_data_store_props(build) -> None:
    with pytest.raises(TypeError, match="DataStoreProps"):
        build_store(build, {"name": "ml-data"})  # type: ignore[arg-type]


# --------------------------------------------------------------------------- grants


def test_grant_read_is_exactly_list_get_and_decrypt(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        ds = holder["ds"] = DataStore(stack, "Data", DataStoreProps(name="ml-data"))
        (holder["policy"],) = ds.grant_read("trainer")

    built = build(body)
    ds = holder["ds"]
    arn, key = built.ref(ds.resource, "arn"), built.ref(ds.key.resource, "arn")
    body = built.by_path("aws_iam_role_policy", holder["policy"].node.path)
    assert body["role"] == "trainer"
    assert body["name"].startswith("ml-data-read-")
    assert policy(body) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ReadBucket", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": arn},
            {"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjectVersion"],
             "Resource": f"{arn}/*"},
            {"Sid": "ReadKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": key,
             "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
        ],
    }


def test_grant_write_to_a_role_resource_is_exactly_put_delete_abort_and_encrypt(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        role = holder["role"] = Resource(stack, "Trainer", "aws_iam_role", name="trainer",
                                         assume_role_policy="{}")
        ds = holder["ds"] = DataStore(stack, "Data", DataStoreProps(name="ml-data"))
        (holder["policy"],) = ds.grant_write(role)

    built = build(body)
    ds = holder["ds"]
    arn, key = built.ref(ds.resource, "arn"), built.ref(ds.key.resource, "arn")
    body = built.by_path("aws_iam_role_policy", holder["policy"].node.path)
    assert body["role"] == built.ref(holder["role"], "name")
    assert policy(body)["Statement"] == [
        {"Sid": "WriteObjects", "Effect": "Allow",
         "Action": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"], "Resource": f"{arn}/*"},
        {"Sid": "WriteKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key,
         "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}}},
    ]


def test_grants_are_idempotent_per_principal_and_distinct_across_principals(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        ds = DataStore(stack, "Data", DataStoreProps(name="ml-data"))
        (holder["a"],) = ds.grant_read("trainer")
        (holder["b"],) = ds.grant_read("trainer")
        (holder["c"],) = ds.grant_read("scorer")

    built = build(body)
    assert holder["a"] is holder["b"] and holder["a"] is not holder["c"]
    assert sorted(b["role"] for b in built.resources("aws_iam_role_policy").values()) == ["scorer", "trainer"]


def test_grants_with_a_supplied_key_name_that_key(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        ds = DataStore(stack, "Data", DataStoreProps(name="ml-data", encryption=EncryptionProps(key_id=SUPPLIED_KEY)))
        (holder["policy"],) = ds.grant_read("trainer")

    built = build(body)
    sids = statements(built.by_path("aws_iam_role_policy", holder["policy"].node.path))
    assert sids["ReadKey"]["Resource"] == SUPPLIED_KEY


@pytest.mark.parametrize(
    ("principal", "error"),
    [
        ("arn:aws:iam::111122223333:role/trainer", ValueError),
        ("", ValueError),
        (42, TypeError),
    ],
)
def test_grant_rejects_what_is_not_a_role(build, principal, error) -> None:
    def body(stack, replica):
        DataStore(stack, "Data", DataStoreProps(name="ml-data")).grant_read(principal)

    with pytest.raises(error):
        build(body)


def test_grant_rejects_a_resource_that_is_not_a_role(build) -> None:
    def body(stack, replica):
        user = Resource(stack, "User", "aws_iam_user", name="someone")
        DataStore(stack, "Data", DataStoreProps(name="ml-data")).grant_read(user)

    with pytest.raises(TypeError, match="aws_iam_user"):
        build(body)


PARTITION = "${data.aws_partition.MlopsAwsPartition.partition}"


def test_grant_account_read_opens_one_prefix_to_account_roots(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        ds = holder["ds"] = DataStore(stack, "Data", DataStoreProps(name="ml-data"))
        holder["policy"] = ds.grant_account_read(["444455556666", "111122223333", "444455556666"], prefix="models/")

    built = build(body)
    ds = holder["ds"]
    assert holder["policy"] == [ds.bucket_policy, ds.key.resource]  # the statements are in both
    arn = built.ref(ds.resource, "arn")
    roots = [f"arn:{PARTITION}:iam::111122223333:root", f"arn:{PARTITION}:iam::444455556666:root"]
    sids = statements(built.by_path("aws_s3_bucket_policy", "aws/Data/Policy"))
    # the secure defaults stay, two read statements are added
    assert set(sids) == {"DenyInsecureTransport", "DenyTlsOlderThan12", "DenyUploadsWithoutKms",
                         "DenyUploadsWithAnotherKey", "AccountsListModels", "AccountsReadModels"}
    assert sids["AccountsListModels"] == {
        "Sid": "AccountsListModels", "Effect": "Allow", "Principal": {"AWS": roots},
        "Action": ["s3:ListBucket"], "Resource": arn,
        "Condition": {"StringLike": {"s3:prefix": "models/*"}},
    }
    assert sids["AccountsReadModels"] == {
        "Sid": "AccountsReadModels", "Effect": "Allow", "Principal": {"AWS": roots},
        "Action": ["s3:GetObject", "s3:GetObjectVersion"], "Resource": f"{arn}/models/*",
    }
    key_sids = statements(built.by_path("aws_kms_key", "aws/Data/Key/Resource"))
    assert set(key_sids) == {"EnableIamPoliciesOfThisAccount", "AccountsDecryptModels"}
    assert key_sids["AccountsDecryptModels"] == {
        "Sid": "AccountsDecryptModels", "Effect": "Allow", "Principal": {"AWS": roots},
        "Action": ["kms:Decrypt"], "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:ViaService": f"s3.{built.ref(ds.resource, 'region')}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [arn, f"{arn}/models/*"]},
        },
    }
    assert validate_stack(built.doc, stack="aws") == []
    from constructs_lib.core.iam_audit import audit_stack

    assert audit_stack(built.doc) == []


def test_grant_account_read_is_idempotent_and_refuses_conflicts(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        ds = holder["ds"] = DataStore(stack, "Data", DataStoreProps(name="ml-data"))
        ds.grant_account_read(["111122223333"], prefix="models/")
        ds.grant_account_read(["111122223333"], prefix="models/")  # same grant: nothing added
        ds.grant_account_read(["111122223333"], prefix="reports/2024/")

    built = build(body)
    sids = [s["Sid"] for s in policy(built.by_path("aws_s3_bucket_policy", "aws/Data/Policy"))["Statement"]]
    assert sids[-4:] == ["AccountsListModels", "AccountsReadModels", "AccountsListReports2024", "AccountsReadReports2024"]
    assert len(sids) == len(set(sids)) == 8
    ds = holder["ds"]
    with pytest.raises(ValueError, match="already readable by accounts"):
        ds.grant_account_read(["444455556666"], prefix="models/")
    with pytest.raises(ValueError, match="same statement id"):
        ds.grant_account_read(["111122223333"], prefix="reports-2024/")


@pytest.mark.parametrize(
    ("accounts", "prefix", "message"),
    [
        ([], "models/", "at least one AWS account id"),
        (["prod"], "models/", "not a 12-digit AWS account id"),
        (["arn:aws:iam::111122223333:root"], "models/", "not a 12-digit AWS account id"),
        (["111122223333"], "models", "ending in '/'"),
        (["111122223333"], "models/*", "no wildcards"),
        (["111122223333"], "/models/", "key prefix"),
        (["111122223333"], "", "key prefix"),
    ],
)
def test_grant_account_read_errors(build, accounts, prefix, message) -> None:
    def body(stack, replica):
        DataStore(stack, "Data", DataStoreProps(name="ml-data")).grant_account_read(accounts, prefix=prefix)

    with pytest.raises(ValueError, match=message):
        build(body)


def test_grant_account_read_with_a_supplied_key_leaves_that_key_alone(build) -> None:
    def body(stack, replica):
        ds = DataStore(stack, "Data", DataStoreProps(name="ml-data", encryption=EncryptionProps(key_id=SUPPLIED_KEY)))
        ds.grant_account_read(["111122223333"], prefix="models/")

    built = build(body)
    assert "aws_kms_key" not in built.doc["resource"]  # its owner adds the decrypt statement
    assert {"AccountsListModels", "AccountsReadModels"} <= set(
        statements(built.by_path("aws_s3_bucket_policy", "aws/Data/Policy")))


def test_replica_is_not_opened_to_other_accounts(build) -> None:
    def body(stack, replica):
        ds = DataStore(stack, "Data", replicated(), replica_provider=replica)
        ds.grant_account_read(["111122223333"], prefix="models/")

    built = build(body)
    assert all(not sid.startswith("Accounts")
               for sid in statements(built.by_path("aws_s3_bucket_policy", "aws/Data/Replica/Policy")))
    assert all(not sid.startswith("Accounts")
               for sid in statements(built.by_path("aws_kms_key", "aws/Data/Replica/Key/Resource")))


def test_no_iam_wildcard_allow_anywhere(build) -> None:
    def body(stack, replica):
        ds = DataStore(stack, "Data", replicated(), replica_provider=replica)
        ds.grant_read("trainer")
        ds.grant_write("trainer")

    built = build(body)
    documents = [policy(b) for b in built.resources("aws_iam_role_policy").values()]
    documents += [policy(b) for b in built.resources("aws_s3_bucket_policy").values()]
    checked = 0
    for doc in documents:
        for s in doc["Statement"]:
            if s["Effect"] != "Allow":
                continue
            actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
            resources = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
            assert not any("*" in a for a in actions), s
            assert "*" not in resources, s
            checked += 1
    assert checked >= 10


# --------------------------------------------------------------------------- tags, determinism


def test_tags_reach_every_taggable_resource(build) -> None:
    built, ds = build_store(build, replicated(tags={"team": "ml", "cost-center": "42"}))
    assert Tags.of(ds.resource).effective() == {"cost-center": "42", "team": "ml"}
    for tf_type in ("aws_s3_bucket", "aws_kms_key", "aws_iam_role"):
        for name, body in built.resources(tf_type).items():
            assert body["tags"] == {"cost-center": "42", "team": "ml"}, name


def test_output_is_deterministic_and_has_no_local_paths(build, tmp_path) -> None:
    first, _ = build_store(build, replicated())
    second, _ = build_store(build, replicated())
    one, two = json.dumps(first.doc, sort_keys=True), json.dumps(second.doc, sort_keys=True)
    assert one == two
    assert str(tmp_path) not in one and "/tmp" not in one


# --------------------------------------------------------------------------- checkov


def _checkov_findings(doc: dict[str, Any], tmp_path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    import subprocess

    from constructs_lib.core.scan import checkov_command

    target = tmp_path / "scan" / "cdk.tf.json"
    target.parent.mkdir()
    target.write_text(json.dumps(doc, indent=2))
    proc = subprocess.run(
        [*checkov_command(), "-f", str(target), "--framework", "terraform_json", "--skip-download",
         "--compact", "--quiet", "-o", "json"],
        capture_output=True, text=True, check=False,
    )
    report = json.loads(proc.stdout)
    report = report[0] if isinstance(report, list) else report
    return report["results"].get("failed_checks", []), report["summary"]


@pytest.mark.slow
def test_checkov_finds_nothing_unacknowledged(build, tmp_path) -> None:
    pytest.importorskip("checkov", reason="checkov is not installed (pip install checkov==3.3.*)")
    holder: dict[str, Any] = {}

    def body(stack, replica):
        holder["single"] = DataStore(stack, "Single", DataStoreProps(name="ml-single"))
        repl = holder["repl"] = DataStore(stack, "Repl", replicated(tags={"team": "ml"}), replica_provider=replica)
        repl.grant_read("trainer")
        repl.grant_write("trainer")
        repl.grant_account_read(["111122223333"], prefix="models/")

    built = build(body)
    failed, summary = _checkov_findings(built.doc, tmp_path)
    assert summary["parsing_errors"] == 0 and summary["passed"] > 50, summary

    constructs = {c.node.path: c for c in built.stack.node.find_all()}
    unacknowledged, used = [], set()
    for f in failed:
        tf_type, name = f["resource"].split(".")[-2:]
        path = built.doc["resource"][tf_type][name]["//"]["metadata"]["path"]
        acks = {a.check_id: a.reason for a in Acknowledge.of(constructs[path]).effective()}
        if f["check_id"] in acks and acks[f["check_id"]].strip():
            used.add((f["check_id"], path))
        else:
            unacknowledged.append(f"{f['check_id']} on {path}: {f['check_name']}")
    assert unacknowledged == []
    # every acknowledgement the construct makes is needed (no stale ones) and carries a reason
    declared = {
        (a.check_id, c.node.path)
        for c in built.stack.node.find_all()
        for a in Acknowledge.of(c).own
    }
    assert declared, "expected the log buckets and the single-region bucket to acknowledge findings"
    for check_id, scope in declared:
        assert any(cid == check_id and (p == scope or p.startswith(scope + "/")) for cid, p in used), (
            f"acknowledgement of {check_id} on {scope} matches no checkov finding"
        )


# ------------------------------------------------------------------- prefix copies (serving regions)


def test_replicate_prefix_adds_a_rule_and_a_destination(build) -> None:
    """A prefix copy to a store in another region: one more rule (and destination) of the source's
    replication configuration, the replication role may write there and use the copy's key."""
    holder: dict[str, Any] = {}

    def body(stack, replica):
        from constructs_lib.core.providers import declare_provider

        tokyo = declare_provider(stack, "aws", alias="r2", region="ap-northeast-1")
        src = DataStore(stack, "Data", replicated(), replica_provider=replica)
        copy = DataStore(stack, "Tokyo", DataStoreProps(name="ml-serving-tokyo", access_logging=False), provider=tokyo)
        src.replicate_prefix("models/", copy, region="ap-northeast-1")
        holder.update(src=src, copy=copy)

    built = build(body)
    src, copy = holder["src"], holder["copy"]
    rules = built.by_path("aws_s3_bucket_replication_configuration", "aws/Data/Replication")["rule"]
    assert [(r["id"], r["priority"], r["filter"]) for r in rules] == [
        ("replicate-everything", 1, {"prefix": ""}),
        ("models-to-ap-northeast-1", 2, {"prefix": "models/"}),
    ]
    dest = rules[1]["destination"]
    assert dest["bucket"].endswith(f"{built.ref(copy._versioning, 'bucket')}")  # waits for the copy's versioning
    assert dest["encryption_configuration"] == {"replica_kms_key_id": built.ref(copy.key.resource, "arn")}
    assert dest["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
    sids = statements(built.by_path("aws_iam_role_policy", "aws/Data/ReplicationPolicy"))
    assert sids["WriteReplicas"]["Resource"] == [f"{built.ref(src.replica, 'arn')}/*", f"{dest['bucket']}/*"]
    assert sids["EncryptCopyApNortheast1"]["Resource"] == built.ref(copy.key.resource, "arn")
    assert built.by_path("aws_s3_bucket", "aws/Tokyo/Resource")["provider"] == "aws.r2"
    assert src.copies == {"ap-northeast-1": copy}
    assert validate_stack(built.doc, stack="aws") == []


def test_replicate_prefix_without_dr_replica_creates_the_role(build) -> None:
    holder: dict[str, Any] = {}

    def body(stack, replica):
        src = DataStore(stack, "Data", DataStoreProps(name="ml-data", access_logging=False))
        copy = DataStore(stack, "Copy", DataStoreProps(name="ml-copy", access_logging=False), provider=replica)
        src.replicate_prefix("models/", copy, region=REPLICA_REGION)
        holder["src"] = src

    built = build(body)
    (rule,) = built.by_path("aws_s3_bucket_replication_configuration", "aws/Data/Replication")["rule"]
    assert rule["id"] == f"models-to-{REPLICA_REGION}" and rule["priority"] == 1
    role = built.by_path("aws_iam_role", "aws/Data/ReplicationRole")
    assert role["description"] == f"S3 replication of data store ml-data to {REPLICA_REGION}"
    assert holder["src"].recovery == Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)

    def unversioned(stack, replica):
        src = DataStore(stack, "Data", DataStoreProps(name="ml-data", versioning=False, access_logging=False))
        copy = DataStore(stack, "Copy", DataStoreProps(name="ml-copy", access_logging=False), provider=replica)
        src.replicate_prefix("models/", copy, region=REPLICA_REGION)

    with pytest.raises(ValueError, match="needs versioning on both stores"):
        build(unversioned)
