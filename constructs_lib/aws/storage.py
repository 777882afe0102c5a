"""A versioned, KMS-encrypted, lifecycle-managed S3 data store with optional cross-region replica.

What ``DataStore`` builds, with every default:

* the data bucket (``aws_s3_bucket``, the construct's ``resource``), named
  ``<name>-<account id>`` so that the name is globally unique, ``force_destroy = false`` (Terraform
  will not delete a bucket that still holds objects) and, with ``deletion_protection`` (default),
  ``lifecycle { prevent_destroy = true }``;
* versioning (``Enabled``; ``Suspended`` when ``props.versioning`` is False);
* default encryption with SSE-KMS and a customer-managed key: a new :class:`~.keys.Key`
  (``alias/<name>``, rotation every ``encryption.rotation_days``) unless ``encryption.key_id`` gives
  an existing key ARN; S3 Bucket Keys on (fewer KMS calls, lower cost);
* public access block (all four settings true) and object ownership ``BucketOwnerEnforced``
  (ACLs disabled);
* a bucket policy that denies any request without TLS, with TLS older than 1.2, and uploads that ask
  for another encryption than SSE-KMS or name another key than the store's (a key named in an
  upload must be given by its ARN);
* lifecycle: current objects to STANDARD_IA after ``lifecycle.infrequent_access_after_days`` and to
  GLACIER_IR after ``lifecycle.archive_after_days``; noncurrent versions expire after
  ``lifecycle.noncurrent_version_expiry_days``; incomplete multipart uploads are aborted after
  ``lifecycle.abort_incomplete_upload_days``;
* EventBridge notifications on (free; lets a pipeline trigger retraining when new data lands);
* with ``access_logging`` (default): S3 server access logs to a dedicated log bucket
  ``<name>-<account id>-logs`` (SSE-S3, because S3 log delivery cannot write to SSE-KMS buckets;
  versioned; public access blocked; TLS-only; logs expire after
  :data:`DEFAULT_ACCESS_LOG_RETENTION_DAYS`);
* with ``replication``: a replica bucket ``<name>-<account id>-dr`` in ``replication.region``
  (through ``replica_provider``) with its own key, the same protections and lifecycle, its own log
  bucket, and an ``aws_s3_bucket_replication_configuration`` that copies every object version and
  delete marker with S3 Replication Time Control (15 minutes) and replication metrics, through an
  IAM role that can only read the source bucket, write replicas into the replica bucket, decrypt with
  the source key and encrypt with the replica key (both only through S3).

Same-account replication is assumed: ``replica_provider`` is the same account in another region.

Other AWS accounts get nothing by default. :meth:`DataStore.grant_account_read` opens one key
prefix of the primary bucket to other accounts, read-only (the platform uses it for the model
artifacts of ``registry.models.promotion_targets``): a bucket-policy and a key-policy statement
naming the accounts' roots, which those accounts then delegate to their own roles with IAM.

checkov: the construct acknowledges only findings that are intended, with reasons (see the
``Acknowledge`` calls). Turning off a secure default (``versioning``, ``access_logging``) leaves the
corresponding finding (CKV_AWS_21, CKV_AWS_18) unacknowledged, on purpose: the owner of the stack
must acknowledge it with their own reason.

The S3 building blocks (the secure bucket, access-log buckets, policy statements, lifecycle and
replication rules) are in the private module :mod:`._s3`; this module wires them into a store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.props import DataStoreProps
from ..core.recovery import Recovery
from ..core.resource import Resource
from . import _iam
from ._iam import Principal, grant_id, kms_statement, policy_document, ref, role_name
from ._keys import key_arn_of, own_key
from ._s3 import (
    ACCESS_LOG_PREFIX,
    DEFAULT_ACCESS_LOG_RETENTION_DAYS,
    AccessLogs,
    replication_rule,
    replication_statements,
    secure_bucket,
    sid_part,
)
from .keys import Key, KeyProps

__all__ = [
    "ACCESS_LOG_PREFIX",
    "DEFAULT_ACCESS_LOG_RETENTION_DAYS",
    "DEFAULT_REPLICA_RTO_MINUTES",
    "REPLICATION_RULE_ID",
    "DataStore",
    "DataStoreProps",
    "Recovery",
]

#: Recovery time objective with a replica: the replica bucket is readable at all times, so recovery
#: is pointing consumers at ``DataStore.replica`` (a configuration change), budgeted at one hour.
DEFAULT_REPLICA_RTO_MINUTES = 60
#: Id of the one replication rule (the ``RuleId`` dimension of S3 replication metrics).
REPLICATION_RULE_ID = "replicate-everything"

_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/(?:[A-Za-z0-9._-]+/)*$")
_KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


class DataStore(MlopsConstruct):
    """A versioned, KMS-encrypted, TLS-only S3 bucket with lifecycle tiering, access logs and DR.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`~constructs_lib.core.props.DataStoreProps` (see the module docstring for
            what each default builds).
        provider: the ``aws`` provider of the primary region. Defaults to the stack's default
            ``aws`` provider.
        replica_provider: the ``aws`` provider (an alias) of ``props.replication.region``; required
            when ``props.replication`` is set, ignored otherwise.

    Principals for grants: an IAM role name (``str``, literal or token) or an ``aws_iam_role``
    resource. Each grant is one ``aws_iam_role_policy`` on that role, scoped to this bucket and
    this store's key.

    Attributes:
        resource: the data ``aws_s3_bucket``.
        key: the created :class:`~.keys.Key`, or ``None`` when ``encryption.key_id`` was supplied.
        key_id: ARN token (or the supplied ARN) of the key that encrypts the data.
        store_name: bucket name token.
        store_id: bucket ARN token.
        bucket_policy: the data bucket's ``aws_s3_bucket_policy`` (TLS only, SSE-KMS uploads, and
            the statements of :meth:`grant_account_read`).
        log_bucket: the access-log ``aws_s3_bucket``, or ``None`` without ``access_logging``.
        replica: the replica ``aws_s3_bucket``, or ``None`` without ``replication``.
        replica_key: the replica's :class:`~.keys.Key`, or ``None``.
        recovery: :class:`~constructs_lib.core.recovery.Recovery` objectives against the loss of
            the primary region. With a replica: ``rpo_minutes = replication.rpo_minutes`` (S3
            Replication Time Control copies 99.99% of objects within 15 minutes, which meets any
            allowed RPO), ``rto_minutes =`` :data:`DEFAULT_REPLICA_RTO_MINUTES` (the replica is
            readable at all times; recovery is pointing readers at ``replica``), ``replica_region =
            replication.region``. Without one: ``None`` for all three (a regional outage makes the
            data unavailable until the region recovers). Overwrites and deletions within the region
            are recoverable from object versions either way, for
            ``lifecycle.noncurrent_version_expiry_days``.
    """

    props_type = DataStoreProps
    props: DataStoreProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: DataStoreProps,
        *,
        provider: engine.TerraformProvider | None = None,
        replica_provider: engine.TerraformProvider | None = None,
    ) -> None:
        # checks the props type, keeps props/provider and tags the subtree with props.tags
        super().__init__(scope, id, props, provider=provider)
        if props.name.startswith(_RESERVED_PREFIXES):
            raise ConstructError(
                self.node.path,
                f"name {props.name!r} starts with a prefix S3 reserves "
                f"({', '.join(_RESERVED_PREFIXES)}); choose another name"
            )
        key_arn = props.encryption.key_id
        if key_arn is not None and not engine.Token.is_unresolved(key_arn) and not _KMS_KEY_ARN.match(key_arn):
            raise ConstructError(
                self.node.path,
                "encryption.key_id must be a KMS key ARN "
                f"(arn:aws:kms:<region>:<account>:key/<id>) so that grants can name it, got {key_arn!r}"
            )
        if props.replication is not None and replica_provider is None:
            raise ConstructError(
                self.node.path,
                f"replication to {props.replication.region} needs "
                "replica_provider=<aws provider alias configured for that region>"
            )

        account_id = _iam.account_id(self, provider)

        self.key: Key | None = own_key(
            self,
            "Key",
            props.encryption,
            name=props.name,
            description=f"Encrypts the objects of data store {props.name}",
            deletion_protection=props.deletion_protection,
            provider=provider,
        )
        self.key_id: str = key_arn_of(self.key, props.encryption)
        key_arn = self.key_id

        logs: AccessLogs | None = None
        if props.access_logging:
            logs = AccessLogs(
                self,
                "AccessLogs",
                bucket=f"{props.name}-{account_id}-logs",
                provider=provider,
                deletion_protection=props.deletion_protection,
            )
        self.log_bucket: Resource | None = logs.bucket if logs else None

        primary = secure_bucket(
            self,
            bucket=f"{props.name}-{account_id}",
            key_arn=key_arn,
            versioning=props.versioning,
            lifecycle=props.lifecycle,
            deletion_protection=props.deletion_protection,
            provider=provider,
            pin_key=True,
        )
        self.resource: Resource = primary["bucket"]
        self.store_name: str = ref(self.resource, "id")
        self.store_id: str = ref(self.resource, "arn")
        self.bucket_policy: Resource = primary["policy"]
        self._policy_statements: list[dict[str, Any]] = json.loads(self.bucket_policy.get("policy"))["Statement"]
        self._account_reads: dict[str, list[str]] = {}
        if logs is not None:
            logs.receive_from(self, self.resource, account_id)

        self.replica: Resource | None = None
        self.replica_key: Key | None = None
        #: region -> the store holding a copy of a prefix of this one (:meth:`replicate_prefix`).
        self.copies: dict[str, DataStore] = {}
        #: the ``aws_s3_bucket_replication_configuration`` (None until something replicates).
        self.replication_config: Resource | None = None
        self._versioning: Resource = primary["versioning"]
        self._rules: list[dict[str, Any]] = []
        self._destinations: list[tuple[str, str, str, str, str]] = []
        self._replication_role: Resource | None = None
        self._replication_policy: Resource | None = None
        self.recovery: Recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)
        if props.replication is None:
            Acknowledge.of(self.resource).add(
                "CKV_AWS_144",
                reason=(
                    "Cross-region replication is opt-in through DataStoreProps.replication (it doubles "
                    "storage cost); this store was configured single-region, relying on S3's "
                    "multi-AZ durability, and DataStore.recovery reports no cross-region RPO/RTO."
                ),
            )
        else:
            assert replica_provider is not None
            self._replicate(primary, account_id, provider, replica_provider)

    # ------------------------------------------------------------------ replication

    def _replicate(
        self,
        primary: dict[str, Resource],
        account_id: str,
        provider: engine.TerraformProvider | None,
        replica_provider: engine.TerraformProvider,
    ) -> None:
        props = self.props
        assert props.replication is not None
        site = engine.Construct(self, "Replica")
        replica_account_id = _iam.account_id(self, replica_provider)
        self.replica_key = Key(
            site,
            "Key",
            KeyProps.for_encryption(
                props.name,
                props.encryption,
                description=f"Encrypts the cross-region replica of data store {props.name}",
                deletion_protection=props.deletion_protection,
            ),
            provider=replica_provider,
        )
        replica_logs: AccessLogs | None = None
        if props.access_logging:
            replica_logs = AccessLogs(
                site,
                "AccessLogs",
                bucket=f"{props.name}-{replica_account_id}-dr-logs",
                provider=replica_provider,
                deletion_protection=props.deletion_protection,
            )
        replica = secure_bucket(
            site,
            bucket=f"{props.name}-{replica_account_id}-dr",
            key_arn=self.replica_key.key_id,
            versioning=True,
            lifecycle=props.lifecycle,
            deletion_protection=props.deletion_protection,
            provider=replica_provider,
            pin_key=False,
        )
        self.replica = replica["bucket"]
        if replica_logs is not None:
            replica_logs.receive_from(site, self.replica, replica_account_id)
        self._add_replication_rule(
            REPLICATION_RULE_ID,
            prefix="",
            destination_arn=ref(self.replica, "arn"),
            destination_key=self.replica_key.key_id,
            destination_region=ref(self.replica, "region"),
            region_name=props.replication.region,
            depends_on=[primary["versioning"], replica["versioning"]],
            encrypt_sid="EncryptReplicas",
        )
        self.recovery = Recovery(
            rpo_minutes=props.replication.rpo_minutes,
            rto_minutes=DEFAULT_REPLICA_RTO_MINUTES,
            replica_region=props.replication.region,
        )

    def replicate_prefix(self, prefix: str, destination: "DataStore", *, region: str) -> None:
        """Copy every object under ``prefix`` to ``destination``'s bucket (a store in ``region``),
        continuously: one more rule of this bucket's replication configuration, with S3 Replication
        Time Control (15 minutes) and metrics, objects encrypted there with ``destination``'s key,
        delete markers replicated. The replication role (created on first use) may write into that
        bucket and encrypt with that key, through S3 only. Both stores need versioning.

        The platform uses it to keep the model artifacts (``models/``) of the artifacts store in a
        bucket of every serving region: SageMaker reads model data only from its own region.
        """
        if not _KEY_PREFIX.match(prefix):
            raise ConstructError(self.node.path, f"prefix {prefix!r} must be a key prefix ending in '/' like 'models/'")
        for store in (self, destination):
            if not store.props.versioning:
                raise ConstructError(
                    store.node.path,
                    f"replicating {prefix} to {region} needs versioning on both stores; "
                    "set versioning=True"
                )
        partition = _iam.partition(self, self._provider)
        # The bucket ARN through the destination's versioning resource: the rule waits for it.
        bucket = ref(destination._versioning, "bucket")
        self._add_replication_rule(
            f"{prefix.rstrip('/').replace('/', '-')}-to-{region}",
            prefix=prefix,
            destination_arn=f"arn:{partition}:s3:::{bucket}",
            destination_key=destination.key_id,
            destination_region=ref(destination.resource, "region"),
            region_name=region,
            depends_on=[],
            encrypt_sid=f"EncryptCopy{sid_part(region)}",
        )
        self.copies[region] = destination

    def _add_replication_rule(
        self,
        rule_id: str,
        *,
        prefix: str,
        destination_arn: str,
        destination_key: str,
        destination_region: str,
        region_name: str,
        depends_on: list[Resource],
        encrypt_sid: str,
    ) -> None:
        """One rule (and destination) more in the bucket's replication configuration; the role,
        its policy and the configuration are created with the first rule."""
        self._rules.append(replication_rule(rule_id, len(self._rules) + 1, prefix, destination_arn, destination_key))
        self._destinations.append((destination_arn, destination_key, destination_region, region_name, encrypt_sid))
        props, provider = self.props, self._provider
        account_id = _iam.account_id(self, provider)
        source_arn = self.store_id
        regions = ", ".join(d[3] for d in self._destinations)
        if self._replication_role is None:
            self._replication_role = Resource(
                self,
                "ReplicationRole",
                "aws_iam_role",
                provider=provider,
                name=f"{props.name}-s3-replication",
                description=f"S3 replication of data store {props.name} to {regions}",
                max_session_duration=3600,
                assume_role_policy=policy_document(
                    [
                        {
                            "Sid": "S3ReplicationOfThisBucketOnly",
                            "Effect": "Allow",
                            "Principal": {"Service": "s3.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": account_id},
                                "ArnLike": {"aws:SourceArn": source_arn},
                            },
                        }
                    ]
                ),
            )
            self._replication_policy = Resource(
                self,
                "ReplicationPolicy",
                "aws_iam_role_policy",
                provider=provider,
                name=f"{props.name}-s3-replication",
                role=ref(self._replication_role, "id"),
            )
        role, policy = self._replication_role, self._replication_policy
        assert policy is not None
        role.set(description=f"S3 replication of data store {props.name} to {regions}")
        policy.set(
            policy=policy_document(
                replication_statements(source_arn, self.key_id, ref(self.resource, "region"), self._destinations)
            )
        )
        if self.replication_config is None:
            self.replication_config = Resource(
                self,
                "Replication",
                "aws_s3_bucket_replication_configuration",
                provider=provider,
                depends_on=[*depends_on, policy],
                bucket=self.store_name,
                role=ref(role, "arn"),
            )
        self.replication_config.set(rule=list(self._rules))

    # ------------------------------------------------------------------ grants

    def grant_read(self, principal: Principal) -> list[Resource]:
        """Let an IAM role list the bucket and read objects (any version), decrypting with the key.

        Creates one ``aws_iam_role_policy`` with exactly ``s3:ListBucket`` on the bucket,
        ``s3:GetObject`` and ``s3:GetObjectVersion`` on its objects, and ``kms:Decrypt`` on the
        store's key through S3 only, and returns it as a one-item list. Calling it twice for the
        same principal returns the same policy.
        """
        return self._grant(
            "Read",
            principal,
            bucket_actions=["s3:ListBucket"],
            object_actions=["s3:GetObject", "s3:GetObjectVersion"],
            kms_actions=["kms:Decrypt"],
        )

    def grant_write(self, principal: Principal) -> list[Resource]:
        """Let an IAM role upload and delete objects, encrypting with the key.

        Creates one ``aws_iam_role_policy`` with exactly ``s3:PutObject``, ``s3:DeleteObject`` and
        ``s3:AbortMultipartUpload`` on the bucket's objects, and ``kms:GenerateDataKey`` plus
        ``kms:Decrypt`` (needed to complete SSE-KMS multipart uploads) on the store's key through S3
        only, and returns it as a one-item list. It grants no read or list access: combine with
        :meth:`grant_read` for both.
        """
        return self._grant(
            "Write",
            principal,
            bucket_actions=[],
            object_actions=["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"],
            kms_actions=["kms:Decrypt", "kms:GenerateDataKey"],
        )

    def grant_account_read(self, account_ids: Sequence[str], *, prefix: str) -> list[Resource]:
        """Let other AWS accounts read the objects under ``prefix`` of the primary bucket.

        For cross-account promotion: a later environment's account deploys model artifacts that
        this store holds. Adds, for the account roots ``arn:<partition>:iam::<account>:root``
        (sorted, each once), exactly:

        * to the bucket policy: ``s3:ListBucket`` on the bucket only for listings whose
          ``s3:prefix`` starts with ``prefix`` (statement ``AccountsList<Prefix>``), and
          ``s3:GetObject`` + ``s3:GetObjectVersion`` on ``<bucket>/<prefix>*``
          (``AccountsRead<Prefix>``);
        * to the key policy of the store's own key: ``kms:Decrypt`` only through S3 of the bucket's
          region (``kms:ViaService = s3.<region>.amazonaws.com``) and only for this bucket's
          encryption context (the bucket, as S3 Bucket Keys use, or an object under ``prefix``)
          (``AccountsDecrypt<Prefix>``). With a supplied ``encryption.key_id`` the key policy is
          not this construct's: its owner must add that statement.

        ``<Prefix>`` is ``prefix`` in CamelCase (``models/`` → ``Models``). Naming an account root
        delegates to that account: its own IAM policies must still allow its deploying role
        ``s3:GetObject`` on the objects and ``kms:Decrypt`` on this store's key. The replica bucket
        (``replication``) is not opened. Calling again with the same prefix and accounts does
        nothing; another set of accounts for a granted prefix is an error (pass them all in one
        call). Returns the resources that hold the grant: the bucket policy, and the store's own
        key when it has one.
        """
        accounts = sorted(set(account_ids))
        if not accounts:
            raise ConstructError(self.node.path, "grant_account_read needs at least one AWS account id")
        for account in accounts:
            if not isinstance(account, str) or not _ACCOUNT_ID.match(account):
                raise ConstructError(self.node.path, f"{account!r} is not a 12-digit AWS account id")
        if not _KEY_PREFIX.match(prefix):
            raise ConstructError(
                self.node.path,
                f"prefix {prefix!r} must be a key prefix ending in '/' like 'models/' "
                "(letters, digits, '.', '_', '-' between slashes; no wildcards)"
            )
        granted = self._account_reads.get(prefix)
        if granted is not None:
            if granted == accounts:
                return self._account_read_holders()
            raise ConstructError(
                self.node.path,
                f"prefix {prefix!r} is already readable by accounts {granted}; "
                "pass every account in one grant_account_read call"
            )
        name = sid_part(prefix)
        for other in self._account_reads:
            if sid_part(other) == name:
                raise ConstructError(
                    self.node.path,
                    f"prefixes {other!r} and {prefix!r} give the same statement id; "
                    "grant one of them only"
                )
        self._account_reads[prefix] = accounts
        partition = _iam.partition(self, self._provider)
        principal = {"AWS": [f"arn:{partition}:iam::{a}:root" for a in accounts]}
        bucket_arn = self.store_id
        objects = f"{bucket_arn}/{prefix}*"
        self._policy_statements += [
            {
                "Sid": f"AccountsList{name}",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["s3:ListBucket"],
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": f"{prefix}*"}},
            },
            {
                "Sid": f"AccountsRead{name}",
                "Effect": "Allow",
                "Principal": principal,
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": objects,
            },
        ]
        self.bucket_policy.set(policy=policy_document(self._policy_statements))
        if self.key is not None:
            self.key.add_to_resource_policy(
                {
                    "Sid": f"AccountsDecrypt{name}",
                    "Effect": "Allow",
                    "Principal": principal,
                    "Action": ["kms:Decrypt"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:ViaService": f"s3.{ref(self.resource, 'region')}.amazonaws.com"},
                        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, objects]},
                    },
                }
            )
        return self._account_read_holders()

    def _account_read_holders(self) -> list[Resource]:
        return [self.bucket_policy, *([self.key.resource] if self.key is not None else [])]

    def _grant(
        self,
        kind: str,
        principal: Principal,
        *,
        bucket_actions: list[str],
        object_actions: list[str],
        kms_actions: list[str],
    ) -> list[Resource]:
        cid = grant_id(f"Grant{kind}", principal)
        return [self._once(cid, lambda: self._make_grant(cid, kind, principal, bucket_actions,
                                                         object_actions, kms_actions))]

    def _make_grant(
        self,
        cid: str,
        kind: str,
        principal: Principal,
        bucket_actions: list[str],
        object_actions: list[str],
        kms_actions: list[str],
    ) -> Resource:
        statements: list[dict[str, Any]] = []
        if bucket_actions:
            statements.append(
                {"Sid": f"{kind}Bucket", "Effect": "Allow", "Action": sorted(bucket_actions), "Resource": self.store_id}
            )
        statements.append(
            {
                "Sid": f"{kind}Objects",
                "Effect": "Allow",
                "Action": sorted(object_actions),
                "Resource": f"{self.store_id}/*",
            }
        )
        statements.append(kms_statement(f"{kind}Key", self.key_id, kms_actions, via_service="s3"))
        return Resource(
            self,
            cid,
            "aws_iam_role_policy",
            provider=self._provider,
            name=f"{self.props.name}-{kind.lower()}-{cid[len('Grant' + kind):]}",
            role=role_name(principal),
            policy=policy_document(statements),
        )
