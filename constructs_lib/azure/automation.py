"""The Azure automation side of a platform: pipelines and retraining triggers from a spec.

:func:`build_automation` runs after :func:`~constructs_lib.azure.platform.build_platform` on the
same stack. Azure ML pipelines live in a workspace, so it needs the platform's Azure ML workspace
(``stack.workspace``, or the stack's child construct ``workspace``); without one it creates
nothing and warns. Managed Airflow does not exist here: the spec refuses ``airflow`` for Azure
(see ``docs/azure-automation.md`` for what replaces it).
"""

from __future__ import annotations

import warnings
from typing import Any

from ..core import engine
from ..core.errors import ConstructError
from ..core.providers import declare_provider
from ..core.spec import PlatformSpec
from ._common import attr
from .pipelines import Pipeline, PipelineProps
from .retraining import Retraining, RetrainingProps

__all__ = ["build_automation", "find_workspace"]

_SP = "ServicePrincipal"


def find_workspace(stack: Any) -> Any | None:
    """The platform's Azure ML workspace construct: ``stack.workspace`` when the platform exposes
    it, else the stack's child with id ``workspace`` (what ``build_platform`` creates), else None."""
    found = getattr(stack, "workspace", None)
    if found is None:
        found = stack.node.try_find_child("workspace")
    return found if found is not None and hasattr(found, "workspace_id") else None


def build_automation(stack: Any, spec: PlatformSpec) -> None:
    """One :class:`Pipeline` per ``spec.pipelines`` and :class:`Retraining` for
    ``spec.retraining``, in the platform's workspace and resource group, with outputs
    ``pipeline_<name>_id``.

    Each pipeline's identity writes the ``artifacts`` store (the first store when there is none)
    and reads every other store, and is attached to the workspace
    (:meth:`~constructs_lib.azure.tracking.Workspace.attach_identity`) so that its runs can use
    serverless compute; a workspace construct without ``attach_identity`` gets a warning instead.
    No other identity is attached: the retraining bridges' identities only call Resource Manager.
    ``azapi`` is declared when the stack has no ``azapi`` provider.
    Without an Azure ML workspace nothing is created (a warning says so): give the spec
    ``tracking``, ``training``, ``registry`` or ``features`` so that the platform builds one.
    Calling it again for a stack that already has the pipelines does nothing.
    """
    if not spec.pipelines:
        return
    if stack.node.try_find_child(f"pipeline-{spec.pipelines[0].name}") is not None:
        return  # already built for this stack (the platform wiring calls this too)
    assert spec.azure is not None  # guaranteed by the spec validator
    workspace = find_workspace(stack)
    if workspace is None:
        warnings.warn(
            f"{spec.name}: pipelines need an Azure ML workspace and the platform built none; no "
            "pipeline or retraining trigger was created (add tracking or training to the spec)",
            stacklevel=2,
        )
        return
    if stack.node.try_find_child("azapi") is None:
        declare_provider(stack, "azapi")
    stores: dict[str, Any] = dict(stack.stores)
    if not stores:
        raise ConstructError(spec.name, "pipelines need at least one store for their artifacts")
    artifacts = stores.get("artifacts") or next(iter(stores.values()))
    rg = stack.node.try_find_child("resource_group")
    where = {
        "resource_group_name": rg.ref("name") if rg is not None else spec.azure.resource_group,
        "location": spec.primary_region,
    }

    # Every run of a pipeline -- fired by its Azure ML schedule or submitted by a retraining bridge --
    # carries the pipeline's execution identity in its job definition, and serverless compute runs
    # a job under a user-assigned identity only when that identity is attached to the workspace.
    # The schedule has no identity of its own, and the bridges' identities only call Resource
    # Manager to submit jobs (RBAC, no attachment): attaching them would merely let any job in the
    # workspace run as them. So the pipeline identities are the only ones attached.
    attach = getattr(workspace, "attach_identity", None)
    if attach is None:
        warnings.warn(
            f"{spec.name}: the workspace construct {workspace.node.path} has no attach_identity; "
            "attach each pipeline's identity_id to it yourself, or its runs cannot use serverless compute",
            stacklevel=2,
        )
    pipelines: dict[str, Pipeline] = {}
    for settings in spec.pipelines:
        pipeline = Pipeline(stack, f"pipeline-{settings.name}", PipelineProps(
            name=spec.resource_name(settings.name, max_length=32),
            definition=settings.definition,
            parameters=settings.parameters,
            workspace_id=workspace.workspace_id,
            **where,
        ), artifacts_store=artifacts)
        if attach is not None:
            attach(pipeline.identity_id)
        for store in stores.values():
            if store is not artifacts:
                store.grant_read(pipeline.principal, principal_type=_SP)
        pipelines[settings.name] = pipeline
        engine.TerraformOutput(
            stack, f"pipeline_{settings.name.replace('-', '_')}_id", value=pipeline.pipeline_id,
            description=f"Azure ML schedule that holds pipeline {settings.name}",
        )

    r = spec.retraining
    if r is not None:
        insights = getattr(workspace, "insights", None)
        Retraining(stack, "retraining", RetrainingProps(
            name=spec.resource_name("retrain"),
            pipeline=r.pipeline,
            schedule=r.schedule,
            on_new_data=r.on_new_data,
            on_drift=r.on_drift,
            application_insights_id=attr(insights, "id") if insights is not None else None,
            metric_namespace=f"cdktf-mlops/{spec.name}",
            **where,
        ), pipeline=pipelines[r.pipeline], stores=stores)
