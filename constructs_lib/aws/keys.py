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
from collections.abc import Mapping
from typing import Any

from ..core import engine
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

__all__ = [
    "DEFAULT_DELETION_WINDOW_DAYS",
    "DEFAULT_ROTATION_DAYS",
    "Key",
]

#: Rotation period of a new key when none is given: 90 days (as `EncryptionProps.rotation_days`).
DEFAULT_ROTATION_DAYS = 90
#: Waiting period before a scheduled key deletion really happens: 30 days, the KMS maximum.
DEFAULT_DELETION_WINDOW_DAYS = 30

_ALIAS = re.compile(r"^[a-zA-Z0-9/_-]{1,250}$")


class Key(engine.Construct):
    """A symmetric customer-managed KMS key with rotation, an alias and an IAM-delegating policy.

    Args:
        scope: parent construct.
        id: construct id.
        name: alias name without the ``alias/`` prefix (``alias/<name>`` is created); letters,
            digits, ``/``, ``_`` and ``-``; must not start with ``aws/`` (reserved by AWS).
        description: key description. Defaults to ``"Customer-managed key for <name>"``.
        rotation_days: automatic rotation period, 90-2560 days. Defaults to 90.
            Rotation itself is always on.
        deletion_window_days: pending-deletion window, 7-30 days. Defaults to 30 (the maximum), so
            a deleted key can be recovered for a month.
        deletion_protection: adds ``lifecycle { prevent_destroy = true }`` to the key, so
            Terraform refuses to schedule its deletion. Defaults to True: data encrypted with a
            deleted key is lost.
        provider: the ``aws`` provider for another region or account. Defaults to the stack's
            default ``aws`` provider.

    Attributes:
        resource: the ``aws_kms_key`` resource.
        alias: the ``aws_kms_alias`` resource.
        alias_name: ``alias/<name>`` (a literal).
        key_id: the key ARN token (what ``EncryptionProps.key_id`` takes and what IAM policies need).
    """

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        *,
        name: str,
        description: str | None = None,
        rotation_days: int = DEFAULT_ROTATION_DAYS,
        deletion_window_days: int = DEFAULT_DELETION_WINDOW_DAYS,
        deletion_protection: bool = True,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id)
        if not _ALIAS.match(name) or name.startswith("aws/"):
            raise ValueError(
                f"{self.node.path}: key name {name!r} must be 1-250 letters, digits, '/', '_' or '-' "
                "and must not start with 'aws/' (reserved for AWS managed keys)"
            )
        if not 90 <= rotation_days <= 2560:
            raise ValueError(
                f"{self.node.path}: rotation_days={rotation_days} is outside the KMS range 90-2560"
            )
        if not 7 <= deletion_window_days <= 30:
            raise ValueError(
                f"{self.node.path}: deletion_window_days={deletion_window_days} is outside the KMS "
                "range 7-30"
            )
        self._provider = provider
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
            prevent_destroy=deletion_protection,
            description=description or f"Customer-managed key for {name}",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            is_enabled=True,
            enable_key_rotation=True,
            rotation_period_in_days=rotation_days,
            deletion_window_in_days=deletion_window_days,
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
            raise ValueError(f"{self.node.path}: a key policy statement needs a Sid")
        if any(s.get("Sid") == sid for s in self._statements):
            raise ValueError(f"{self.node.path}: the key policy already has a statement {sid!r}")
        self._statements.append(dict(statement))
        self.resource.set(policy=policy_document(self._statements))

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
            raise ValueError(
                f"{self.node.path}: grant needs explicit kms: actions without wildcards, got {actions!r}"
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
