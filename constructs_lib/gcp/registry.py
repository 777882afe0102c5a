"""Container registry (Artifact Registry) and model registry (Vertex AI + a gated model bucket) on GCP.

``ContainerRegistry`` emits, per entry of ``props.repositories``, a
``google_artifact_registry_repository`` (child ``Repo<name>``): Docker format, CMEK
(``kms_key_name``), immutable tags (``docker_config.immutable_tags``), a cleanup policy deleting
untagged images older than ``untagged_expiry_days`` (``cleanup_policy_dry_run = false``) and
vulnerability scanning inherited from the project (``vulnerability_scanning_config``): with
``scan_on_push`` the Container Scanning API is enabled, so Artifact Analysis scans every pushed
image automatically and keeps re-scanning it for 30 days. A
:class:`~constructs_lib.gcp.keys.Key` (child ``Key``) is created unless ``encryption.key_id`` is
given, with encrypt/decrypt for the Artifact Registry service agent.

``ModelRegistry``: the Vertex AI Model Registry has no Terraform resource (models are registered
by ``gcloud ai models upload`` or the SDK after training). The construct builds what Terraform can
and makes the approval gate an IAM boundary:

* a :class:`~constructs_lib.gcp.storage.DataStore` (child ``Store``) for model artifacts,
  versioned and CMEK-encrypted, with two prefixes: ``candidates/`` (what training writes) and
  ``approved/`` (what serving and later environments may read);
* ``google_service_account`` ``Approver``: the only identity that may write under ``approved/``
  and set version aliases on Vertex models; humans in ``props.approvers`` act as it through
  ``roles/iam.serviceAccountTokenCreator`` on that account only;
* three project-level custom roles (``google_project_iam_custom_role``): *model reader*
  (``aiplatform.models.get/list``), *model publisher* (reader + ``aiplatform.models.upload``) and
  *model approver* (reader + ``aiplatform.models.update``, which covers merging version aliases).

With ``approval = manual`` (the default), ``grant_write`` gives ``objectCreator`` on
``candidates/`` only (an IAM condition) and the publisher role; ``grant_read`` gives
``objectViewer`` on ``approved/`` only (plus listing) and the reader role. Promotion targets are
granted read at creation. With ``approval = automatic``, writers may write both prefixes.
Approving a version means copying it from ``candidates/`` to ``approved/`` as the approver and
adding the Vertex version alias ``approved`` (``docs/gcp.md`` has the commands).

**Serving copies.** Vertex AI imports a model only from a bucket in the region it is uploaded to
(Google Cloud, "Import models to Vertex AI": the bucket must be in the same region as the regional
endpoint; the API refuses a bucket whose location is a multi-region such as ``us``, and a
dual-region bucket's location is its multi-region). So the model bucket serves only its own region,
and only when it is regional (:meth:`ModelRegistry.serves`). For any other serving region,
:meth:`ModelRegistry.serving_copy` creates (once per region) a regional :class:`DataStore` (child
``Serving<Region>``) with the model bucket's settings and its own key in that region; the Vertex AI
service agent may read it, the registry's writers and the approver may write it. The pipeline
copies each approved version there before uploading it in that region
(:attr:`~constructs_lib.gcp.serving.Endpoint.deploy_command`).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from ..core import build_props, engine
from ..core.construct import MlopsConstruct
from ..core.naming import short_hash
from ..core.props import LifecycleProps
from ..core.recovery import Recovery
from ..core.resource import Resource
from ._common import (
    PROJECT_PATTERN,
    REGION_PATTERN,
    account_id,
    check_member,
    grant_suffix,
    own_key,
    require_services,
    role_id,
    service_agent,
    use_key,
)
from .storage import DataStore, DataStoreProps

__all__ = [
    "APPROVED_PREFIX",
    "CANDIDATES_PREFIX",
    "MODEL_APPROVER_PERMISSIONS",
    "MODEL_PUBLISHER_PERMISSIONS",
    "MODEL_READER_PERMISSIONS",
    "PULL_ROLE",
    "PUSH_ROLE",
    "ContainerRegistry",
    "ContainerRegistryProps",
    "ModelRegistry",
    "ModelRegistryProps",
]

PULL_ROLE = "roles/artifactregistry.reader"
"""Role of :meth:`ContainerRegistry.grant_pull`, on one repository."""
PUSH_ROLE = "roles/artifactregistry.writer"
"""Role of :meth:`ContainerRegistry.grant_push`, on one repository (push and pull; no delete)."""

CANDIDATES_PREFIX = "candidates/"
APPROVED_PREFIX = "approved/"

MODEL_READER_PERMISSIONS: tuple[str, ...] = ("aiplatform.models.get", "aiplatform.models.list")
MODEL_PUBLISHER_PERMISSIONS: tuple[str, ...] = (*MODEL_READER_PERMISSIONS, "aiplatform.models.upload")
MODEL_APPROVER_PERMISSIONS: tuple[str, ...] = (*MODEL_READER_PERMISSIONS, "aiplatform.models.update")

_DAY = 86_400


_STORE_NAME_MAX = 40  # DataStoreProps.name allows 40 characters


def _title(label: str) -> str:
    return "".join(p.capitalize() for p in label.split("-"))


def _regional_name(name: str, region: str) -> str:
    """``<name>-<region>``; a long ``name`` is shortened with a hash of the whole (the region stays whole)."""
    raw = f"{name}-{region}"
    if len(raw) <= _STORE_NAME_MAX:
        return raw
    suffix = short_hash(raw, length=6)
    head = name[: _STORE_NAME_MAX - len(region) - len(suffix) - 2].rstrip("-")
    return f"{head}-{suffix}-{region}"


# ------------------------------------------------------------------------------ container registry


class ContainerRegistryProps(build_props.ContainerRegistryProps):
    """GCP container registry props: the shared props plus the project and region."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the repositories.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the repositories (images are stored there).")
    deletion_protection: bool = Field(
        default=True,
        description="Keep repositories on `terraform destroy` (lifecycle prevent_destroy) and protect the key. Defaults to True.",
    )


class ContainerRegistry(MlopsConstruct):
    """Private, CMEK-encrypted Docker repositories with immutable tags, scanning and cleanup.

    Public attributes (same names on every cloud): ``repositories`` (repository name ->
    ``google_artifact_registry_repository`` :class:`Resource`), ``registry_url`` (the host images
    are pushed to, ``REGION-docker.pkg.dev``), ``repository_urls`` (name ->
    ``REGION-docker.pkg.dev/PROJECT/REPO``), ``recovery`` (regional repositories: no cross-region
    copy), ``key`` / ``key_id``; GCP extra: ``resource`` (the first repository).
    """

    props_type = ContainerRegistryProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: ContainerRegistryProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        apis = ["artifactregistry.googleapis.com"]
        if props.scan_on_push:
            apis.append("containerscanning.googleapis.com")
        deps = require_services(self, props.project, apis, provider=provider)
        agent = service_agent(self, props.project, "artifactregistry", provider=provider)
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
        self.key_id, key_grants = use_key(
            self, self.key, props.encryption, [("ArtifactRegistryAgent", agent)], provider=provider
        )
        self.registry_url: str = f"{props.location}-docker.pkg.dev"
        self.repositories: dict[str, Resource] = {}
        self.repository_urls: dict[str, str] = {}
        for repo in props.repositories:
            repo_id = f"{props.name}-{repo}"
            self.repositories[repo] = Resource(
                self,
                "Resource" if not self.repositories else f"Repo{_title(repo)}",
                "google_artifact_registry_repository",
                provider=provider,
                depends_on=[*deps, *key_grants],
                prevent_destroy=props.deletion_protection,
                project=props.project,
                location=props.location,
                repository_id=repo_id,
                description=f"{repo} images (cdktf-mlops)",
                format="DOCKER",
                mode="STANDARD_REPOSITORY",
                kms_key_name=self.key_id,
                docker_config={"immutable_tags": props.immutable_tags},
                cleanup_policy_dry_run=False,
                cleanup_policies=[
                    {
                        "id": "delete-untagged",
                        "action": "DELETE",
                        "condition": {
                            "tag_state": "UNTAGGED",
                            "older_than": f"{props.untagged_expiry_days * _DAY}s",
                        },
                    }
                ],
                vulnerability_scanning_config={
                    "enablement_config": "INHERITED" if props.scan_on_push else "DISABLED"
                },
            )
            self.repository_urls[repo] = f"{self.registry_url}/{props.project}/{repo_id}"
        self.resource = next(iter(self.repositories.values()))
        # Artifact Registry repositories are regional: no cross-region copy.
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=None)

    def grant_pull(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` pull images: ``roles/artifactregistry.reader`` on every repository.

        ``principal`` is an IAM member (``serviceAccount:...``); public members are refused. ``id``
        names the grants and is required when ``principal`` is a token. Idempotent per principal.
        """
        return self._grant(principal, PULL_ROLE, "Pull", id)

    def grant_push(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` push (and pull) images: ``roles/artifactregistry.writer`` on every
        repository. Writers cannot delete images or repositories; tags stay immutable."""
        return self._grant(principal, PUSH_ROLE, "Push", id)

    def _grant(self, principal: str, role: str, label: str, id: str | None) -> list[Resource]:
        suffix = grant_suffix(self.node.path, principal, id)
        props: ContainerRegistryProps = self.props

        def make() -> list[Resource]:
            return [
                Resource(
                    self,
                    f"{label}{_title(name)}{suffix}",
                    "google_artifact_registry_repository_iam_member",
                    provider=self._provider,
                    project=props.project,
                    location=props.location,
                    repository=repo.ref("name"),
                    role=role,
                    member=principal,
                )
                for name, repo in self.repositories.items()
            ]

        return self._once(f"{role}|{principal}", make)


# ---------------------------------------------------------------------------------- model registry


class ModelRegistryProps(build_props.ModelRegistryProps):
    """GCP model registry props: the shared props plus the project, region and store settings."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID of the Vertex AI models, bucket and roles.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of Vertex AI models and of the model bucket.")
    approvers: list[str] = Field(
        default_factory=list,
        description=(
            "IAM members (e.g. 'group:ml-approvers@example.com') allowed to act as the approver "
            "service account. Defaults to none: grant it later with `grant_approve`."
        ),
    )
    deletion_protection: bool = Field(
        default=True,
        description="Protect the model bucket and its key from deletion. Defaults to True.",
    )
    replication_region: str | None = Field(
        default=None,
        pattern=REGION_PATTERN,
        description="Second region of a dual-region model bucket. Defaults to None: regional bucket.",
    )
    access_logging: bool = Field(default=True, description="Usage logs of the model bucket. Defaults to True.")
    lifecycle: LifecycleProps = Field(
        default_factory=lambda: LifecycleProps(infrequent_access_after_days=None, archive_after_days=None),
        description=(
            "Lifecycle of the model bucket. Defaults to no tiering (models are read at deployment) "
            "and noncurrent versions expired after 90 days."
        ),
    )

    @field_validator("promotion_targets", "approvers")
    @classmethod
    def _members(cls, members: list[str]) -> list[str]:
        for m in members:
            try:
                check_member("ModelRegistryProps", m)
            except ValueError as err:
                raise ValueError(str(err).split(": ", 1)[1]) from None
        return members


class ModelRegistry(MlopsConstruct):
    """Vertex AI model registry access with an IAM-enforced approval gate over a model bucket.

    Public attributes (same names on every cloud): ``store`` (the model :class:`DataStore`),
    ``registry_id`` (the model bucket's name), ``approver_id`` (e-mail of the approver service
    account), ``recovery`` (the model bucket's), ``key_id``; GCP extras: ``approver`` (approver
    service account), ``approver_principal``,
    ``roles`` (``reader`` / ``publisher`` / ``approver`` custom roles), ``artifact_uri``
    (``gs://BUCKET``), ``candidates_uri``, ``approved_uri``, ``resource`` (the bucket),
    ``serving_copies`` (region -> the regional :class:`DataStore` Vertex AI there imports models
    from, for serving regions the model bucket does not serve; see :meth:`serving_copy`).
    """

    props_type = ModelRegistryProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: ModelRegistryProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        apis = require_services(
            self, props.project, ["aiplatform.googleapis.com", "iam.googleapis.com"], provider=provider
        )
        self.store = DataStore(
            self,
            "Store",
            DataStoreProps(
                name=props.name,
                project=props.project,
                location=props.location,
                encryption=props.encryption,
                deletion_protection=props.deletion_protection,
                access_logging=props.access_logging,
                lifecycle=props.lifecycle,
                replication={"region": props.replication_region} if props.replication_region else None,
            ),
            provider=provider,
        )
        self.resource = self.store.resource
        self.key_id = self.store.key_id
        self.registry_id: str = self.store.store_name
        self.recovery = self.store.recovery
        self.artifact_uri: str = self.store.store_url
        bucket = self.store.store_name
        self.candidates_uri = f"{self.artifact_uri}/{CANDIDATES_PREFIX}"
        self.approved_uri = f"{self.artifact_uri}/{APPROVED_PREFIX}"
        self._objects = f"projects/_/buckets/{bucket}/objects/"
        self.serving_copies: dict[str, DataStore] = {}
        self._writers: list[tuple[str, str]] = []  # (member, grant suffix) of grant_write

        self.roles: dict[str, Resource] = {}
        for label, perms, what in (
            ("reader", MODEL_READER_PERMISSIONS, "read Vertex AI models"),
            ("publisher", MODEL_PUBLISHER_PERMISSIONS, "upload Vertex AI model versions"),
            ("approver", MODEL_APPROVER_PERMISSIONS, "approve Vertex AI model versions (version aliases)"),
        ):
            self.roles[label] = Resource(
                self,
                f"Role{label.capitalize()}",
                "google_project_iam_custom_role",
                provider=provider,
                depends_on=apis,
                project=props.project,
                role_id=role_id("mlops", props.name, "model", label),
                title=f"{props.name} model {label}",
                description=f"Least privilege to {what} (cdktf-mlops)",
                permissions=sorted(perms),
                stage="GA",
            )

        self.approver = Resource(
            self,
            "Approver",
            "google_service_account",
            provider=provider,
            depends_on=apis,
            project=props.project,
            account_id=account_id(props.name, "approve"),
            display_name=f"Model approver of {props.name}",
            description="Approves model versions: writes approved/ and sets version aliases (cdktf-mlops).",
        )
        self.approver_principal: str = self.approver.ref("member")
        self.approver_id: str | None = self.approver.ref("email")
        self._bucket_grant("ApproverRead", "roles/storage.objectViewer", self.approver_principal, None)
        self._bucket_grant("ApproverWrite", "roles/storage.objectCreator", self.approver_principal, APPROVED_PREFIX)
        self._project_grant("ApproverRole", "approver", self.approver_principal)
        for member in props.approvers:
            self.grant_approve(member)
        for member in props.promotion_targets:
            self.grant_read(member)

    # --- grants ---------------------------------------------------------------------------------

    def grant_read(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` read approved models: ``roles/storage.objectViewer`` on ``approved/``
        (and listing of the bucket) plus the *model reader* role. With automatic approval the
        whole bucket is readable."""
        suffix = grant_suffix(self.node.path, principal, id)
        manual = self.props.approval == "manual"
        return self._once(
            f"read|{principal}",
            lambda: [
                self._bucket_grant(f"Read{suffix}", "roles/storage.objectViewer", principal,
                                   APPROVED_PREFIX if manual else None, listing=True),
                self._project_grant(f"ReadRole{suffix}", "reader", principal),
            ],
        )

    def grant_write(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` publish models: create objects under ``candidates/`` (anywhere with
        automatic approval), read the bucket, and upload Vertex AI model versions (*model
        publisher* role). It cannot approve: no write to ``approved/``, no version aliases.
        It may also write every serving copy (:meth:`serving_copy`, those made later included:
        the pipeline copies approved versions there), with :meth:`DataStore.grant_write`."""
        suffix = grant_suffix(self.node.path, principal, id)
        manual = self.props.approval == "manual"

        def make() -> list[Resource]:
            self._writers.append((principal, suffix))
            return [
                self._bucket_grant(f"WriteRead{suffix}", "roles/storage.objectViewer", principal, None),
                self._bucket_grant(f"Write{suffix}", "roles/storage.objectCreator", principal,
                                   CANDIDATES_PREFIX if manual else None),
                self._project_grant(f"WriteRole{suffix}", "publisher", principal),
                *[g for copy in self.serving_copies.values() for g in copy.grant_write(principal, id=suffix)],
            ]

        return self._once(f"write|{principal}", make)

    def grant_approve(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` act as the approver service account
        (``roles/iam.serviceAccountTokenCreator`` on that account only)."""
        suffix = grant_suffix(self.node.path, principal, id)
        return self._once(
            f"approve|{principal}",
            lambda: [Resource(
                self,
                f"Approve{suffix}",
                "google_service_account_iam_member",
                provider=self._provider,
                service_account_id=self.approver.ref("name"),
                role="roles/iam.serviceAccountTokenCreator",
                member=principal,
            )],
        )

    # --- serving regions ---------------------------------------------------------------------------

    def serves(self, region: str) -> bool:
        """Whether Vertex AI in ``region`` can import models straight from the model bucket: only
        when the bucket is regional and in ``region`` (a dual-region bucket's location is its
        multi-region, e.g. ``US``, which Vertex AI refuses for a regional upload)."""
        return self.store.replica is None and self.props.location == region

    def serving_copy(self, region: str) -> DataStore | None:
        """The regional bucket Vertex AI in ``region`` imports approved model versions from, or
        None when the model bucket itself serves ``region`` (:meth:`serves`).

        Created once per region (child ``Serving<Region>``, bucket ``<name>-<region>``): a
        :class:`DataStore` with the model bucket's settings (versioning, uniform access, public
        access prevention, soft delete, lifecycle, usage logs, deletion protection) and its own
        customer-managed key in ``region`` (a key of another location cannot encrypt it, so a
        supplied ``encryption.key_id`` is not used there). Grants: read
        (``roles/storage.objectViewer``) for the project's Vertex AI service agent, which reads
        the artifacts at upload; write (:meth:`DataStore.grant_write`: create and read, no delete)
        for every :meth:`grant_write` principal and the approver, who copy approved versions
        there (same layout: ``approved/<version>``).
        """
        if self.serves(region):
            return None
        if region in self.serving_copies:
            return self.serving_copies[region]
        props: ModelRegistryProps = self.props
        copy = DataStore(
            self,
            f"Serving{_title(region)}",
            DataStoreProps(
                name=_regional_name(props.name, region),
                project=props.project,
                location=region,
                encryption=props.encryption.model_copy(update={"key_id": None}),
                deletion_protection=props.deletion_protection,
                access_logging=props.access_logging,
                lifecycle=props.lifecycle,
            ),
            provider=self._provider,
        )
        self.serving_copies[region] = copy
        copy.grant_read(service_agent(self, props.project, "aiplatform", provider=self._provider), id="VertexAgent")
        copy.grant_write(self.approver_principal, id="Approver")
        for member, suffix in self._writers:
            copy.grant_write(member, id=suffix)
        return copy

    def artifacts_uri(self, region: str) -> str:
        """``gs://BUCKET/approved/`` of the bucket Vertex AI in ``region`` imports approved model
        versions from: the model bucket's :attr:`approved_uri` when it serves ``region``, else that
        of the region's :meth:`serving_copy` (created by this call when missing)."""
        copy = self.serving_copy(region)
        return self.approved_uri if copy is None else f"{copy.store_url}/{APPROVED_PREFIX}"

    def _bucket_grant(
        self, cid: str, role: str, member: str, prefix: str | None, *, listing: bool = False
    ) -> Resource:
        condition = None
        if prefix is not None:
            expr = f'resource.name.startsWith("{self._objects}{prefix}")'
            if listing:
                expr = f'resource.type == "storage.googleapis.com/Bucket" || {expr}'
            condition = {
                "title": f"only {prefix}",
                "description": f"Objects under {prefix} only (model approval gate)",
                "expression": expr,
            }
        return Resource(
            self,
            cid,
            "google_storage_bucket_iam_member",
            provider=self._provider,
            bucket=self.store.store_name,
            role=role,
            member=member,
            condition=condition,
        )

    def _project_grant(self, cid: str, label: str, member: str) -> Resource:
        return Resource(
            self,
            cid,
            "google_project_iam_member",
            provider=self._provider,
            project=self.props.project,
            role=self.roles[label].ref("name"),
            member=member,
        )
