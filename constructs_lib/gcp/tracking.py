"""Experiment tracking on GCP: a CMEK-encrypted Vertex AI TensorBoard and empty SaaS tracker secrets.

``Tracking`` emits:

* ``google_vertex_ai_tensorboard`` (child ``Resource``) in ``props.location``, encrypted with the
  construct's key (``encryption_spec``). Vertex AI Experiments keeps run parameters and metrics in
  the region's *default metadata store*, which Vertex creates on first use: google 8.7 has no
  metadata-store resource (``docs/gcp.md`` shows how to create it with the CMEK first);
* per entry of ``props.saas_trackers`` a ``google_secret_manager_secret`` (child
  ``Secret<tracker>``, id ``<name>-<tracker>-api-key``), replicated only to ``props.location``
  (``user_managed``) and encrypted with the key. **No secret version is created**: the API key
  never enters Terraform state. Fill it out of band::

      printf '%s' "$WANDB_API_KEY" | gcloud secrets versions add NAME-wandb-api-key --data-file=- --project=P

* a :class:`~constructs_lib.gcp.keys.Key` (child ``Key``) unless ``encryption.key_id`` is given,
  with encrypt/decrypt for the Vertex AI and Secret Manager service agents;
* a project custom role *tracking user* (child ``Role``) with TensorBoard and Vertex ML Metadata
  permissions (:data:`TRACKING_PERMISSIONS`), granted by :meth:`Tracking.grant_access`.

:meth:`Tracking.grant_secret_read` grants ``roles/secretmanager.secretAccessor`` on each tracker
secret only (``google_secret_manager_secret_iam_member``), never on the project.
"""

from __future__ import annotations

from pydantic import Field

from ..core import build_props, engine
from ..core.construct import MlopsConstruct
from ..core.recovery import Recovery
from ..core.resource import Resource
from ._common import (
    PROJECT_PATTERN,
    REGION_PATTERN,
    grant_suffix,
    own_key,
    require_services,
    role_id,
    service_agent,
    use_key,
)

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

    ``server_size`` is accepted for parity and unused: Vertex AI TensorBoard is serverless.
    """

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID of the TensorBoard, secrets and role.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the TensorBoard and of the secrets' only replica.")
    deletion_protection: bool = Field(
        default=True,
        description="Refuse to delete the secrets and the key (Secret Manager deletion_protection). Defaults to True.",
    )


class Tracking(MlopsConstruct):
    """Vertex AI TensorBoard (CMEK) plus one empty, CMEK-encrypted secret per SaaS tracker.

    Public attributes (same names on every cloud): ``resource`` (the TensorBoard), ``secrets``
    (tracker -> ``google_secret_manager_secret`` :class:`Resource`), ``secret_ids`` (tracker ->
    secret id to fill), ``tracking_uri`` (the TensorBoard id below: Vertex AI has no MLflow
    tracking URI), ``recovery`` (regional: no cross-region copy), ``key`` / ``key_id``;
    GCP extras: ``tensorboard_id`` (token of ``projects/N/locations/R/tensorboards/ID``, what
    ``aiplatform.init(experiment_tensorboard=...)`` takes), ``role``.
    """

    props_type = TrackingProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: TrackingProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        apis = ["aiplatform.googleapis.com"]
        agents = [("VertexAgent", service_agent(self, props.project, "aiplatform", provider=provider))]
        if props.saas_trackers:
            apis.append("secretmanager.googleapis.com")
            agents.append(("SecretManagerAgent", service_agent(self, props.project, "secretmanager", provider=provider)))
        deps = require_services(self, props.project, apis, provider=provider)
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
        self.tracking_uri: str = self.tensorboard_id
        # A regional TensorBoard and regional secrets: no cross-region copy.
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
        self.secrets: dict[str, Resource] = {}
        self.secret_ids: dict[str, str] = {}
        for tracker in props.saas_trackers:
            secret_id = f"{props.name}-{tracker}-api-key"
            self.secret_ids[tracker] = secret_id
            self.secrets[tracker] = Resource(
                self,
                f"Secret{tracker.capitalize()}",
                "google_secret_manager_secret",
                provider=provider,
                depends_on=[*deps, *key_grants],
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

    def grant_access(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` log to the TensorBoard and Vertex AI Experiments: the project custom
        role *tracking user* (:data:`TRACKING_PERMISSIONS`). Vertex AI has no per-TensorBoard IAM,
        so the role is bound on the project; it holds no delete or admin permission."""
        suffix = grant_suffix(self.node.path, principal, id)
        return self._once(
            f"access|{principal}",
            lambda: [Resource(
                self,
                f"Access{suffix}",
                "google_project_iam_member",
                provider=self._provider,
                project=self.props.project,
                role=self.role.ref("name"),
                member=principal,
            )],
        )

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
