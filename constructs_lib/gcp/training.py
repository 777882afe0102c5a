"""Training compute on GCP: a private GKE Standard cluster with spot-first, scale-to-zero node pools.

Why GKE and not a Vertex AI persistent resource: ``google_vertex_ai_persistent_resource`` exists
in google 8.7, but a persistent resource keeps at least one replica per pool running (no scale to
zero), has no spot capacity and no on-demand fallback. Vertex custom jobs do scale to zero and
take spot (``scheduling.strategy = SPOT``), but they are API calls, not Terraform resources. GKE
node pools give every property of the spec in Terraform: spot VMs, autoscaling from 0 to a total
cap, CMEK boot disks, private nodes, workload identity.

From one :class:`TrainingProps` and a :class:`~constructs_lib.gcp.network.Network`, ``Training``
emits:

* ``google_container_cluster`` (child ``Cluster``): regional, private nodes and a private-only
  control-plane endpoint (authorized network: the node range), Dataplane V2 with network policy,
  shielded nodes, workload identity, application-layer secret encryption (etcd) with the CMEK,
  REGULAR release channel, Binary Authorization (project policy enforced), no client certificate,
  system + workload logging and monitoring, security posture scanning. Its default node pool is
  removed;
* per pool of ``props.pools`` a ``google_container_node_pool`` (child ``Pool<name>``, the
  ``pools[name]`` entry): ``spot`` per the pool, autoscaling ``total_min_node_count = min_nodes``
  to ``total_max_node_count = max_nodes`` (location policy ANY, the best place for spot), COS
  image, CMEK-encrypted ``pd-balanced`` boot disk of ``disk_size_gib``, shielded VM with secure
  boot, GKE metadata server, auto-repair and auto-upgrade, the node service account, GPUs
  (``guest_accelerator`` with the driver installed by GKE, ``gpu_driver_version = LATEST``) for GPU
  pools. Every node carries the label ``mlops.dev/pool=<name>`` and the taint
  ``mlops.dev/pool=<name>:NoSchedule``, so only training pods that tolerate it land there;
* for a spot pool with ``on_demand_fallback`` a second pool (child ``Pool<name>OnDemand``, in
  ``fallback_pools``) with the same shape, ``spot = false`` and at most ``on_demand_max_nodes``
  (default ``max_nodes``) nodes;
* ``google_service_account`` ``Identity`` — the training execution identity (``principal``),
  bound to the Kubernetes service account ``<namespace>/<ksa>`` through workload identity
  (``roles/iam.workloadIdentityUser`` on that service account only);
* ``google_service_account`` ``Nodes`` — the node identity with ``roles/logging.logWriter``,
  ``roles/monitoring.metricWriter`` and ``roles/monitoring.viewer`` (GKE's minimal node roles);
  image pulls are granted per repository by the container registry (``grant_pull``);
* a :class:`~constructs_lib.gcp.keys.Key` (child ``Key``) unless ``encryption.key_id`` is given,
  with encrypt/decrypt for the Compute Engine service agent (boot disks) and the GKE service agent
  (etcd encryption).

Spot first, on-demand second: GKE's cluster autoscaler cannot be told to prefer one node pool
over another from Terraform (the priority expander is not configurable on GKE). The preference is
expressed with a GKE *custom compute class* (a Kubernetes object, applied after the cluster
exists; ``docs/gcp.md`` has the manifest): its ``priorities`` list the spot pool first and the
on-demand pool second, so the autoscaler scales the spot pool and falls back when spot capacity is
out. Without the compute class, pods that select ``mlops.dev/pool=<name>`` may land on either.

``idle_minutes`` cannot be set per pool on GKE: the cluster's autoscaling profile is
``OPTIMIZE_UTILIZATION`` (scale down after about a minute idle) when the smallest
``idle_minutes`` is at most 10, else ``BALANCED`` (about 10 minutes).
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from ..core import build_props, engine
from ..core.acknowledge import Acknowledge
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructTypeError
from ..core.props import Model
from ..core.resource import Resource
from ..core.tags import gcp_labels
from ._common import PROJECT_PATTERN, REGION_PATTERN, account_id, own_key, require_services, service_agent, use_key
from .network import Network

__all__ = [
    "DEFAULT_CPU_MACHINE",
    "DEFAULT_GPU_MACHINE",
    "NODE_ROLES",
    "POOL_LABEL",
    "Accelerator",
    "Training",
    "TrainingProps",
    "accelerator_for",
]

DEFAULT_GPU_MACHINE = "g2-standard-8"
"""Default GPU machine: 8 vCPUs, 32 GB, one NVIDIA L4."""
DEFAULT_CPU_MACHINE = "n2-standard-4"
"""Default CPU machine: 4 vCPUs, 16 GB."""
NODE_ROLES: tuple[str, ...] = ("roles/logging.logWriter", "roles/monitoring.metricWriter", "roles/monitoring.viewer")
"""Project roles of the node service account (GKE's documented minimum; no data access)."""
POOL_LABEL = "mlops.dev/pool"
"""Node label and taint key naming the training pool."""

_G2_GPUS = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}
_A2_HIGH = re.compile(r"^a2-highgpu-(\d+)g$")
_A2_ULTRA = re.compile(r"^a2-ultragpu-(\d+)g$")
_A3 = re.compile(r"^a3-(highgpu|megagpu)-(\d+)g$")


class Accelerator(Model):
    """GPUs attached to each node of a pool."""

    type: str = Field(pattern=r"^nvidia-[a-z0-9-]+$", description="GCP accelerator type, e.g. 'nvidia-l4', 'nvidia-tesla-t4'.")
    count: int = Field(ge=1, le=16, description="GPUs per node.")


def accelerator_for(machine_type: str) -> Accelerator | None:
    """The GPUs built into ``machine_type`` (G2, A2, A3 families), or None when unknown."""
    m = re.match(r"^g2-standard-(\d+)$", machine_type)
    if m and int(m[1]) in _G2_GPUS:
        return Accelerator(type="nvidia-l4", count=_G2_GPUS[int(m[1])])
    if (m := _A2_HIGH.match(machine_type)) is not None:
        return Accelerator(type="nvidia-tesla-a100", count=int(m[1]))
    if (m := _A2_ULTRA.match(machine_type)) is not None:
        return Accelerator(type="nvidia-a100-80gb", count=int(m[1]))
    if (m := _A3.match(machine_type)) is not None:
        return Accelerator(type="nvidia-h100-80gb" if m[1] == "highgpu" else "nvidia-h100-mega-80gb", count=int(m[2]))
    return None


class TrainingProps(build_props.TrainingProps):
    """GCP training props: the shared :class:`~constructs_lib.core.build_props.TrainingProps` plus
    project, region and GKE settings."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the cluster and identities.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the (regional) cluster, e.g. 'us-central1'.")
    node_zones: list[str] = Field(
        default_factory=list,
        description=(
            "Zones of the region that get nodes. Defaults to none: GKE picks three zones of the "
            "region. Name zones that offer your GPU type (e.g. L4: us-central1-a/b/c)."
        ),
    )
    accelerators: dict[str, Accelerator] = Field(
        default_factory=dict,
        description=(
            "Pool name -> GPUs per node, for GPU machine types without built-in GPUs (N1 + T4 / V100). "
            "Defaults to none: G2 (L4), A2 (A100) and A3 (H100) machine types need no entry."
        ),
    )
    kubernetes_namespace: str = Field(
        default="training",
        pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        description="Namespace of the training jobs' Kubernetes service account. Defaults to 'training'.",
    )
    kubernetes_service_account: str = Field(
        default="trainer",
        pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
        description=(
            "Kubernetes service account that acts as `principal` through workload identity. "
            "Defaults to 'trainer' (annotate it with iam.gke.io/gcp-service-account=<principal e-mail>)."
        ),
    )
    release_channel: str = Field(
        default="REGULAR",
        pattern=r"^(RAPID|REGULAR|STABLE)$",
        description="GKE release channel (automatic upgrades). Defaults to REGULAR.",
    )
    deletion_protection: bool = Field(
        default=True,
        description="Refuse `terraform destroy` of the cluster (GKE deletion_protection). Defaults to True.",
    )
    rbac_security_group: str | None = Field(
        default=None,
        pattern=r"^gke-security-groups@[a-z0-9.-]+\.[a-z]{2,}$",
        description=(
            "Google Groups for RBAC: the `gke-security-groups@<your domain>` group whose member "
            "groups can be bound in Kubernetes RBAC. Defaults to None: Kubernetes access is by IAM "
            "only (acknowledged CKV_GCP_65); needs a Google Workspace or Cloud Identity domain."
        ),
    )

    @model_validator(mode="after")
    def _gpus(self) -> "TrainingProps":
        names = {p.name for p in self.pools}
        unknown = sorted(set(self.accelerators) - names)
        if unknown:
            raise ValueError(f"accelerators names pools that do not exist: {unknown}; pools are {sorted(names)}")
        for pool in self.pools:
            if not pool.gpu:
                if pool.name in self.accelerators:
                    raise ValueError(f"pool {pool.name!r} has accelerators but gpu is false; set gpu: true")
                continue
            machine = pool.machine_type or DEFAULT_GPU_MACHINE
            if pool.name not in self.accelerators and accelerator_for(machine) is None:
                raise ValueError(
                    f"pool {pool.name!r}: machine type {machine!r} has no built-in GPU; use a G2/A2/A3 "
                    f"machine type or add accelerators: {{{pool.name}: {{type: nvidia-tesla-t4, count: 1}}}}"
                )
        for zone in self.node_zones:
            if not zone.startswith(self.location + "-"):
                raise ValueError(f"node_zones: {zone!r} is not a zone of {self.location}")
        return self


class Training(MlopsConstruct):
    """A private GKE cluster with spot GPU/CPU node pools and one training identity.

    Public attributes (same names on every cloud):

    * ``principal`` — IAM member of the training service account (``serviceAccount:...`` token),
      what ``DataStore.grant_read`` and the other grants take;
    * ``principal_id`` — e-mail of the training service account (what the Kubernetes service
      account is annotated with);
    * ``pools`` — pool name -> the primary ``google_container_node_pool`` :class:`Resource` (the
      spot pool when ``spot``);
    * ``pool_targets`` — pool name -> ``{"target": node pool name, "fallback": on-demand pool
      name or None}`` (tokens): where jobs of the pool are scheduled;

    and GCP extras: ``resource`` / ``cluster`` (the cluster), ``fallback_pools`` (pool name ->
    on-demand fallback pool), ``service_account`` / ``service_account_email`` (training identity),
    ``node_service_account`` / ``node_principal``, ``key`` / ``key_id``, ``workload_identity_member``.
    """

    props_type = TrainingProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: TrainingProps,
        *,
        network: Network,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(network, Network):
            raise ConstructTypeError(self.node.path, "network must be a constructs_lib.gcp.Network")
        project = props.project
        apis = require_services(
            self, project, ["container.googleapis.com", "compute.googleapis.com", "iam.googleapis.com"], provider=provider
        )
        self._identities(apis)
        key_grants = self._key()
        self._cluster(network, apis, key_grants)
        self._workload_identity()
        self._pools()

    # --- steps of the constructor, in order -------------------------------------------------------

    def _identities(self, apis: list[Resource]) -> None:
        """The training identity (``service_account``, ``principal``, ``principal_id``) and the node
        identity with GKE's minimal node roles (``node_service_account``, ``node_principal``)."""
        props: TrainingProps = self.props
        project, provider = props.project, self._provider
        self.service_account = Resource(
            self,
            "Identity",
            "google_service_account",
            provider=provider,
            depends_on=apis,
            project=project,
            account_id=account_id(props.name, "run"),
            display_name=f"Training jobs of {props.name}",
            description="Execution identity of training jobs (cdktf-mlops); holds only granted roles.",
        )
        self.service_account_email: str = self.service_account.ref("email")
        self.principal: str = self.service_account.ref("member")
        self.principal_id: str = self.service_account_email

        self.node_service_account = Resource(
            self,
            "Nodes",
            "google_service_account",
            provider=provider,
            depends_on=apis,
            project=project,
            account_id=account_id(props.name, "nodes"),
            display_name=f"GKE nodes of {props.name}",
            description="Node identity of the training cluster: logs and metrics only (cdktf-mlops).",
        )
        self.node_principal: str = self.node_service_account.ref("member")
        for role in NODE_ROLES:
            Resource(
                self,
                f"NodeRole{role.rsplit('.', 1)[-1][:1].upper()}{role.rsplit('.', 1)[-1][1:]}",
                "google_project_iam_member",
                provider=provider,
                project=project,
                role=role,
                member=self.node_principal,
            )

    def _key(self) -> list[Resource]:
        """The cluster's key (boot disks and etcd) for the Compute Engine and GKE service agents;
        returns the key grants."""
        props: TrainingProps = self.props
        project, provider = props.project, self._provider
        agents = [
            ("ComputeServiceAgent", service_agent(self, project, "compute", provider=provider)),
            ("GkeServiceAgent", service_agent(self, project, "container", provider=provider)),
        ]
        self.key = own_key(
            self,
            "Key",
            props.encryption,
            name=props.name,
            project=project,
            location=props.location,
            deletion_protection=props.deletion_protection,
            provider=provider,
        )
        self.key_id, key_grants = use_key(self, self.key, props.encryption, agents, provider=provider)
        return key_grants

    def _cluster(self, network: Network, apis: list[Resource], key_grants: list[Resource]) -> None:
        """The private regional GKE cluster (``cluster`` / ``resource``)."""
        props: TrainingProps = self.props
        project, provider = props.project, self._provider
        profile = "OPTIMIZE_UTILIZATION" if min(p.idle_minutes for p in props.pools) <= 10 else "BALANCED"
        labels = gcp_labels({"component": "training", **props.tags})
        self.cluster = self.resource = Resource(
            self,
            "Cluster",
            "google_container_cluster",
            provider=provider,
            depends_on=[*apis, *key_grants],
            name=props.name,
            project=project,
            location=props.location,
            node_locations=props.node_zones or None,
            network=network.network_id,
            subnetwork=network.private_subnet_ids[0],
            networking_mode="VPC_NATIVE",
            datapath_provider="ADVANCED_DATAPATH",
            # Dataplane V2 enforces NetworkPolicy itself; the legacy Calico switch stays off.
            network_policy={"enabled": False},
            authenticator_groups_config=(
                {"security_group": props.rbac_security_group} if props.rbac_security_group else None
            ),
            remove_default_node_pool=True,
            initial_node_count=1,
            deletion_protection=props.deletion_protection,
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            enable_intranode_visibility=True,
            resource_labels=labels,
            ip_allocation_policy={
                "cluster_secondary_range_name": network.pods_range_name,
                "services_secondary_range_name": network.services_range_name,
            },
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": True,
                "master_ipv4_cidr_block": network.control_plane_cidr,
                "master_global_access_config": {"enabled": False},
            },
            master_authorized_networks_config={
                "cidr_blocks": [{"cidr_block": network.master_authorized_cidr, "display_name": "ml-nodes"}],
                "gcp_public_cidrs_access_enabled": False,
            },
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            release_channel={"channel": props.release_channel},
            workload_identity_config={"workload_pool": f"{project}.svc.id.goog"},
            database_encryption={"state": "ENCRYPTED", "key_name": self.key_id},
            binary_authorization={"evaluation_mode": "PROJECT_SINGLETON_POLICY_ENFORCE"},
            cluster_autoscaling={"enabled": False, "autoscaling_profile": profile},
            logging_config={"enable_components": ["SYSTEM_COMPONENTS", "WORKLOADS"]},
            monitoring_config={"enable_components": ["SYSTEM_COMPONENTS"], "managed_prometheus": {"enabled": True}},
            security_posture_config={"mode": "BASIC", "vulnerability_mode": "VULNERABILITY_BASIC"},
            addons_config={"http_load_balancing": {"disabled": True}},
            node_config=self._node_config(None, props.encryption, gpu=None),
        )

        if props.rbac_security_group is None:
            Acknowledge.of(self.cluster).add(
                "CKV_GCP_65",
                reason=(
                    "Google Groups for RBAC needs a gke-security-groups@<domain> group of the "
                    "organisation's Google Workspace / Cloud Identity domain, which the platform "
                    "cannot create or know; set TrainingProps.rbac_security_group to turn it on. "
                    "Until then Kubernetes access is granted by IAM roles only, through the private "
                    "control-plane endpoint reachable from the node range alone."
                ),
            )

    def _workload_identity(self) -> None:
        """The Kubernetes service account acts as the training identity (``workload_identity_member``)."""
        props: TrainingProps = self.props
        project, provider = props.project, self._provider
        self.workload_identity_member = (
            f"serviceAccount:{project}.svc.id.goog[{props.kubernetes_namespace}/{props.kubernetes_service_account}]"
        )
        Resource(
            self,
            "WorkloadIdentity",
            "google_service_account_iam_member",
            provider=provider,
            depends_on=[self.cluster],
            service_account_id=self.service_account.ref("name"),
            role="roles/iam.workloadIdentityUser",
            member=self.workload_identity_member,
        )

    def _pools(self) -> None:
        """The node pools (``pools``, ``fallback_pools``) and ``pool_targets``."""
        props: TrainingProps = self.props
        self.pools: dict[str, Resource] = {}
        self.fallback_pools: dict[str, Resource] = {}
        for pool in props.pools:
            self.pools[pool.name] = self._pool(pool, spot=pool.spot, suffix="")
            if pool.spot and pool.on_demand_fallback:
                self.fallback_pools[pool.name] = self._pool(pool, spot=False, suffix="OnDemand")
        self.pool_targets: dict[str, dict[str, str | None]] = {
            name: {
                "target": pool.ref("name"),
                "fallback": self.fallback_pools[name].ref("name") if name in self.fallback_pools else None,
            }
            for name, pool in self.pools.items()
        }

    # ------------------------------------------------------------------------------------------

    def _node_config(
        self, pool: build_props.TrainingPoolSettings | None, encryption: object, *, gpu: bool | None, spot: bool = False
    ) -> dict[str, object]:
        props: TrainingProps = self.props
        if pool is None:
            machine, disk = "e2-small", 30
        else:
            machine = pool.machine_type or (DEFAULT_GPU_MACHINE if pool.gpu else DEFAULT_CPU_MACHINE)
            disk = pool.disk_size_gib
        config: dict[str, object] = {
            "machine_type": machine,
            "spot": spot or None,
            "disk_size_gb": disk,
            "disk_type": "pd-balanced",
            "boot_disk_kms_key": self.key_id,
            "image_type": "COS_CONTAINERD",
            "service_account": self.node_service_account.ref("email"),
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "metadata": {"disable-legacy-endpoints": "true"},
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
            "workload_metadata_config": {"mode": "GKE_METADATA"},
        }
        if pool is not None:
            config["labels"] = {POOL_LABEL: pool.name, "mlops.dev/capacity": "spot" if spot else "on-demand"}
            config["taint"] = [{"key": POOL_LABEL, "value": pool.name, "effect": "NO_SCHEDULE"}]
            config["resource_labels"] = gcp_labels({"pool": pool.name, **props.tags})
            if pool.gpu:
                acc = props.accelerators.get(pool.name) or accelerator_for(machine)
                assert acc is not None  # checked by TrainingProps
                config["guest_accelerator"] = [
                    {
                        "type": acc.type,
                        "count": acc.count,
                        "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"},
                    }
                ]
        return config

    def _pool(self, pool: build_props.TrainingPoolSettings, *, spot: bool, suffix: str) -> Resource:
        props: TrainingProps = self.props
        cid = "Pool" + "".join(p.capitalize() for p in pool.name.split("-")) + suffix
        name = pool.name if not suffix else f"{pool.name}-ondemand"
        return Resource(
            self,
            cid,
            "google_container_node_pool",
            provider=self._provider,
            name=name,
            project=props.project,
            location=props.location,
            cluster=self.cluster.ref("id"),
            node_locations=props.node_zones or None,
            initial_node_count=0 if pool.min_nodes == 0 else None,
            autoscaling={
                "total_min_node_count": pool.min_nodes if spot or not suffix else 0,
                "total_max_node_count": pool.fallback_max_nodes if suffix else pool.max_nodes,
                "location_policy": "ANY",
            },
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings={"max_surge": 1, "max_unavailable": 0},
            network_config={"enable_private_nodes": True},
            node_config=self._node_config(pool, props.encryption, gpu=pool.gpu, spot=spot),
        )

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Training({self.node.path!r})"
