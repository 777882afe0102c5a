"""IAM helpers shared by the AWS constructs: principals, policy documents and role policies.

Private module: the public surface is ``DataStore.grant_*`` and ``Key.grant``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Union

from ..core import engine
from ..core.construct import shared
from ..core.errors import ConstructError, ConstructTypeError
from ..core.naming import short_hash
from ..core.resource import DataSource, Resource

__all__ = [
    "allow",
    "region_of_arn",
    "role_policy",
    "service_role",
    "service_trust_policy",
    "Principal",
    "account_id",
    "grant_id",
    "kms_statement",
    "partition",
    "policy_document",
    "ref",
    "role_name",
]

#: Who can receive a grant on AWS: the *name* of an IAM role (a literal like ``"trainer"`` or a
#: token), or an ``aws_iam_role`` resource (ours, or a prebuilt-provider ``IamRole``).
Principal = Union[str, engine.TerraformResource]

_ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")


def ref(element: Any, attribute: str) -> str:
    """A string token for ``attribute`` of a resource or data source (``${type.name.attr}``).

    Uses the cached ``.ref`` of our own blocks; falls back to the engine for a user's
    prebuilt-provider resource (e.g. an ``IamRole`` passed as a grant principal).
    """
    if isinstance(element, (Resource, DataSource)):
        return element.ref(attribute)
    return engine.Token.as_string(element.interpolation_for_attribute(attribute))


def role_name(principal: Principal) -> str:
    """The IAM role name of ``principal`` (a literal, a token, or ``<role>.name``).

    Raises ``TypeError`` for a resource that is not an ``aws_iam_role`` and ``ValueError`` for a
    string that cannot be a role name (an ARN, a user, an empty string).
    """
    if isinstance(principal, engine.TerraformResource):
        tf_type = principal.terraform_resource_type
        if tf_type != "aws_iam_role":
            raise ConstructTypeError(
                None,
                f"grants take an IAM role name or an aws_iam_role resource, not a {tf_type} "
                f"({principal.node.path})"
            )
        return ref(principal, "name")
    if isinstance(principal, str):
        if engine.Token.is_unresolved(principal) or _ROLE_NAME.match(principal):
            return principal
        raise ConstructError(
            None,
            f"{principal!r} is not an IAM role name: pass the role's name (not its ARN), "
            "1-64 characters of letters, digits and +=,.@_-"
        )
    raise ConstructTypeError(
        None,
        f"grants take an IAM role name (str) or an aws_iam_role resource, not {type(principal).__name__}"
    )


def grant_id(kind: str, principal: Principal) -> str:
    """A stable construct id for a grant of ``kind`` to ``principal`` (same principal, same id)."""
    key = principal.node.path if isinstance(principal, engine.TerraformResource) else principal
    return f"{kind}{short_hash(kind, key, length=8)}"


def policy_document(statements: Iterable[Mapping[str, Any]]) -> str:
    """An IAM policy document as a JSON string (tokens stay interpolations, order is kept)."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))


def kms_statement(sid: str, key_arn: str, actions: Sequence[str], *, via_service: str | None) -> dict[str, Any]:
    """Allow ``actions`` on one KMS key, optionally only through ``via_service`` (e.g. ``s3``)."""
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": key_arn,
    }
    if via_service:
        statement["Condition"] = {"StringLike": {"kms:ViaService": f"{via_service}.*.amazonaws.com"}}
    return statement


def _shared_data(scope: engine.Construct, tf_type: str, provider: engine.TerraformProvider | None) -> DataSource:
    """One ``tf_type`` data source per stack and provider, shared by every construct that needs it."""
    suffix = "" if provider is None else "_" + (provider.alias or short_hash(provider.node.path))
    cid = "Mlops" + "".join(w.capitalize() for w in tf_type.split("_")) + suffix
    return shared(scope, cid, lambda stack: DataSource(stack, cid, tf_type, provider=provider))


def account_id(scope: engine.Construct, provider: engine.TerraformProvider | None) -> str:
    """Token of the account id of ``provider`` (one shared ``aws_caller_identity`` per stack)."""
    return ref(_shared_data(scope, "aws_caller_identity", provider), "account_id")


def partition(scope: engine.Construct, provider: engine.TerraformProvider | None) -> str:
    """Token of the partition of ``provider`` (``aws``, ``aws-cn``, ...; one ``aws_partition`` per stack)."""
    return ref(_shared_data(scope, "aws_partition", provider), "partition")


def service_trust_policy(services: Sequence[str], account: str) -> str:
    """An assume-role policy letting only ``services`` of ``account`` assume the role.

    ``aws:SourceAccount`` stops the confused-deputy problem: a service acting for another account
    cannot assume the role.
    """
    return policy_document(
        [
            {
                "Sid": "TrustedServicesOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": sorted(services) if len(services) > 1 else services[0]},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        ]
    )


def service_role(
    scope: engine.Construct,
    id: str,
    *,
    name: str,
    description: str,
    services: Sequence[str],
    provider: engine.TerraformProvider | None,
) -> Resource:
    """An ``aws_iam_role`` that only ``services`` (of the stack's account) may assume, with no policy yet."""
    return Resource(
        scope,
        id,
        "aws_iam_role",
        provider=provider,
        name=name,
        description=description,
        max_session_duration=3600,
        assume_role_policy=service_trust_policy(services, account_id(scope, provider)),
    )


def role_policy(
    scope: engine.Construct,
    id: str,
    *,
    name: str,
    principal: Principal,
    statements: Sequence[Mapping[str, Any]],
    provider: engine.TerraformProvider | None,
) -> Resource:
    """One inline ``aws_iam_role_policy`` with ``statements`` on the role ``principal``."""
    return Resource(
        scope,
        id,
        "aws_iam_role_policy",
        provider=provider,
        name=name[:128],
        role=role_name(principal),
        policy=policy_document(statements),
    )


def allow(sid: str, actions: Sequence[str], resources: Any, condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An ``Allow`` statement with sorted, de-duplicated actions."""
    statement: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(set(actions)), "Resource": resources}
    if condition:
        statement["Condition"] = dict(condition)
    return statement


#: What a workload in a VPC must describe to place its network interfaces (Describe* on "*": EC2
#: describe actions support no resource-level permissions).
DESCRIBE_NETWORK_ACTIONS = (
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)


def describe_network() -> dict[str, Any]:
    """The ``DescribeNetwork`` statement of every role whose jobs or endpoints run in a VPC."""
    return allow("DescribeNetwork", DESCRIBE_NETWORK_ACTIONS, "*")


def region_of_arn(scope: engine.Construct, id: str, arn: str) -> str:
    """Token of the region field of an ARN token, through a ``data.aws_arn`` child ``id`` of ``scope``.

    Lets a construct name regional service principals and ARNs without ``data.aws_region`` (whose
    attribute names differ between provider majors) and without quoted function arguments, which
    would make policy documents unreadable for the least-privilege audit.
    """
    return ref(DataSource(scope, id, "aws_arn", arn=arn), "region")
