"""Props of the automation side (pipelines, retraining triggers, managed Airflow), shared by clouds."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .errors import ConstructError, ConstructTypeError
from .props import EncryptionProps, Model

__all__ = [
    "AirflowProps",
    "AirflowSettings",
    "DriftTrigger",
    "NewDataTrigger",
    "PipelineProps",
    "PipelineSettings",
    "RetrainingProps",
    "RetrainingSettings",
    "check_retraining_inputs",
    "cron_fields",
]

_CRON = re.compile(r"^\S+( \S+){4}$")


def cron_fields(expr: str) -> list[str]:
    """The five fields of a standard cron expression (minute hour day-of-month month day-of-week)."""
    if not _CRON.match(expr.strip()):
        raise ConstructError(None, f"{expr!r} is not a 5-field cron expression like '0 3 * * 1' (minute hour day month weekday)")
    return expr.split()


class PipelineSettings(Model):
    """One ML pipeline (training / evaluation / registration)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$", description="Pipeline name.")
    definition: dict[str, Any] | None = Field(
        default=None,
        description=(
            "The pipeline definition: SageMaker pipeline JSON (AWS), Azure ML pipeline job (Azure), "
            "compiled KFP pipeline spec (GCP). Defaults to None: a placeholder one-step pipeline "
            "that the team's CI replaces (the infrastructure does not wait for the ML code)."
        ),
    )
    parameters: dict[str, str] = Field(
        default_factory=dict, description="Default pipeline parameters passed by triggers. Defaults to none."
    )


class PipelineProps(PipelineSettings):
    """Props of a ``Pipeline`` construct."""

    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps, description="Key for pipeline artifacts. Defaults to a new key, rotated every 90 days."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every resource. Defaults to none.")


class NewDataTrigger(Model):
    """Start the pipeline when new objects land in a store."""

    store: str = Field(default="data", description="Store (from storage.stores) to watch. Defaults to data.")
    prefix: str = Field(default="incoming/", description="Only objects under this prefix. Defaults to incoming/.")


class DriftTrigger(Model):
    """Start the pipeline when a drift / quality metric crosses a threshold."""

    metric: str = Field(
        default="feature_drift",
        pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$",
        description="Custom metric the monitoring job publishes (namespace `cdktf-mlops/<platform>`). Defaults to feature_drift.",
    )
    threshold: float = Field(default=0.2, gt=0, description="Alarm when the metric is at or above this. Defaults to 0.2.")
    evaluation_minutes: int = Field(
        default=60, ge=5, le=1440, description="Period over which the metric is evaluated. Defaults to 60 minutes."
    )


class RetrainingSettings(Model):
    """When to retrain: on a schedule, on new data, on a drift alarm (any combination)."""

    pipeline: str = Field(description="Name of the pipeline (from `pipelines`) the triggers start.")
    schedule: str | None = Field(
        default="0 3 * * 1",
        description="5-field cron expression in UTC. Defaults to Mondays 03:00 UTC; None disables the schedule.",
    )
    on_new_data: NewDataTrigger | None = Field(
        default=None, description="Trigger on new objects in a store. Defaults to None (off)."
    )
    on_drift: DriftTrigger | None = Field(default=None, description="Trigger on a drift alarm. Defaults to None (off).")

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            cron_fields(value)
        return value

    @model_validator(mode="after")
    def _some_trigger(self) -> "RetrainingSettings":
        if self.schedule is None and self.on_new_data is None and self.on_drift is None:
            raise ValueError("retraining needs at least one trigger: schedule, on_new_data or on_drift")
        return self


class RetrainingProps(RetrainingSettings):
    """Props of a ``Retraining`` construct."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$", description="Logical name of the triggers.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every resource. Defaults to none.")


class AirflowSettings(Model):
    """Managed Airflow (AWS MWAA, GCP Cloud Composer). Not offered on Azure."""

    size: Literal["small", "medium", "large"] = Field(default="small", description="Environment size. Defaults to small.")
    max_workers: int = Field(default=2, ge=1, le=25, description="Most workers (cost cap). Defaults to 2.")
    dags_prefix: str = Field(
        default="dags/", pattern=r"^[A-Za-z0-9._-]+/$", description="Folder of DAGs in the artifacts store. Defaults to dags/."
    )


class AirflowProps(AirflowSettings):
    """Props of an ``Airflow`` construct."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$", description="Environment name.")
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps, description="Key for the environment. Defaults to a new key, rotated every 90 days."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every resource. Defaults to none.")


def check_retraining_inputs(
    path: str, props: RetrainingSettings, *, pipeline: Any, pipeline_type: type, stores: Any
) -> None:
    """The checks every cloud's ``Retraining`` makes of its arguments, with the same messages.

    ``pipeline`` must be the cloud's ``Pipeline`` (``pipeline_type``) and the store that
    ``on_new_data`` watches must be one of ``stores`` (store name -> ``DataStore``).
    """
    if not isinstance(pipeline, pipeline_type):
        raise ConstructTypeError(
            path,
            f"pipeline must be a {pipeline_type.__module__}.{pipeline_type.__qualname__}, "
            f"got {type(pipeline).__name__}"
        )
    if props.on_new_data is not None and props.on_new_data.store not in stores:
        raise ConstructError(
            path,
            f"on_new_data.store {props.on_new_data.store!r} is not one of the stores "
            f"{sorted(stores)}; pass it in `stores` or change on_new_data.store"
        )
