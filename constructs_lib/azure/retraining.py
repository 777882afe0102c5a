"""Retraining triggers on Azure: a schedule, new blobs in a store, and a drift alert, each starting
one :class:`~constructs_lib.azure.pipelines.Pipeline`.

Example::

    Retraining(self, "Retraining", RetrainingProps(
        name="ml-retrain", pipeline="train", resource_group_name="rg-ml", location="westeurope",
        schedule="0 3 * * 1",
        on_new_data=NewDataTrigger(store="data", prefix="incoming/"),
        on_drift=DriftTrigger(metric="feature_drift", threshold=0.2, evaluation_minutes=60),
        application_insights_id=workspace.insights.ref("id"),
        metric_namespace="cdktf-mlops/my-platform",
    ), pipeline=pipeline, stores={"data": data, "artifacts": artifacts})

Per trigger (construct ids in brackets):

* ``schedule`` — the pipeline's own ``workspaces/schedules`` resource is enabled with the cron
  converted by :func:`azure_ml_cron` (time zone UTC). Azure ML itself submits the runs, as the
  pipeline's execution identity: no further identity exists.
* ``on_new_data`` — ``azurerm_eventgrid_system_topic`` [NewData-Topic] on the store's account
  (one system topic per account; Azure allows no second) and an
  ``azurerm_eventgrid_system_topic_event_subscription`` [NewData] for ``BlobCreated`` events whose
  subject begins with ``/blobServices/default/containers/data/blobs/<prefix>``, delivered to a
  Logic App (see *bridge*).
* ``on_drift`` — ``azurerm_monitor_metric_alert`` [Drift] on the custom metric ``metric`` in
  namespace ``metric_namespace`` of the Application Insights component the monitoring job writes
  to (Average over the window ``>=`` threshold; validation of the not-yet-existing metric is
  skipped), with an ``azurerm_monitor_action_group`` [Drift-Actions] whose Logic App receiver is
  the drift bridge.

*Bridge*: Event Grid and Azure Monitor cannot submit Azure ML jobs. Each event-driven trigger gets
its own ``azurerm_logic_app_workflow`` [<Kind>-Bridge] with an HTTP request trigger and one HTTP
action that ``PUT``\\ s a new job with the pipeline's definition to the Resource Manager API,
authenticated with a user-assigned identity [<Kind>-Identity] that holds only
:meth:`Pipeline.grant_start`. The new-data bridge also answers Event Grid's subscription
validation handshake. The trigger URL carries a SAS signature (Logic App request triggers of the
Consumption plan have no Entra ID option that Event Grid and action groups can both use); it
lives in Terraform state as a sensitive value.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator, model_validator

from ..core import engine
from ..core.automation_props import RetrainingProps as _CoreRetrainingProps
from ..core.automation_props import check_retraining_inputs
from ..core.construct import MlopsConstruct
from ..core.cron import CronItem, parse_cron
from ..core.errors import ConstructError
from ..core.naming import compact_name
from ..core.resource import Resource
from ._common import attr
from .pipelines import Pipeline
from .storage import CONTAINER_NAME

if TYPE_CHECKING:
    from .storage import DataStore

__all__ = [
    "ALERT_WINDOWS_MINUTES",
    "BLOB_CREATED",
    "Retraining",
    "RetrainingProps",
    "alert_window",
    "azure_ml_cron",
    "blob_subject_prefix",
]

#: Event type of the new-data trigger.
BLOB_CREATED = "Microsoft.Storage.BlobCreated"
#: Window sizes (minutes) an Azure Monitor metric alert accepts.
ALERT_WINDOWS_MINUTES = (5, 15, 30, 60, 360, 720, 1440)
_VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"

def _weekday(item: CronItem, expr: str) -> list[str]:
    """One day-of-week item in NCRONTAB (0-6 only): Sunday ``7`` becomes ``0``; ``5-7`` -> ``5-6,0``."""
    suffix = f"/{item.step}" if item.step else ""
    if item.start is None:
        return ["*" + suffix]
    if item.end is None:
        return [f"{item.start % 7}{suffix}"]
    if item.end != 7:
        return [f"{item.start}-{item.end}{suffix}"]
    if item.step:
        raise ConstructError(None, f"{expr!r}: a stepped weekday range ending on 7 has no Azure ML form; use 0-6")
    if item.start == 0:
        return ["*"]
    return [f"{item.start}-6" if item.start < 6 else "6" if item.start == 6 else "0", "0"]


def _ncrontab(n: int, items: tuple[CronItem, ...], expr: str) -> str:
    parts: list[str] = []
    for item in items:
        if n == 4:
            parts.extend(_weekday(item, expr))
            continue
        suffix = f"/{item.step}" if item.step else ""
        if item.start is None:
            parts.append("*" + suffix)
        elif item.end is None:
            parts.append(f"{item.start}{suffix}")
        else:
            parts.append(f"{item.start}-{item.end}{suffix}")
    return ",".join(dict.fromkeys(parts))


def azure_ml_cron(expression: str) -> str:
    """Convert a standard 5-field cron (minute hour day-of-month month day-of-week, UTC) into the
    expression an Azure ML cron trigger takes (NCRONTAB, 5 fields, used with time zone "UTC").

    Parsed by :func:`~constructs_lib.core.cron.parse_cron` (names become numbers, every value is
    range checked); Sunday ``7`` becomes ``0``. Standard cron runs a job when *either* a restricted
    day-of-month *or* a restricted day-of-week matches; NCRONTAB requires both, so an expression
    restricting both is refused with the advice to split it into two schedules.
    """
    cron = parse_cron(expression)
    out = [_ncrontab(n, items, expression) for n, items in enumerate(cron.fields)]
    if out[2] != "*" and out[4] != "*":
        raise ConstructError(
            None,
            f"{expression!r}: restricts both day of month and day of week, which cron treats as "
            "'either' but Azure ML as 'both'; use '*' in one of them (two pipelines can cover both)"
        )
    return " ".join(out)


def alert_window(minutes: int) -> tuple[str, str]:
    """(window_size, frequency) of an Azure Monitor metric alert for an evaluation period of
    ``minutes``: the smallest window Azure accepts that covers it (5, 15, 30, 60 minutes, 6, 12
    or 24 hours), evaluated every 5/15/30 minutes or hourly for longer windows."""
    if minutes < 1 or minutes > ALERT_WINDOWS_MINUTES[-1]:
        raise ConstructError(None, f"evaluation period {minutes} minutes is outside 1-1440")
    window = next(w for w in ALERT_WINDOWS_MINUTES if w >= minutes)
    size = f"PT{window}M" if window < 60 else (f"PT{window // 60}H" if window < 1440 else "P1D")
    frequency = {5: "PT5M", 15: "PT15M", 30: "PT30M"}.get(window, "PT1H")
    return size, frequency


def blob_subject_prefix(prefix: str, container: str = CONTAINER_NAME) -> str:
    """Event Grid subject prefix of blobs under ``prefix`` in ``container``."""
    return f"/blobServices/default/containers/{container}/blobs/{prefix.lstrip('/')}"


class RetrainingProps(_CoreRetrainingProps):
    """The shared retraining props plus where the triggers live and where the drift metric is."""

    resource_group_name: str = Field(description="Resource group of the bridges, topic and alert.")
    location: str = Field(description="Azure region of the Logic Apps and identities, e.g. 'westeurope'.")
    application_insights_id: str | None = Field(
        default=None,
        description=(
            "Application Insights component that receives the drift metric (the workspace's, "
            "``Workspace.insights``). Required with ``on_drift``, unused otherwise."
        ),
    )
    metric_namespace: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$",
        description="Custom metric namespace of the drift metric. Defaults to None: `cdktf-mlops/<name>`.",
    )
    alert_severity: int = Field(
        default=2, ge=0, le=4, description="Severity of the drift alert (0 critical - 4 verbose). Defaults to 2 (warning)."
    )

    @field_validator("schedule")
    @classmethod
    def _azure_cron(cls, value: str | None) -> str | None:
        if value is not None:
            azure_ml_cron(value)
        return value

    @model_validator(mode="after")
    def _drift_scope(self) -> "RetrainingProps":
        if self.on_drift is not None and not self.application_insights_id:
            raise ValueError(
                "on_drift needs application_insights_id: the Application Insights component the "
                "monitoring job publishes the drift metric to (e.g. the workspace's)"
            )
        return self

    @property
    def namespace(self) -> str:
        """The drift metric's namespace (``metric_namespace`` or ``cdktf-mlops/<name>``)."""
        return self.metric_namespace or f"cdktf-mlops/{self.name}"


class Retraining(MlopsConstruct):
    """The retraining triggers of one pipeline (see the module docstring).

    Attributes:
        triggers: kind ("schedule", "on_new_data", "on_drift") -> its primary resource (the
            schedule, the event subscription, the metric alert); only the configured kinds.
        identities: kind -> the ``azurerm_user_assigned_identity`` of its bridge.
        bridges: kind -> the ``azurerm_logic_app_workflow`` that starts the pipeline.
        resource: the primary resource of the first configured trigger.
    """

    props_type = RetrainingProps
    props_hint = "resource_group_name and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: RetrainingProps,
        *,
        pipeline: Pipeline,
        stores: "dict[str, DataStore]",
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        check_retraining_inputs(self.node.path, props, pipeline=pipeline, pipeline_type=Pipeline, stores=stores)
        self.pipeline = pipeline
        self.triggers: dict[str, Resource] = {}
        self.identities: dict[str, Resource] = {}
        self.bridges: dict[str, Resource] = {}

        if props.schedule is not None:
            self.triggers["schedule"] = pipeline.set_schedule(azure_ml_cron(props.schedule))
        if props.on_new_data is not None:
            self.triggers["on_new_data"] = self._new_data(stores[props.on_new_data.store], props.on_new_data.prefix)
        if props.on_drift is not None:
            self.triggers["on_drift"] = self._drift()
        self.resource = next(iter(self.triggers.values()))

    # -- bridge ---------------------------------------------------------------------------------

    def _bridge(self, kind: str, label: str, *, validation: bool) -> tuple[Resource, Resource]:
        """Logic App + identity + HTTP trigger + start action; returns (workflow, http trigger)."""
        p = self.props
        identity = Resource(
            self, f"{label}-Identity", "azurerm_user_assigned_identity", provider=self._provider,
            name=f"id-{p.name}-{kind.replace('_', '-')}",
            resource_group_name=p.resource_group_name, location=p.location,
        )
        self.pipeline.grant_start(attr(identity, "principal_id"), principal_type="ServicePrincipal")
        workflow = Resource(
            self, f"{label}-Bridge", "azurerm_logic_app_workflow", provider=self._provider,
            name=f"logic-{p.name}-{kind.replace('_', '-')}",
            resource_group_name=p.resource_group_name, location=p.location,
            identity={"type": "UserAssigned", "identity_ids": [attr(identity, "id")]},
        )
        wid = attr(workflow, "id")
        trigger = Resource(
            self, f"{label}-Request", "azurerm_logic_app_trigger_http_request", provider=self._provider,
            name="event", logic_app_id=wid, method="POST", schema="{}",
        )
        start = self.pipeline.submit_action(attr(identity, "id"), trigger=kind)
        if validation:
            body: dict[str, Any] = {
                "type": "If",
                "runAfter": {},
                "expression": {"and": [{"contains": ["@string(triggerBody())", _VALIDATION_EVENT]}]},
                "actions": {
                    "answer-validation": {
                        "type": "Response",
                        "kind": "Http",
                        "runAfter": {},
                        "inputs": {
                            "statusCode": 200,
                            "body": {"validationResponse": "@{triggerBody()[0]['data']['validationCode']}"},
                        },
                    }
                },
                "else": {
                    "actions": {
                        "start-pipeline": start,
                        "accepted": {
                            "type": "Response",
                            "kind": "Http",
                            "runAfter": {"start-pipeline": ["Succeeded"]},
                            "inputs": {"statusCode": 202},
                        },
                    }
                },
            }
            name = "validate-or-start"
        else:
            body, name = start, "start-pipeline"
        Resource(
            self, f"{label}-Start", "azurerm_logic_app_action_custom", provider=self._provider,
            depends_on=[trigger], name=name, logic_app_id=wid, body=json.dumps(body, sort_keys=True),
        )
        self.identities[kind] = identity
        self.bridges[kind] = workflow
        return workflow, trigger

    # -- triggers -------------------------------------------------------------------------------

    def _new_data(self, store: "DataStore", prefix: str) -> Resource:
        p = self.props
        _, request = self._bridge("on_new_data", "NewData", validation=True)
        topic = Resource(
            self, "NewData-Topic", "azurerm_eventgrid_system_topic", provider=self._provider,
            name=f"evgt-{p.name}-{store.props.name}",
            resource_group_name=store.props.resource_group_name, location=store.props.location,
            source_resource_id=store.store_id, topic_type="Microsoft.Storage.StorageAccounts",
        )
        return Resource(
            self, "NewData", "azurerm_eventgrid_system_topic_event_subscription", provider=self._provider,
            name=f"evgs-{p.name}-new-data",
            resource_group_name=store.props.resource_group_name,
            system_topic=attr(topic, "name"),
            included_event_types=[BLOB_CREATED],
            subject_filter={"subject_begins_with": blob_subject_prefix(prefix), "case_sensitive": True},
            retry_policy={"max_delivery_attempts": 10, "event_time_to_live": 1440},
            webhook_endpoint={"url": attr(request, "callback_url")},
        )

    def _drift(self) -> Resource:
        p = self.props
        drift = p.on_drift
        assert drift is not None and p.application_insights_id is not None  # validated
        workflow, request = self._bridge("on_drift", "Drift", validation=False)
        group = Resource(
            self, "Drift-Actions", "azurerm_monitor_action_group", provider=self._provider,
            name=f"ag-{p.name}-drift", resource_group_name=p.resource_group_name, location="global",
            short_name=compact_name("drift", p.name, max_length=12),
            logic_app_receiver=[{
                "name": "start-pipeline",
                "resource_id": attr(workflow, "id"),
                "callback_url": attr(request, "callback_url"),
                "use_common_alert_schema": True,
            }],
        )
        window, frequency = alert_window(drift.evaluation_minutes)
        return Resource(
            self, "Drift", "azurerm_monitor_metric_alert", provider=self._provider,
            name=f"alert-{p.name}-{drift.metric}".replace(".", "-")[:260],
            resource_group_name=p.resource_group_name,
            scopes=[p.application_insights_id],
            description=(
                f"Starts pipeline {self.pipeline.pipeline_name} when {drift.metric} (average over "
                f"{drift.evaluation_minutes} min) is >= {drift.threshold}"
            ),
            severity=p.alert_severity,
            window_size=window,
            frequency=frequency,
            # Fire once and stay fired until resolved by hand: a "Resolved" notification would
            # otherwise reach the bridge and start a second run.
            auto_mitigate=False,
            criteria=[{
                "metric_namespace": p.namespace,
                "metric_name": drift.metric,
                "aggregation": "Average",
                "operator": "GreaterThanOrEqual",
                "threshold": drift.threshold,
                # The metric exists only once the monitoring job has published it.
                "skip_metric_validation": True,
            }],
            action=[{"action_group_id": attr(group, "id")}],
        )
