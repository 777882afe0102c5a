"""Feature store: SageMaker Feature Store groups with the offline store on the data store.

What ``FeatureStore`` builds, with every default:

* one ``aws_sagemaker_feature_group`` per entry of ``props.groups``, named
  ``<name>-<group>`` (underscores become hyphens, SageMaker's naming rule), with the record
  identifier (type ``String``), the event time (``String``, ISO-8601) and the features
  (``string`` -> ``String``, ``integral`` -> ``Integral``, ``fractional`` -> ``Fractional``);
* the **offline store** on the data store's bucket under ``feature-store/<name>/``, encrypted
  with the data store's key (the bucket policy only accepts that key); the Glue table is not
  created (``disable_glue_table_creation``), which keeps the role free of Glue permissions —
  create the table with Athena/Glue when the offline store is queried;
* with ``props.online``: the **online store** on, encrypted with a customer-managed key (new,
  rotated every ``encryption.rotation_days``, unless ``encryption.key_id``);
* the feature groups' role: assumable by SageMaker of this account only; it writes the offline
  store (the data store's write and read grants) and nothing else;
* with ``deletion_protection`` (default) ``prevent_destroy`` on the feature groups (deleting a
  group deletes its online records).

Grants: :meth:`FeatureStore.grant_read` (``GetRecord`` / ``BatchGetRecord`` / ``DescribeFeatureGroup``
on the groups, the online key through SageMaker, and read of the data store for offline queries)
and :meth:`FeatureStore.grant_write` (``PutRecord`` / ``DeleteRecord`` plus the online key).
"""

from __future__ import annotations

from pydantic import Field

from ..core import engine
from ..core.build_props import FeatureStoreProps as CoreFeatureStoreProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError, ConstructTypeError
from ..core.recovery import Recovery
from ..core.resource import Resource
from . import _iam
from ._iam import Principal, allow, grant_id, kms_statement, ref
from ._keys import key_arn_of, own_key
from .keys import Key
from .storage import DataStore

__all__ = ["FEATURE_TYPES", "OFFLINE_PREFIX", "FeatureStore", "FeatureStoreProps"]

#: Key prefix of the offline store in the data store.
OFFLINE_PREFIX = "feature-store"
#: Spec feature type -> SageMaker feature type.
FEATURE_TYPES = {"string": "String", "integral": "Integral", "fractional": "Fractional"}


class FeatureStoreProps(CoreFeatureStoreProps):
    """Core ``FeatureStoreProps`` plus AWS-only fields."""

    deletion_protection: bool = Field(
        default=True,
        description="prevent_destroy on feature groups and the online key. Defaults to True.",
    )


def group_name(store: str, group: str) -> str:
    """SageMaker feature group name of ``group`` in ``store`` (letters, digits, hyphens; 64 max)."""
    name = f"{store}-{group.replace('_', '-')}"
    if len(name) > 64:
        raise ConstructError(None, f"feature group name {name!r} is longer than 64 characters; shorten the group name")
    return name


class FeatureStore(MlopsConstruct):
    """SageMaker feature groups: offline store on the data store, optional KMS-encrypted online store.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`FeatureStoreProps` (or the core ``FeatureStoreProps``).
        offline_store: the :class:`~.storage.DataStore` holding the offline store (the platform's
            ``data`` store).
        provider: the ``aws`` provider. Defaults to the stack's default provider.

    Attributes:
        groups: group name -> ``aws_sagemaker_feature_group``.
        role: the feature groups' ``aws_iam_role``.
        offline_uri: ``s3://<bucket>/feature-store/<name>`` token.
        key: the online store's :class:`~.keys.Key` (``None`` offline-only or with ``key_id``).
        key_id: ARN of the online store key, or ``None`` offline-only.
        store_id: ``offline_uri`` (SageMaker has no feature store resource: the groups share it);
            group_ids: group name -> feature group name token.
        recovery: :class:`~constructs_lib.core.recovery.Recovery`, all ``None``: feature groups (and
            the online store) are regional; the offline store follows the data store's replication.
    """

    props_type = CoreFeatureStoreProps
    props: CoreFeatureStoreProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreFeatureStoreProps,
        *,
        offline_store: DataStore,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(offline_store, DataStore):
            raise ConstructTypeError(
                self.node.path,
                "offline_store must be a constructs_lib.aws.DataStore, "
                f"got {type(offline_store).__name__}"
            )
        names = [group_name(props.name, g.name) for g in props.groups]
        if len(set(names)) != len(names):
            raise ConstructError(self.node.path, f"feature group names must be unique, got {names}")
        protect = bool(getattr(props, "deletion_protection", True))
        self._offline = offline_store
        self.key: Key | None = None
        self.key_id: str | None = None
        if props.online:
            self.key = own_key(
                self,
                "Key",
                props.encryption,
                name=f"{props.name}-online",
                description=f"Encrypts the online feature store of {props.name}",
                deletion_protection=protect,
                provider=provider,
            )
            self.key_id = key_arn_of(self.key, props.encryption)
        self.role: Resource = _iam.service_role(
            self,
            "Role",
            name=f"{props.name}-feature-store",
            description=f"Feature groups of {props.name}: writes their offline store only",
            services=["sagemaker.amazonaws.com"],
            provider=provider,
        )
        offline_store.grant_read(self.role)
        offline_store.grant_write(self.role)
        self.offline_uri: str = f"s3://{offline_store.store_name}/{OFFLINE_PREFIX}/{props.name}"
        self.store_id: str = self.offline_uri
        self.recovery: Recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)
        _iam.role_policy(
            self,
            "OfflineStoreAcl",
            name=f"{props.name}-feature-store-offline",
            principal=self.role,
            statements=[
                allow("CheckBucketOwnership", ["s3:GetBucketAcl"], offline_store.store_id),
                allow(
                    "OwnerFullControlOnOfflineObjects",
                    ["s3:PutObjectAcl"],
                    f"{offline_store.store_id}/{OFFLINE_PREFIX}/{props.name}/*",
                ),
            ],
            provider=provider,
        )
        self.groups: dict[str, Resource] = {}
        for group, gname in zip(props.groups, names):
            definitions = [
                {"feature_name": group.record_identifier, "feature_type": "String"},
                {"feature_name": group.event_time, "feature_type": "String"},
                *(
                    {"feature_name": f, "feature_type": FEATURE_TYPES[t]}
                    for f, t in sorted(group.features.items())
                ),
            ]
            self.groups[group.name] = Resource(
                self,
                "Group" + "".join(p.capitalize() for p in group.name.split("_")),
                "aws_sagemaker_feature_group",
                provider=provider,
                prevent_destroy=protect,
                depends_on=[self.role],
                feature_group_name=gname,
                description=f"Feature group {group.name} of {props.name}",
                record_identifier_feature_name=group.record_identifier,
                event_time_feature_name=group.event_time,
                role_arn=ref(self.role, "arn"),
                feature_definition=definitions,
                offline_store_config={
                    "disable_glue_table_creation": True,
                    "s3_storage_config": {"s3_uri": self.offline_uri, "kms_key_id": offline_store.key_id},
                },
                online_store_config=(
                    {"enable_online_store": True, "security_config": {"kms_key_id": self.key_id}}
                    if props.online
                    else None
                ),
            )
        self.group_ids: dict[str, str] = {k: ref(v, "feature_group_name") for k, v in self.groups.items()}

    def _grant(self, kind: str, principal: Principal, actions: list[str], kms_actions: list[str]) -> list[Resource]:
        cid = grant_id(f"Grant{kind}", principal)
        if not self.groups:
            return []
        statements = [allow(f"{kind}Records", actions, [ref(g, "arn") for g in self.groups.values()])]
        if self.key_id is not None:
            statements.append(kms_statement(f"{kind}OnlineStoreKey", self.key_id, kms_actions, via_service="sagemaker"))
        return [self._once(
            cid,
            lambda: _iam.role_policy(
                self,
                cid,
                name=f"{self.props.name}-{kind.lower()}-{cid[len('Grant' + kind):]}",
                principal=principal,
                statements=statements,
                provider=self._provider,
            ),
        )]

    def grant_read(self, principal: Principal) -> list[Resource]:
        """Let an IAM role read features: online records of every group, and the offline store.

        One ``aws_iam_role_policy`` (``sagemaker:GetRecord``, ``sagemaker:BatchGetRecord``,
        ``sagemaker:DescribeFeatureGroup`` on the groups; ``kms:Decrypt`` and ``kms:DescribeKey``
        on the online key through SageMaker) plus the data store's :meth:`DataStore.grant_read`.
        Returns both: the data store's read policy, then the feature-store policy (only the
        first without groups).
        """
        return [*self._offline.grant_read(principal), *self._grant(
            "Read",
            principal,
            ["sagemaker:BatchGetRecord", "sagemaker:DescribeFeatureGroup", "sagemaker:GetRecord"],
            ["kms:Decrypt", "kms:DescribeKey"],
        )]

    def grant_write(self, principal: Principal) -> list[Resource]:
        """Let an IAM role ingest features: ``sagemaker:PutRecord`` / ``DeleteRecord`` /
        ``DescribeFeatureGroup`` on the groups; ``kms:Encrypt``, ``kms:Decrypt``,
        ``kms:GenerateDataKey``, ``kms:DescribeKey`` on the online key through SageMaker. Returns
        the one policy as a list, or an empty list (nothing granted) without groups."""
        return self._grant(
            "Write",
            principal,
            ["sagemaker:DeleteRecord", "sagemaker:DescribeFeatureGroup", "sagemaker:PutRecord"],
            ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
        )
