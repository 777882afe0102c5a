"""ML pipelines on GCP: a Vertex AI Pipelines template, its run identity and a launcher.

Vertex AI Pipelines has **no Terraform resource for a pipeline** (a pipeline is a compiled KFP
spec that is submitted as a ``pipelineJob`` API call), and its REST ``templateUri`` only accepts
Artifact Registry templates. ``Pipeline`` bridges that with Terraform resources only:

* ``google_storage_bucket_object`` (child ``Resource``): the compiled pipeline spec (KFP v2 IR
  JSON) at ``gs://<artifacts>/pipelines/<name>/pipeline.json``. It holds ``props.definition``
  when given; otherwise a **placeholder**: a valid one-step KFP v2 spec whose step prints a
  message, declaring ``props.parameters`` as string inputs with their defaults. The team's CI
  replaces the placeholder object with the real compiled spec (``gcloud storage cp``); for the
  placeholder, Terraform ignores later content changes, so it never reverts CI's upload. With a
  given ``definition`` Terraform owns the content. ``pipeline_id`` is this object's ``gs://`` URI;
* ``google_service_account`` ``Runner`` — the pipeline's execution identity (``principal``): jobs
  run as it; it reads and writes the artifacts store through the store's ``grant_write``
  (``objectCreator`` + ``objectViewer``, no delete) and holds nothing else. Steps that call Vertex
  AI themselves (custom training jobs) need more, granted by the caller;
* the pipeline root ``gs://<artifacts>/pipelines/<name>/root`` in the artifacts store (the store is
  already versioned, CMEK-encrypted and access-logged, so no second bucket is created);
* a **launcher**: ``google_workflows_workflow`` (child ``Launcher``, CMEK, error call logs) that
  reads the current spec object and ``POST``s ``projects/P/locations/R/pipelineJobs`` with the spec
  inline, the pipeline root, ``props.parameters`` as ``parameterValues``, the runner as service
  account and the CMEK as ``encryptionSpec``. It runs as ``google_service_account`` ``Launcher``
  which holds ``roles/aiplatform.user`` on the project (Vertex AI has no per-pipeline IAM: it is
  the narrowest predefined role that creates ``pipelineJobs``), ``roles/iam.serviceAccountUser``
  on the runner only (to run jobs as it), ``roles/logging.logWriter`` (call logs) and
  ``roles/storage.objectViewer`` on the artifacts bucket **conditioned on the spec object's name**;
* a **start door**: ``google_pubsub_topic`` (child ``StartTopic``, CMEK, messages kept in the
  region) and ``google_eventarc_trigger`` (child ``OnStart``) that starts the launcher for every
  message, as ``google_service_account`` ``Invoker`` with ``roles/workflows.invoker``.

:meth:`Pipeline.grant_start` grants ``roles/pubsub.publisher`` **on the start topic only**
(``google_pubsub_topic_iam_member``): whoever can publish there can start this pipeline and
nothing else — no Vertex AI role, no ``actAs`` on the runner. Retraining triggers use it for a
Cloud Scheduler identity, the Cloud Storage service agent (bucket notifications) and the Cloud
Monitoring notification agent (alert policies).

A :class:`~constructs_lib.gcp.keys.Key` (child ``Key``) is created unless ``encryption.key_id``
is given, with encrypt/decrypt for the Vertex AI, Workflows and Pub/Sub service agents.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from ..core import engine
from ..core.automation_props import PipelineProps as CorePipelineProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructTypeError
from ..core.resource import Resource
from ._common import (
    PROJECT_PATTERN,
    REGION_PATTERN,
    account_id,
    grant_suffix,
    own_key,
    require_services,
    service_agent,
    use_key,
)
from .storage import DataStore

__all__ = [
    "LAUNCHER_ROLES",
    "PLACEHOLDER_IMAGE",
    "START_ROLE",
    "Pipeline",
    "PipelineProps",
    "placeholder_spec",
]

START_ROLE = "roles/pubsub.publisher"
"""Role of :meth:`Pipeline.grant_start`, on the pipeline's start topic only."""

LAUNCHER_ROLES: tuple[str, ...] = ("roles/aiplatform.user", "roles/logging.logWriter")
"""Project roles of the launcher identity: create pipeline jobs (Vertex AI has no per-pipeline
IAM) and write the launcher's call logs."""

INVOKER_ROLE = "roles/workflows.invoker"
"""Project role of the Eventarc identity: start workflow executions (Workflows has no
per-workflow IAM resource in google 8.7)."""

PLACEHOLDER_IMAGE = "python:3.12-slim"
"""Image of the placeholder pipeline's single step."""

_APIS = (
    "aiplatform.googleapis.com",
    "workflows.googleapis.com",
    "workflowexecutions.googleapis.com",
    "eventarc.googleapis.com",
    "pubsub.googleapis.com",
    "iam.googleapis.com",
)


def tf_escape(expression: str) -> str:
    """A Workflows ``${...}`` expression escaped for Terraform JSON (``$${...}``)."""
    return "$" + expression


def placeholder_spec(name: str, parameters: dict[str, str]) -> dict[str, Any]:
    """A minimal, valid KFP v2 pipeline spec (IR) with one step that only prints a message.

    ``parameters`` become string inputs of the pipeline with their values as defaults, so the
    launcher's ``parameterValues`` match the spec. The team's CI replaces it with the compiled
    pipeline (``kfp.compiler.Compiler().compile(...)``).
    """
    message = f"placeholder pipeline {name}: upload the compiled pipeline spec to replace it"
    root: dict[str, Any] = {
        "dag": {
            "tasks": {
                "placeholder": {
                    "taskInfo": {"name": "placeholder"},
                    "componentRef": {"name": "comp-placeholder"},
                }
            }
        }
    }
    if parameters:
        root["inputDefinitions"] = {
            "parameters": {
                k: {"parameterType": "STRING", "defaultValue": v, "isOptional": True}
                for k, v in sorted(parameters.items())
            }
        }
    return {
        "pipelineInfo": {"name": name, "description": "cdktf-mlops placeholder"},
        "schemaVersion": "2.1.0",
        "sdkVersion": "kfp-2.7.0",
        "root": root,
        "components": {"comp-placeholder": {"executorLabel": "exec-placeholder"}},
        "deploymentSpec": {
            "executors": {
                "exec-placeholder": {
                    "container": {
                        "image": PLACEHOLDER_IMAGE,
                        "command": ["python", "-c"],
                        "args": [f"print({message!r})"],
                    }
                }
            }
        },
    }


class PipelineProps(CorePipelineProps):
    """GCP pipeline props: the shared :class:`~constructs_lib.core.automation_props.PipelineProps`
    plus the project and region."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the pipeline's resources.")
    location: str = Field(
        pattern=REGION_PATTERN,
        description="Region where pipeline jobs, the launcher and the key live (e.g. 'us-central1').",
    )
    deletion_protection: bool = Field(
        default=True,
        description="Protect the pipeline's created key from destruction. Defaults to True.",
    )


class Pipeline(MlopsConstruct):
    """A Vertex AI pipeline: spec object, run identity, launcher workflow and start topic.

    Public attributes (same names on every cloud):

    * ``pipeline_id`` — ``gs://`` URI (token) of the pipeline spec object;
    * ``trigger_id`` — what starts a run: the Pub/Sub start topic id (``start_topic_id``);
    * ``principal`` — IAM member (token) of the runner service account, the jobs' identity;
    * ``resource`` — the spec ``google_storage_bucket_object``;

    and GCP extras: ``runner`` / ``runner_email``, ``launcher`` (the workflow), ``launcher_account``,
    ``start_topic`` / ``start_topic_id``, ``invoker``, ``pipeline_root``, ``key`` / ``key_id``,
    ``definition`` (the spec dict written) and ``placeholder`` (True when it is the placeholder).
    """

    props_type = PipelineProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: PipelineProps,
        *,
        artifacts_store: DataStore,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(artifacts_store, DataStore):
            raise ConstructTypeError(self.node.path, "artifacts_store must be a constructs_lib.gcp.DataStore")
        self.artifacts_store = artifacts_store
        apis = require_services(self, props.project, _APIS, provider=provider)

        key_grants = self._key()
        self._spec()
        self._run_identity(id, apis)
        self._launcher(apis, key_grants)
        self._start_door(apis, key_grants)

    # --- steps of the constructor, in order -------------------------------------------------------

    def _key(self) -> list[Resource]:
        """The pipeline's key for the Vertex AI, Workflows and Pub/Sub service agents; returns the
        key grants."""
        props: PipelineProps = self.props
        project, region, name, provider = props.project, props.location, props.name, self._provider
        agents = [
            ("VertexServiceAgent", service_agent(self, project, "aiplatform", provider=provider)),
            ("WorkflowsServiceAgent", service_agent(self, project, "workflows", provider=provider)),
            ("PubsubServiceAgent", service_agent(self, project, "pubsub", provider=provider)),
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

    def _spec(self) -> None:
        """The pipeline spec object (``resource``, ``pipeline_id``, ``definition``) and
        ``pipeline_root``."""
        props: PipelineProps = self.props
        name, provider = props.name, self._provider
        artifacts_store = self.artifacts_store
        prefix = f"pipelines/{name}"
        self.object_name = f"{prefix}/pipeline.json"
        self.placeholder = props.definition is None
        self.definition: dict[str, Any] = (
            placeholder_spec(name, props.parameters) if props.definition is None else props.definition
        )
        bucket = artifacts_store.store_name
        self.resource = Resource(
            self,
            "Resource",
            "google_storage_bucket_object",
            provider=provider,
            ignore_changes=["content", "detect_md5hash"] if self.placeholder else None,
            bucket=bucket,
            name=self.object_name,
            content=json.dumps(self.definition, indent=2, sort_keys=True),
            content_type="application/json",
            metadata={"managed-by": "cdktf-mlops", "placeholder": str(self.placeholder).lower()},
        )
        self.pipeline_id: str = f"gs://{bucket}/{self.object_name}"
        self.pipeline_root: str = f"gs://{bucket}/{prefix}/root"

    def _run_identity(self, id: str, apis: list[Resource]) -> None:
        """The runner service account jobs run as (``runner``, ``principal``); it writes the
        artifacts store."""
        props: PipelineProps = self.props
        project, name, provider = props.project, props.name, self._provider
        artifacts_store = self.artifacts_store
        self.runner = Resource(
            self,
            "Runner",
            "google_service_account",
            provider=provider,
            depends_on=apis,
            project=project,
            account_id=account_id(name, "run"),
            display_name=f"Pipeline {name}",
            description="Execution identity of the pipeline's jobs (cdktf-mlops); holds only granted roles.",
        )
        self.runner_email: str = self.runner.ref("email")
        self.principal: str = self.runner.ref("member")
        artifacts_store.grant_write(self.principal, id=f"Pipeline{_label(id)}")

    def _launcher(self, apis: list[Resource], key_grants: list[Resource]) -> None:
        """The launcher workflow (``launcher``) and its identity: it creates pipeline jobs as the
        runner and reads the spec object only."""
        props: PipelineProps = self.props
        project, region, name, provider = props.project, props.location, props.name, self._provider
        bucket = self.artifacts_store.store_name
        self.launcher_account = Resource(
            self,
            "LauncherIdentity",
            "google_service_account",
            provider=provider,
            depends_on=apis,
            project=project,
            account_id=account_id(name, "launch"),
            display_name=f"Launcher of pipeline {name}",
            description="Creates pipeline jobs of one pipeline from its launcher workflow (cdktf-mlops).",
        )
        launcher_member = self.launcher_account.ref("member")
        for role in LAUNCHER_ROLES:
            Resource(
                self,
                f"Launcher{_label(role.rsplit('.', 1)[-1])}",
                "google_project_iam_member",
                provider=provider,
                project=project,
                role=role,
                member=launcher_member,
            )
        Resource(
            self,
            "LauncherActAsRunner",
            "google_service_account_iam_member",
            provider=provider,
            service_account_id=self.runner.ref("name"),
            role="roles/iam.serviceAccountUser",
            member=launcher_member,
        )
        Resource(
            self,
            "LauncherReadsSpec",
            "google_storage_bucket_iam_member",
            provider=provider,
            bucket=bucket,
            role="roles/storage.objectViewer",
            member=launcher_member,
            condition={
                "title": "pipeline-spec-only",
                "description": f"Read the spec of pipeline {name} only",
                "expression": f'resource.name == "projects/_/buckets/{bucket}/objects/{self.object_name}"',
            },
        )
        self.launcher = Resource(
            self,
            "Launcher",
            "google_workflows_workflow",
            provider=provider,
            depends_on=[*apis, *key_grants],
            project=project,
            region=region,
            name=name,
            description=f"Starts a Vertex AI pipeline job of {name} (cdktf-mlops)",
            service_account=self.launcher_account.ref("id"),
            crypto_key_name=self.key_id,
            call_log_level="LOG_ERRORS_ONLY",
            deletion_protection=False,
            source_contents=self._launcher_source(bucket),
        )

    def _start_door(self, apis: list[Resource], key_grants: list[Resource]) -> None:
        """The start topic (``start_topic``, ``trigger_id``) and the Eventarc trigger (``trigger``)
        that runs the launcher for each message."""
        props: PipelineProps = self.props
        project, region, name, provider = props.project, props.location, props.name, self._provider
        self.start_topic = Resource(
            self,
            "StartTopic",
            "google_pubsub_topic",
            provider=provider,
            depends_on=[*apis, *key_grants],
            project=project,
            name=f"{name}-start",
            kms_key_name=self.key_id,
            message_storage_policy={"allowed_persistence_regions": [region]},
            message_retention_duration="86400s",
        )
        self.start_topic_id: str = self.start_topic.ref("id")
        self.trigger_id: str = self.start_topic_id
        self.invoker = Resource(
            self,
            "Invoker",
            "google_service_account",
            provider=provider,
            depends_on=apis,
            project=project,
            account_id=account_id(name, "invoke"),
            display_name=f"Start events of pipeline {name}",
            description="Eventarc identity: starts the pipeline's launcher workflow (cdktf-mlops).",
        )
        invoke = Resource(
            self,
            "InvokerRole",
            "google_project_iam_member",
            provider=provider,
            project=project,
            role=INVOKER_ROLE,
            member=self.invoker.ref("member"),
        )
        self.trigger = Resource(
            self,
            "OnStart",
            "google_eventarc_trigger",
            provider=provider,
            depends_on=[invoke],
            project=project,
            location=region,
            name=f"{name}-start",
            service_account=self.invoker.ref("email"),
            matching_criteria=[{"attribute": "type", "value": "google.cloud.pubsub.topic.v1.messagePublished"}],
            transport={"pubsub": {"topic": self.start_topic_id}},
            destination={"workflow": self.launcher.ref("id")},
        )

    # --- grants -------------------------------------------------------------------------------------

    def grant_start(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` start this pipeline and nothing else.

        Emits ``roles/pubsub.publisher`` on this pipeline's start topic only
        (``google_pubsub_topic_iam_member``); every message published there starts one run
        through the launcher. ``principal`` is an IAM member string (``serviceAccount:...``,
        ``group:...``, ``user:...`` or a token of one); ``id`` names the grant and is required for
        a token principal. Returns the grant as a one-element list; granting the same principal twice
        returns the first grant.
        """
        suffix = grant_suffix(self.node.path, principal, id)
        return self._once(
            f"start:{principal}",
            lambda: [Resource(
                self,
                f"Start{suffix}",
                "google_pubsub_topic_iam_member",
                provider=self._provider,
                project=self.props.project,
                topic=self.start_topic.ref("name"),
                role=START_ROLE,
                member=principal,
            )],
        )

    # --- building blocks ----------------------------------------------------------------------------

    def _launcher_source(self, bucket: str) -> str:
        """The launcher workflow (Workflows JSON syntax, Workflows expressions escaped for Terraform)."""
        props: PipelineProps = self.props
        object_path = self.object_name.replace("/", "%2F")
        jobs = (
            f"https://{props.location}-aiplatform.googleapis.com/v1/projects/{props.project}"
            f"/locations/{props.location}/pipelineJobs"
        )
        body: dict[str, Any] = {
            "displayName": props.name,
            "pipelineSpec": tf_escape("${spec.body}"),
            "runtimeConfig": {
                "gcsOutputDirectory": self.pipeline_root,
                "parameterValues": dict(sorted(props.parameters.items())),
            },
            "serviceAccount": self.runner_email,
            "encryptionSpec": {"kmsKeyName": self.key_id},
            "labels": {"managed-by": "cdktf-mlops", "pipeline": props.name},
        }
        source = {
            "main": {
                "params": ["event"],
                "steps": [
                    {
                        "read_spec": {
                            "call": "http.get",
                            "args": {
                                "url": f"https://storage.googleapis.com/storage/v1/b/{bucket}/o/{object_path}?alt=media",
                                "auth": {"type": "OAuth2"},
                            },
                            "result": "spec",
                        }
                    },
                    {
                        "start_job": {
                            "call": "http.post",
                            "args": {"url": jobs, "auth": {"type": "OAuth2"}, "body": body},
                            "result": "job",
                        }
                    },
                    {"done": {"return": tf_escape("${job.body.name}")}},
                ],
            }
        }
        return json.dumps(source, indent=2, sort_keys=True)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Pipeline({self.node.path!r})"


def _label(text: str) -> str:
    """``logWriter`` / ``train-model`` -> ``LogWriter`` / ``TrainModel`` (construct ids)."""
    parts = [p for p in text.replace("_", "-").split("-") if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)
