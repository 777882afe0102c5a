"""ML pipelines on Azure: an Azure Machine Learning pipeline job definition kept in the workspace as
a schedule, with its own least-privilege execution identity.

Azure ML has no control-plane "pipeline" object that can be started: a pipeline run is a *job*
(a data-plane object created per run), and the only Resource Manager object that stores a whole
pipeline job definition is a *schedule* (``Microsoft.MachineLearningServices/workspaces/schedules``,
action ``CreateJob``). So the pipeline is that schedule, written through ``azapi``:

* while no schedule is set (the default) the schedule is **disabled** — it is the stored,
  reviewable definition that triggers start on demand;
* :meth:`Pipeline.set_schedule` (used by :class:`~constructs_lib.azure.retraining.Retraining`)
  enables it with an Azure ML cron expression in UTC.

"Starting" the pipeline means submitting a job with :attr:`Pipeline.job_definition` (``PUT
{workspace}/jobs/{new id}``); :meth:`Pipeline.submit_action` gives the Logic App HTTP action that
does it with a managed identity.

Example::

    pipeline = Pipeline(self, "Train", PipelineProps(
        name="ml-train", resource_group_name="rg-ml", location="westeurope",
        workspace_id=workspace.workspace_id, parameters={"epochs": "10"},
    ), artifacts_store=artifacts)
    workspace.attach_identity(pipeline.identity_id)  # runs may use serverless compute
    pipeline.grant_start(ci_identity.ref("principal_id"), principal_type="ServicePrincipal")

What is created (construct ids in brackets):

* ``azapi_resource`` ``workspaces/schedules`` [Resource]: the pipeline job definition (given, or
  a one-step placeholder), ``parameters`` as literal pipeline inputs, run as the execution identity.
* ``azurerm_user_assigned_identity`` [Identity]: the execution identity of every run.
* ``azurerm_role_assignment`` [Runner]: "AzureML Data Scientist" for that identity on the workspace
  only (runs log metrics, read datastores, register outputs); plus "Storage Blob Data
  Contributor" on the artifacts container through ``artifacts_store.grant_write``.
* with :meth:`grant_start`: one ``azurerm_role_definition`` [StarterRole] (a custom role allowing
  only :data:`PIPELINE_STARTER_ACTIONS` on the workspace) and a role assignment per principal.

Azure has no per-pipeline permission: whoever may submit jobs in the workspace may submit any job
there. ``grant_start`` is therefore scoped to the workspace, with a custom role narrower than the
narrowest built-in role that can submit jobs ("AzureML Data Scientist", which also manages compute
and endpoints). Give each platform's pipelines their own workspace to keep them apart.

Serverless compute runs a job under a user-assigned identity only when that identity is attached
to the workspace. The platform (:meth:`~constructs_lib.azure.kit.Kit.pipelines`) attaches
:attr:`Pipeline.identity_id` to its workspace itself. A Pipeline built outside the platform only
gets the workspace's id, so it cannot: call ``workspace.attach_identity(pipeline.identity_id)`` on
the :class:`~constructs_lib.azure.tracking.Workspace` (as in the example above), or set ``compute``
to a cluster that carries the identity.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from ..core import engine
from ..core.automation_props import PipelineProps as _CorePipelineProps
from ..core.construct import MlopsConstruct
from ..core.props import EncryptionProps
from ..core.resource import Resource
from ._common import ML_API_VERSION, attr, custom_role, role_assignment

if TYPE_CHECKING:
    from .storage import DataStore

__all__ = [
    "DATA_SCIENTIST_ROLE",
    "DISABLED_CRON",
    "JOBS_API_VERSION",
    "PIPELINE_STARTER_ACTIONS",
    "PLACEHOLDER_ENVIRONMENT",
    "SCHEDULE_API_VERSION",
    "Pipeline",
    "PipelineProps",
    "escape_definition",
    "placeholder_definition",
]

#: API version of ``workspaces/schedules`` (GA).
SCHEDULE_API_VERSION = ML_API_VERSION
#: API version of ``workspaces/jobs`` used by triggers that submit a run.
JOBS_API_VERSION = ML_API_VERSION
#: Built-in role of the execution identity, on the workspace only.
DATA_SCIENTIST_ROLE = "AzureML Data Scientist"
#: Actions of the custom "pipeline starter" role of :meth:`Pipeline.grant_start`: read the
#: workspace and what a job references, create and read jobs. No compute, endpoints, models,
#: datastore secrets or role management.
PIPELINE_STARTER_ACTIONS = [
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/jobs/read",
    "Microsoft.MachineLearningServices/workspaces/jobs/write",
    "Microsoft.MachineLearningServices/workspaces/experiments/runs/read",
    "Microsoft.MachineLearningServices/workspaces/experiments/runs/submit/action",
    "Microsoft.MachineLearningServices/workspaces/environments/read",
    "Microsoft.MachineLearningServices/workspaces/components/read",
    "Microsoft.MachineLearningServices/workspaces/datastores/read",
]
#: Cron of the disabled schedule that stores a pipeline nobody scheduled (never fires: disabled).
DISABLED_CRON = "0 0 1 1 *"
#: Curated Azure ML environment of the placeholder step.
PLACEHOLDER_ENVIRONMENT = "azureml://registries/azureml/environments/sklearn-1.5/labels/latest"
_ARM = "https://management.azure.com"


def placeholder_definition(name: str) -> dict[str, Any]:
    """The one-step pipeline job used while ``definition`` is None: a command step that prints a
    message on serverless compute and exits 0, so that schedules and triggers can be deployed and
    tested before the ML code exists. The team's CI replaces it with the real pipeline."""
    return {
        "jobType": "Pipeline",
        "displayName": f"{name} (placeholder)",
        "description": "Placeholder one-step pipeline created by cdktf-mlops; replace with the real definition.",
        "settings": {"default_compute": "azureml:serverless", "continue_on_step_failure": False},
        "jobs": {
            "placeholder": {
                "type": "command",
                "name": "placeholder",
                "command": f"echo 'placeholder step of pipeline {name}: replace the pipeline definition'",
                "environment": PLACEHOLDER_ENVIRONMENT,
                "resources": {"instance_count": 1},
            }
        },
    }


def escape_definition(value: Any) -> Any:
    """``value`` with every Azure ML ``${{...}}`` expression escaped for Terraform (``$${{...}}``):
    Terraform would otherwise try to interpolate it. Logic App expressions are not touched here."""
    if isinstance(value, str):
        return value.replace("${{", "$${{")
    if isinstance(value, dict):
        return {k: escape_definition(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [escape_definition(v) for v in value]
    return value


def _escape_logic_app(value: Any) -> Any:
    """Strings starting with '@' are Logic App expressions: '@@' makes them literal."""
    if isinstance(value, str):
        return "@" + value if value.startswith("@") else value
    if isinstance(value, dict):
        return {k: _escape_logic_app(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_logic_app(v) for v in value]
    return value


class PipelineProps(_CorePipelineProps):
    """The shared pipeline props plus the Azure ML workspace that runs it."""

    resource_group_name: str = Field(description="Resource group of the execution identity.")
    location: str = Field(description="Azure region of the execution identity, e.g. 'westeurope'.")
    workspace_id: str = Field(description="Resource Manager id of the Azure ML workspace that stores and runs the pipeline.")
    compute: str | None = Field(
        default=None,
        description=(
            "Compute cluster name used as the pipeline's default compute. Defaults to None: the "
            "definition's own default compute (serverless for the placeholder)."
        ),
    )

    @field_validator("encryption")
    @classmethod
    def _no_key(cls, value: EncryptionProps) -> EncryptionProps:
        if value.key_id is not None:
            raise ValueError(
                "Azure pipeline artifacts are encrypted by the artifacts store's key and the "
                "workspace's key: encryption.key_id is not used here (set it on the store / workspace)"
            )
        return value

    @field_validator("definition")
    @classmethod
    def _pipeline_job(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            kind = value.get("jobType", "Pipeline")
            if kind != "Pipeline":
                raise ValueError(
                    f"definition must be an Azure ML pipeline job (jobType: Pipeline), got jobType {kind!r}"
                )
            if not value.get("jobs"):
                raise ValueError("definition must have at least one step under `jobs`")
        return value

    @field_validator("resource_group_name", "location", "workspace_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class Pipeline(MlopsConstruct):
    """An Azure ML pipeline kept as a workspace schedule, run by its own identity (see the module
    docstring).

    Attributes:
        resource: the ``azapi_resource`` schedule (primary child "Resource").
        pipeline_id: its Resource Manager id (token).
        trigger_id: always None: the schedule itself and the retraining bridges start runs (jobs
            submitted to the workspace); Azure has no separate start handle.
        pipeline_name: the schedule name (``props.name``).
        job_definition: the pipeline job every run submits (a dict; escaped for Terraform).
        identity: the execution ``azurerm_user_assigned_identity``.
        principal: its Entra object id (token) — this cloud's grant format.
        identity_id / client_id: its Resource Manager id and client id (attach ``identity_id``
            to the workspace, see the module docstring; the platform does).
    """

    props_type = PipelineProps
    props_hint = "resource_group_name, location and workspace_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: PipelineProps,
        *,
        artifacts_store: "DataStore",
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self.identity = Resource(
            self,
            "Identity",
            "azurerm_user_assigned_identity",
            provider=provider,
            name=f"id-{props.name}-pipeline",
            resource_group_name=props.resource_group_name,
            location=props.location,
        )
        self.principal: str = attr(self.identity, "principal_id")
        self.identity_id: str = attr(self.identity, "id")
        self.client_id: str = attr(self.identity, "client_id")
        Resource(
            self,
            "Runner",
            "azurerm_role_assignment",
            provider=provider,
            scope=props.workspace_id,
            role_definition_name=DATA_SCIENTIST_ROLE,
            principal_id=self.principal,
            principal_type="ServicePrincipal",
            description=f"Runs of pipeline {props.name} log metrics and read datastores in this workspace",
        )
        # Write includes read: the pipeline reads and writes its artifacts, nothing else.
        artifacts_store.grant_write(self.principal, principal_type="ServicePrincipal")

        definition = dict(props.definition) if props.definition is not None else placeholder_definition(props.name)
        definition.setdefault("jobType", "Pipeline")
        definition.setdefault("experimentName", props.name)
        if props.parameters:
            inputs = dict(definition.get("inputs") or {})
            for key, value in sorted(props.parameters.items()):
                inputs.setdefault(key, {"jobInputType": "literal", "value": value})
            definition["inputs"] = inputs
        if props.compute is not None:
            settings = dict(definition.get("settings") or {})
            settings["default_compute"] = f"azureml:{props.compute}"
            definition["settings"] = settings
        definition["identity"] = {
            "identityType": "Managed",
            "clientId": self.client_id,
            "objectId": self.principal,
            "resourceId": self.identity_id,
        }
        self.job_definition: dict[str, Any] = escape_definition(definition)
        self.pipeline_name: str = props.name
        self.resource = Resource(
            self,
            "Resource",
            "azapi_resource",
            type=f"Microsoft.MachineLearningServices/workspaces/schedules@{SCHEDULE_API_VERSION}",
            name=props.name,
            parent_id=props.workspace_id,
            body=self._body(DISABLED_CRON, enabled=False),
        )
        self.pipeline_id: str = attr(self.resource, "id")
        self.trigger_id: str | None = None
        self._starter: Resource | None = None

    def _body(self, cron: str, *, enabled: bool) -> dict[str, Any]:
        return {
            "properties": {
                "displayName": self.props.name,
                "description": (
                    f"Pipeline {self.props.name} (cdktf-mlops)"
                    + ("" if enabled else ": no schedule, started on demand by its triggers")
                ),
                "isEnabled": enabled,
                "trigger": {"triggerType": "Cron", "expression": cron, "timeZone": "UTC"},
                "action": {"actionType": "CreateJob", "jobDefinition": self.job_definition},
            }
        }

    def set_schedule(self, expression: str) -> Resource:
        """Enable the pipeline's schedule with an Azure ML cron ``expression`` (UTC); convert a
        standard cron with :func:`~constructs_lib.azure.retraining.azure_ml_cron` first.
        Returns the schedule resource (the pipeline's primary resource)."""
        self.resource.set(body=self._body(expression, enabled=True))
        return self.resource

    @property
    def scheduled(self) -> bool:
        """True when :meth:`set_schedule` enabled the schedule."""
        return bool(self.resource.get("body")["properties"]["isEnabled"])

    def submit_action(self, identity_id: str, *, trigger: str) -> dict[str, Any]:
        """A Logic App ``Http`` action that starts one run of this pipeline: ``PUT`` of
        :attr:`job_definition` (tagged ``trigger``) to a new job id in the workspace, authenticated
        with the user-assigned identity ``identity_id`` (which needs :meth:`grant_start`)."""
        job = dict(self.job_definition)
        job["tags"] = {**dict(job.get("tags") or {}), "trigger": trigger, "pipeline": self.props.name}
        return {
            "type": "Http",
            "runAfter": {},
            "inputs": {
                "method": "PUT",
                "uri": f"{_ARM}{self.props.workspace_id}/jobs/@{{guid()}}?api-version={JOBS_API_VERSION}",
                "body": {"properties": _escape_logic_app(job)},
                "authentication": {
                    "type": "ManagedServiceIdentity",
                    "identity": identity_id,
                    "audience": f"{_ARM}/",
                },
            },
        }

    def grant_start(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` (an Entra object id) start this pipeline: the custom "pipeline
        starter" role (:data:`PIPELINE_STARTER_ACTIONS`: submit and read jobs) on the workspace.

        Azure has no per-pipeline permission, so the principal can submit other jobs in the same
        workspace too (see the module docstring). Returns ``[the role assignment]``; granting
        twice returns the first assignment.
        """
        if self._starter is None:
            self._starter = custom_role(
                self,
                "StarterRole",
                name=f"{self.props.name} pipeline starter",
                target=self.props.workspace_id,
                actions=PIPELINE_STARTER_ACTIONS,
                description=f"Start (submit) runs of pipeline {self.props.name} in one Azure ML workspace (cdktf-mlops).",
                provider=self._provider,
            )
        return [role_assignment(
            self,
            self._grants,
            "Start",
            principal,
            target=self.props.workspace_id,
            role=self._starter,
            principal_type=principal_type,
            provider=self._provider,
            description=f"Start runs of pipeline {self.props.name}",
        )]
