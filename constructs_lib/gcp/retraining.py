"""Retraining triggers on GCP: a schedule, new data in a bucket, a drift alert.

Every trigger ends at the pipeline's *start door* — its Pub/Sub start topic, which an Eventarc
trigger routes to the pipeline's launcher workflow (see :mod:`constructs_lib.gcp.pipelines`). Each
trigger identity gets :meth:`Pipeline.grant_start` (``roles/pubsub.publisher`` on that topic only),
so it can start that pipeline and nothing else. From one :class:`RetrainingProps`:

* ``schedule`` — ``google_cloud_scheduler_job`` with ``time_zone = "Etc/UTC"`` and the cron
  expression converted by :func:`to_scheduler_cron` (Cloud Scheduler takes unix-cron), an
  ``http_target`` that ``POST``s a message to the start topic (``topics.publish``) with an OAuth
  token of its own ``google_service_account`` ``SchedulerIdentity``;
* ``on_new_data`` — ``google_storage_notification`` on the named store's bucket for
  ``OBJECT_FINALIZE`` under ``prefix`` (``object_name_prefix``), published to the start topic by
  the project's Cloud Storage service agent (the identity Cloud Storage publishes as; it gets
  ``grant_start``). One run per finalized object: upload a dataset as one object, or a marker
  object last, under the prefix;
* ``on_drift`` — ``google_monitoring_alert_policy`` on the custom metric
  ``custom.googleapis.com/<metric_namespace>/<metric>`` (mean over ``evaluation_minutes``, above
  ``threshold``), notifying a ``google_monitoring_notification_channel`` of type ``pubsub`` on the
  start topic, only when an incident opens (not when it closes). The Cloud Monitoring
  notification service agent publishes and gets ``grant_start``.

``triggers`` maps ``schedule`` / ``new_data`` / ``drift`` to each trigger's primary resource; the
first trigger present (in that order) has the construct id ``Resource``.
"""

from __future__ import annotations

import base64
import json
import re

from pydantic import Field

from ..core import engine
from ..core.automation_props import RetrainingProps as CoreRetrainingProps
from ..core.automation_props import check_retraining_inputs
from ..core.construct import MlopsConstruct
from ..core.cron import CronItem, parse_cron
from ..core.resource import DataSource, Resource
from ._common import PROJECT_PATTERN, REGION_PATTERN, account_id, require_services, service_agent
from .pipelines import Pipeline
from .storage import DataStore

__all__ = ["SCHEDULER_TIME_ZONE", "Retraining", "RetrainingProps", "drift_metric_type", "to_scheduler_cron"]

SCHEDULER_TIME_ZONE = "Etc/UTC"
"""Time zone of every schedule: the spec's cron expressions are in UTC."""

def to_scheduler_cron(expr: str) -> str:
    """A 5-field cron expression (UTC) in Cloud Scheduler's unix-cron syntax.

    The expression is parsed by :func:`~constructs_lib.core.cron.parse_cron` (the parser every
    cloud shares). unix-cron is standard cron, so most expressions pass through with whitespace
    normalised. What differs: ``?`` (AWS style "no value") becomes ``*``; names (``MON``,
    ``JAN``) become numbers; day-of-week ``7`` (Sunday) becomes ``0``, including at the end of a
    range (``5-7`` -> ``5-6,0``). Quartz extensions (``L``, ``W``, ``#``) and out-of-range values
    are errors that say which field is wrong.
    """
    cron = parse_cron(expr)
    return " ".join(
        ",".join(part for item in items for part in _unix_cron(n, item)) for n, items in enumerate(cron.fields)
    )


def _unix_cron(n: int, item: CronItem) -> list[str]:
    """One parsed item in unix-cron (one item may become two: ``5-7`` -> ``5-6``, ``0``)."""
    suffix = f"/{item.step}" if item.step else ""
    if item.start is None:
        return ["*" + suffix]
    weekday = n == 4
    if item.end is None:
        return [f"{0 if weekday and item.start == 7 else item.start}{suffix}"]
    if weekday and item.start == 7:  # 7-7: Sunday only
        return ["0"]
    if weekday and item.end == 7 and not item.step:
        return ["0-6"] if item.start == 0 else [f"{item.start}-6" if item.start < 6 else "6", "0"]
    return [f"{item.start}-{item.end}{suffix}"]


def drift_metric_type(namespace: str, metric: str) -> str:
    """The Cloud Monitoring metric type of a drift metric: ``custom.googleapis.com/<namespace>/<metric>``."""
    return f"custom.googleapis.com/{namespace.strip('/')}/{metric}"


class RetrainingProps(CoreRetrainingProps):
    """GCP retraining props: the shared
    :class:`~constructs_lib.core.automation_props.RetrainingProps` plus the project, region and the
    drift metric's namespace."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the triggers.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the Cloud Scheduler job (e.g. 'us-central1').")
    metric_namespace: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$",
        description=(
            "Namespace of the drift metric: the metric type is "
            "`custom.googleapis.com/<metric_namespace>/<on_drift.metric>`. Defaults to None: "
            "`cdktf-mlops/<name>`; the platform passes `cdktf-mlops/<platform name>`, the namespace "
            "the monitoring job publishes to on every cloud."
        ),
    )

    @property
    def namespace(self) -> str:
        """The effective drift metric namespace."""
        return self.metric_namespace or f"cdktf-mlops/{self.name}"


class Retraining(MlopsConstruct):
    """Schedule, new-data and drift triggers that start one :class:`Pipeline`.

    Public attributes (same names on every cloud):

    * ``triggers`` — ``{"schedule": scheduler job, "new_data": storage notification,
      "drift": alert policy}`` for the triggers the props turn on;
    * ``resource`` — the first of them;

    and GCP extras: ``scheduler_identity`` (service account or None), ``notification_channel``
    (or None), ``schedule`` (the converted unix-cron expression or None), ``metric_type`` (or None).
    """

    props_type = RetrainingProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: RetrainingProps,
        *,
        pipeline: Pipeline,
        stores: dict[str, DataStore],
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        check_retraining_inputs(self.node.path, props, pipeline=pipeline, pipeline_type=Pipeline, stores=stores)
        project = props.project
        self.pipeline = pipeline
        self.triggers: dict[str, Resource] = {}
        self.scheduler_identity: Resource | None = None
        self.notification_channel: Resource | None = None
        self.schedule: str | None = None
        self.metric_type: str | None = None
        names = iter(["Resource"])

        def cid(readable: str) -> str:
            return next(names, readable)

        # --- schedule ------------------------------------------------------------------------------
        if props.schedule is not None:
            apis = require_services(self, project, ["cloudscheduler.googleapis.com", "iam.googleapis.com"], provider=provider)
            self.schedule = to_scheduler_cron(props.schedule)
            self.scheduler_identity = Resource(
                self,
                "SchedulerIdentity",
                "google_service_account",
                provider=provider,
                depends_on=apis,
                project=project,
                account_id=account_id(props.name, "cron"),
                display_name=f"Schedule of {props.name}",
                description="Cloud Scheduler identity: may only start one pipeline (cdktf-mlops).",
            )
            grant = pipeline.grant_start(self.scheduler_identity.ref("member"), id=f"Schedule{_cid(id)}")
            message = {"messages": [{
                "data": base64.b64encode(json.dumps({"trigger": "schedule"}).encode()).decode(),
                "attributes": {"trigger": "schedule", "retraining": props.name},
            }]}
            self.triggers["schedule"] = Resource(
                self,
                cid("Schedule"),
                "google_cloud_scheduler_job",
                provider=provider,
                depends_on=[*apis, *grant],
                project=project,
                region=props.location,
                name=f"{props.name}-schedule",
                description=f"Starts pipeline {pipeline.props.name} on '{props.schedule}' UTC (cdktf-mlops)",
                schedule=self.schedule,
                time_zone=SCHEDULER_TIME_ZONE,
                attempt_deadline="60s",
                retry_config={"retry_count": 3, "min_backoff_duration": "30s", "max_doublings": 2},
                http_target={
                    "http_method": "POST",
                    "uri": f"https://pubsub.googleapis.com/v1/{pipeline.start_topic_id}:publish",
                    "headers": {"Content-Type": "application/json"},
                    "body": base64.b64encode(json.dumps(message, sort_keys=True).encode()).decode(),
                    "oauth_token": {
                        "service_account_email": self.scheduler_identity.ref("email"),
                        "scope": "https://www.googleapis.com/auth/pubsub",
                    },
                },
            )

        # --- new data ------------------------------------------------------------------------------
        if props.on_new_data is not None:
            store = stores[props.on_new_data.store]
            gcs_agent = DataSource(
                self, "StorageServiceAgent", "google_storage_project_service_account", provider=provider, project=project
            )
            grant = pipeline.grant_start(gcs_agent.ref("member"), id=f"NewData{_cid(id)}")
            self.triggers["new_data"] = Resource(
                self,
                cid("NewData"),
                "google_storage_notification",
                provider=provider,
                depends_on=[*grant],
                bucket=store.store_name,
                payload_format="JSON_API_V1",
                topic=pipeline.start_topic_id,
                event_types=["OBJECT_FINALIZE"],
                object_name_prefix=props.on_new_data.prefix or None,
                custom_attributes={"trigger": "new_data", "retraining": props.name},
            )

        # --- drift ---------------------------------------------------------------------------------
        if props.on_drift is not None:
            drift = props.on_drift
            apis = require_services(self, project, ["monitoring.googleapis.com"], provider=provider)
            grant = pipeline.grant_start(
                service_agent(self, project, "monitoring", provider=provider), id=f"Drift{_cid(id)}"
            )
            self.notification_channel = Resource(
                self,
                "DriftChannel",
                "google_monitoring_notification_channel",
                provider=provider,
                depends_on=[*apis, *grant],
                project=project,
                display_name=f"{props.name}: start pipeline {pipeline.props.name}",
                description="Publishes drift incidents to the pipeline's start topic (cdktf-mlops)",
                type="pubsub",
                labels={"topic": pipeline.start_topic_id},
            )
            self.metric_type = drift_metric_type(props.namespace, drift.metric)
            period = f"{drift.evaluation_minutes * 60}s"
            self.triggers["drift"] = Resource(
                self,
                cid("Drift"),
                "google_monitoring_alert_policy",
                provider=provider,
                depends_on=apis,
                project=project,
                display_name=f"{props.name}: {drift.metric} above {drift.threshold:g}",
                combiner="OR",
                severity="WARNING",
                notification_channels=[self.notification_channel.ref("id")],
                alert_strategy={"notification_prompts": ["OPENED"], "auto_close": "604800s"},
                documentation={
                    "mime_type": "text/markdown",
                    "content": (
                        f"Drift metric `{drift.metric}` reached {drift.threshold:g} (mean over "
                        f"{drift.evaluation_minutes} minutes): pipeline `{pipeline.props.name}` was started."
                    ),
                },
                conditions=[{
                    "display_name": f"{drift.metric} above {drift.threshold:g}",
                    "condition_threshold": {
                        "filter": f'metric.type="{self.metric_type}"',
                        "comparison": "COMPARISON_GT",
                        "threshold_value": drift.threshold,
                        "duration": "0s",
                        "evaluation_missing_data": "EVALUATION_MISSING_DATA_INACTIVE",
                        "aggregations": [{"alignment_period": period, "per_series_aligner": "ALIGN_MEAN"}],
                        "trigger": {"count": 1},
                    },
                }],
            )
        self.resource: Resource = next(iter(self.triggers.values()))

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Retraining({self.node.path!r}, triggers={sorted(self.triggers)})"


def _cid(text: str) -> str:
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    return "".join(p[:1].upper() + p[1:] for p in parts)
