"""Experiment tracking and lineage on GCP: a CMEK-encrypted Vertex AI TensorBoard, the region's Vertex
ML Metadata store with the same key, an optional MLflow server and empty SaaS tracker secrets.

``Tracking`` emits:

* ``google_vertex_ai_tensorboard`` (child ``Resource``) in ``props.location``, encrypted with the
  construct's key (``encryption_spec``);
* a :class:`~constructs_lib.gcp.metadata.MetadataStore` (child ``Metadata``): the workflow that
  creates the region's ``default`` Vertex ML Metadata store with the key (phase 2: run it once,
  before the first pipeline run or experiment). Vertex AI Experiments keeps run parameters and
  metrics there and Vertex AI Pipelines records each run's lineage (executions, datasets, models)
  in it. google 8.7 has no metadata-store resource; the module explains the choice;
* with ``props.mlflow`` an :class:`~constructs_lib.gcp.mlflow.MlflowServer` (child ``Mlflow``):
  open-source MLflow on Cloud Run with a private Cloud SQL PostgreSQL backend and the artifacts
  store for artifacts, IAM-authenticated, encrypted with the key; ``tracking_uri`` is its URL.
  It needs ``network`` and ``artifacts_store``;
* per entry of ``props.saas_trackers`` a ``google_secret_manager_secret`` (child
  ``Secret<tracker>``, id ``<name>-<tracker>-api-key``), replicated only to ``props.location``
  (``user_managed``) and encrypted with the key. **No secret version is created**: the API key
  never enters Terraform state. Fill it out of band::

      printf '%s' "$WANDB_API_KEY" | gcloud secrets versions add NAME-wandb-api-key --data-file=- --project=P

* a :class:`~constructs_lib.gcp.keys.Key` (child ``Key``) unless ``encryption.key_id`` is given,
  with encrypt/decrypt for the service agents that encrypt with it: Vertex AI, Workflows, Secret
  Manager (with trackers), Cloud Run, Cloud SQL and Artifact Registry (with MLflow);
* a project custom role *tracking user* (child ``Role``) with TensorBoard and Vertex ML Metadata
  permissions (:data:`TRACKING_PERMISSIONS`), granted by :meth:`Tracking.grant_access` together
  with ``roles/run.invoker`` on the MLflow service.

:meth:`Tracking.grant_secret_read` grants ``roles/secretmanager.secretAccessor`` on each tracker
secret only (``google_secret_manager_secret_iam_member``), never on the project.
"""

from __future__ import annotations

from pydantic import Field

from ..core import build_props, engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.recovery import Recovery
from ..core.resource import Resource
from ._common import (
    PROJECT_PATTERN,
    REGION_PATTERN,
    grant_suffix,
    own_key,
    project_number,
    require_services,
    role_id,
    service_agent,
    use_key,
)
from .metadata import MetadataStore, MetadataStoreProps
from .mlflow import MlflowServer, MlflowServerProps
from .network import Network
from .storage import DataStore

__all__ = ["SECRET_READ_ROLE", "TRACKING_PERMISSIONS", "Tracking", "TrackingProps"]

SECRET_READ_ROLE = "roles/secretmanager.secretAccessor"
"""Role of :meth:`Tracking.grant_secret_read`, on each tracker secret."""

TRACKING_PERMISSIONS: tuple[str, ...] = tuple(
    sorted(
        [
            "aiplatform.tensorboards.get",
            "aiplatform.tensorboards.list",
            *(f"aiplatform.tensorboardExperiments.{v}" for v in ("create", "get", "list", "update", "write")),
            *(f"aiplatform.tensorboardRuns.{v}" for v in ("create", "get", "list", "update", "write")),
            *(f"aiplatform.tensorboardTimeSeries.{v}" for v in ("create", "get", "list", "read", "update")),
            "aiplatform.metadataStores.get",
            *(f"aiplatform.contexts.{v}" for v in ("create", "get", "list", "update", "addContextArtifactsAndExecutions", "addContextChildren")),
            *(f"aiplatform.executions.{v}" for v in ("create", "get", "list", "update")),
            *(f"aiplatform.artifacts.{v}" for v in ("create", "get", "list", "update")),
        ]
    )
)
"""Permissions of the *tracking user* role: write TensorBoard logs and Vertex AI Experiments runs.
No delete, no TensorBoard or metadata-store creation, nothing outside Vertex AI."""


class TrackingProps(build_props.TrackingProps):
    """GCP tracking props: the shared props plus the project and region.

    ``server_size`` sizes the MLflow server and its database with ``mlflow`` (unused without:
    Vertex AI TensorBoard is serverless).
    """

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID of the TensorBoard, secrets and role.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the TensorBoard and of the secrets' only replica.")
    deletion_protection: bool = Field(
        default=True,
        description="Refuse to delete the secrets and the key (Secret Manager deletion_protection). Defaults to True.",
    )


class Tracking(MlopsConstruct):
    """Vertex AI TensorBoard and ML Metadata (CMEK), an optional MLflow server, and one empty,
    CMEK-encrypted secret per SaaS tracker.

    Public attributes (same names on every cloud): ``resource`` (the TensorBoard), ``secrets``
    (tracker -> ``google_secret_manager_secret`` :class:`Resource`), ``secret_ids`` (tracker ->
    secret id to fill), ``tracking_uri`` (with ``mlflow`` the MLflow server's URL, what
    ``MLFLOW_TRACKING_URI`` takes; without it the TensorBoard id below), ``recovery`` (regional:
    no cross-region copy), ``key`` / ``key_id``; GCP extras: ``tensorboard_id`` (token of
    ``projects/N/locations/R/tensorboards/ID``, what ``aiplatform.init(experiment_tensorboard=...)``
    takes), ``metadata`` (:class:`MetadataStore`), ``mlflow`` (:class:`MlflowServer` or None),
    ``role``.
    """

    props_type = TrackingProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: TrackingProps,
        *,
        network: Network | None = None,
        artifacts_store: DataStore | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if props.mlflow and (network is None or artifacts_store is None):
            raise ConstructError(
                self.node.path,
                "mlflow=True needs network= (the MLflow database is private) and artifacts_store= "
                "(where MLflow keeps artifacts); in a spec, add a store under storage.stores",
            )
        deps = require_services(self, props.project, self._apis(), provider=provider)
        key_grants = self._key()
        self.resource = Resource(
            self,
            "Resource",
            "google_vertex_ai_tensorboard",
            provider=provider,
            depends_on=[*deps, *key_grants],
            project=props.project,
            region=props.location,
            display_name=props.name,
            description="Experiment tracking (cdktf-mlops)",
            encryption_spec={"kms_key_name": self.key_id},
        )
        self.tensorboard_id: str = self.resource.ref("id")
        self.metadata = MetadataStore(
            self,
            "Metadata",
            MetadataStoreProps(name=props.name, project=props.project, location=props.location, key_id=self.key_id),
            depends_on=[*deps, *key_grants],
            provider=provider,
        )
        self.mlflow: MlflowServer | None = None
        if props.mlflow:
            assert network is not None and artifacts_store is not None  # checked above
            self.mlflow = MlflowServer(
                self,
                "Mlflow",
                MlflowServerProps(
                    name=props.name,
                    project=props.project,
                    location=props.location,
                    key_id=self.key_id,
                    server_size=props.server_size,
                    deletion_protection=props.deletion_protection,
                ),
                network=network,
                artifacts_store=artifacts_store,
                depends_on=key_grants,
                provider=provider,
            )
        self.tracking_uri: str = self.tensorboard_id if self.mlflow is None else self.mlflow.tracking_uri
        # A regional TensorBoard, metadata store, database and regional secrets: no cross-region copy.
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=None)
        self.role = Resource(
            self,
            "Role",
            "google_project_iam_custom_role",
            provider=provider,
            depends_on=deps,
            project=props.project,
            role_id=role_id("mlops", props.name, "tracking", "user"),
            title=f"{props.name} tracking user",
            description="Write TensorBoard logs and Vertex AI Experiments runs (cdktf-mlops)",
            permissions=list(TRACKING_PERMISSIONS),
            stage="GA",
        )
        self._secrets([*deps, *key_grants])

    # --- steps of the constructor -------------------------------------------------------------------

    def _apis(self) -> list[str]:
        props: TrackingProps = self.props
        apis = ["aiplatform.googleapis.com", "workflows.googleapis.com"]
        if props.saas_trackers:
            apis.append("secretmanager.googleapis.com")
        return apis

    def _key(self) -> list[Resource]:
        """The key (``key``, ``key_id``) and encrypt/decrypt on it for the service agents that use it."""
        props: TrackingProps = self.props
        provider = self._provider
        number = project_number(self, props.project, provider=provider)
        agents = [
            ("VertexAgent", service_agent(self, props.project, "aiplatform", provider=provider)),
            ("WorkflowsAgent", service_agent(self, props.project, "workflows", provider=provider)),
        ]
        if props.saas_trackers:
            agents.append(("SecretManagerAgent", service_agent(self, props.project, "secretmanager", provider=provider)))
        if props.mlflow:
            agents += [
                ("CloudRunAgent", f"serviceAccount:service-{number}@serverless-robot-prod.iam.gserviceaccount.com"),
                ("CloudSqlAgent", f"serviceAccount:service-{number}@gcp-sa-cloud-sql.iam.gserviceaccount.com"),
                ("ArtifactRegistryAgent", service_agent(self, props.project, "artifactregistry", provider=provider)),
            ]
        self.key = own_key(
            self,
            "Key",
            props.encryption,
            name=props.name,
            project=props.project,
            location=props.location,
            deletion_protection=props.deletion_protection,
            provider=provider,
        )
        self.key_id, key_grants = use_key(self, self.key, props.encryption, agents, provider=provider)
        return key_grants

    def _secrets(self, deps: list[Resource]) -> None:
        """One empty secret per SaaS tracker (``secrets``, ``secret_ids``)."""
        props: TrackingProps = self.props
        self.secrets: dict[str, Resource] = {}
        self.secret_ids: dict[str, str] = {}
        for tracker in props.saas_trackers:
            secret_id = f"{props.name}-{tracker}-api-key"
            self.secret_ids[tracker] = secret_id
            self.secrets[tracker] = Resource(
                self,
                f"Secret{tracker.capitalize()}",
                "google_secret_manager_secret",
                provider=self._provider,
                depends_on=deps,
                project=props.project,
                secret_id=secret_id,
                deletion_protection=props.deletion_protection,
                annotations={"fill-with": f"gcloud secrets versions add {secret_id} --data-file=-"},
                replication={
                    "user_managed": {
                        "replicas": [
                            {"location": props.location, "customer_managed_encryption": {"kms_key_name": self.key_id}}
                        ]
                    }
                },
            )

    # --- grants -------------------------------------------------------------------------------------

    def grant_access(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` log to the TensorBoard, Vertex AI Experiments and ML Metadata lineage:
        the project custom role *tracking user* (:data:`TRACKING_PERMISSIONS`), and with
        ``mlflow`` ``roles/run.invoker`` on the MLflow service. Vertex AI has no per-TensorBoard
        IAM, so the role is bound on the project; it holds no delete or admin permission."""
        suffix = grant_suffix(self.node.path, principal, id)

        def make() -> list[Resource]:
            grants = [Resource(
                self,
                f"Access{suffix}",
                "google_project_iam_member",
                provider=self._provider,
                project=self.props.project,
                role=self.role.ref("name"),
                member=principal,
            )]
            if self.mlflow is not None:
                grants += self.mlflow.grant_invoke(principal, id=suffix)
            return grants

        return self._once(f"access|{principal}", make)

    def grant_secret_read(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` read the tracker secrets: ``roles/secretmanager.secretAccessor`` on
        each secret of this construct only."""
        suffix = grant_suffix(self.node.path, principal, id)
        return self._once(
            f"secret|{principal}",
            lambda: [
                Resource(
                    self,
                    f"SecretRead{tracker.capitalize()}{suffix}",
                    "google_secret_manager_secret_iam_member",
                    provider=self._provider,
                    project=self.props.project,
                    secret_id=secret.ref("secret_id"),
                    role=SECRET_READ_ROLE,
                    member=principal,
                )
                for tracker, secret in self.secrets.items()
            ],
        )
