"""The commit lock table that makes concurrent Delta Lake writes to S3 safe for Spark writers.

Two writers committing version ``n`` of a Delta table at once must not both succeed: the commit file
``_delta_log/<n>.json`` has to be created only if it is absent. How that happens on S3 depends on the
writer (checked against the writers themselves, ``tests/deploy/test_delta_moto.py``):

* **delta-rs 1.6 and later** (the ``deltalake`` package, Polars, ...): S3 conditional writes
  (``PutObject`` with ``If-None-Match: *``, on S3 since 2024), by default. No lock table; it ignores
  ``AWS_S3_LOCKING_PROVIDER`` (and logs that it no longer supports the DynamoDB log store).
* **Spark** (delta-spark's ``io.delta.storage.S3DynamoDBLogStore``) and **delta-rs before 1.6**
  (``AWS_S3_LOCKING_PROVIDER=dynamodb``): an external commit coordinator in DynamoDB. A writer
  claims ``(tablePath, fileName)`` with a conditional ``PutItem``, copies its temporary commit file
  into place, then marks the entry complete with an ``expireTime`` after which DynamoDB's TTL
  removes it. Both use the same table layout: this construct.

The two mechanisms do not see each other: all writers of one table must use the same one
(:data:`DELTA_COMMIT` says so in the ``store_<store>_delta`` output).

``DeltaLockTable`` builds, with every default:

* ``aws_dynamodb_table`` (the construct's ``resource``) named ``props.name``, with the key schema
  the DynamoDB log store expects: partition key ``tablePath`` (S), sort key ``fileName`` (S)
  (:data:`HASH_KEY`, :data:`RANGE_KEY`), TTL on ``expireTime`` (:data:`TTL_ATTRIBUTE`) so completed
  entries expire a day after their commit, on-demand billing (``PAY_PER_REQUEST``: a lock entry
  per commit costs next to nothing and needs no capacity planning), server-side encryption with
  ``props.key_id`` (the store's customer-managed key), point-in-time recovery, DynamoDB deletion
  protection and, with ``deletion_protection``, ``lifecycle { prevent_destroy = true }``.

:meth:`DeltaLockTable.grant_commit` lets a role commit through the table: exactly the item
operations the writers call on this table's ARN and the key operations DynamoDB performs with the
caller's permissions, only through DynamoDB. Readers of Delta tables need no grant here: reads
never touch the lock table.

:func:`lock_options` are the delta-rs (< 1.6) storage options for the table; :func:`spark_conf`
the Spark settings.
"""

from __future__ import annotations

from pydantic import Field

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.props import Model
from ..core.resource import Resource
from ._iam import Principal, grant_id, kms_statement, policy_document, ref, role_name

__all__ = [
    "COMMIT_ACTIONS",
    "DELTA_COMMIT",
    "HASH_KEY",
    "KEY_ACTIONS",
    "RANGE_KEY",
    "TTL_ATTRIBUTE",
    "DeltaLockTable",
    "DeltaLockTableProps",
    "lock_options",
    "spark_conf",
]

#: Partition key of the lock table: the table's URI (``s3://bucket/path``), as delta-rs writes it.
HASH_KEY = "tablePath"
#: Sort key: the commit file name relative to ``_delta_log/`` (``00000000000000000001.json``).
RANGE_KEY = "fileName"
#: Epoch seconds after which a completed entry may go (DynamoDB TTL deletes it).
TTL_ATTRIBUTE = "expireTime"
#: What a writer calls on the lock table: delta-rs gets, queries (latest entry), conditionally puts,
#: updates (complete) and deletes (abandoned entry) items; Spark's S3DynamoDBLogStore also
#: describes the table when it starts.
COMMIT_ACTIONS = (
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
#: What DynamoDB does with the table's customer-managed key on a caller's behalf for item reads
#: and writes (the table key is created with the deployer's permissions, not the writer's).
KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey")


#: How commits to a store's Delta tables are made safe on S3 (the ``commit`` of ``store_<store>_delta``).
DELTA_COMMIT = (
    "delta-rs >= 1.6: S3 conditional writes (If-None-Match), no lock needed; Spark (S3DynamoDBLogStore) "
    "and delta-rs < 1.6 (AWS_S3_LOCKING_PROVIDER=dynamodb): the DynamoDB lock_table; one mechanism per table"
)


def lock_options(table_name: str, region: str) -> dict[str, str]:
    """delta-rs (< 1.6) storage options (also valid as environment variables) for commits through the table."""
    return {
        "AWS_REGION": region,
        "AWS_S3_LOCKING_PROVIDER": "dynamodb",
        "DELTA_DYNAMO_TABLE_NAME": table_name,
    }


def spark_conf(table_name: str, region: str) -> dict[str, str]:
    """Spark settings of delta-spark's DynamoDB log store for ``s3://`` and ``s3a://`` table paths."""
    store = "io.delta.storage.S3DynamoDBLogStore"
    return {
        "spark.delta.logStore.s3.impl": store,
        "spark.delta.logStore.s3a.impl": store,
        "spark.io.delta.storage.S3DynamoDBLogStore.ddb.region": region,
        "spark.io.delta.storage.S3DynamoDBLogStore.ddb.tableName": table_name,
    }


class DeltaLockTableProps(Model):
    """Props of a :class:`DeltaLockTable`."""

    name: str = Field(
        min_length=3,
        max_length=255,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="DynamoDB table name (3-255 letters, digits, '_', '-', '.').",
    )
    key_id: str = Field(
        description="ARN (or ARN token) of the customer-managed KMS key that encrypts the table: the store's key.",
    )
    deletion_protection: bool = Field(
        default=True,
        description=(
            "Protect the table from deletion. Defaults to True: DynamoDB deletion protection on and "
            "Terraform `prevent_destroy`; False only for throwaway environments."
        ),
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags of the table. Defaults to none (the stack's default tags still apply).")


class DeltaLockTable(MlopsConstruct):
    """The DynamoDB commit lock table of Delta Lake writers on S3 (see the module docstring).

    Args:
        scope: parent construct (the platform puts it under the store it serves).
        id: construct id.
        props: :class:`DeltaLockTableProps`.
        provider: the ``aws`` provider of the store's region. Defaults to the stack's default one.

    Attributes:
        resource: the ``aws_dynamodb_table``.
        table_name: its name (a literal: writers' settings and ``cdktf-mlops`` read it before apply).
        table_arn: its ARN token.
        key_id: the key that encrypts it.
    """

    props_type = DeltaLockTableProps
    props: DeltaLockTableProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: DeltaLockTableProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self.key_id: str = props.key_id
        self.table_name: str = props.name
        self.resource: Resource = Resource(
            self,
            "Resource",
            "aws_dynamodb_table",
            provider=provider,
            prevent_destroy=props.deletion_protection,
            name=props.name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=HASH_KEY,
            range_key=RANGE_KEY,
            attribute=[{"name": HASH_KEY, "type": "S"}, {"name": RANGE_KEY, "type": "S"}],
            ttl={"attribute_name": TTL_ATTRIBUTE, "enabled": True},
            server_side_encryption={"enabled": True, "kms_key_arn": props.key_id},
            point_in_time_recovery={"enabled": True},
            deletion_protection_enabled=props.deletion_protection,
        )
        self.table_arn: str = ref(self.resource, "arn")

    def grant_commit(self, principal: Principal) -> list[Resource]:
        """Let an IAM role commit Delta tables through this lock table.

        Creates one ``aws_iam_role_policy`` with exactly :data:`COMMIT_ACTIONS` on this table's ARN
        and :data:`KEY_ACTIONS` on its key, only through DynamoDB (``kms:ViaService``), and returns
        it as a one-item list; the same principal twice gives the same policy. Writing the table's
        files needs the store's own ``grant_read`` and ``grant_write`` too.
        """
        cid = grant_id("GrantCommit", principal)
        return [self._once(cid, lambda: Resource(
            self,
            cid,
            "aws_iam_role_policy",
            provider=self._provider,
            name=f"{self.props.name}-commit-{cid[len('GrantCommit'):]}",
            role=role_name(principal),
            policy=policy_document([
                {"Sid": "CommitEntries", "Effect": "Allow", "Action": sorted(COMMIT_ACTIONS), "Resource": self.table_arn},
                kms_statement("TableKey", self.key_id, KEY_ACTIONS, via_service="dynamodb"),
            ]),
        ))]
