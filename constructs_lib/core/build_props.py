"""Props of the build side (network, training, registries, tracking, feature store), shared by clouds.

Each capability has a ``*Settings`` model — what a platform spec section holds — and a ``*Props``
model that adds the construct-level fields (``name``, ``encryption``, ``tags``). Cloud packages
subclass the props only to add what a cloud needs, never to rename a field.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .props import EncryptionProps, Model

__all__ = [
    "ContainerRegistryProps",
    "ContainerRegistrySettings",
    "ExistingNetwork",
    "FeatureGroupSettings",
    "FeatureStoreProps",
    "FeatureStoreSettings",
    "ModelRegistryProps",
    "ModelRegistrySettings",
    "NetworkProps",
    "NetworkSettings",
    "RegistrySettings",
    "TrackingProps",
    "TrackingSettings",
    "TrainingPoolSettings",
    "TrainingProps",
    "TrainingSettings",
]

_NAME = r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$"
_SHORT = re.compile(r"^[a-z][a-z0-9-]{0,14}[a-z0-9]$")


def _name_field(what: str) -> object:
    return Field(
        pattern=_NAME,
        description=f"Logical name of the {what}: 3-40 lowercase letters, digits, hyphens. Cloud names derive from it.",
    )


class _Common(Model):
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags (labels on GCP) added to every resource of the construct. Defaults to none.",
    )


# --------------------------------------------------------------------------------------- network


class ExistingNetwork(Model):
    """Ids of a network that already exists (the construct then creates nothing but endpoints)."""

    network_id: str = Field(description="AWS VPC id, Azure virtual network id, or GCP network self-link.")
    subnet_ids: list[str] = Field(
        min_length=1,
        description="Private subnets for ML workloads (AWS subnet ids, Azure subnet ids, GCP subnetwork self-links).",
    )


class NetworkSettings(Model):
    """A private network for ML workloads."""

    cidr: str = Field(
        default="10.40.0.0/16",
        description="Address range of the created network. Defaults to 10.40.0.0/16, split into /20 subnets.",
    )
    zones: int = Field(
        default=2,
        ge=1,
        le=3,
        description="Availability zones that get a private subnet (AWS; Azure and GCP subnets are regional). Defaults to 2.",
    )
    flow_logs: bool = Field(
        default=True,
        description="Record network flows (VPC flow logs / NSG flow logs / subnet flow logs). Defaults to True.",
    )
    flow_log_retention_days: int = Field(
        default=90, ge=1, le=3653, description="How long flow logs are kept. Defaults to 90 days."
    )
    existing: ExistingNetwork | None = Field(
        default=None,
        description="Use an existing network instead of creating one. Defaults to None: a network is created.",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError as err:
            raise ValueError(f"{value!r} is not a network address range like 10.40.0.0/16 ({err})") from None
        if net.version != 4 or not net.is_private or net.prefixlen > 20:
            raise ValueError(f"{value!r} must be a private IPv4 range of /20 or larger (e.g. 10.40.0.0/16)")
        return value


class NetworkProps(NetworkSettings, _Common):
    """Props of a ``Network`` construct."""

    name: str = _name_field("network")  # type: ignore[assignment]


# -------------------------------------------------------------------------------------- training


class TrainingPoolSettings(Model):
    """One pool of training nodes."""

    name: str = Field(pattern=_SHORT.pattern, description="Pool name: 2-16 lowercase letters, digits, hyphens.")
    gpu: bool = Field(default=False, description="GPU nodes. Defaults to False (CPU nodes).")
    machine_type: str | None = Field(
        default=None,
        description=(
            "Cloud machine type. Defaults to None: AWS g5.xlarge / m6i.xlarge, Azure "
            "Standard_NC4as_T4_v3 / Standard_D4s_v5, GCP g2-standard-8 (L4) / n2-standard-4 for GPU / CPU."
        ),
    )
    min_nodes: int = Field(default=0, ge=0, description="Nodes kept running. Defaults to 0: scale to zero when idle.")
    max_nodes: int = Field(
        default=4, ge=1, le=1000,
        description=(
            "Most nodes at once of the pool's primary capacity (spot, or on-demand without spot): its "
            "cost cap. Defaults to 4. The on-demand fallback has its own cap, on_demand_max_nodes."
        ),
    )
    spot: bool = Field(
        default=True,
        description="Use spot / low-priority capacity (60-90% cheaper, can be reclaimed). Defaults to True.",
    )
    on_demand_fallback: bool = Field(
        default=True,
        description="When spot capacity runs out, fall back to on-demand capacity. Defaults to True.",
    )
    on_demand_max_nodes: int | None = Field(
        default=None, ge=1, le=1000,
        description=(
            "Most nodes at once of the on-demand fallback of a spot pool. Defaults to None: "
            "max_nodes, so the worst case is max_nodes spot plus max_nodes on-demand nodes; set it "
            "lower (e.g. 1) for a tighter cost cap."
        ),
    )
    idle_minutes: int = Field(
        default=10, ge=1, le=1440, description="Scale nodes down after this many idle minutes. Defaults to 10."
    )
    disk_size_gib: int = Field(
        default=200, ge=30, le=16384, description="Encrypted boot/scratch disk per node, GiB. Defaults to 200."
    )

    @model_validator(mode="after")
    def _nodes(self) -> "TrainingPoolSettings":
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"min_nodes ({self.min_nodes}) must not exceed max_nodes ({self.max_nodes})")
        if self.on_demand_max_nodes is not None:
            if not (self.spot and self.on_demand_fallback):
                raise ValueError(
                    "on_demand_max_nodes caps the on-demand fallback of a spot pool; this pool has "
                    f"spot={self.spot}, on_demand_fallback={self.on_demand_fallback}: remove it"
                )
            if self.on_demand_max_nodes > self.max_nodes:
                raise ValueError(
                    f"on_demand_max_nodes ({self.on_demand_max_nodes}) must not exceed max_nodes ({self.max_nodes})"
                )
        return self

    @property
    def fallback_max_nodes(self) -> int:
        """Cap of the on-demand fallback: ``on_demand_max_nodes``, else ``max_nodes``."""
        return self.on_demand_max_nodes if self.on_demand_max_nodes is not None else self.max_nodes


def _default_pools() -> list[TrainingPoolSettings]:
    return [TrainingPoolSettings(name="cpu"), TrainingPoolSettings(name="gpu", gpu=True, max_nodes=2)]


class TrainingSettings(Model):
    """Training compute: pools of spot-first, scale-to-zero nodes in private subnets."""

    pools: list[TrainingPoolSettings] = Field(
        default_factory=_default_pools,
        min_length=1,
        description="Node pools. Defaults to a `cpu` pool (max 4) and a `gpu` pool (max 2), both spot with fallback.",
    )

    @field_validator("pools")
    @classmethod
    def _unique(cls, pools: list[TrainingPoolSettings]) -> list[TrainingPoolSettings]:
        names = [p.name for p in pools]
        if len(set(names)) != len(names):
            raise ValueError(f"pool names must be unique, got {names}")
        return pools


class TrainingProps(TrainingSettings, _Common):
    """Props of a ``Training`` construct."""

    name: str = _name_field("training compute")  # type: ignore[assignment]
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps,
        description="Key for node disks and job volumes. Defaults to a new key, rotated every 90 days.",
    )


# ------------------------------------------------------------------------------------ registries


class ContainerRegistrySettings(Model):
    """A private container registry for training and serving images."""

    repositories: list[str] = Field(
        default_factory=lambda: ["training", "serving"],
        min_length=1,
        description="Repositories to create. Defaults to `training` and `serving`.",
    )
    scan_on_push: bool = Field(default=True, description="Scan every pushed image for vulnerabilities. Defaults to True.")
    immutable_tags: bool = Field(default=True, description="A tag cannot be moved to another image. Defaults to True.")
    untagged_expiry_days: int = Field(
        default=14, ge=1, le=3650, description="Delete untagged images after this many days. Defaults to 14."
    )

    @field_validator("repositories")
    @classmethod
    def _repos(cls, repos: list[str]) -> list[str]:
        for r in repos:
            if not _SHORT.match(r):
                raise ValueError(f"repository name {r!r} must be 2-16 lowercase letters, digits, hyphens")
        if len(set(repos)) != len(repos):
            raise ValueError("repository names must be unique")
        return repos


class ContainerRegistryProps(ContainerRegistrySettings, _Common):
    """Props of a ``ContainerRegistry`` construct."""

    name: str = _name_field("container registry")  # type: ignore[assignment]
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps, description="Key for stored images. Defaults to a new key, rotated every 90 days."
    )


class ModelRegistrySettings(Model):
    """A model registry with an approval gate."""

    approval: Literal["manual", "automatic"] = Field(
        default="manual",
        description="New model versions wait for manual approval before deployment. Defaults to manual.",
    )
    promotion_targets: list[str] = Field(
        default_factory=list,
        description=(
            "Later environments allowed to read approved models (dev -> prod promotion): AWS account "
            "ids, Azure Entra object ids of their deployment identities, or GCP service-account "
            "members. Defaults to none."
        ),
    )


class ModelRegistryProps(ModelRegistrySettings, _Common):
    """Props of a ``ModelRegistry`` construct."""

    name: str = _name_field("model registry")  # type: ignore[assignment]
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps, description="Key for model artifacts. Defaults to a new key, rotated every 90 days."
    )


class RegistrySettings(Model):
    """The spec's `registry` section: container registry and model registry."""

    containers: ContainerRegistrySettings = Field(
        default_factory=ContainerRegistrySettings, description="Container registry. Defaults as documented there."
    )
    models: ModelRegistrySettings = Field(
        default_factory=ModelRegistrySettings, description="Model registry. Defaults to manual approval, no promotion targets."
    )


# -------------------------------------------------------------------------------------- tracking


class TrackingSettings(Model):
    """Experiment tracking: the cloud's managed tracker, plus optional SaaS tracker secrets."""

    server_size: Literal["small", "medium", "large"] = Field(
        default="small",
        description="Size of a managed tracking server where the cloud sizes one (SageMaker MLflow). Defaults to small.",
    )
    saas_trackers: list[Literal["wandb", "neptune", "comet"]] = Field(
        default_factory=list,
        description=(
            "SaaS trackers whose API key gets an empty secret that only training identities can "
            "read; the value is filled out of band and never enters Terraform state. Defaults to none."
        ),
    )
    mlflow: bool = Field(
        default=False,
        description=(
            "Make `tracking_uri` an MLflow tracking server on every cloud. Defaults to False: the "
            "cloud's own tracker, which on AWS (SageMaker managed MLflow) and Azure (the Azure ML "
            "workspace's MLflow endpoint) already is MLflow, so there True changes nothing, and on "
            "GCP is a Vertex AI TensorBoard. True on GCP adds an open-source MLflow server (Cloud "
            "Run, private Cloud SQL PostgreSQL, artifacts in the artifacts store) next to the "
            "TensorBoard, and `tracking_uri` is its URL."
        ),
    )


class TrackingProps(TrackingSettings, _Common):
    """Props of a ``Tracking`` construct."""

    name: str = _name_field("experiment tracking")  # type: ignore[assignment]
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps, description="Key for tracking data and secrets. Defaults to a new key, rotated every 90 days."
    )


# ---------------------------------------------------------------------------------- feature store


class FeatureGroupSettings(Model):
    """One feature group (table) of the feature store."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$", description="Group name: lowercase letters, digits, underscores.")
    record_identifier: str = Field(default="entity_id", description="Feature that identifies a record. Defaults to entity_id.")
    event_time: str = Field(default="event_time", description="Feature holding the event time. Defaults to event_time.")
    features: dict[str, Literal["string", "integral", "fractional"]] = Field(
        min_length=1, description="Feature name -> type (besides the identifier and event time)."
    )

    @model_validator(mode="after")
    def _keys(self) -> "FeatureGroupSettings":
        clash = {self.record_identifier, self.event_time} & set(self.features)
        if clash:
            raise ValueError(f"features must not repeat record_identifier/event_time: {sorted(clash)}")
        return self


class FeatureStoreSettings(Model):
    """A feature store: offline store on the data store, optional online store."""

    online: bool = Field(default=False, description="Also serve features online (low-latency reads). Defaults to False.")
    groups: list[FeatureGroupSettings] = Field(default_factory=list, description="Feature groups. Defaults to none.")


class FeatureStoreProps(FeatureStoreSettings, _Common):
    """Props of a ``FeatureStore`` construct."""

    name: str = _name_field("feature store")  # type: ignore[assignment]
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps, description="Key for feature data. Defaults to a new key, rotated every 90 days."
    )
