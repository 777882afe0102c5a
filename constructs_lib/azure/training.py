"""Training compute on Azure: one Azure ML compute cluster per pool (low-priority first, scale to
zero, private subnet, no public IPs, no local auth, no SSH) and ONE user-assigned execution
identity for every job.

Example::

    training = Training(self, "Training", TrainingProps(
        name="ml-train", resource_group_name="rg-ml", location="westeurope",
        workspace_id=workspace.workspace_id,
        pools=[TrainingPoolSettings(name="gpu", gpu=True, max_nodes=4)],
    ), network=network)
    data.grant_read(training.principal, principal_type="ServicePrincipal")

What is created (construct ids in brackets):

* ``azurerm_user_assigned_identity`` [Resource]: the execution identity of every cluster;
  ``principal`` is its Entra object id, the grant format of this cloud's constructs.
* ``azurerm_machine_learning_compute_cluster`` [Pool-<name>] per pool: ``vm_priority``
  LowPriority with ``spot`` (Dedicated otherwise), ``scale_settings`` min ``min_nodes`` / max
  ``max_nodes`` / ``scale_down_nodes_after_idle_duration`` ``PT<idle_minutes>M``, the workload
  subnet, ``node_public_ip_enabled = false``, ``local_auth_enabled = false``,
  ``ssh_public_access_enabled = false``.
* With ``spot`` and ``on_demand_fallback``: a second, Dedicated cluster [Pool-<name>-od] named
  ``<name>-od`` (cut to 16 characters; two long pool names whose cut names clash get a 4-character
  hash of the pool name before ``-od`` instead: :func:`compute_names`, ``training_fallback_pools``
  output) with min 0 and at most ``on_demand_max_nodes`` (default ``max_nodes``) nodes. Azure ML does not move a job from
  low-priority to dedicated nodes inside one cluster: submit to ``<name>`` first and retry
  preempted or queued-too-long jobs on ``<name>-od`` (the pipeline's retry step, or
  ``az ml job create --set compute=<name>-od``). It costs nothing while idle (min 0).

Disks: Azure ML clusters have no disk-size or disk-key argument. The OS disk is sized by the VM
size, so ``disk_size_gib`` cannot be applied and is ignored (choose a ``machine_type`` whose
disks are large enough); the OS disk is encrypted at rest by the platform;
the local scratch disk is encrypted because the workspace is high business impact; job data lives
in the CMK-encrypted stores. ``encryption`` therefore creates no key here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator, model_validator

from ..core import engine
from ..core.build_props import TrainingPoolSettings
from ..core.build_props import TrainingProps as _CoreTrainingProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.naming import short_hash
from ..core.props import EncryptionProps
from ..core.resource import Resource
from ._common import attr

__all__ = [
    "DEFAULT_CPU_VM_SIZE",
    "DEFAULT_GPU_VM_SIZE",
    "FALLBACK_SUFFIX",
    "Training",
    "TrainingProps",
    "compute_names",
    "fallback_name",
]

#: VM size of a GPU pool without ``machine_type``: 4 vCPU, 1x T4 16 GiB.
DEFAULT_GPU_VM_SIZE = "Standard_NC4as_T4_v3"
#: VM size of a CPU pool without ``machine_type``: 4 vCPU, 16 GiB.
DEFAULT_CPU_VM_SIZE = "Standard_D4s_v5"
#: Suffix of the Dedicated fallback cluster of a low-priority pool.
FALLBACK_SUFFIX = "-od"
_MAX_COMPUTE_NAME = 16  # Azure ML compute names: 2-16 characters


def fallback_name(pool: str) -> str:
    """Name of the Dedicated fallback cluster of ``pool`` (at most 16 characters), before clashes
    are resolved (see :func:`compute_names`)."""
    return pool[: _MAX_COMPUTE_NAME - len(FALLBACK_SUFFIX)].rstrip("-") + FALLBACK_SUFFIX


def _hashed_fallback_name(pool: str) -> str:
    """``<pool prefix><4 hex of the pool name>-od``: 16 characters at most, unique per pool name."""
    digest = short_hash(pool, length=4)
    keep = _MAX_COMPUTE_NAME - len(FALLBACK_SUFFIX) - len(digest)
    return pool[:keep].rstrip("-") + digest + FALLBACK_SUFFIX


def compute_names(pools: Sequence[TrainingPoolSettings]) -> dict[str, tuple[str, str | None]]:
    """Pool name -> (cluster name, fallback cluster name or None), all distinct.

    A pool's cluster is named like the pool. A spot pool with fallback gets ``<pool>-od``, cut so
    that it fits 16 characters; when that name is also another pool's name or another pool's
    fallback name (two long pool names that differ only after the 13th character), every pool
    involved gets ``<pool prefix><4 hex of its name>-od`` instead. The result depends only on the
    pool names, not on their order.
    """
    plain = {p.name: fallback_name(p.name) for p in pools if p.spot and p.on_demand_fallback}
    used = [p.name for p in pools] + list(plain.values())
    out: dict[str, tuple[str, str | None]] = {}
    for p in pools:
        fallback = plain.get(p.name)
        if fallback is not None and used.count(fallback) > 1:
            fallback = _hashed_fallback_name(p.name)
        out[p.name] = (p.name, fallback)
    names = [n for pair in out.values() for n in pair if n is not None]
    if len(set(names)) != len(names):  # pragma: no cover - would need a 4-hex collision on top
        clash = sorted({n for n in names if names.count(n) > 1})
        raise ConstructError(None, f"pools: compute names {clash} clash; rename a pool")
    return out


class TrainingProps(_CoreTrainingProps):
    """The shared training props plus where the clusters live."""

    resource_group_name: str = Field(description="Resource group of the execution identity.")
    location: str = Field(description="Azure region of the clusters, e.g. 'westeurope'.")
    workspace_id: str = Field(description="Resource Manager id of the Azure ML workspace that owns the clusters.")

    @field_validator("encryption")
    @classmethod
    def _no_key(cls, value: EncryptionProps) -> EncryptionProps:
        if value.key_id is not None:
            raise ValueError(
                "Azure ML compute clusters take no disk key: node disks are platform-encrypted and "
                "scratch disks encrypted by the high-business-impact workspace; remove encryption.key_id"
            )
        return value

    @model_validator(mode="after")
    def _names(self) -> "TrainingProps":
        compute_names(self.pools)  # distinct cluster names, or a clear error
        return self


class Training(MlopsConstruct):
    """Compute clusters per pool and one execution identity (see the module docstring).

    Attributes:
        resource / identity: the ``azurerm_user_assigned_identity``.
        principal / principal_id: its Entra object id (token) — pass it to ``grant_*`` of other
            constructs.
        identity_id: its Resource Manager id.
        client_id: its client id (``AZURE_CLIENT_ID`` for ``DefaultAzureCredential`` in jobs).
        pools: pool name -> its (low-priority or dedicated) ``azurerm_machine_learning_compute_cluster``.
        fallback_pools: pool name -> its Dedicated fallback cluster (spot pools with fallback).
        pool_targets: pool name -> ``{"target": cluster name, "fallback": fallback cluster name or
            None}`` (tokens): what jobs are submitted to, and where preempted jobs are retried.
    """

    props_type = TrainingProps
    props_hint = "resource_group_name, location and workspace_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: TrainingProps,
        *,
        network: Any,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        subnets = list(getattr(network, "private_subnet_ids", None) or [])
        if not subnets:
            raise ConstructError(
                self.node.path,
                "network must provide private_subnet_ids (an azure.Network); "
                "training nodes only run in private subnets"
            )
        subnet_id = subnets[0]
        self.resource = Resource(
            self,
            "Resource",
            "azurerm_user_assigned_identity",
            provider=provider,
            name=f"id-{props.name}",
            resource_group_name=props.resource_group_name,
            location=props.location,
        )
        self.identity = self.resource
        self.principal: str = attr(self.resource, "principal_id")
        self.principal_id: str = self.principal
        self.identity_id: str = attr(self.resource, "id")
        self.client_id: str = attr(self.resource, "client_id")
        self.pools: dict[str, Resource] = {}
        self.fallback_pools: dict[str, Resource] = {}
        names = compute_names(props.pools)
        for pool in props.pools:
            size = pool.machine_type or (DEFAULT_GPU_VM_SIZE if pool.gpu else DEFAULT_CPU_VM_SIZE)
            kind = "GPU" if pool.gpu else "CPU"
            self.pools[pool.name] = self._cluster(
                f"Pool-{pool.name}", pool.name, size, "LowPriority" if pool.spot else "Dedicated",
                pool.min_nodes, pool.max_nodes, pool.idle_minutes, subnet_id,
                f"{kind} pool {pool.name} ({'low-priority' if pool.spot else 'dedicated'})",
            )
            if pool.spot and pool.on_demand_fallback:
                self.fallback_pools[pool.name] = self._cluster(
                    f"Pool-{pool.name}{FALLBACK_SUFFIX}", names[pool.name][1] or fallback_name(pool.name), size, "Dedicated",
                    0, pool.fallback_max_nodes, pool.idle_minutes, subnet_id,
                    f"Dedicated fallback of {kind} pool {pool.name}: retry jobs here when low-priority capacity is gone",
                )
        self.pool_targets: dict[str, dict[str, str | None]] = {
            name: {
                "target": cluster.ref("name"),
                "fallback": self.fallback_pools[name].ref("name") if name in self.fallback_pools else None,
            }
            for name, cluster in self.pools.items()
        }

    def _cluster(
        self, cid: str, name: str, size: str, priority: str, min_nodes: int, max_nodes: int,
        idle_minutes: int, subnet_id: str, description: str,
    ) -> Resource:
        return Resource(
            self,
            cid,
            "azurerm_machine_learning_compute_cluster",
            provider=self._provider,
            name=name,
            description=description,
            location=self.props.location,
            machine_learning_workspace_id=self.props.workspace_id,
            vm_size=size,
            vm_priority=priority,
            subnet_resource_id=subnet_id,
            node_public_ip_enabled=False,
            local_auth_enabled=False,
            ssh_public_access_enabled=False,
            scale_settings={
                "min_node_count": min_nodes,
                "max_node_count": max_nodes,
                "scale_down_nodes_after_idle_duration": f"PT{idle_minutes}M",
            },
            identity={"type": "UserAssigned", "identity_ids": [self.identity_id]},
        )
