"""The automation side of a GCP platform: pipelines, retraining triggers and Cloud Composer.

:func:`build_automation` is called by ``constructs_lib.platform`` after
:func:`constructs_lib.gcp.platform.build_platform`; it declares no provider (the stack's default
``google`` provider is used) and needs only ``stack.stores`` (and ``stack.network`` when present).
"""

from __future__ import annotations

from typing import Any

from ..core import engine
from ..core.errors import ConstructError
from ..core.spec import PlatformSpec
from .airflow import Airflow, AirflowProps
from .pipelines import Pipeline, PipelineProps
from .retraining import Retraining, RetrainingProps

__all__ = ["build_automation"]

_PIPELINE_NAME_MAX = 32  # PipelineProps.name allows 32 characters


def _artifacts(stack: Any) -> Any:
    stores: dict[str, Any] = getattr(stack, "stores", {}) or {}
    if not stores:
        raise ConstructError(
            stack.node.path,
            "pipelines and airflow need a data store; add one under storage.stores "
            "(an 'artifacts' store is used for pipeline artifacts and DAGs)"
        )
    return stores.get("artifacts") or next(iter(stores.values()))


def build_automation(stack: Any, spec: PlatformSpec) -> None:
    """Build one :class:`Pipeline` per ``spec.pipelines``, :class:`Retraining` when
    ``spec.retraining`` and :class:`Airflow` when ``spec.airflow``.

    Pipeline artifacts, specs and DAGs live in the ``artifacts`` store (the first store when there
    is none); the new-data trigger watches the store it names. Composer joins ``stack.network``
    when the platform has one. Resource names come from ``spec.resource_name``; the drift metric
    namespace is ``cdktf-mlops/<platform name>``. Constructs are reachable as
    ``stack.pipelines`` (name -> Pipeline), ``stack.retraining`` and ``stack.airflow`` (None when
    absent). Outputs: ``pipeline_<name>_id`` (spec URI), ``pipeline_<name>_start_topic`` and
    ``airflow_uri``.
    """
    assert spec.gcp is not None  # guaranteed by the spec validator
    where = {"project": spec.gcp.project, "location": spec.primary_region}
    protect = spec.storage.deletion_protection
    pipelines: dict[str, Pipeline] = {}
    if spec.pipelines or spec.airflow is not None:
        artifacts = _artifacts(stack)
    for settings in spec.pipelines:
        pipeline = Pipeline(
            stack,
            f"pipeline-{settings.name}",
            PipelineProps(
                **{**settings.model_dump(), "name": spec.resource_name(settings.name, max_length=_PIPELINE_NAME_MAX)},
                encryption=spec.storage.encryption,
                deletion_protection=protect,
                **where,
            ),
            artifacts_store=artifacts,
        )
        pipelines[settings.name] = pipeline
        engine.TerraformOutput(stack, f"pipeline_{settings.name.replace('-', '_')}_id", value=pipeline.pipeline_id,
                               description=f"Spec object of pipeline {settings.name} (upload the compiled KFP spec here)")
        engine.TerraformOutput(stack, f"pipeline_{settings.name.replace('-', '_')}_start_topic",
                               value=pipeline.start_topic_id,
                               description=f"Publish a message here to start pipeline {settings.name}")

    retraining = None
    if spec.retraining is not None:
        r = spec.retraining
        retraining = Retraining(
            stack,
            "retraining",
            RetrainingProps(
                **r.model_dump(),
                name=spec.resource_name("retrain"),
                metric_namespace=f"cdktf-mlops/{spec.name}",
                **where,
            ),
            pipeline=pipelines[r.pipeline],
            stores=dict(stack.stores),
        )

    airflow = None
    if spec.airflow is not None:
        airflow = Airflow(
            stack,
            "airflow",
            AirflowProps(
                **spec.airflow.model_dump(),
                name=spec.resource_name("airflow"),
                encryption=spec.storage.encryption,
                deletion_protection=protect,
                **where,
            ),
            dags_store=artifacts,
            network=getattr(stack, "network", None),
        )
        engine.TerraformOutput(stack, "airflow_uri", value=airflow.airflow_uri, description="Airflow web UI of the Composer environment")
    stack.pipelines, stack.retraining, stack.airflow = pipelines, retraining, airflow
