"""Managed Airflow on GCP: a private, CMEK-encrypted Cloud Composer environment.

From one :class:`AirflowProps` ``Airflow`` emits:

* ``google_composer_environment`` (child ``Resource``): Composer 3 by default
  (``image_version = "composer-3-airflow-2"``, the latest Airflow 2 build), a **private
  environment** (``enable_private_environment``: no internet access, private builds only;
  Composer 2 images get ``private_environment_config.enable_private_endpoint`` instead),
  ``encryption_config.kms_key_name`` with the CMEK, ``environment_size`` and ``workloads_config``
  sized from ``size`` with workers scaling from 1 to ``max_workers``, attached to the
  :class:`~constructs_lib.gcp.network.Network`'s subnet when one is given, and running as its own
  service account;
* ``google_service_account`` ``Identity`` with **only** ``roles/composer.worker`` on the project
  (the role Composer requires for an environment's nodes; not an admin role), plus
  ``roles/composer.ServiceAgentV2Ext`` *on that service account only* for the Cloud Composer
  service agent, which Composer needs to manage the environment as it. The DAG store is readable
  through ``dags_store.grant_read`` (DAGs can read artifacts);
* the **environment bucket** (``storage_config.bucket``): a :class:`~constructs_lib.gcp.storage.DataStore`
  (child ``Bucket``) with the environment's CMEK, versioning, usage logs, no storage-class tiering
  (Composer reads its ``dags/`` folder continuously; NEARLINE would bill every read);
* **DAG sync**: Composer only reads DAGs from ``dags/`` of its own bucket, while the platform keeps
  them under ``dags_prefix`` of the DAG store (usually ``artifacts``). A Storage Transfer Service job
  (``google_storage_transfer_job``, child ``DagSync``) mirrors ``gs://<dags store>/<dags_prefix>``
  to ``gs://<environment bucket>/dags/`` every ``dag_sync_minutes`` (60, the service's shortest
  interval), deleting DAGs removed at the source. The transfer service agent gets read on the DAG
  store (``grant_read`` + ``legacyBucketReader`` for bucket metadata) and write on the
  environment bucket (``legacyBucketWriter`` + ``objectViewer``). For faster feedback a CI job can
  run ``gcloud storage rsync`` to the same destination; see ``docs/gcp-automation.md``;
* a :class:`~constructs_lib.gcp.keys.Key` (child ``Key``) unless ``encryption.key_id`` is given,
  with encrypt/decrypt for the service agents Composer's CMEK needs (Composer, Artifact Registry,
  GKE, Compute Engine, Pub/Sub; the Cloud Storage agent is granted by the bucket).

Acknowledged: ``CKV_GCP_49`` on the ``roles/composer.worker`` project binding (see the reason).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.automation_props import AirflowProps as CoreAirflowProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructTypeError
from ..core.naming import bucket_name
from ..core.resource import Resource
from ._common import PROJECT_PATTERN, REGION_PATTERN, account_id, own_key, require_services, service_agent, use_key
from .network import Network
from .storage import DataStore, DataStoreProps

__all__ = [
    "COMPOSER_WORKER_ROLE",
    "DEFAULT_IMAGE_VERSION",
    "WORKLOADS",
    "Airflow",
    "AirflowProps",
    "workloads_config",
]

DEFAULT_IMAGE_VERSION = "composer-3-airflow-2"
"""Composer 3 with the latest Airflow 2 build."""

COMPOSER_WORKER_ROLE = "roles/composer.worker"
"""The only project role of the environment's service account."""

_SIZES = {"small": "ENVIRONMENT_SIZE_SMALL", "medium": "ENVIRONMENT_SIZE_MEDIUM", "large": "ENVIRONMENT_SIZE_LARGE"}

#: size -> component -> (cpu, memory_gb, storage_gb, count); count is None for components without one.
WORKLOADS: dict[str, dict[str, tuple[float, float, float, int | None]]] = {
    "small": {
        "scheduler": (0.5, 2, 1, 1),
        "web_server": (0.5, 2, 1, None),
        "worker": (0.5, 2, 1, None),
        "dag_processor": (0.5, 2, 1, 1),
    },
    "medium": {
        "scheduler": (2, 7.5, 5, 2),
        "web_server": (2, 7.5, 5, None),
        "worker": (2, 7.5, 5, None),
        "dag_processor": (1, 4, 1, 1),
    },
    "large": {
        "scheduler": (4, 15, 10, 2),
        "web_server": (2, 7.5, 10, None),
        "worker": (4, 15, 10, None),
        "dag_processor": (2, 7.5, 5, 1),
    },
}
"""Resources per Airflow component for each ``size`` (Composer workloads_config)."""

_CMEK_AGENTS = ("composer", "artifactregistry", "container", "compute", "pubsub")
_TRANSFER_START = {"year": 2025, "month": 1, "day": 1}  # fixed: the output stays deterministic


def workloads_config(size: str, max_workers: int, *, composer3: bool = True) -> dict[str, Any]:
    """Composer ``workloads_config`` for ``size``; workers scale from 1 to ``max_workers``."""
    out: dict[str, Any] = {}
    for component, (cpu, memory, storage, count) in WORKLOADS[size].items():
        if component == "dag_processor" and not composer3:
            continue  # a separate DAG processor exists in Composer 3 only
        block: dict[str, Any] = {"cpu": cpu, "memory_gb": memory, "storage_gb": storage}
        if count is not None:
            block["count"] = count
        if component == "worker":
            block["min_count"] = 1
            block["max_count"] = max_workers
        out[component] = block
    return out


class AirflowProps(CoreAirflowProps):
    """GCP Airflow props: the shared :class:`~constructs_lib.core.automation_props.AirflowProps`
    plus the project, region and Composer settings."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the environment.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the environment (e.g. 'us-central1').")
    image_version: str = Field(
        default=DEFAULT_IMAGE_VERSION,
        pattern=r"^composer-(2|3)(\.\d+\.\d+)?-airflow-\d+(\.\d+){0,2}(-build\.\d+)?$",
        description=(
            "Composer image. Defaults to 'composer-3-airflow-2' (Composer 3, latest Airflow 2 build, "
            "upgraded by Composer). Composer 2 images ('composer-2.9.7-airflow-2.9.3') are accepted."
        ),
    )
    dag_sync_minutes: int = Field(
        default=60,
        ge=60,
        le=1440,
        description=(
            "How often DAGs are mirrored from `dags_prefix` of the DAG store to the environment "
            "bucket (Storage Transfer Service). Defaults to 60, the service's shortest interval."
        ),
    )
    deletion_protection: bool = Field(
        default=True,
        description="Protect the environment bucket and the created key from destruction. Defaults to True.",
    )

    @property
    def composer3(self) -> bool:
        """True for a Composer 3 image."""
        return self.image_version.startswith("composer-3")

    @model_validator(mode="after")
    def _gcp_rules(self) -> "AirflowProps":
        if self.size == "small" and self.max_workers > 10:
            raise ValueError(
                f"max_workers ({self.max_workers}) is more than a small environment runs well (10): "
                "use size: medium or large, or fewer workers"
            )
        return self


class Airflow(MlopsConstruct):
    """A private Cloud Composer environment with CMEK, its own identity and a DAG sync.

    Public attributes (same names on every cloud):

    * ``resource`` — the ``google_composer_environment``;
    * ``principal`` — IAM member (token) of the environment's service account;
    * ``airflow_uri`` — token of the Airflow web UI URL;

    and GCP extras: ``service_account`` / ``service_account_email``, ``bucket`` (the environment
    :class:`DataStore`), ``dag_sync`` (the transfer job), ``key`` / ``key_id``.
    """

    props_type = AirflowProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: AirflowProps,
        *,
        dags_store: DataStore,
        network: Network | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(dags_store, DataStore):
            raise ConstructTypeError(self.node.path, "dags_store must be a constructs_lib.gcp.DataStore")
        if network is not None and not isinstance(network, Network):
            raise ConstructTypeError(self.node.path, "network must be a constructs_lib.gcp.Network or None")
        apis = require_services(
            self,
            props.project,
            ["composer.googleapis.com", "storagetransfer.googleapis.com", "iam.googleapis.com"],
            provider=provider,
        )

        key_grants = self._key()
        identity_grants = self._identity(id, apis, dags_store)
        self._dag_sync(id, apis, dags_store)
        self._environment(network, apis, key_grants, identity_grants)

    # --- steps of the constructor, in order -------------------------------------------------------

    def _key(self) -> list[Resource]:
        """The environment's key for the service agents Composer's CMEK needs; returns the key
        grants."""
        props: AirflowProps = self.props
        project, region, name, provider = props.project, props.location, props.name, self._provider
        agents = [
            (f"{kind.capitalize()}ServiceAgent", service_agent(self, project, kind, provider=provider))
            for kind in _CMEK_AGENTS
        ]
        self.key = own_key(
            self,
            "Key",
            props.encryption,
            name=name,
            project=project,
            location=region,
            deletion_protection=props.deletion_protection,
            provider=provider,
        )
        self.key_id, key_grants = use_key(self, self.key, props.encryption, agents, provider=provider)
        return key_grants

    def _identity(self, id: str, apis: list[Resource], dags_store: DataStore) -> list[Resource]:
        """The environment's service account (``service_account``, ``principal``): Composer
        worker, managed by the Composer agent, reader of the DAG store; returns its role grants."""
        props: AirflowProps = self.props
        project, name, provider = props.project, props.name, self._provider
        self.service_account = Resource(
            self,
            "Identity",
            "google_service_account",
            provider=provider,
            depends_on=apis,
            project=project,
            account_id=account_id(name, "airflow"),
            display_name=f"Airflow {name}",
            description="Identity of the Composer environment's Airflow workers (cdktf-mlops).",
        )
        self.service_account_email: str = self.service_account.ref("email")
        self.principal: str = self.service_account.ref("member")
        worker = Resource(
            self,
            "WorkerRole",
            "google_project_iam_member",
            provider=provider,
            project=project,
            role=COMPOSER_WORKER_ROLE,
            member=self.principal,
        )
        Acknowledge.of(worker).add(
            "CKV_GCP_49",
            reason=(
                "roles/composer.worker on the project is what Cloud Composer requires of an "
                "environment's service account (it cannot be granted on a narrower resource). It "
                "is bound to this environment's dedicated service account only, which no user "
                "impersonates; no admin, editor or service-account-user role is granted."
            ),
        )
        agent_ext = Resource(
            self,
            "ComposerAgentExt",
            "google_service_account_iam_member",
            provider=provider,
            service_account_id=self.service_account.ref("name"),
            role="roles/composer.ServiceAgentV2Ext",
            member=service_agent(self, project, "composer", provider=provider),
        )
        dags_store.grant_read(self.principal, id=f"Airflow{_cid(id)}")
        return [worker, agent_ext]

    def _dag_sync(self, id: str, apis: list[Resource], dags_store: DataStore) -> None:
        """The environment bucket (``bucket``) and the transfer job that mirrors the DAGs into
        it (``dag_sync``)."""
        props: AirflowProps = self.props
        project, region, name, provider = props.project, props.location, props.name, self._provider
        self.bucket = DataStore(
            self,
            "Bucket",
            DataStoreProps(
                name=bucket_name(name, "env", max_length=40),
                project=project,
                location=region,
                encryption={"key_id": self.key_id},
                lifecycle={"infrequent_access_after_days": None, "archive_after_days": None},
                deletion_protection=props.deletion_protection,
            ),
            provider=provider,
        )
        transfer_agent = service_agent(self, project, "transfer", provider=provider)
        source_read = dags_store.grant_read(transfer_agent, id=f"AirflowDagSync{_cid(id)}")
        sink_read = self.bucket.grant_read(transfer_agent, id="DagSync")
        legacy = [
            Resource(
                self,
                f"DagSync{label}",
                "google_storage_bucket_iam_member",
                provider=provider,
                bucket=bucket,
                role=role,
                member=transfer_agent,
            )
            for label, bucket, role in (
                ("SourceBucketReader", dags_store.store_name, "roles/storage.legacyBucketReader"),
                ("SinkBucketWriter", self.bucket.store_name, "roles/storage.legacyBucketWriter"),
            )
        ]
        self.dag_sync = Resource(
            self,
            "DagSync",
            "google_storage_transfer_job",
            provider=provider,
            depends_on=[*apis, *source_read, *sink_read, *legacy],
            project=project,
            description=f"Mirror {props.dags_prefix} of the DAG store to Composer {name} dags/ (cdktf-mlops)",
            transfer_spec={
                "gcs_data_source": {"bucket_name": dags_store.store_name, "path": props.dags_prefix},
                "gcs_data_sink": {"bucket_name": self.bucket.store_name, "path": "dags/"},
                "transfer_options": {"delete_objects_unique_in_sink": True, "overwrite_when": "DIFFERENT"},
            },
            schedule={
                "schedule_start_date": dict(_TRANSFER_START),
                "repeat_interval": f"{props.dag_sync_minutes * 60}s",
            },
        )

    def _environment(
        self,
        network: Network | None,
        apis: list[Resource],
        key_grants: list[Resource],
        identity_grants: list[Resource],
    ) -> None:
        """The Composer environment (``resource``, ``airflow_uri``)."""
        props: AirflowProps = self.props
        project, region, name, provider = props.project, props.location, props.name, self._provider
        node_config: dict[str, Any] = {"service_account": self.service_account_email}
        if network is not None:
            node_config["network"] = network.network_id
            node_config["subnetwork"] = network.private_subnet_ids[0]
        config: dict[str, Any] = {
            "environment_size": _SIZES[props.size],
            "software_config": {"image_version": props.image_version},
            "node_config": node_config,
            "encryption_config": {"kms_key_name": self.key_id},
            "workloads_config": workloads_config(props.size, props.max_workers, composer3=props.composer3),
        }
        if props.composer3:
            config["enable_private_environment"] = True
            config["enable_private_builds_only"] = True
        else:
            config["private_environment_config"] = {"enable_private_endpoint": True}
        self.resource = Resource(
            self,
            "Resource",
            "google_composer_environment",
            provider=provider,
            depends_on=[*apis, *key_grants, *identity_grants],
            name=name,
            project=project,
            region=region,
            config=config,
            storage_config={"bucket": self.bucket.store_name},
        )
        self.airflow_uri: str = self.resource.ref("config.0.airflow_uri")

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Airflow({self.node.path!r})"


def _cid(text: str) -> str:
    parts = [p for p in text.replace("_", "-").split("-") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)
