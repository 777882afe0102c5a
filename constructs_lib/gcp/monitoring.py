"""Monitoring on GCP: e-mail notification channels, alert policies, a dashboard and CMEK log storage.

``Monitoring`` is the GCP member of the ``Monitoring`` family (same class name and public
attributes on AWS and Azure). From one :class:`MonitoringProps` it emits:

* per address of ``alert_emails`` a ``google_monitoring_notification_channel`` of type ``email``
  (the first is child ``Resource``): together they are the stack's alert target. E-mail channels
  hold no data at rest, so there is nothing to encrypt (unlike an SNS topic);
* a regional Cloud Logging bucket (``google_logging_project_bucket_config``, child ``LogBucket``)
  kept ``log_retention_days`` and encrypted with a customer-managed key (``cmek_settings``; a
  :class:`~constructs_lib.gcp.keys.Key` in the region, encrypt/decrypt for the project's Cloud
  Logging service account) and a sink (child ``LogSink``) routing the ML workloads' logs into it
  (Vertex AI endpoints, pools, custom and pipeline jobs, uptime checks, and the watched training
  cluster's containers). The ``_Default`` bucket keeps its own 30-day copy;
* a ``google_monitoring_dashboard`` (child ``Dashboard``) that grows a row of charts per watched
  endpoint, training cluster and store;
* ``google_monitoring_alert_policy`` blocks (``alarms[name]``) created by the ``watch_*`` methods,
  every one notifying all channels, auto-closing after 30 minutes, with a runbook line in its
  documentation.

Alarms and their default thresholds (all from the props, defaults from
:class:`~constructs_lib.core.run_props.MonitoringSettings`):

=================================  ==============================================================
``watch_endpoint``: latency        p99 of ``prediction/online/prediction_latencies`` (total) above
                                   ``latency_p99_ms`` (500 ms) for 5 minutes
``watch_endpoint``: errors         ``error_count`` / ``prediction_count`` above
                                   ``error_rate_percent`` (1 %) over 5 minutes
``watch_endpoint``: no traffic     no prediction at all for 15 minutes (missing data counts: it
                                   also fires before the first model is deployed — phase 1)
``watch_endpoint``: CPU / memory   pool replicas' CPU above ``cpu_percent`` (80 %), memory above
                                   ``memory_percent`` (85 %) of the machine's memory, 10 minutes
``watch_endpoint``: GPU            (gpu endpoints) accelerator duty cycle above ``gpu_percent`` (90 %)
``watch_training``                 a Kubernetes Job of the training cluster failed
                                   (``BackoffLimitExceeded`` / ``DeadlineExceeded`` events, counted
                                   by a log-based metric, child ``TrainingFailures``)
``watch_store``                    dual-region store: turbo replication delay above
                                   ``replication_lag_minutes`` (15); default replication: the RPO
                                   not met for an hour
``watch_routing``                  a region's uptime check failing from 2+ checker regions for
                                   3 minutes (the trigger of the failover runbook)
=================================  ==============================================================

**Model and data-quality monitoring** has no Terraform resource on GCP (Vertex AI Model
Monitoring jobs are API objects). With ``data_quality`` the construct exposes
``data_quality_commands`` (one ``gcloud ai model-monitoring-jobs create`` per watched endpoint, to
run once a model is deployed, phase 2) and the captured requests already land in the endpoint's
CMEK BigQuery dataset, which is what the job reads.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError, ConstructTypeError
from ..core.naming import short_hash
from ..core.resource import DataSource, Resource
from ..core.run_props import MonitoringProps as CoreMonitoringProps
from ._common import PROJECT_PATTERN, REGION_PATTERN, own_key, require_services, use_key
from .routing import CHECKER_REGIONS, Routing
from .serving import DETECTION_SECONDS, Endpoint, machine_memory_gib
from .storage import TURBO_RPO_MINUTES, DataStore
from .training import Training

__all__ = ["AUTO_CLOSE", "Monitoring", "MonitoringProps"]

AUTO_CLOSE = "1800s"
"""Open incidents close after 30 minutes without the condition."""

_VERTEX = "aiplatform.googleapis.com/prediction/online"
_ENDPOINT_RT = "aiplatform.googleapis.com/Endpoint"
_POOL_RT = "aiplatform.googleapis.com/DeploymentResourcePool"
_GIB = 1024**3
_LOG_TYPES = (
    "aiplatform.googleapis.com/Endpoint",
    "aiplatform.googleapis.com/DeploymentResourcePool",
    "aiplatform.googleapis.com/CustomJob",
    "aiplatform.googleapis.com/PipelineJob",
    "uptime_url",
)


class MonitoringProps(CoreMonitoringProps):
    """GCP monitoring props: the shared :class:`~constructs_lib.core.run_props.MonitoringProps`
    plus project and region (of the log bucket and its key)."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds channels, policies and logs.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the log bucket and its key, e.g. 'us-central1'.")
    deletion_protection: bool = Field(
        default=True, description="Protect the log key (Cloud KMS never deletes keys). Defaults to True."
    )


class Monitoring(MlopsConstruct):
    """Alert target, alarms, dashboard and CMEK log storage of one stack.

    Public attributes (same names on every cloud):

    * ``alert_target`` — list of notification channel ids (tokens), what alert policies and
      budgets take (GCP has no single topic-like target: one channel per address);
    * ``alert_targets`` — the same list (the name the platform's outputs read on every cloud);
    * ``alarms`` — alarm name (``<endpoint>-<region>-latency``, ...) -> alert policy;
    * ``resource`` — the first notification channel;

    and GCP extras: ``channels`` (address -> channel), ``log_bucket``, ``log_sink``, ``dashboard``,
    ``key`` / ``key_id``, ``data_quality_commands`` (``<endpoint>/<region>`` -> command), ``thresholds``.
    """

    props_type = MonitoringProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: MonitoringProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        project = props.project
        self._deps = require_services(
            self, project, ["monitoring.googleapis.com", "logging.googleapis.com"], provider=provider
        )
        self.thresholds = {
            "latency_p99_ms": props.latency_p99_ms,
            "error_rate_percent": props.error_rate_percent,
            "cpu_percent": props.cpu_percent,
            "gpu_percent": props.gpu_percent,
            "memory_percent": props.memory_percent,
            "replication_lag_minutes": props.replication_lag_minutes,
        }

        # --- alert target ------------------------------------------------------------------
        self.channels: dict[str, Resource] = {}
        for address in props.alert_emails:
            self.channels[address] = Resource(
                self,
                "Resource" if not self.channels else f"Email{short_hash(address, length=8)}",
                "google_monitoring_notification_channel",
                provider=provider,
                depends_on=self._deps,
                project=project,
                type="email",
                display_name=f"{props.name} alerts: {address}",
                description="Alert target of the ML platform (cdktf-mlops)",
                labels={"email_address": address},
                force_delete=False,
            )
        self.resource = next(iter(self.channels.values()))
        self.alert_target: list[str] = [c.ref("id") for c in self.channels.values()]
        self.alert_targets: list[str] = self.alert_target
        self.alarms: dict[str, Resource] = {}
        self.data_quality_commands: dict[str, str] = {}

        # --- logs: CMEK bucket + sink ----------------------------------------------------------
        cmek = DataSource(self, "LoggingCmek", "google_logging_project_cmek_settings", provider=provider, project=project)
        self.key = own_key(
            self,
            "Key",
            props.encryption,
            name=f"{props.name}-logs",
            project=project,
            location=props.location,
            deletion_protection=props.deletion_protection,
            provider=provider,
        )
        logging_agent = "serviceAccount:" + cmek.ref("service_account_id")
        self.key_id, key_grants = use_key(
            self, self.key, props.encryption, [("LoggingServiceAccount", logging_agent)], provider=provider
        )
        bucket_id = f"{props.name}-logs"[:100]
        self.log_bucket = Resource(
            self,
            "LogBucket",
            "google_logging_project_bucket_config",
            provider=provider,
            depends_on=[*self._deps, *key_grants],
            project=project,
            location=props.location,
            bucket_id=bucket_id,
            retention_days=props.log_retention_days,
            description="Logs of the ML workloads: serving, training, pipelines, health checks (cdktf-mlops)",
            cmek_settings={"kms_key_name": self.key_id},
        )
        self._log_clauses: list[str] = [f'resource.type="{t}"' for t in _LOG_TYPES]
        self.log_sink = Resource(
            self,
            "LogSink",
            "google_logging_project_sink",
            provider=provider,
            depends_on=[self.log_bucket],
            project=project,
            name=f"{props.name}-ml-logs"[:100],
            destination=f"logging.googleapis.com/projects/{project}/locations/{props.location}/buckets/{bucket_id}",
            filter=self._log_filter(),
            unique_writer_identity=True,
        )

        # --- dashboard -------------------------------------------------------------------------
        self._widgets: list[dict[str, Any]] = [
            {"title": "About", "text": {"content": f"ML platform {props.name}: serving, training and storage health (cdktf-mlops).", "format": "MARKDOWN"}}
        ]
        self.dashboard = Resource(
            self,
            "Dashboard",
            "google_monitoring_dashboard",
            provider=provider,
            depends_on=self._deps,
            project=project,
            dashboard_json=self._dashboard_json(),
        )

    # ----------------------------------------------------------------------------- watchers

    def watch_endpoint(self, endpoint: Endpoint) -> dict[str, Resource]:
        """Alarms and charts for one regional endpoint: p99 latency, error rate, no traffic, pool
        CPU and memory, and GPU duty cycle for gpu endpoints. Returns the new alarms by name."""
        if not isinstance(endpoint, Endpoint):
            raise ConstructTypeError(self.node.path, "watch_endpoint takes a constructs_lib.gcp.Endpoint")
        props: MonitoringProps = self.props
        name, region = endpoint.endpoint_name, endpoint.region
        key = f"{name}-{region}"
        ep = (
            f'resource.type="{_ENDPOINT_RT}" AND resource.labels.endpoint_id="{name}" '
            f'AND resource.labels.location="{region}"'
        )
        pool = (
            f'resource.type="{_POOL_RT}" AND resource.labels.deployment_resource_pool_id="{endpoint.pool_name}" '
            f'AND resource.labels.location="{region}"'
        )
        made: dict[str, Resource] = {}
        made[f"{key}-latency"] = self._alarm(
            f"{key}-latency",
            f"{name} ({region}): p99 latency above {props.latency_p99_ms} ms",
            {
                "condition_threshold": {
                    "filter": f'metric.type="{_VERTEX}/prediction_latencies" AND {ep} AND metric.labels.latency_type="total"',
                    "comparison": "COMPARISON_GT",
                    "threshold_value": props.latency_p99_ms,
                    "duration": "300s",
                    "aggregations": [_agg("60s", "ALIGN_PERCENTILE_99", "REDUCE_MAX")],
                }
            },
            "p99 prediction latency is above the threshold: check replica CPU/GPU, the target "
            "invocations per replica and recent model deployments.",
        )
        made[f"{key}-errors"] = self._alarm(
            f"{key}-errors",
            f"{name} ({region}): error rate above {props.error_rate_percent}%",
            {
                "condition_threshold": {
                    "filter": f'metric.type="{_VERTEX}/error_count" AND {ep}',
                    "denominator_filter": f'metric.type="{_VERTEX}/prediction_count" AND {ep}',
                    "comparison": "COMPARISON_GT",
                    "threshold_value": props.error_rate_percent / 100,
                    "duration": "0s",
                    "aggregations": [_agg("300s", "ALIGN_DELTA", "REDUCE_SUM")],
                    "denominator_aggregations": [_agg("300s", "ALIGN_DELTA", "REDUCE_SUM")],
                }
            },
            "Prediction errors exceed the threshold share of requests: check the model container "
            "logs in the log bucket and roll back the last deployment if it started then.",
        )
        made[f"{key}-no-traffic"] = self._alarm(
            f"{key}-no-traffic",
            f"{name} ({region}): no predictions for 15 minutes",
            {
                "condition_threshold": {
                    "filter": f'metric.type="{_VERTEX}/prediction_count" AND {ep}',
                    "comparison": "COMPARISON_LT",
                    "threshold_value": 1,
                    "duration": "900s",
                    "evaluation_missing_data": "EVALUATION_MISSING_DATA_ACTIVE",
                    "aggregations": [_agg("300s", "ALIGN_DELTA", "REDUCE_SUM")],
                }
            },
            "The endpoint served no prediction for 15 minutes (also while no model is deployed yet): "
            "check routing, callers and the deployed model.",
        )
        made[f"{key}-cpu"] = self._alarm(
            f"{key}-cpu",
            f"{name} ({region}): replica CPU above {props.cpu_percent}%",
            {
                "condition_threshold": {
                    "filter": f'metric.type="{_VERTEX}/deployment_resource_pool/cpu/utilization" AND {pool}',
                    "comparison": "COMPARISON_GT",
                    "threshold_value": props.cpu_percent / 100,
                    "duration": "600s",
                    "aggregations": [_agg("60s", "ALIGN_MEAN", "REDUCE_MEAN")],
                }
            },
            "Replicas are CPU-bound: the pool is at max_instances or scaling lags; raise the cap or "
            "use a larger machine type.",
        )
        memory_gib = machine_memory_gib(endpoint.machine_type)
        if memory_gib is not None:
            made[f"{key}-memory"] = self._alarm(
                f"{key}-memory",
                f"{name} ({region}): replica memory above {props.memory_percent}%",
                {
                    "condition_threshold": {
                        "filter": f'metric.type="{_VERTEX}/deployment_resource_pool/memory/bytes_used" AND {pool}',
                        "comparison": "COMPARISON_GT",
                        "threshold_value": round(memory_gib * _GIB * props.memory_percent / 100),
                        "duration": "600s",
                        "aggregations": [_agg("60s", "ALIGN_MEAN", "REDUCE_MAX")],
                    }
                },
                f"A replica uses more than {props.memory_percent}% of the {memory_gib:g} GiB of "
                f"{endpoint.machine_type}: risk of out-of-memory restarts.",
            )
        if endpoint.gpu:
            made[f"{key}-gpu"] = self._alarm(
                f"{key}-gpu",
                f"{name} ({region}): GPU duty cycle above {props.gpu_percent}%",
                {
                    "condition_threshold": {
                        "filter": f'metric.type="{_VERTEX}/deployment_resource_pool/accelerator/duty_cycle" AND {pool}',
                        "comparison": "COMPARISON_GT",
                        "threshold_value": props.gpu_percent / 100,
                        "duration": "600s",
                        "aggregations": [_agg("60s", "ALIGN_MEAN", "REDUCE_MEAN")],
                    }
                },
                "GPUs are saturated: raise max_instances or the machine size.",
            )
        self._widgets += [
            _chart(f"{name} {region}: p99 latency (ms)", f'metric.type="{_VERTEX}/prediction_latencies" AND {ep}', "ALIGN_PERCENTILE_99"),
            _chart(f"{name} {region}: predictions / errors", f'metric.type="{_VERTEX}/prediction_count" AND {ep}', "ALIGN_RATE",
                   extra=f'metric.type="{_VERTEX}/error_count" AND {ep}'),
            _chart(f"{name} {region}: replicas", f'metric.type="{_VERTEX}/deployment_resource_pool/replicas" AND {pool}', "ALIGN_MEAN"),
            _chart(f"{name} {region}: CPU utilization", f'metric.type="{_VERTEX}/deployment_resource_pool/cpu/utilization" AND {pool}', "ALIGN_MEAN"),
        ]
        self.dashboard.set(dashboard_json=self._dashboard_json())
        if props.data_quality and endpoint.capture_table is not None:
            self.data_quality_commands[f"{name}/{region}"] = (
                f"gcloud ai model-monitoring-jobs create --project={props.project} --region={region} "
                f"--display-name={name}-data-quality --endpoint={name} "
                f"--emails={','.join(props.alert_emails)} --monitoring-frequency=24 "
                "--prediction-sampling-rate=1 --feature-thresholds=FEATURE=0.3"
            )
        return made

    def watch_training(self, training: Training) -> dict[str, Resource]:
        """A log-based metric counting failed Kubernetes Jobs of the training cluster and an alarm
        on any failure; the cluster's container logs are routed to the CMEK log bucket."""
        if not isinstance(training, Training):
            raise ConstructTypeError(self.node.path, "watch_training takes a constructs_lib.gcp.Training")
        props: MonitoringProps = self.props
        cluster = training.props.name
        metric_name = f"{props.name}-{cluster}-job-failures"[:100]
        metric = Resource(
            self,
            f"TrainingFailures{short_hash(training.node.path, length=6)}",
            "google_logging_metric",
            provider=self._provider,
            depends_on=self._deps,
            project=props.project,
            name=metric_name,
            description=f"Failed training jobs (Kubernetes Jobs) on GKE cluster {cluster} (cdktf-mlops)",
            filter=(
                f'resource.type="k8s_cluster" AND resource.labels.cluster_name="{cluster}" '
                'AND jsonPayload.involvedObject.kind="Job" '
                'AND jsonPayload.reason=("BackoffLimitExceeded" OR "DeadlineExceeded")'
            ),
            metric_descriptor={"metric_kind": "DELTA", "value_type": "INT64", "unit": "1"},
        )
        key = f"{cluster}-training-failures"
        alarm = self._alarm(
            key,
            f"Training job failed on {cluster}",
            {
                "condition_threshold": {
                    "filter": f'metric.type="logging.googleapis.com/user/{metric_name}" AND resource.type="k8s_cluster"',
                    "comparison": "COMPARISON_GT",
                    "threshold_value": 0,
                    "duration": "0s",
                    "aggregations": [_agg("300s", "ALIGN_DELTA", "REDUCE_SUM")],
                }
            },
            "A training Job hit its backoff limit or deadline: `kubectl describe job -n training` "
            "and the container logs in the log bucket say why.",
            depends_on=[metric],
        )
        self._log_clauses.append(f'(resource.type="k8s_container" AND resource.labels.cluster_name="{cluster}")')
        self.log_sink.set(filter=self._log_filter())
        self._widgets.append(
            _chart(f"{cluster}: failed training jobs", f'metric.type="logging.googleapis.com/user/{metric_name}" AND resource.type="k8s_cluster"', "ALIGN_DELTA")
        )
        self.dashboard.set(dashboard_json=self._dashboard_json())
        return {key: alarm}

    def watch_store(self, store: DataStore) -> dict[str, Resource]:
        """Replication alarm of a dual-region store (nothing for a regional store: no replication)."""
        if not isinstance(store, DataStore):
            raise ConstructTypeError(self.node.path, "watch_store takes a constructs_lib.gcp.DataStore")
        if store.recovery.replica_region is None:
            return {}
        props: MonitoringProps = self.props
        bucket = store.resource.get("name")
        res = f'resource.type="gcs_bucket" AND resource.labels.bucket_name="{bucket}"'
        key = f"{bucket}-replication"
        if store.recovery.rpo_minutes == TURBO_RPO_MINUTES:
            condition = {
                "condition_threshold": {
                    "filter": f'metric.type="storage.googleapis.com/replication/turbo_max_delay" AND {res}',
                    "comparison": "COMPARISON_GT",
                    "threshold_value": props.replication_lag_minutes * 60,
                    "duration": "300s",
                    "aggregations": [_agg("60s", "ALIGN_MAX", "REDUCE_MAX")],
                }
            }
            title = f"{bucket}: turbo replication delay above {props.replication_lag_minutes} min"
        else:
            condition = {
                "condition_threshold": {
                    "filter": f'metric.type="storage.googleapis.com/replication/meeting_rpo" AND {res}',
                    "comparison": "COMPARISON_LT",
                    "threshold_value": 1,
                    "duration": "3600s",
                    "aggregations": [_agg("300s", "ALIGN_FRACTION_TRUE", "REDUCE_MIN")],
                }
            }
            title = f"{bucket}: replication not meeting its RPO for an hour"
        alarm = self._alarm(
            key, title, condition,
            "Cross-region replication of the store lags: writes since then are at risk if the "
            "primary region fails. Check Cloud Storage status; nothing to fix in the bucket itself.",
        )
        self._widgets.append(
            _chart(f"{bucket}: replication delay (s)", f'metric.type="storage.googleapis.com/replication/turbo_max_delay" AND {res}', "ALIGN_MAX")
        )
        self.dashboard.set(dashboard_json=self._dashboard_json())
        return {key: alarm}

    def watch_routing(self, routing: Routing) -> dict[str, Resource]:
        """An alarm per region's uptime check: failing from 2+ checker regions for
        :data:`~constructs_lib.gcp.serving.DETECTION_SECONDS` — the trigger of the failover runbook."""
        if not isinstance(routing, Routing):
            raise ConstructTypeError(self.node.path, "watch_routing takes a constructs_lib.gcp.Routing")
        made: dict[str, Resource] = {}
        for name, checks in routing.health_checks_by_endpoint.items():
            for region, check in checks.items():
                key = f"{name}-{region}-health"
                made[key] = self._alarm(
                    key,
                    f"{name} ({region}): serving front end unreachable",
                    {
                        "condition_threshold": {
                            "filter": (
                                'metric.type="monitoring.googleapis.com/uptime_check/check_passed" '
                                f'AND resource.type="uptime_url" AND metric.labels.check_id="{check.ref("uptime_check_id")}"'
                            ),
                            "comparison": "COMPARISON_GT",
                            "threshold_value": 1,
                            "duration": f"{DETECTION_SECONDS}s",
                            "trigger": {"count": 1},
                            "aggregations": [
                                {
                                    "alignment_period": "60s",
                                    "per_series_aligner": "ALIGN_NEXT_OLDER",
                                    "cross_series_reducer": "REDUCE_COUNT_FALSE",
                                    "group_by_fields": ["resource.label.host"],
                                }
                            ],
                        }
                    },
                    f"Region {region} of {name} fails its uptime check from several of "
                    f"{', '.join(CHECKER_REGIONS)}. Fail over: docs/gcp-run.md, 'Failover runbook'.",
                )
        return made

    # ------------------------------------------------------------------------------- helpers

    def _alarm(
        self, key: str, title: str, condition: dict[str, Any], runbook: str, *, depends_on: list[Any] | None = None
    ) -> Resource:
        if key in self.alarms:
            raise ConstructError(self.node.path, f"alarm {key!r} exists already (watched twice?)")
        props: MonitoringProps = self.props
        alarm = Resource(
            self,
            f"Alarm{short_hash(key, length=10)}",
            "google_monitoring_alert_policy",
            provider=self._provider,
            depends_on=[*self._deps, *(depends_on or [])],
            project=props.project,
            display_name=title,
            combiner="OR",
            enabled=True,
            severity="ERROR",
            notification_channels=list(self.alert_target),
            conditions=[{"display_name": title, **condition}],
            alert_strategy={"auto_close": AUTO_CLOSE},
            documentation={"content": f"{runbook} (alarm {key}, cdktf-mlops)", "mime_type": "text/markdown"},
            user_labels={"alarm": key[:63]},
        )
        self.alarms[key] = alarm
        return alarm

    def _log_filter(self) -> str:
        return " OR ".join(self._log_clauses)

    def _dashboard_json(self) -> str:
        props: MonitoringProps = self.props
        return json.dumps(
            {"displayName": f"{props.name} ML platform", "gridLayout": {"columns": "2", "widgets": self._widgets}},
            sort_keys=True,
            separators=(",", ":"),
        )

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Monitoring({self.node.path!r})"


def _agg(period: str, aligner: str, reducer: str) -> dict[str, Any]:
    return {"alignment_period": period, "per_series_aligner": aligner, "cross_series_reducer": reducer}


def _chart(title: str, flt: str, aligner: str, *, extra: str | None = None) -> dict[str, Any]:
    def data_set(f: str) -> dict[str, Any]:
        return {
            "plotType": "LINE",
            "timeSeriesQuery": {
                "timeSeriesFilter": {"filter": f, "aggregation": {"alignmentPeriod": "60s", "perSeriesAligner": aligner}}
            },
        }

    sets = [data_set(flt)] + ([data_set(extra)] if extra else [])
    return {"title": title, "xyChart": {"dataSets": sets}}
