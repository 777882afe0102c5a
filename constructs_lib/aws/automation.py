"""The automation side of an AWS platform: pipelines, retraining triggers and managed Airflow.

``build_automation(stack, spec)`` runs after :func:`~.platform.build_platform` (which declares the
providers and fills ``stack.stores``) and adds, each only when its spec section is present:

* one :class:`~.pipelines.Pipeline` per entry of ``spec.pipelines`` (construct id
  ``pipeline-<name>``, SageMaker name ``<platform>-<environment>-<name>``) reading and writing the
  ``artifacts`` store (or the first store when there is none named so), with outputs
  ``pipeline_<name>_id`` and ``pipeline_<name>_arn``;
* :class:`~.retraining.Retraining` (id ``retraining``) for ``spec.retraining``, starting that
  pipeline, drift metric namespace ``cdktf-mlops/<platform>``;
* :class:`~.airflow.Airflow` (id ``airflow``) for ``spec.airflow``, DAGs in the artifacts store,
  placed in ``stack.network`` (``network=``: its first two private subnets, VPC id, CIDR and S3
  prefix list) when that is a :class:`~.network.Network` the platform created (which
  :func:`~.platform.build_platform` gives the interface endpoints MWAA needs; a one-zone network is
  an error naming ``network.zones``) or an existing one with two or more subnets (which must reach
  the MWAA services and S3 itself); in the first two private subnets of any other ``stack.network``
  that has two or more (``subnet_ids=``); otherwise in the minimal private network the construct
  creates (a second VPC with 9 interface endpoints).

It uses the stack's default ``aws`` provider and declares none. Calling it twice for one stack is
harmless (the second call does nothing).
"""

from __future__ import annotations

from typing import Any

from ..core import engine
from ..core.automation_props import PipelineProps
from ..core.errors import ConstructError
from ..core.spec import PlatformSpec
from .airflow import Airflow, AirflowProps
from .network import Network
from .pipelines import Pipeline
from .retraining import Retraining, RetrainingProps
from .storage import DataStore

__all__ = ["build_automation"]

_BUILT = "_mlops_aws_automation"


def _artifacts(stack: Any) -> DataStore:
    stores: dict[str, DataStore] = getattr(stack, "stores", {}) or {}
    store = stores.get("artifacts") or next(iter(stores.values()), None)
    if store is None:
        raise ConstructError(
            stack.node.path,
            "pipelines and airflow need a data store for artifacts; "
            "add one under storage.stores (e.g. artifacts)"
        )
    return store


def _placement(stack: Any) -> dict[str, Any]:
    """Keyword arguments placing MWAA in the stack's network (``network=`` or ``subnet_ids=``), or none.

    A network the platform created is always used: with fewer than two zones :class:`Airflow`
    raises an error naming the zones setting rather than building a second VPC.
    """
    network = getattr(stack, "network", None)
    subnet_ids = list(getattr(network, "private_subnet_ids", None) or [])
    if isinstance(network, Network) and (network.resource is not None or len(subnet_ids) >= 2):
        return {"network": network}
    return {"subnet_ids": subnet_ids[:2]} if len(subnet_ids) >= 2 else {}


def build_automation(stack: Any, spec: PlatformSpec) -> None:
    """Add the pipelines, retraining triggers and Airflow environment of ``spec`` to ``stack``."""
    if getattr(stack, _BUILT, False):
        return
    setattr(stack, _BUILT, True)
    if not (spec.pipelines or spec.retraining or spec.airflow):
        return
    artifacts = _artifacts(stack)

    pipelines: dict[str, Pipeline] = {}
    for settings in spec.pipelines:
        pipeline = Pipeline(
            stack,
            f"pipeline-{settings.name}",
            PipelineProps(
                name=spec.resource_name(settings.name, max_length=32),
                definition=settings.definition,
                parameters=settings.parameters,
            ),
            artifacts_store=artifacts,
        )
        pipelines[settings.name] = pipeline
        engine.TerraformOutput(
            stack, f"pipeline_{settings.name}_id", value=pipeline.pipeline_id,
            description=f"SageMaker pipeline name of pipeline {settings.name}",
        )
        engine.TerraformOutput(
            stack, f"pipeline_{settings.name}_arn", value=pipeline.pipeline_arn,
            description=f"SageMaker pipeline ARN of pipeline {settings.name}",
        )

    if spec.retraining is not None:
        retraining = spec.retraining
        Retraining(
            stack,
            "retraining",
            RetrainingProps(
                name=spec.resource_name("retrain"),
                metric_namespace=f"cdktf-mlops/{spec.name}",
                **retraining.model_dump(),
            ),
            pipeline=pipelines[retraining.pipeline],
            stores=dict(stack.stores),
        )

    if spec.airflow is not None:
        airflow = Airflow(
            stack,
            "airflow",
            AirflowProps(
                name=spec.resource_name("airflow"),
                zone_names=[f"{spec.primary_region}{letter}" for letter in "ab"],
                **spec.airflow.model_dump(),
            ),
            dags_store=artifacts,
            **_placement(stack),
        )
        engine.TerraformOutput(
            stack, "airflow_webserver_url", value=airflow.webserver_url,
            description="Private web server URL of the MWAA environment (reachable from inside the VPC)",
        )
