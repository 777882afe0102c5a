"""Private helpers of the Azure package: string references and role assignments of ``grant_*``."""

from __future__ import annotations

from ..core import engine
from ..core.naming import short_hash
from ..core.resource import DataSource, Resource

__all__ = ["PRINCIPAL_TYPES", "attr", "role_assignment"]

def attr(element: Resource | DataSource, attribute: str) -> str:
    """A plain string token for ``attribute`` of ``element`` (``${type.name.attribute}`` once
    synthesized), usable in f-strings and in pydantic ``str`` fields."""
    return element.ref(attribute)


#: Values Azure accepts for ``principal_type`` of a role assignment.
PRINCIPAL_TYPES = ("Group", "ServicePrincipal", "User")


def role_assignment(
    scope: engine.Construct,
    cache: dict[str, Resource],
    kind: str,
    principal_id: str,
    *,
    target: str,
    role: str,
    principal_type: str | None,
    provider: engine.TerraformProvider | None,
) -> Resource:
    """One ``azurerm_role_assignment`` of ``role`` on ``target`` per (kind, principal).

    The construct id is stable across runs: a literal object id gets an id from its hash
    (reordering grants changes nothing); a token gets a sequence number within ``kind``. Granting
    the same principal twice returns the first assignment.
    """
    if not isinstance(principal_id, str) and engine.Token.is_unresolved(principal_id):
        principal_id = engine.Token.as_string(principal_id)  # e.g. identity.ref("principal_id")
    if not isinstance(principal_id, str) or not principal_id.strip():
        raise ValueError(
            f"{scope.node.path}: a principal is an Entra object id (a non-empty string), "
            f"got {principal_id!r}"
        )
    if principal_type is not None and principal_type not in PRINCIPAL_TYPES:
        raise ValueError(
            f"{scope.node.path}: principal_type {principal_type!r} must be one of "
            f"{', '.join(PRINCIPAL_TYPES)} (or None)"
        )
    cache_key = f"{kind}:{principal_id}"
    if cache_key in cache:
        return cache[cache_key]
    if engine.Token.is_unresolved(principal_id):
        suffix = str(1 + sum(1 for k in cache if k.startswith(kind + ":")))
    else:
        suffix = short_hash(principal_id.strip().lower(), length=8)
    assignment = Resource(
        scope,
        f"{kind}{suffix}",
        "azurerm_role_assignment",
        provider=provider,
        scope=target,
        role_definition_name=role,
        principal_id=principal_id,
        principal_type=principal_type,
    )
    cache[cache_key] = assignment
    return assignment
