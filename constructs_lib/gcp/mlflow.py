"""An open-source MLflow tracking server on GCP: Cloud Run, private Cloud SQL PostgreSQL, GCS artifacts.

AWS (SageMaker managed MLflow) and Azure (the Azure ML workspace's MLflow endpoint) offer MLflow as
a managed service; Vertex AI does not. With ``tracking.mlflow`` the GCP platform runs the MLflow
server itself, so one ``MLFLOW_TRACKING_URI`` way of working holds on every cloud. ``MlflowServer``
emits:

* ``google_cloud_run_v2_service`` (child ``Resource``): the public MLflow image
  (:data:`MLFLOW_IMAGE`, the ``-full`` variant that carries the PostgreSQL driver and the GCS
  client, pinned by version) pulled through an Artifact Registry *remote repository* of ``ghcr.io``
  (child ``Images``, CMEK; Cloud Run does not pull from ghcr.io directly), plus the Cloud SQL Auth
  Proxy sidecar (:data:`PROXY_IMAGE`, pinned by version and digest). **IAM-authenticated** (no
  ``allUsers``; ``roles/run.invoker`` only through :meth:`MlflowServer.grant_invoke`), ingress
  ``internal`` by default (callers inside the platform network or the project's VPC; set
  ``ingress`` to ``internal-and-cloud-load-balancing`` to put your own IAP load balancer in front),
  revisions encrypted with the platform key, **Direct VPC egress** of all traffic into the
  platform subnet, scale to zero by default, deletion protection;
* ``google_sql_database_instance`` (child ``Database``): PostgreSQL 18, **private IP only** in the
  network's private services access range (``ipv4_enabled = false``), connections only through the
  Cloud SQL connectors (``connector_enforcement = REQUIRED``) over mutual TLS
  (``TRUSTED_CLIENT_CERTIFICATE_REQUIRED``), **IAM database authentication** (no password exists
  anywhere: the proxy logs in as the server's service account with ``--auto-iam-authn``), CMEK with
  the platform key, regional high availability, daily backups (14 kept) with point-in-time recovery
  (7 days of logs), deletion protection in Terraform and in the API, connection/lock/temp-file
  logging and pgAudit; ``google_sql_database`` ``mlflow`` (child ``Schema``) and the IAM user
  (child ``User``, type ``CLOUD_IAM_SERVICE_ACCOUNT``). The user is given the ``cloudsqlsuperuser``
  database role: MLflow creates and migrates its own tables, and since PostgreSQL 15 only the
  database owner (``cloudsqlsuperuser`` for API-created databases) may create tables in
  ``public``. It is the instance's only user, and the instance holds nothing but MLflow;
* the server identity (``google_service_account`` ``Identity``): ``roles/cloudsql.client`` and
  ``roles/cloudsql.instanceUser`` on the project **conditioned on this instance's name** (Cloud SQL
  has no per-instance IAM resource), and write (no delete) on the artifacts store, under
  ``gs://<artifacts>/mlflow`` (the server proxies artifact uploads and downloads:
  ``--serve-artifacts``, so clients need no bucket access);
* private services access on the network (:func:`~constructs_lib.gcp.serving.private_services_access`,
  once per network; for an ``existing`` network set it up where the network is managed).

Clients send a Google-signed ID token for the service URL: ``export MLFLOW_TRACKING_URI=<uri>
MLFLOW_TRACKING_TOKEN=$(gcloud auth print-identity-token --audiences=<uri>)`` (from a workload:
the metadata server's ``identity?audience=<uri>``). The URI is the service's deterministic URL
``https://<service>-<project number>.<region>.run.app``; MLflow's host check
(``--allowed-hosts``) admits exactly that host.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.props import Model
from ..core.resource import Resource
from ._common import PROJECT_PATTERN, REGION_PATTERN, account_id, grant_suffix, project_number, require_services
from .network import Network
from .serving import private_services_access
from .storage import DataStore

__all__ = [
    "DATABASE_ROLES",
    "INVOKER_ROLE",
    "MLFLOW_IMAGE",
    "MlflowServer",
    "MlflowServerProps",
    "PROXY_IMAGE",
    "SIZES",
]

MLFLOW_IMAGE = "ghcr.io/mlflow/mlflow:v3.17.0-full"
"""The public MLflow image (``-full``: PostgreSQL drivers and the GCS client; MLflow >= 3.9)."""

PROXY_IMAGE = (
    "gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.23.0"
    "@sha256:54e23cad9aeeedbf88ab75f993146631b878035f702b31c51885a932e0c7286c"
)
"""The Cloud SQL Auth Proxy sidecar, pinned by version and digest."""

INVOKER_ROLE = "roles/run.invoker"
"""Role of :meth:`MlflowServer.grant_invoke`, on the MLflow service only."""

DATABASE_ROLES: tuple[str, ...] = ("roles/cloudsql.client", "roles/cloudsql.instanceUser")
"""Project roles of the server identity, conditioned on the MLflow instance: connect, IAM login."""

#: ``server_size`` -> (Cloud SQL tier, Cloud Run CPU, Cloud Run memory)
SIZES: dict[str, tuple[str, str, str]] = {
    "small": ("db-custom-1-3840", "1", "2Gi"),
    "medium": ("db-custom-2-7680", "2", "4Gi"),
    "large": ("db-custom-4-15360", "4", "8Gi"),
}

_APIS = (
    "run.googleapis.com",
    "sqladmin.googleapis.com",
    "servicenetworking.googleapis.com",
    "artifactregistry.googleapis.com",
    "iam.googleapis.com",
)
_PORT = 8080
_PROXY_PORT = 5432
_PROXY_HEALTH_PORT = 9090
_DATABASE = "mlflow"
_BACKUPS_KEPT = 14
_LOG_RETENTION_DAYS = 7
_DB_FLAGS: tuple[tuple[str, str], ...] = (
    ("cloudsql.iam_authentication", "on"),
    ("cloudsql.enable_pgaudit", "on"),
    ("log_checkpoints", "on"),
    ("log_connections", "on"),
    ("log_disconnections", "on"),
    ("log_duration", "on"),
    ("log_lock_waits", "on"),
    ("log_min_duration_statement", "-1"),
    ("log_min_error_statement", "error"),
    ("log_min_messages", "error"),
    ("log_statement", "ddl"),
    ("log_temp_files", "0"),
    ("log_hostname", "on"),
)


class MlflowServerProps(Model):
    """An MLflow tracking server: placement, size, images and the key it is encrypted with."""

    name: str = Field(
        pattern=r"^[a-z][a-z0-9-]{1,40}[a-z0-9]$",
        description="Name prefix of the service, instance, repository and identity (<= 42 characters).",
    )
    project: str = Field(pattern=PROJECT_PATTERN, description="Project of every resource.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the service, the database and the repository.")
    key_id: str = Field(min_length=1, description="Cloud KMS key id (or token) for the service, database and repository.")
    server_size: Literal["small", "medium", "large"] = Field(
        default="small",
        description="Database tier and server CPU/memory (:data:`SIZES`). Defaults to small: 1 vCPU / 3.75 GB database, 1 CPU / 2 GiB server.",
    )
    image: str = Field(
        default=MLFLOW_IMAGE,
        description=(
            "MLflow server image. Defaults to MLFLOW_IMAGE. An image on ghcr.io is pulled through the "
            "construct's Artifact Registry remote repository; any other must be one Cloud Run pulls "
            "(Artifact Registry, gcr.io, Docker Hub). Pin a digest (image:tag@sha256:...) to freeze it."
        ),
    )
    proxy_image: str = Field(default=PROXY_IMAGE, description="Cloud SQL Auth Proxy image. Defaults to PROXY_IMAGE.")
    ingress: Literal["internal", "internal-and-cloud-load-balancing"] = Field(
        default="internal",
        description=(
            "Who may reach the service. Defaults to internal: the project's VPC networks only "
            "(callers still need run.invoker); internal-and-cloud-load-balancing also admits your "
            "own load balancer (e.g. with IAP for the UI)."
        ),
    )
    min_instances: int = Field(default=0, ge=0, le=10, description="Server instances kept warm. Defaults to 0: scale to zero.")
    max_instances: int = Field(default=3, ge=1, le=100, description="Most server instances. Defaults to 3.")
    deletion_protection: bool = Field(
        default=True, description="Refuse to delete the service and the database (and keep backups). Defaults to True."
    )


class MlflowServer(MlopsConstruct):
    """MLflow on Cloud Run with a private, IAM-authenticated Cloud SQL PostgreSQL backend.

    Public attributes: ``resource`` (the Cloud Run service), ``tracking_uri`` (its deterministic
    URL), ``database`` (the Cloud SQL instance), ``connection_name``, ``identity`` /
    ``identity_member`` / ``identity_email`` (the server's service account), ``repository`` (the
    ghcr.io remote repository, None for another registry), ``image`` (what Cloud Run pulls),
    ``artifacts_uri`` (``gs://<artifacts>/mlflow``).
    """

    props_type = MlflowServerProps
    props_hint = "project, location and key_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: MlflowServerProps,
        *,
        network: Network,
        artifacts_store: DataStore,
        depends_on: list[Resource] | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self.network = network
        self.artifacts_store = artifacts_store
        self.service_name = f"{props.name}-mlflow"
        apis = require_services(self, props.project, _APIS, provider=provider)
        deps = [*apis, *(depends_on or [])]
        self._identity(apis)
        self._database([*deps, *private_services_access(network, provider=provider)])
        self._images(deps)
        self._service(deps)

    # --- steps of the constructor, in order -------------------------------------------------------

    def _identity(self, apis: list[Resource]) -> None:
        """The server's service account; it writes the artifacts store (``mlflow/`` prefix)."""
        props: MlflowServerProps = self.props
        account = account_id(props.name, "mlflow")
        self.identity = Resource(
            self,
            "Identity",
            "google_service_account",
            provider=self._provider,
            depends_on=apis,
            project=props.project,
            account_id=account,
            display_name=f"MLflow server {props.name}",
            description="Identity of the MLflow tracking server (cdktf-mlops); logs in to its database with IAM.",
        )
        self.identity_email: str = self.identity.ref("email")
        self.identity_member: str = self.identity.ref("member")
        #: PostgreSQL user name of a service account: its e-mail without ``.gserviceaccount.com``.
        self.database_user = f"{account}@{props.project}.iam"
        self.artifacts_uri = f"gs://{self.artifacts_store.store_name}/mlflow"
        self.artifacts_store.grant_write(self.identity_member, id="MlflowServer")

    def _database(self, deps: list[Resource]) -> None:
        """The private Cloud SQL instance, the ``mlflow`` database, the IAM user and its roles."""
        props: MlflowServerProps = self.props
        provider, protect = self._provider, props.deletion_protection
        tier = SIZES[props.server_size][0]
        instance = f"{props.name}-mlflow"
        self.database = Resource(
            self,
            "Database",
            "google_sql_database_instance",
            provider=provider,
            depends_on=deps,
            project=props.project,
            region=props.location,
            name=instance,
            database_version="POSTGRES_18",
            encryption_key_name=props.key_id,
            deletion_protection=protect,
            settings={
                "tier": tier,
                "edition": "ENTERPRISE",
                "availability_type": "REGIONAL",
                "disk_type": "PD_SSD",
                "disk_autoresize": True,
                "deletion_protection_enabled": protect,
                "retain_backups_on_delete": protect,
                "connector_enforcement": "REQUIRED",
                "ip_configuration": {
                    "ipv4_enabled": False,
                    "private_network": self.network.network_id,
                    "ssl_mode": "TRUSTED_CLIENT_CERTIFICATE_REQUIRED",
                },
                "backup_configuration": {
                    "enabled": True,
                    "point_in_time_recovery_enabled": True,
                    "start_time": "02:00",
                    "transaction_log_retention_days": _LOG_RETENTION_DAYS,
                    "backup_retention_settings": {"retained_backups": _BACKUPS_KEPT, "retention_unit": "COUNT"},
                },
                "maintenance_window": {"day": 7, "hour": 3, "update_track": "stable"},
                "insights_config": {"query_insights_enabled": True, "record_client_address": False},
                "database_flags": [{"name": n, "value": v} for n, v in _DB_FLAGS],
            },
        )
        self.connection_name: str = self.database.ref("connection_name")
        Resource(self, "Schema", "google_sql_database", provider=provider, project=props.project,
                 instance=self.database.ref("name"), name=_DATABASE, deletion_policy="ABANDON" if protect else None)
        Resource(
            self,
            "User",
            "google_sql_user",
            provider=provider,
            project=props.project,
            instance=self.database.ref("name"),
            name=self.database_user,
            type="CLOUD_IAM_SERVICE_ACCOUNT",
            database_roles=["cloudsqlsuperuser"],
        )
        condition = {
            "title": "mlflow-instance-only",
            "description": f"The MLflow database instance {instance} only",
            "expression": f'resource.name == "projects/{props.project}/instances/{instance}"',
        }
        for role in DATABASE_ROLES:
            Resource(
                self,
                f"Identity{role.rsplit('.', 1)[-1][:1].upper()}{role.rsplit('.', 1)[-1][1:]}",
                "google_project_iam_member",
                provider=provider,
                project=props.project,
                role=role,
                member=self.identity_member,
                condition=condition,
            )

    def _images(self, deps: list[Resource]) -> None:
        """The ghcr.io remote repository (when the image is on ghcr.io) and ``image``."""
        props: MlflowServerProps = self.props
        self.repository: Resource | None = None
        self.image = props.image
        if not props.image.startswith("ghcr.io/"):
            return
        repo_id = f"{props.name}-ghcr"
        self.repository = Resource(
            self,
            "Images",
            "google_artifact_registry_repository",
            provider=self._provider,
            depends_on=deps,
            project=props.project,
            location=props.location,
            repository_id=repo_id,
            format="DOCKER",
            mode="REMOTE_REPOSITORY",
            description="Pull-through cache of ghcr.io for the MLflow server image (cdktf-mlops)",
            kms_key_name=props.key_id,
            remote_repository_config={
                "description": "ghcr.io (public images)",
                "docker_repository": {"custom_repository": {"uri": "https://ghcr.io"}},
            },
        )
        self.image = f"{props.location}-docker.pkg.dev/{props.project}/{repo_id}/{props.image.removeprefix('ghcr.io/')}"

    def _service(self, deps: list[Resource]) -> None:
        """The Cloud Run service (``resource``) and ``tracking_uri``."""
        props: MlflowServerProps = self.props
        _, cpu, memory = SIZES[props.server_size]
        number = project_number(self, props.project, provider=self._provider)
        host = f"{self.service_name}-{number}.{props.location}.run.app"
        self.tracking_uri: str = f"https://{host}"
        backend = f"postgresql+psycopg2://{self.database_user.replace('@', '%40')}@127.0.0.1:{_PROXY_PORT}/{_DATABASE}"
        subnet = self.network.private_subnet_ids[0]
        self.resource = Resource(
            self,
            "Resource",
            "google_cloud_run_v2_service",
            provider=self._provider,
            depends_on=[*deps, *([self.repository] if self.repository else [])],
            project=props.project,
            location=props.location,
            name=self.service_name,
            description="MLflow tracking server (cdktf-mlops)",
            ingress="INGRESS_TRAFFIC_INTERNAL_ONLY" if props.ingress == "internal" else "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
            invoker_iam_disabled=False,
            deletion_protection=props.deletion_protection,
            template={
                "service_account": self.identity_email,
                "encryption_key": props.key_id,
                "execution_environment": "EXECUTION_ENVIRONMENT_GEN2",
                "timeout": "300s",
                "max_instance_request_concurrency": 40,
                "scaling": {"min_instance_count": props.min_instances, "max_instance_count": props.max_instances},
                "vpc_access": {"egress": "ALL_TRAFFIC", "network_interfaces": [{"subnetwork": subnet}]},
                "containers": [self._server_container(backend, host, cpu, memory), self._proxy_container()],
            },
        )

    # --- building blocks ----------------------------------------------------------------------------

    def _server_container(self, backend: str, host: str, cpu: str, memory: str) -> dict[str, Any]:
        health = {"path": "/health", "port": _PORT}
        return {
            "name": "mlflow",
            "image": self.image,
            "command": ["mlflow"],
            "args": [
                "server",
                "--host=0.0.0.0",
                f"--port={_PORT}",
                f"--backend-store-uri={backend}",
                f"--artifacts-destination={self.artifacts_uri}",
                "--serve-artifacts",
                f"--allowed-hosts={host}",
            ],
            "ports": {"name": "http1", "container_port": _PORT},
            "depends_on": ["cloud-sql-proxy"],
            "resources": {"limits": {"cpu": cpu, "memory": memory}, "cpu_idle": True, "startup_cpu_boost": True},
            # The first start migrates the database schema: allow up to 5 minutes.
            "startup_probe": {"http_get": health, "period_seconds": 10, "timeout_seconds": 5, "failure_threshold": 30},
            "liveness_probe": {"http_get": health, "period_seconds": 30, "timeout_seconds": 5, "failure_threshold": 3},
        }

    def _proxy_container(self) -> dict[str, Any]:
        props: MlflowServerProps = self.props
        return {
            "name": "cloud-sql-proxy",
            "image": props.proxy_image,
            "args": [
                "--private-ip",
                "--auto-iam-authn",
                "--structured-logs",
                f"--port={_PROXY_PORT}",
                "--health-check",
                "--http-address=0.0.0.0",
                f"--http-port={_PROXY_HEALTH_PORT}",
                self.connection_name,
            ],
            "resources": {"limits": {"cpu": "1", "memory": "512Mi"}},
            "startup_probe": {
                "http_get": {"path": "/startup", "port": _PROXY_HEALTH_PORT},
                "period_seconds": 2,
                "timeout_seconds": 1,
                "failure_threshold": 30,
            },
        }

    # --- grants -------------------------------------------------------------------------------------

    def grant_invoke(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` call the MLflow server: ``roles/run.invoker`` on this service only
        (``google_cloud_run_v2_service_iam_member``). Public members are refused."""
        suffix = grant_suffix(self.node.path, principal, id)
        return self._once(
            f"invoke|{principal}",
            lambda: [Resource(
                self,
                f"Invoke{suffix}",
                "google_cloud_run_v2_service_iam_member",
                provider=self._provider,
                project=self.props.project,
                location=self.props.location,
                name=self.resource.ref("name"),
                role=INVOKER_ROLE,
                member=principal,
            )],
        )

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"MlflowServer({self.node.path!r})"
