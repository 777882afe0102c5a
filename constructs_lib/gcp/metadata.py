"""Vertex ML Metadata on GCP: the region's ``default`` metadata store, encrypted with the platform key.

Vertex ML Metadata is where lineage lives on GCP: Vertex AI Pipelines records every run's
executions and input/output artifacts (datasets, models, metrics) in it, Vertex AI Experiments keeps
runs there, and the Model Registry links model versions to the pipeline runs that produced them.
Each region has one store called ``default``; Vertex AI creates it on first use **with a
Google-managed key**, and the key of a metadata store can never change afterwards. So the store has
to be created, with the customer-managed key, before anything uses it.

Why a workflow and not a Terraform resource: google 8.7 (the provider this library pins and bundles
a schema for) has no metadata-store resource; ``google_vertex_ai_metadata_store`` exists only in
google-beta. Adding google-beta would put a second provider (its version range, its schema, a
provider block) into every GCP stack for one resource. The store is instead created the way this
library already drives Vertex AI where Terraform cannot: a Cloud Workflows ``http.post`` whose body
is checked at synth against Google's published discovery document
(:mod:`constructs_lib.core.google_rest`, method ``metadataStores.create``), like the pipeline
launcher's ``pipelineJobs`` call. Terraform creates the workflow; the workflow runs once
(phase 2, the ``gcp_metadata_store_init`` output: ``gcloud workflows run ...``) and:

1. ``POST .../locations/R/metadataStores?metadataStoreId=default`` with
   ``encryptionSpec.kmsKeyName`` = the platform key;
2. on ``409 ALREADY_EXISTS`` reads the store and **fails** unless it is encrypted with that key
   (a store made earlier with a Google-managed key has to be deleted by hand, losing its lineage;
   the failure says so). Running it again is harmless.

``MetadataStore`` emits the workflow (child ``Resource``, CMEK, error call logs), its identity
(``google_service_account`` ``Runner``) holding a project custom role (child ``Role``) with only
:data:`INIT_PERMISSIONS` (create and read metadata stores; Vertex AI has no per-store IAM) and
``roles/logging.logWriter`` for the call logs. Nobody else is granted ``metadataStores.create``:
the *tracking user* role of :class:`~constructs_lib.gcp.tracking.Tracking` only reads stores, so
experiment code cannot create the store with the wrong key by accident. Vertex AI Pipelines runs
record lineage as the Vertex AI service agent (which holds the key), so run the init before the
first pipeline run.

Writers of lineage (granted elsewhere): pipeline runs (the Vertex AI service agent, automatically);
training and pipeline identities through the *tracking user* role (contexts, executions and
artifacts create/get/list/update; no delete).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.props import Model
from ..core.resource import Resource
from ._common import PROJECT_PATTERN, REGION_PATTERN, account_id, role_id

__all__ = ["INIT_PERMISSIONS", "METADATA_STORE_ID", "MetadataStore", "MetadataStoreProps", "init_source"]

METADATA_STORE_ID = "default"
"""The store Vertex AI Pipelines, Experiments and the Model Registry use in a region."""

INIT_PERMISSIONS: tuple[str, ...] = ("aiplatform.metadataStores.create", "aiplatform.metadataStores.get")
"""Permissions of the init workflow's custom role: create the store and read it back."""

LOG_ROLE = "roles/logging.logWriter"
"""Project role of the init identity: the workflow's call logs."""


class MetadataStoreProps(Model):
    """Where the ``default`` metadata store is created and the key it is encrypted with."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{2,52}[a-z0-9]$", description="Name of the init workflow and prefix of its identity.")
    project: str = Field(pattern=PROJECT_PATTERN, description="Project of the metadata store.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the metadata store (one store per region).")
    key_id: str = Field(min_length=1, description="Cloud KMS key id (or token) the store is encrypted with.")


def init_source(project: str, location: str, key_id: str) -> str:
    """The init workflow (Workflows JSON syntax, Workflows expressions escaped for Terraform)."""
    base = f"https://{location}-aiplatform.googleapis.com/v1/projects/{project}/locations/{location}/metadataStores"
    mismatch = (
        f"the {METADATA_STORE_ID} metadata store of {location} exists with another key; a store's key "
        "cannot change: delete it (its lineage is lost) and run this workflow again"
    )
    # The key goes into a variable: a Terraform reference inside a Workflows expression would not
    # be interpolated.
    steps: list[dict[str, Any]] = [
        {"init": {"assign": [{"key": key_id}]}},
        {"create": {"try": {"steps": [{"post": {
            "call": "http.post",
            "args": {
                "url": f"{base}?metadataStoreId={METADATA_STORE_ID}",
                "auth": {"type": "OAuth2"},
                "body": {
                    "description": "Lineage and experiment metadata, customer-managed key (cdktf-mlops)",
                    "encryptionSpec": {"kmsKeyName": "$${key}"},
                },
            },
            "result": "created",
        }}, {"created_done": {"return": "$${created.body.name}"}}]},
            "except": {"as": "e", "steps": [{"known": {"switch": [
                {"condition": "$${e.code == 409}", "next": "read"}], "next": "fail"}},
                {"fail": {"raise": "$${e}"}}]}}},
        {"read": {"call": "http.get", "args": {"url": f"{base}/{METADATA_STORE_ID}", "auth": {"type": "OAuth2"}},
                  "result": "store"}},
        {"check": {"switch": [{
            "condition": '$${map.get(store.body, ["encryptionSpec", "kmsKeyName"]) != key}',
            "raise": mismatch,
        }]}},
        {"done": {"return": "$${store.body.name}"}},
    ]
    return json.dumps({"main": {"steps": steps}}, indent=2, sort_keys=True)


class MetadataStore(MlopsConstruct):
    """The init workflow of the region's ``default`` Vertex ML Metadata store (CMEK) and its identity.

    Public attributes: ``resource`` (the workflow), ``store_name`` (``projects/P/locations/R/
    metadataStores/default``), ``init_command`` (the phase-2 ``gcloud workflows run`` command),
    ``runner`` / ``runner_member`` (the workflow's identity), ``role`` (its custom role).
    ``depends_on`` (e.g. the key grants of the Vertex AI and Workflows service agents) is applied
    to the workflow.
    """

    props_type = MetadataStoreProps
    props_hint = "project, location and key_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: MetadataStoreProps,
        *,
        depends_on: list[Resource] | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        deps = list(depends_on or [])
        self.store_name = f"projects/{props.project}/locations/{props.location}/metadataStores/{METADATA_STORE_ID}"
        self.runner = Resource(
            self,
            "Runner",
            "google_service_account",
            provider=provider,
            project=props.project,
            account_id=account_id(props.name, "meta"),
            display_name=f"Metadata store init {props.name}",
            description="Creates the region's Vertex ML Metadata store with the platform key (cdktf-mlops).",
        )
        self.runner_member: str = self.runner.ref("member")
        self.role = Resource(
            self,
            "Role",
            "google_project_iam_custom_role",
            provider=provider,
            project=props.project,
            role_id=role_id("mlops", props.name, "metadata", "init"),
            title=f"{props.name} metadata store init",
            description="Create and read Vertex ML Metadata stores (cdktf-mlops)",
            permissions=list(INIT_PERMISSIONS),
            stage="GA",
        )
        grants = [
            Resource(self, "RunnerRole", "google_project_iam_member", provider=provider, project=props.project,
                     role=self.role.ref("name"), member=self.runner_member),
            Resource(self, "RunnerLogs", "google_project_iam_member", provider=provider, project=props.project,
                     role=LOG_ROLE, member=self.runner_member),
        ]
        self.resource = Resource(
            self,
            "Resource",
            "google_workflows_workflow",
            provider=provider,
            depends_on=[*deps, *grants],
            project=props.project,
            region=props.location,
            name=f"{props.name}-metadata-init",
            description="Creates the default Vertex ML Metadata store with the platform key (cdktf-mlops)",
            service_account=self.runner.ref("id"),
            crypto_key_name=props.key_id,
            call_log_level="LOG_ERRORS_ONLY",
            deletion_protection=False,
            source_contents=init_source(props.project, props.location, props.key_id),
        )
        self.init_command: str = (
            f"gcloud workflows run {props.name}-metadata-init --location {props.location} --project {props.project}"
        )

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"MetadataStore({self.node.path!r})"
