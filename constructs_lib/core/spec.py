"""PlatformSpec v1: the cloud-agnostic, typed front door (YAML or Python).

One spec describes one platform on one cloud and becomes one stack. Unknown keys are errors;
every field documents what its default does. ``cdktf-mlops schema`` prints the JSON Schema that
editors use (committed as ``schemas/platform-spec.schema.json``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from .automation_props import AirflowSettings, PipelineSettings, RetrainingSettings
from .run_props import BudgetSettings, MonitoringSettings, RoutingSettings, ServingSettings
from .build_props import (
    FeatureStoreSettings,
    NetworkSettings,
    RegistrySettings,
    TrackingSettings,
    TrainingSettings,
)
from . import regions as _regions
from .errors import SpecError
from .props import EncryptionProps, LifecycleProps, Model

__all__ = [
    "AwsSettings",
    "AzureSettings",
    "GcpSettings",
    "PlatformSpec",
    "StateSettings",
    "StorageSpec",
    "format_validation_error",
    "load_spec",
    "load_specs",
]

_NAME = r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$"
_REGION = {
    "aws": re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$"),
    "azure": re.compile(r"^[a-z]+[a-z0-9]*$"),
    "gcp": re.compile(r"^[a-z]+-[a-z]+\d+$"),
}
_REGION_EXAMPLE = {"aws": "us-east-1", "azure": "westeurope", "gcp": "us-central1"}


class AwsSettings(Model):
    """AWS-only settings."""

    account_id: str | None = Field(
        default=None,
        pattern=r"^\d{12}$",
        description=(
            "Account the stack may deploy into. Defaults to None: any account of the caller's "
            "credentials. When set, the provider refuses to run against another account."
        ),
    )


class AzureSettings(Model):
    """Azure-only settings."""

    resource_group: str = Field(
        pattern=r"^[-\w.()]{1,89}[-\w()]$",
        description="Resource group that holds the platform.",
    )
    create_resource_group: bool = Field(
        default=True,
        description="Create the resource group in the primary region. Defaults to True; False uses an existing one.",
    )
    subscription_id: str | None = Field(
        default=None,
        pattern=r"^[0-9a-fA-F-]{36}$",
        description="Subscription to deploy into. Defaults to None: the subscription of the caller's credentials (ARM_SUBSCRIPTION_ID).",
    )
    manage_defender_plan: bool = Field(
        default=True,
        description=(
            "With registry.containers.scan_on_push, enable the subscription-wide Microsoft Defender "
            "for Containers plan (ACR has no per-registry scan switch) from this stack. Defaults to "
            "True. Set False when the plan is managed centrally: scanning then depends on that plan, "
            "and destroying this stack does not downgrade the subscription."
        ),
    )


class GcpSettings(Model):
    """GCP-only settings."""

    project: str = Field(
        pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
        description="Project id that holds the platform.",
    )
    billing_account: str | None = Field(
        default=None,
        pattern=r"^[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}$",
        description=(
            "Billing account id (XXXXXX-XXXXXX-XXXXXX) that the `budget` section's budget is created "
            "in. Defaults to None: required when the spec has a `budget` section."
        ),
    )


class StateSettings(Model):
    """Remote Terraform state for the stack (created beforehand by `cdktf-mlops bootstrap`)."""

    name: str | None = Field(
        default=None,
        description=(
            "State bucket (AWS, GCP) or storage account (Azure). Defaults to None: derived from "
            "the platform, `<name>-<environment>-tfstate` (Azure: letters and digits only, 24 at most)."
        ),
    )
    region: str | None = Field(
        default=None, description="Region of the state bucket / account. Defaults to the primary region."
    )
    container: str = Field(
        default="tfstate",
        pattern=r"^[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])$",
        description="Blob container that holds the state (Azure only). Defaults to `tfstate`.",
    )
    resource_group: str | None = Field(
        default=None,
        description="Resource group of the state storage account (Azure only). Defaults to `azure.resource_group`.",
    )
    key_prefix: str = Field(
        default="",
        pattern=r"^([A-Za-z0-9._-]+/)*$",
        description="Folder for state objects, ending in '/'. Defaults to none: the key is `<stack>/terraform.tfstate`.",
    )


class StorageSpec(Model):
    """The platform's data stores: one versioned, encrypted store per entry of `stores`."""

    stores: list[str] = Field(
        default_factory=lambda: ["data", "artifacts"],
        min_length=1,
        description=(
            "Logical stores to create. Defaults to `data` (datasets) and `artifacts` (models, "
            "pipeline outputs)."
        ),
    )
    versioning: bool = Field(default=True, description="Keep every object version. Defaults to True.")
    lifecycle: LifecycleProps = Field(
        default_factory=LifecycleProps,
        description="Tiering and noncurrent-version expiry. Defaults to IA at 30 days, archive at 180, noncurrent expiry at 90.",
    )
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps,
        description="Customer-managed keys. Defaults to a new key per store, rotated every 90 days.",
    )
    deletion_protection: bool = Field(
        default=True,
        description="Protect stores from deletion. Defaults to True; turn off only for throwaway environments.",
    )
    access_logging: bool = Field(default=True, description="Record data access. Defaults to True.")
    delta: bool = Field(
        default=False,
        description=(
            "Make every store safe for Delta Lake tables written by several jobs at once, and output "
            "the writer settings (`store_<store>_delta`). Defaults to False: no lock table and no "
            "output; on AWS, Spark writers (whose default S3 log store is single-writer) then have no "
            "safe way to commit concurrently. AWS: True adds a DynamoDB commit lock table per store "
            "(the layout of Spark's S3DynamoDBLogStore and of delta-rs before 1.6; the store's key, "
            "point-in-time recovery, deletion protection) that the training and pipeline identities "
            "may commit through; delta-rs 1.6+ commits with S3 conditional writes and needs no lock. "
            "Azure and GCP need no lock: Blob Storage and Cloud Storage create a commit file only if "
            "it is absent."
        ),
    )
    replicate: bool | None = Field(
        default=None,
        description=(
            "Replicate every store to `replica_region`. Defaults to None: replicate when `regions` "
            "names more than one region or `replica_region` is set, and a replica is possible "
            "(versioning on; Azure: the primary has a paired region; GCP: the primary is in a Cloud "
            "Storage multi-region). True when no replica is possible is an error; False keeps every "
            "store in the primary region."
        ),
    )
    replica_region: str | None = Field(
        default=None,
        description=(
            "Region that receives the store replicas, independent of where serving runs (the "
            "`store_*_recovery` outputs name it). Defaults to None: the cloud's natural choice. "
            "AWS: the second region of `regions` (S3 replicates to any region; any other AWS region "
            "may be given). Azure: the primary's paired region, the only place RA-GZRS replicates to "
            "(any other value is an error naming the pair; a primary without a pair gets zone-"
            "redundant storage and no cross-region copy). GCP: a region in the primary's Cloud "
            "Storage multi-region (US, EU, ASIA), since a dual-region bucket needs two of them: the "
            "second region of `regions` when it qualifies, else the first later one that does, "
            "else the other half of the primary's predefined dual-region (NAM4, EUR4, ASIA1) or of "
            "its multi-region's; a primary outside the multi-regions (e.g. europe-west2, "
            "southamerica-east1) has no cross-region copy."
        ),
    )

    @field_validator("stores")
    @classmethod
    def _stores(cls, stores: list[str]) -> list[str]:
        for s in stores:
            if not re.match(r"^[a-z][a-z0-9-]{1,14}[a-z0-9]$", s):
                raise ValueError(
                    f"store name {s!r} must be 3-16 lowercase letters, digits or hyphens, starting with a letter"
                )
        if len(set(stores)) != len(stores):
            raise ValueError("store names must be unique")
        return stores


class PlatformSpec(Model):
    """One ML platform on one cloud. Becomes one stack named `name`."""

    version: Literal[1] = Field(default=1, description="Spec format version. Only 1 exists.")
    name: str = Field(
        pattern=_NAME,
        description="Platform name: 3-32 lowercase letters, digits, hyphens. Names the stack and prefixes resource names.",
    )
    cloud: Literal["aws", "azure", "gcp"] = Field(description="Target cloud.")
    environment: str = Field(
        pattern=r"^[a-z][a-z0-9]{1,11}$",
        description="Environment name (dev, staging, prod...): part of resource names and tags.",
    )
    regions: list[str] = Field(
        min_length=1,
        max_length=4,
        description=(
            "Regions, primary first, on any continents. Serving endpoints run in every region; store "
            "replicas go to `storage.replica_region` (the second region by default on AWS)."
        ),
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Tags on every taggable resource (GCP: labels, normalised). `platform` and `environment` "
            "are always added."
        ),
    )
    aws: AwsSettings | None = Field(default=None, description="AWS settings (cloud: aws only).")
    azure: AzureSettings | None = Field(default=None, description="Azure settings, required for cloud: azure.")
    gcp: GcpSettings | None = Field(default=None, description="GCP settings, required for cloud: gcp.")
    storage: StorageSpec = Field(default_factory=StorageSpec, description="Data stores. Defaults to `data` and `artifacts` stores.")
    state: StateSettings | None = Field(
        default=None,
        description=(
            "Remote state: S3 (with a lock file), azurerm (blob lease) or GCS (object lock), all "
            "encrypted and versioned. Defaults to None: local state in the stack's folder, for trying "
            "things out only."
        ),
    )
    network: NetworkSettings | None = Field(
        default=None,
        description=(
            "Private network for ML workloads. Defaults to None: created with its defaults when "
            "training, tracking or features are on, otherwise not created."
        ),
    )
    training: TrainingSettings | None = Field(
        default=None, description="Training compute pools. Defaults to None: no training compute."
    )
    registry: RegistrySettings | None = Field(
        default=None, description="Container registry and model registry. Defaults to None: neither."
    )
    tracking: TrackingSettings | None = Field(
        default=None, description="Experiment tracking. Defaults to None: no tracking."
    )
    features: FeatureStoreSettings | None = Field(
        default=None, description="Feature store. Defaults to None: no feature store."
    )
    serving: ServingSettings | None = Field(
        default=None, description="Serving endpoints, each in every region. Defaults to None: no serving."
    )
    routing: RoutingSettings | None = Field(
        default=None,
        description="Health-checked global routing over the regional endpoints. Defaults to None. Needs `serving`.",
    )
    monitoring: MonitoringSettings | None = Field(
        default=None, description="Alert target, alarms, dashboard, logs, data-quality monitoring. Defaults to None."
    )
    budget: BudgetSettings | None = Field(
        default=None, description="Monthly budget with alerts to the alert target. Defaults to None. Needs `monitoring`."
    )
    pipelines: list[PipelineSettings] = Field(
        default_factory=list, description="ML pipelines. Defaults to none."
    )
    retraining: RetrainingSettings | None = Field(
        default=None, description="Retraining triggers for one pipeline. Defaults to None: no triggers."
    )
    airflow: AirflowSettings | None = Field(
        default=None, description="Managed Airflow (AWS MWAA, GCP Cloud Composer). Defaults to None. Not on Azure."
    )

    _source: str | None = PrivateAttr(default=None)

    @property
    def source(self) -> str | None:
        """The spec file this spec was read from (as given to ``load_spec``); None when built in Python."""
        return self._source

    @model_validator(mode="after")
    def _cloud_rules(self) -> "PlatformSpec":
        problems = self._cross_field_problems()
        if problems:
            # One line each; format_validation_error puts the file name in front of every line.
            raise ValueError("\n".join(problems))
        return self

    def _cross_field_problems(self) -> list[str]:
        """Every cross-field rule the spec breaks, one message each (all of them, not the first)."""
        problems: list[str] = []
        pattern = _REGION[self.cloud]
        for n, region in enumerate(self.regions):
            if not pattern.match(region):
                problems.append(
                    f"regions[{n}]: {region!r} is not a {self.cloud} region name (like "
                    f"{_REGION_EXAMPLE[self.cloud]!r})"
                )
        if len(set(self.regions)) != len(self.regions):
            problems.append("regions: each region may appear once")
        for other in ("aws", "azure", "gcp"):
            if other != self.cloud and getattr(self, other) is not None:
                problems.append(f"{other}: section given but cloud is {self.cloud}; remove it")
        if self.cloud in ("azure", "gcp") and getattr(self, self.cloud) is None:
            need = "resource_group" if self.cloud == "azure" else "project"
            problems.append(f"{self.cloud}: section is required for cloud {self.cloud} (with `{need}`)")
        if self.routing is not None and self.serving is None:
            problems.append("routing: needs a `serving` section with at least one endpoint")
        if self.budget is not None and self.cloud == "gcp" and self.gcp and not self.gcp.billing_account:
            problems.append("budget: GCP budgets live in a billing account; set gcp.billing_account")
        if self.budget is not None and self.monitoring is None:
            problems.append("budget: alerts go to the monitoring alert target; add a `monitoring` section")
        if self.serving and self.cloud != "aws" and any(e.serverless for e in self.serving.endpoints):
            problems.append(f"serving.endpoints: serverless endpoints exist on AWS only, not on {self.cloud}")
        if self.serving and self.cloud == "gcp":
            for n, e in enumerate(self.serving.endpoints):
                if e.placeholder_image is not None:
                    problems.append(
                        f"serving.endpoints[{n}].placeholder_image: GCP needs no placeholder (a Vertex AI "
                        "endpoint exists without a model); remove it"
                    )
        if self.monitoring and self.monitoring.data_quality_baseline_uri and self.cloud != "aws":
            problems.append(
                f"monitoring.data_quality_baseline_uri: baselines are used by SageMaker Model Monitor "
                f"(AWS) only, not on {self.cloud}; remove it"
            )
        names = [p.name for p in self.pipelines]
        if len(set(names)) != len(names):
            problems.append(f"pipelines: names must be unique, got {names}")
        if self.retraining and self.retraining.pipeline not in names:
            problems.append(
                f"retraining.pipeline: {self.retraining.pipeline!r} is not one of pipelines {names or '[]'}; "
                "add it under `pipelines`"
            )
        if self.retraining and self.retraining.on_new_data and self.retraining.on_new_data.store not in self.storage.stores:
            problems.append(
                f"retraining.on_new_data.store: {self.retraining.on_new_data.store!r} is not one of "
                f"storage.stores {self.storage.stores}"
            )
        if self.airflow is not None and self.cloud == "azure":
            problems.append(
                "airflow: Azure has no managed Airflow this library supports (Data Factory's Workflow "
                "Orchestration Manager is being retired); use `pipelines` + `retraining` (Azure ML "
                "schedules and Event Grid) instead, and remove `airflow`"
            )
        net = self.network_settings
        if self.airflow is not None and self.cloud == "aws" and net and net.existing is None and net.zones < 2:
            problems.append(
                f"network.zones: airflow (MWAA) runs in the platform network and needs private subnets in two "
                f"availability zones, but zones is {net.zones}; set network.zones to 2 or 3, or remove airflow"
            )
        if self.state and self.cloud != "azure" and (self.state.resource_group or self.state.container != "tfstate"):
            problems.append("state: `container` and `resource_group` are Azure settings; remove them")
        if self.cloud == "gcp" and self.network is not None and self.network.existing is not None:
            problems.append(
                "network.existing: on GCP an existing network also needs a private /28 for the GKE control "
                "plane that overlaps none of its subnets, which a spec cannot give; remove existing (a "
                "network is created) or build the network with constructs_lib.gcp.Network (control_plane_cidr)"
            )
        if self.cloud == "azure" and self.storage.encryption.key_id is not None:
            problems.append(
                "storage.encryption.key_id: on Azure a store using an existing key also needs the key's "
                "Resource Manager id, which a spec cannot give; remove key_id (each store then creates its "
                "own key) or build the stores with constructs_lib.azure.DataStore (key_resource_id)"
            )
        if all(pattern.match(r) for r in self.regions):
            problems += self._replication_problems()
            problems += self._routing_problems()
        return problems

    def _replication_problems(self) -> list[str]:
        """`storage.replica_region` / `storage.replicate` against the cloud's replication rules."""
        s, cloud, primary = self.storage, self.cloud, self.regions[0]
        explicit = s.replica_region
        if explicit is not None and not _REGION[cloud].match(explicit):
            return [f"storage.replica_region: {explicit!r} is not a {cloud} region name (like "
                    f"{_REGION_EXAMPLE[cloud]!r})"]
        if explicit is not None and s.replicate is False:
            return ["storage.replica_region is set but storage.replicate is false; remove one of them"]
        if explicit is not None:
            problem = _regions.replica_problem(cloud, primary, explicit)
            if problem:
                return [f"storage.replica_region: {problem}"]
        if s.replicate and not s.versioning:
            return ["storage.replicate: replication copies object versions and needs storage.versioning: "
                    "true; turn versioning on or set storage.replicate: false"]
        if s.replicate and self.replica_region is None:
            why = {
                "aws": "`regions` names one region; add a second region or set storage.replica_region",
                "azure": f"{primary!r} has no paired region, and RA-GZRS replicates only to the pair; "
                         "choose a primary region with a pair or set storage.replicate: false",
                "gcp": f"{primary!r} is in no Cloud Storage multi-region, so no dual-region bucket can "
                       "hold a copy; choose a primary in US, EU or ASIA or set storage.replicate: false",
            }[cloud]
            return [f"storage.replica_region: storage.replicate is true but no replica region is possible: {why}"]
        problems: list[str] = []
        if cloud == "aws" and self.serving is not None and len(self.regions) > 1 and not s.versioning:
            problems.append(
                "storage.versioning: serving in regions "
                f"{self.regions[1:]} needs the model artifacts in a bucket of each region (SageMaker reads "
                "models only from its own region), copied there by S3 replication, which needs "
                "versioning; set storage.versioning: true or serve from one region"
            )
        return problems

    def _routing_problems(self) -> list[str]:
        """`routing.geo`: regions of the spec, codes of the provider, each code once, policy geo."""
        r = self.routing
        if r is None or r.geo is None:
            return []
        if self.cloud == "gcp":
            return ["routing.geo: GCP geo routing answers each caller from the nearest region of the "
                    "spec (Cloud DNS geo policy by region); it takes no mapping, remove routing.geo"]
        if r.policy != "geo":
            return [f"routing.geo: only used with routing.policy: geo (policy is {r.policy}); remove it"]
        problems: list[str] = []
        seen: dict[str, str] = {}
        for region, codes in r.geo.items():
            if region not in self.regions:
                problems.append(f"routing.geo.{region}: not one of `regions` {self.regions}")
                continue
            for code in codes:
                bad = _regions.geo_code_problem(self.cloud, code)
                if bad:
                    problems.append(f"routing.geo.{region}: {bad}")
                elif code in seen:
                    problems.append(
                        f"routing.geo.{region}: {code!r} is already answered by {seen[code]}; give each "
                        "code to one region"
                    )
                else:
                    seen[code] = region
        return problems

    @property
    def network_settings(self) -> NetworkSettings | None:
        """The network to build: the `network` section, its defaults when a workload needs one, or None."""
        if self.network is not None:
            return self.network
        if self.training or self.tracking or self.features:
            return NetworkSettings()
        return None

    @property
    def primary_region(self) -> str:
        """The first region."""
        return self.regions[0]

    @property
    def replica_region(self) -> str | None:
        """The region that receives store replicas (see `storage.replica_region`), or None: no
        cross-region copy (replicate false, versioning off, a single-region spec without
        replica_region or replicate: true, or no possible replica on the cloud)."""
        s = self.storage
        if s.replicate is False or not s.versioning:
            return None
        if s.replicate is None and s.replica_region is None and len(self.regions) < 2:
            return None
        return _regions.replica_region(self.cloud, self.regions, s.replica_region)

    def store_settings(self) -> dict[str, Any]:
        """The storage section as ``DataStoreProps`` keyword arguments (without name and cloud extras)."""
        s = self.storage
        replica = self.replica_region
        return {
            "versioning": s.versioning,
            "lifecycle": s.lifecycle,
            "encryption": s.encryption,
            "deletion_protection": s.deletion_protection,
            "access_logging": s.access_logging,
            "replication": {"region": replica} if replica else None,
        }

    @property
    def state_name(self) -> str:
        """The state bucket / storage account name (see `state.name`)."""
        from .naming import bucket_name, compact_name

        if self.state and self.state.name:
            return self.state.name
        if self.cloud == "azure":
            return compact_name(self.name, self.environment, "tfstate")
        return bucket_name(self.name, self.environment, "tfstate")

    @property
    def state_key(self) -> str:
        """The state object key: `<key_prefix><name>/terraform.tfstate`."""
        prefix = self.state.key_prefix if self.state else ""
        return f"{prefix}{self.name}/terraform.tfstate"

    def resource_name(self, *parts: str, max_length: int = 40) -> str:
        """``<name>-<environment>-<parts>`` as a lowercase, hyphenated cloud resource name."""
        from .naming import bucket_name

        return bucket_name(self.name, self.environment, *parts, max_length=max_length)

    @property
    def all_tags(self) -> dict[str, str]:
        """`tags` plus `platform`, `environment` and `managed-by`, sorted by key."""
        base = {"platform": self.name, "environment": self.environment, "managed-by": "cdktf-mlops"}
        return dict(sorted({**base, **self.tags}.items()))


def format_validation_error(err: ValidationError, source: str) -> str:
    """One readable message per problem: `file: field.path: what is wrong`."""
    lines = []
    for e in err.errors():
        # `training.pools[0].max_nodes`: list indexes in brackets, as the spec's own messages write them.
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]).lstrip(".")
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        if e["type"] == "extra_forbidden":
            msg = "unknown key; check the spelling against `cdktf-mlops schema`"
        elif e["type"] == "missing":
            msg = "required field is missing"
        # A rule of the whole spec reports each broken rule on its own line.
        lines.extend(f"{source}: {loc + ': ' if loc else ''}{line}" for line in msg.splitlines())
    return "\n".join(lines)


def _parse(data: Any, source: str) -> PlatformSpec:
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a spec must be a YAML mapping with at least name, cloud, environment, regions")
    try:
        spec = PlatformSpec.model_validate(data)
    except ValidationError as err:
        raise SpecError(format_validation_error(err, source)) from None
    spec._source = source
    return spec


def load_spec(path: str | Path) -> PlatformSpec:
    """Read and validate one YAML spec file; raises :class:`SpecError` with the field path."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{p}: cannot read spec ({err.strerror})") from None
    except UnicodeDecodeError as err:
        raise SpecError(f"{p}: not UTF-8 text (byte {err.start}); save the spec as UTF-8 YAML") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise SpecError(f"{p}:{where}: invalid YAML: {problem}") from None
    return _parse(data, str(p))


def spec_files(paths: Iterable[str | Path]) -> list[Path]:
    """Spec files named by ``paths``: files as given, folders expanded to their ``*.yaml``/``*.yml``
    (or, for a folder of folders such as ``examples/``, to those of its subfolders)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted([*p.glob("*.yaml"), *p.glob("*.yml")])
            if not found:  # a folder of example folders, e.g. `examples/`
                found = sorted([*p.glob("*/*.yaml"), *p.glob("*/*.yml")])
            if not found:
                raise SpecError(f"{p}: folder holds no *.yaml spec (nor do its subfolders)")
            out.extend(found)
        elif p.exists():
            out.append(p)
        else:
            raise SpecError(f"{p}: no such spec file or folder")
    return out


def load_specs(paths: Iterable[str | Path]) -> list[PlatformSpec]:
    """Load every spec named by ``paths``; stack names must be unique across them."""
    specs: list[PlatformSpec] = []
    seen: dict[str, Path] = {}
    for f in spec_files(paths):
        spec = load_spec(f)
        if spec.name in seen:
            raise SpecError(f"{f}: name {spec.name!r} is already used by {seen[spec.name]}; stack names must be unique")
        seen[spec.name] = f
        specs.append(spec)
    return specs
