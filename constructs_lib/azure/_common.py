"""Private helpers of the Azure package: string references, role assignments of ``grant_*``,
custom roles, Log Analytics workspaces and diagnostic settings, and what a construct needs from a
network (:class:`PrivateEndpoints`).

The lowest module of the package: it imports nothing from it, so every other module may use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..core import engine
from ..core.errors import ConstructError
from ..core.naming import short_hash
from ..core.resource import DataSource, Resource

__all__ = [
    "ML_API_VERSION",
    "PRINCIPAL_TYPES",
    "PrivateEndpoints",
    "attr",
    "custom_role",
    "diagnostic_setting",
    "log_workspace",
    "role_assignment",
]


class PrivateEndpoints(Protocol):
    """What constructs need from a network to get a private endpoint (an azure ``Network``)."""

    def add_private_endpoint(
        self, scope: engine.Construct, id: str, target_id: str, subresource: str
    ) -> Resource: ...


def attr(element: Resource | DataSource, attribute: str) -> str:
    """A plain string token for ``attribute`` of ``element`` (``${type.name.attribute}`` once
    synthesized), usable in f-strings and in pydantic ``str`` fields."""
    return element.ref(attribute)


#: Values Azure accepts for ``principal_type`` of a role assignment.
PRINCIPAL_TYPES = ("Group", "ServicePrincipal", "User")

#: Api-version of every Azure Machine Learning Resource Manager call the library writes (the
#: ``azapi`` resources and the Logic App action that submits jobs): the one the bundled REST
#: definitions describe (``core/schemas/azure-ml-rest.json.gz``), so every body is checked at synth.
ML_API_VERSION = "2025-12-01"


def role_assignment(
    scope: engine.Construct,
    cache: dict[str, Resource],
    kind: str,
    principal_id: str,
    *,
    target: str,
    role: str | Resource,
    principal_type: str | None,
    provider: engine.TerraformProvider | None,
    description: str | None = None,
) -> Resource:
    """One ``azurerm_role_assignment`` of ``role`` on ``target`` per (kind, principal).

    The construct id is stable across runs: a literal object id gets an id from its hash
    (reordering grants changes nothing); a token gets a sequence number within ``kind``. Granting
    the same principal twice returns the first assignment. ``role`` is a built-in role name or
    an ``azurerm_role_definition`` made by :func:`custom_role`.
    """
    if not isinstance(principal_id, str) and engine.Token.is_unresolved(principal_id):
        principal_id = engine.Token.as_string(principal_id)  # e.g. identity.ref("principal_id")
    if not isinstance(principal_id, str) or not principal_id.strip():
        raise ConstructError(
            scope.node.path,
            "a principal is an Entra object id (a non-empty string), "
            f"got {principal_id!r}"
        )
    if principal_type is not None and principal_type not in PRINCIPAL_TYPES:
        raise ConstructError(
            scope.node.path,
            f"principal_type {principal_type!r} must be one of "
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
        role_definition_name=role if isinstance(role, str) else None,
        role_definition_id=None if isinstance(role, str) else role.ref("role_definition_resource_id"),
        principal_id=principal_id,
        principal_type=principal_type,
        description=description,
    )
    cache[cache_key] = assignment
    return assignment


def log_workspace(
    scope: engine.Construct,
    *,
    name: str,
    resource_group_name: str,
    location: str,
    retention_days: int,
    provider: engine.TerraformProvider | None = None,
) -> Resource:
    """The construct's own Log Analytics workspace (child ``Logs``, named ``log-<name>``).

    Pay-as-you-go (``PerGB2018``), ``retention_days`` of retention, and Entra ID access only (no
    shared-key ingestion or queries). Used where a construct was given no workspace to send its
    diagnostic settings to.
    """
    return Resource(
        scope,
        "Logs",
        "azurerm_log_analytics_workspace",
        provider=provider,
        name=f"log-{name}",
        resource_group_name=resource_group_name,
        location=location,
        sku="PerGB2018",
        retention_in_days=retention_days,
        local_authentication_enabled=False,
    )


def custom_role(
    scope: engine.Construct,
    id: str,
    *,
    name: str,
    target: str,
    actions: list[str],
    description: str,
    data_actions: list[str] | None = None,
    provider: engine.TerraformProvider | None = None,
) -> Resource:
    """An ``azurerm_role_definition`` assignable only at ``target``, allowing exactly ``actions``.

    Used where no built-in role is narrow enough (e.g. "write models of one workspace" without the
    rest of "AzureML Data Scientist"). Role definition names are unique per tenant, so ``name``
    should carry the platform's resource name. Actions are listed explicitly; never ``*``.
    """
    if any(a.strip() == "*" for a in [*actions, *(data_actions or [])]):
        raise ConstructError(scope.node.path, f"custom role {name!r} must not allow '*'")
    return Resource(
        scope,
        id,
        "azurerm_role_definition",
        provider=provider,
        name=name,
        scope=target,
        description=description,
        assignable_scopes=[target],
        permissions=[{"actions": sorted(actions), "data_actions": sorted(data_actions) if data_actions else None}],
    )


def diagnostic_setting(
    scope: engine.Construct,
    id: str,
    *,
    name: str,
    target_resource_id: str,
    log_analytics_workspace_id: str,
    logs: Sequence[str] = (),
    log_groups: Sequence[str] = (),
    metrics: Sequence[str] = (),
    provider: engine.TerraformProvider | None,
) -> Resource:
    """An ``azurerm_monitor_diagnostic_setting`` (child ``id`` of ``scope``) that sends the log
    ``logs`` categories, then the ``log_groups`` category groups (e.g. ``allLogs``), and the
    ``metrics`` categories of ``target_resource_id`` to a Log Analytics workspace.

    Every construct that writes diagnostics uses it; without ``metrics`` no metric is sent.
    """
    enabled_log = [{"category": c} for c in logs] + [{"category_group": g} for g in log_groups]
    return Resource(
        scope,
        id,
        "azurerm_monitor_diagnostic_setting",
        provider=provider,
        name=name,
        target_resource_id=target_resource_id,
        log_analytics_workspace_id=log_analytics_workspace_id,
        enabled_log=enabled_log,
        enabled_metric=[{"category": m} for m in metrics] or None,
    )
