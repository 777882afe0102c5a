"""Customer-managed KMS keys.

``Key`` is an ``aws_kms_key`` (symmetric, automatic rotation on) with an ``aws_kms_alias`` and a key
policy that delegates access control to IAM in the key's own account, the standard AWS key-policy
pattern: the account root gets ``kms:*`` on *this key* (``"Resource": "*"`` in a key policy means
the key the policy is attached to), so IAM policies of the account decide who may use it. No other
principal is named in the policy by default; use :meth:`Key.add_to_resource_policy` for a service
principal that cannot be given IAM permissions (e.g. a log delivery service).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.props import KeyProps
from ..core.resource import Resource
from ._iam import (
    Principal,
    account_id,
    grant_id,
    kms_statement,
    partition,
    policy_document,
    ref,
    role_name,
)

__all__ = ["LOGS_KEY_ACTIONS", "Key", "KeyProps"]

#: What CloudWatch Logs needs of a key that encrypts a log group.
LOGS_KEY_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")

_ALIAS = re.compile(r"^[a-zA-Z0-9/_-]{1,250}$")


class Key(MlopsConstruct):
    """A symmetric customer-managed KMS key with rotation, an alias and an IAM-delegating policy.

    Args:
        scope: parent construct.
        id: construct id.
        props: the core :class:`~constructs_lib.core.props.KeyProps`:

            * ``name`` is the alias name without the ``alias/`` prefix (``alias/<name>`` is
              created); it must not start with ``aws/`` (reserved by AWS).
            * ``description`` defaults to ``"Customer-managed key for <name>"``.
            * ``rotation_days`` (90-2560, the KMS range) is the automatic rotation period; rotation
              itself is always on.
            * ``deletion_window_days`` (7-30, the KMS range) is the pending-deletion window; the
              default 30 lets a deleted key be recovered for a month.
            * ``deletion_protection`` adds ``lifecycle { prevent_destroy = true }`` to the key, so
              Terraform refuses to schedule its deletion: data encrypted with a deleted key is lost.
            * ``tags`` are added to the key (aliases take no tags).
        provider: the ``aws`` provider for another region or account. Defaults to the stack's
            default ``aws`` provider.

    Attributes:
        resource: the ``aws_kms_key`` resource.
        alias: the ``aws_kms_alias`` resource.
        alias_name: ``alias/<name>`` (a literal).
        key_id: the key ARN token (what ``EncryptionProps.key_id`` takes and what IAM policies need).
    """

    props_type = KeyProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: KeyProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        name = props.name
        # KeyProps already restricts the characters; the AWS alias rule is checked here too so that
        # the error names the construct even for props built without validation.
        if not _ALIAS.match(name) or name.startswith("aws/"):
            raise ConstructError(
                self.node.path,
                f"key name {name!r} must be 1-250 letters, digits, '/', '_' or '-' "
                "and must not start with 'aws/' (reserved for AWS managed keys)"
            )
        self._statements: list[dict[str, Any]] = [
            {
                "Sid": "EnableIamPoliciesOfThisAccount",
                "Effect": "Allow",
                "Principal": {
                    "AWS": f"arn:{partition(self, provider)}:iam::{account_id(self, provider)}:root"
                },
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        self.resource: Resource = Resource(
            self,
            "Resource",
            "aws_kms_key",
            provider=provider,
            prevent_destroy=props.deletion_protection,
            description=props.description or f"Customer-managed key for {name}",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            is_enabled=True,
            enable_key_rotation=True,
            rotation_period_in_days=props.rotation_days,
            deletion_window_in_days=props.deletion_window_days,
            policy=policy_document(self._statements),
        )
        self.alias_name: str = f"alias/{name}"
        self.alias: Resource = Resource(
            self,
            "Alias",
            "aws_kms_alias",
            provider=provider,
            name=self.alias_name,
            target_key_id=ref(self.resource, "key_id"),
        )
        self.key_id: str = ref(self.resource, "arn")

    def add_to_resource_policy(self, statement: Mapping[str, Any]) -> None:
        """Append ``statement`` to the key policy (for service principals only; prefer :meth:`grant`).

        A statement must carry a ``Sid``; adding a second statement with the same ``Sid`` is an
        error, so two constructs cannot silently overwrite each other.
        """
        sid = statement.get("Sid")
        if not sid:
            raise ConstructError(self.node.path, "a key policy statement needs a Sid")
        if any(s.get("Sid") == sid for s in self._statements):
            raise ConstructError(self.node.path, f"the key policy already has a statement {sid!r}")
        self._statements.append(dict(statement))
        self.resource.set(policy=policy_document(self._statements))

    def allow_cloudwatch_logs(
        self,
        sid: str,
        *,
        region: str,
        log_group_arn: str,
        actions: Sequence[str] = LOGS_KEY_ACTIONS,
    ) -> None:
        """Let CloudWatch Logs of ``region`` use this key for the log group(s) ``log_group_arn`` only.

        The statement names the regional logs service principal and is bound to the log group
        by the ``kms:EncryptionContext:aws:logs:arn`` condition (``ArnLike`` when the ARN holds a
        ``*`` wildcard, else ``ArnEquals``).
        """
        operator = "ArnLike" if "*" in log_group_arn else "ArnEquals"
        self.add_to_resource_policy(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": list(actions),
                "Resource": "*",
                "Condition": {operator: {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
            }
        )

    def grant(
        self,
        principal: Principal,
        *actions: str,
        via_service: str | None = None,
    ) -> Resource:
        """Allow an IAM role to use this key for ``actions`` (e.g. ``"kms:Decrypt"``).

        ``principal`` is an IAM role name or an ``aws_iam_role`` resource. ``via_service`` (e.g.
        ``"s3"``) limits the use to requests that the service makes on the role's behalf. Creates
        one ``aws_iam_role_policy`` scoped to this key's ARN; the same principal and actions give
        the same policy (calling twice is harmless).
        """
        if not actions or any(not a.startswith("kms:") or "*" in a for a in actions):
            raise ConstructError(
                self.node.path,
                f"grant needs explicit kms: actions without wildcards, got {actions!r}"
            )
        cid = grant_id("Grant" + "".join(sorted(a.split(":")[1] for a in actions)), principal)
        existing = self.node.try_find_child(cid)
        if existing is not None:
            return existing  # type: ignore[return-value]
        name = role_name(principal)
        return Resource(
            self,
            cid,
            "aws_iam_role_policy",
            provider=self._provider,
            name=f"{self.alias_name.removeprefix('alias/').replace('/', '-')}-{cid}",
            role=name,
            policy=policy_document(
                [kms_statement("UseKey", self.key_id, actions, via_service=via_service)]
            ),
        )
