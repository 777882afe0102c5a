"""S3 building blocks of :class:`~.storage.DataStore` (private module).

* :func:`secure_bucket`: a data bucket with every protection (versioning, SSE-KMS with Bucket Keys,
  public access block, ``BucketOwnerEnforced``, a TLS-only / KMS-only bucket policy, lifecycle
  tiering, EventBridge notifications);
* :class:`AccessLogs`: a log bucket that only S3 server access log delivery writes to;
* :func:`bucket_basics`, :func:`tls_only`, :func:`lifecycle_rules`, :func:`s3_kms_statement`,
  :func:`sid_part`: the parts they share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.props import LifecycleProps
from ..core.resource import Resource
from ._iam import policy_document, ref

__all__ = [
    "ACCESS_LOG_PREFIX",
    "DEFAULT_ACCESS_LOG_RETENTION_DAYS",
    "RTC_MINUTES",
    "AccessLogs",
    "bucket_basics",
    "lifecycle_rules",
    "replication_rule",
    "replication_statements",
    "s3_kms_statement",
    "secure_bucket",
    "sid_part",
    "tls_only",
]

#: Days after which server access log objects are deleted from the log bucket.
DEFAULT_ACCESS_LOG_RETENTION_DAYS = 365
#: Key prefix of server access log objects in the log bucket.
ACCESS_LOG_PREFIX = "access-logs/"
#: S3 Replication Time Control replicates 99.99% of objects within this many minutes (fixed by AWS).
RTC_MINUTES = 15
def sid_part(prefix: str) -> str:
    """A key prefix as a policy statement id part: ``models/`` -> ``Models``, ``a/b-c/`` -> ``ABC``."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", prefix) if part)


def s3_kms_statement(sid: str, key_arn: str, actions: list[str], region: str, bucket_arn: str) -> dict[str, Any]:
    """KMS use by S3 in ``region`` for objects of one bucket (bucket-key or per-object context)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": key_arn,
        "Condition": {
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
        },
    }


def replication_rule(rule_id: str, priority: int, prefix: str, destination_arn: str, destination_key: str) -> dict[str, Any]:
    """One rule of a bucket's replication configuration: every version and delete marker under
    ``prefix`` to ``destination_arn``, encrypted there with ``destination_key``, with Replication
    Time Control (:data:`RTC_MINUTES`) and metrics."""
    return {
        "id": rule_id,
        "priority": priority,
        "status": "Enabled",
        "filter": {"prefix": prefix},
        "delete_marker_replication": {"status": "Enabled"},
        "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
        "destination": {
            "bucket": destination_arn,
            "storage_class": "STANDARD",
            "encryption_configuration": {"replica_kms_key_id": destination_key},
            "replication_time": {"status": "Enabled", "time": {"minutes": RTC_MINUTES}},
            "metrics": {"status": "Enabled", "event_threshold": {"minutes": RTC_MINUTES}},
        },
    }


def replication_statements(
    source_arn: str,
    source_key: str,
    source_region: str,
    destinations: Sequence[tuple[str, str, str, str, str]],
) -> list[dict[str, Any]]:
    """The replication role's policy: read the source bucket's configuration and object versions,
    write replicas into each destination, decrypt with the source key and encrypt with each
    destination's key, both through S3 only. ``destinations`` are ``(bucket ARN, key ARN, region,
    region name, statement id)``."""
    writes = [f"{d[0]}/*" for d in destinations]
    return [
        {
            "Sid": "ReadReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source_arn,
        },
        {
            "Sid": "ReadSourceObjectVersions",
            "Effect": "Allow",
            "Action": [
                "s3:GetObjectVersionAcl",
                "s3:GetObjectVersionForReplication",
                "s3:GetObjectVersionTagging",
            ],
            "Resource": f"{source_arn}/*",
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
            "Resource": writes[0] if len(writes) == 1 else writes,
        },
        s3_kms_statement("DecryptSourceObjects", source_key, ["kms:Decrypt"], source_region, source_arn),
        *(
            s3_kms_statement(sid, key, ["kms:Encrypt", "kms:GenerateDataKey"], region, arn)
            for arn, key, region, _, sid in destinations
        ),
    ]


def tls_only(bucket_arn: str) -> list[dict[str, Any]]:
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsOlderThan12",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def lifecycle_rules(lifecycle: LifecycleProps) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    transitions = [
        {"days": days, "storage_class": cls}
        for days, cls in (
            (lifecycle.infrequent_access_after_days, "STANDARD_IA"),
            (lifecycle.archive_after_days, "GLACIER_IR"),
        )
        if days is not None
    ]
    if transitions:
        rules.append({"id": "tiering", "status": "Enabled", "filter": {"prefix": ""}, "transition": transitions})
    rules.append(
        {
            "id": "expire-noncurrent-versions",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "noncurrent_version_expiration": {"noncurrent_days": lifecycle.noncurrent_version_expiry_days},
        }
    )
    rules.append(
        {
            "id": "abort-incomplete-uploads",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "abort_incomplete_multipart_upload": {
                "days_after_initiation": lifecycle.abort_incomplete_upload_days
            },
        }
    )
    return rules


def bucket_basics(
    scope: engine.Construct,
    bucket: Resource,
    *,
    versioning: bool,
    sse: dict[str, Any],
    provider: engine.TerraformProvider | None,
) -> dict[str, Resource]:
    """Versioning, default encryption, public access block and ownership controls of ``bucket``."""
    bucket_id = ref(bucket, "id")
    out: dict[str, Resource] = {"bucket": bucket}
    out["versioning"] = Resource(
        scope,
        "Versioning",
        "aws_s3_bucket_versioning",
        provider=provider,
        bucket=bucket_id,
        versioning_configuration={"status": "Enabled" if versioning else "Suspended"},
    )
    out["encryption"] = Resource(
        scope,
        "Encryption",
        "aws_s3_bucket_server_side_encryption_configuration",
        provider=provider,
        bucket=bucket_id,
        rule=[sse],
    )
    out["public_access_block"] = Resource(
        scope,
        "PublicAccessBlock",
        "aws_s3_bucket_public_access_block",
        provider=provider,
        bucket=bucket_id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    out["ownership"] = Resource(
        scope,
        "Ownership",
        "aws_s3_bucket_ownership_controls",
        provider=provider,
        bucket=bucket_id,
        rule={"object_ownership": "BucketOwnerEnforced"},
    )
    return out


def secure_bucket(
    scope: engine.Construct,
    *,
    bucket: str,
    key_arn: str,
    versioning: bool,
    lifecycle: LifecycleProps,
    deletion_protection: bool,
    provider: engine.TerraformProvider | None,
    pin_key: bool,
) -> dict[str, Resource]:
    """A data bucket (child ``Resource`` of ``scope``) with every protection; returns its parts.

    ``pin_key`` also denies uploads that name another KMS key than ``key_arn`` (by ARN). The replica
    does not pin: S3 replication writes there with the configured replica key, and a policy
    mistake on a replica silently stops disaster recovery.
    """
    res = Resource(
        scope,
        "Resource",
        "aws_s3_bucket",
        provider=provider,
        prevent_destroy=deletion_protection,
        bucket=bucket,
        force_destroy=False,
    )
    arn = ref(res, "arn")
    out = bucket_basics(
        scope,
        res,
        versioning=versioning,
        sse={
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms", "kms_master_key_id": key_arn},
            "bucket_key_enabled": True,
        },
        provider=provider,
    )
    out["policy"] = Resource(
        scope,
        "Policy",
        "aws_s3_bucket_policy",
        provider=provider,
        depends_on=[out["public_access_block"]],
        bucket=ref(res, "id"),
        policy=policy_document(
            [
                *tls_only(arn),
                {
                    "Sid": "DenyUploadsWithoutKms",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"{arn}/*",
                    "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}},
                },
                *(
                    [
                        {
                            "Sid": "DenyUploadsWithAnotherKey",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:PutObject",
                            "Resource": f"{arn}/*",
                            "Condition": {
                                "StringNotEqualsIfExists": {
                                    "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn
                                }
                            },
                        }
                    ]
                    if pin_key
                    else []
                ),
            ]
        ),
    )
    out["lifecycle"] = Resource(
        scope,
        "Lifecycle",
        "aws_s3_bucket_lifecycle_configuration",
        provider=provider,
        depends_on=[out["versioning"]],
        bucket=ref(res, "id"),
        rule=lifecycle_rules(lifecycle),
    )
    out["notification"] = Resource(
        scope,
        "Notifications",
        "aws_s3_bucket_notification",
        provider=provider,
        bucket=ref(res, "id"),
        eventbridge=True,
    )
    return out


class AccessLogs(engine.Construct):
    """A log bucket that only S3 log delivery writes to, for one source bucket in its region."""

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        *,
        bucket: str,
        provider: engine.TerraformProvider | None,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, id)
        self._provider = provider
        self.bucket = Resource(
            self,
            "Resource",
            "aws_s3_bucket",
            provider=provider,
            prevent_destroy=deletion_protection,
            bucket=bucket,
            force_destroy=False,
        )
        self._parts = bucket_basics(
            self,
            self.bucket,
            versioning=True,
            sse={"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}},
            provider=provider,
        )
        Resource(
            self,
            "Lifecycle",
            "aws_s3_bucket_lifecycle_configuration",
            provider=provider,
            depends_on=[self._parts["versioning"]],
            bucket=ref(self.bucket, "id"),
            rule=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": DEFAULT_ACCESS_LOG_RETENTION_DAYS},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
        )
        ack = Acknowledge.of(self)
        ack.add(
            "CKV_AWS_145",
            reason=(
                "S3 server access log delivery cannot write to buckets encrypted with SSE-KMS; this "
                "log bucket uses SSE-S3 (AES-256), blocks public access and accepts only TLS."
            ),
        )
        ack.add(
            "CKV_AWS_144",
            reason=(
                "Access logs are operational records kept for a limited time; the data they "
                "describe is what gets replicated when the store asks for replication."
            ),
        )
        ack.add(
            "CKV2_AWS_62",
            reason="No consumer reacts to new access-log objects; event notifications would only add noise.",
        )

    def receive_from(self, scope: engine.Construct, source: Resource, account_id: str) -> Resource:
        """Log ``source``'s requests here: this bucket's policy and ``scope/AccessLogging``."""
        log_arn = ref(self.bucket, "arn")
        policy = Resource(
            self,
            "Policy",
            "aws_s3_bucket_policy",
            provider=self._provider,
            depends_on=[self._parts["public_access_block"]],
            bucket=ref(self.bucket, "id"),
            policy=policy_document(
                [
                    {
                        "Sid": "AllowServerAccessLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"{log_arn}/{ACCESS_LOG_PREFIX}*",
                        "Condition": {
                            "ArnLike": {"aws:SourceArn": ref(source, "arn")},
                            "StringEquals": {"aws:SourceAccount": account_id},
                        },
                    },
                    *tls_only(log_arn),
                ]
            ),
        )
        return Resource(
            scope,
            "AccessLogging",
            "aws_s3_bucket_logging",
            provider=self._provider,
            depends_on=[policy],
            bucket=ref(source, "id"),
            target_bucket=ref(self.bucket, "id"),
            target_prefix=ACCESS_LOG_PREFIX,
        )
