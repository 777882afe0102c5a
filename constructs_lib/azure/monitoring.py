"""Monitoring on Azure: an action group (email) as the stack's alert target, a Log Analytics
workspace for endpoint and workspace logs, metric and log alerts with documented thresholds, and a
workbook as the stack's dashboard.

Example::

    mon = Monitoring(self, "Monitoring", MonitoringProps(
        name="ml-mon", resource_group_name="rg-ml", location="westeurope",
        alert_emails=["oncall@example.com"]))
    mon.watch_endpoint(endpoint); mon.watch_training(training); mon.watch_store(store)

What is created (construct ids in brackets):

* ``azurerm_monitor_action_group`` [Resource]: one email receiver per ``alert_emails`` entry,
  common alert schema. ``alert_target`` is its id (what budgets and alerts notify).
* ``azurerm_log_analytics_workspace`` [Logs]: ``log_retention_days`` (30-730), local (key) auth
  off. Log Analytics encrypts with Microsoft-managed keys; a customer-managed key needs a
  dedicated cluster (100 GB/day commitment), so ``encryption.key_id`` is rejected.
* ``azurerm_application_insights_workbook`` [Dashboard]: requests, p99 latency, 5xx rate per
  endpoint, CPU/memory/GPU per deployment, failed training runs; one per stack.

``watch_endpoint(endpoint)`` adds, per regional endpoint (thresholds from the props; defaults in
brackets):

* ``azurerm_monitor_diagnostic_setting``: AmlOnlineEndpointTrafficLog / ConsoleLog / EventLog and
  all metrics of the endpoint → Logs.
* ``azurerm_monitor_metric_alert`` ``<endpoint>-<region>-latency-p99``: ``RequestLatency_P99``
  (ms, average over 15 min) above ``latency_p99_ms`` [500].
* ``azurerm_monitor_scheduled_query_rules_alert_v2`` ``...-error-rate``: 5xx responses / all
  responses in the traffic log over 15 min above ``error_rate_percent`` [1%] (Azure metric
  alerts cannot divide two series, so this is a log alert).
* ``...-no-invocations``: no request at all in the traffic log for 30 min (log alert: a metric
  alert does not fire on missing data).
* metric alerts on the deployment: ``CpuUtilizationPercentage`` above ``cpu_percent`` [80],
  ``CpuMemoryUtilizationPercentage`` above ``memory_percent`` [85], and for GPU endpoints
  ``GpuUtilizationPercentage`` above ``gpu_percent`` [90] (average over 15 min).

``watch_training(training)``: ``Failed Runs`` of the workspace above 0 in an hour, and the
workspace's logs (allLogs) → Logs. ``watch_store(store)``: ``Availability`` of the storage account
below :data:`STORE_AVAILABILITY_PERCENT` (average over 15 min). **Replication lag has no Azure
Monitor signal**: RA-GZRS exposes only ``LastSyncTime`` through the storage API, so
``replication_lag_minutes`` cannot be alerted on by Terraform-managed resources; the bridge
(``az storage account show --expand geoReplicationStats``) is in ``docs/azure-run.md``.

Model / data-quality monitoring: endpoints capture requests and responses into the capture store
(``data_capture_percent``). Azure ML model monitors (``workspaces/schedules`` with
``CreateMonitor``) need tabular ``model_inputs``/``model_outputs`` collections written by the
scoring script and reference (training) data, which exist only after phase 2 — the pipeline
creates the monitor then (``az ml schedule create``; see ``docs/azure-run.md``). With
``data_quality`` the construct records the endpoints it applies to in ``data_quality_targets``.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.naming import compact_name
from ..core.props import EncryptionProps
from ..core.resource import Resource
from ..core.run_props import MonitoringProps as _CoreMonitoringProps
from ._common import attr, diagnostic_setting, log_workspace

if TYPE_CHECKING:
    from .serving import Endpoint
    from .storage import DataStore
    from .training import Training

__all__ = [
    "ENDPOINT_LOG_CATEGORIES",
    "STORE_AVAILABILITY_PERCENT",
    "Monitoring",
    "MonitoringProps",
]

#: Diagnostic log categories of a managed online endpoint.
ENDPOINT_LOG_CATEGORIES = (
    "AmlOnlineEndpointConsoleLog",
    "AmlOnlineEndpointEventLog",
    "AmlOnlineEndpointTrafficLog",
)
#: Alert when a watched store's availability (average over 15 minutes) drops below this.
STORE_AVAILABILITY_PERCENT = 99.0
_ML = "Microsoft.MachineLearningServices/workspaces"
_WINDOW = "PT15M"
_EVERY = "PT5M"


class MonitoringProps(_CoreMonitoringProps):
    """The shared monitoring props plus where the resources live."""

    resource_group_name: str = Field(description="Resource group of the action group, logs, alerts and dashboard.")
    location: str = Field(description="Azure region of the Log Analytics workspace, log alerts and dashboard.")

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if not 30 <= value <= 730:
            raise ValueError(
                f"Log Analytics keeps interactive data 30-730 days, got {value}; choose a value in "
                "that range (archive longer with a data export rule)"
            )
        return value

    @field_validator("encryption")
    @classmethod
    def _no_key(cls, value: EncryptionProps) -> EncryptionProps:
        if value.key_id is not None:
            raise ValueError(
                "Azure Monitor logs take a customer-managed key only through a dedicated Log "
                "Analytics cluster (100 GB/day commitment), which this construct does not create; "
                "remove encryption.key_id (data is encrypted with Microsoft-managed keys)"
            )
        return value


def _key(*parts: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


class Monitoring(MlopsConstruct):
    """Alert target, logs, alerts and a dashboard for one stack (see the module docstring).

    Attributes:
        resource: the ``azurerm_monitor_action_group``; ``alert_target`` its id;
            ``alert_targets``: ``[alert_target]``.
        logs: the ``azurerm_log_analytics_workspace``; ``log_analytics_workspace_id``.
        alarms: alert name -> ``azurerm_monitor_metric_alert`` /
            ``azurerm_monitor_scheduled_query_rules_alert_v2``.
        diagnostics: watched resource key -> ``azurerm_monitor_diagnostic_setting``.
        dashboard: the ``azurerm_application_insights_workbook``.
        data_quality_targets: endpoint names whose captured data feeds model monitoring.
    """

    props_type = MonitoringProps
    props_hint = "resource_group_name and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: MonitoringProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        rg, location = props.resource_group_name, props.location
        self.resource = Resource(
            self,
            "Resource",
            "azurerm_monitor_action_group",
            provider=provider,
            name=f"ag-{props.name}",
            resource_group_name=rg,
            location="global",
            short_name=compact_name(props.name, max_length=12),
            enabled=True,
            email_receiver=[
                {"name": f"email-{n}", "email_address": email, "use_common_alert_schema": True}
                for n, email in enumerate(props.alert_emails, start=1)
            ],
        )
        self.alert_target: str = attr(self.resource, "id")
        self.alert_targets: list[str] = [self.alert_target]
        self.logs = log_workspace(
            self, name=props.name, resource_group_name=rg, location=location,
            retention_days=props.log_retention_days, provider=provider,
        )
        self.log_analytics_workspace_id: str = attr(self.logs, "id")
        self.alarms: dict[str, Resource] = {}
        self.diagnostics: dict[str, Resource] = {}
        self.data_quality_targets: list[str] = []
        self._panels: list[dict[str, Any]] = []
        self.dashboard = Resource(
            self,
            "Dashboard",
            "azurerm_application_insights_workbook",
            provider=provider,
            name=str(uuid.uuid5(uuid.NAMESPACE_URL, f"cdktf-mlops/{props.name}/dashboard")),
            display_name=f"{props.name} ML platform",
            resource_group_name=rg,
            location=location,
            category="workbook",
            data_json=self._workbook(),
        )

    # -- dashboard ------------------------------------------------------------------------------

    def _workbook(self) -> str:
        items: list[dict[str, Any]] = [
            {"type": 1, "content": {"json": f"# {self.props.name}\nServing, training and storage health (cdktf-mlops)."}}
        ]
        for n, (title, query) in enumerate(self._panel_queries(), start=1):
            items.append({
                "type": 3,
                "name": f"panel-{n}",
                "content": {
                    "version": "KqlItem/1.0",
                    "title": title,
                    "query": query,
                    "size": 0,
                    "timeContext": {"durationMs": 86400000},
                    "queryType": 0,
                    "resourceType": "microsoft.operationalinsights/workspaces",
                    "crossComponentResources": [self.log_analytics_workspace_id],
                    "visualization": "timechart",
                },
            })
        return json.dumps({"version": "Notebook/1.0", "items": items}, sort_keys=True)

    def _panel_queries(self) -> list[tuple[str, str]]:
        return [(p["title"], p["query"]) for p in self._panels]

    def _panel(self, title: str, query: str) -> None:
        self._panels.append({"title": title, "query": query})
        self.dashboard.set(data_json=self._workbook())

    # -- alerts ---------------------------------------------------------------------------------

    def _metric_alert(
        self, name: str, *, scope: str, namespace: str, metric: str, aggregation: str, operator: str,
        threshold: float, description: str, window: str = _WINDOW, frequency: str = _EVERY, severity: int = 2,
    ) -> Resource:
        alert = Resource(
            self,
            f"Alarm-{name}",
            "azurerm_monitor_metric_alert",
            provider=self._provider,
            name=name,
            resource_group_name=self.props.resource_group_name,
            scopes=[scope],
            description=description,
            severity=severity,
            frequency=frequency,
            window_size=window,
            auto_mitigate=True,
            criteria=[{
                "metric_namespace": namespace,
                "metric_name": metric,
                "aggregation": aggregation,
                "operator": operator,
                "threshold": threshold,
            }],
            action=[{"action_group_id": self.alert_target}],
        )
        self.alarms[name] = alert
        return alert

    def _log_alert(
        self, name: str, *, query: str, column: str, operator: str, threshold: float, description: str,
        window: str = _WINDOW, severity: int = 2,
    ) -> Resource:
        alert = Resource(
            self,
            f"Alarm-{name}",
            "azurerm_monitor_scheduled_query_rules_alert_v2",
            provider=self._provider,
            name=name,
            resource_group_name=self.props.resource_group_name,
            location=self.props.location,
            scopes=[self.log_analytics_workspace_id],
            description=description,
            severity=severity,
            evaluation_frequency=_EVERY,
            window_duration=window,
            auto_mitigation_enabled=True,
            criteria=[{
                "query": query,
                "metric_measure_column": column,
                "time_aggregation_method": "Maximum",
                "operator": operator,
                "threshold": threshold,
                "failing_periods": {"minimum_failing_periods_to_trigger_alert": 1, "number_of_evaluation_periods": 1},
            }],
            action={"action_groups": [self.alert_target]},
        )
        self.alarms[name] = alert
        return alert

    def _diagnostics(
        self, key: str, target: str, *, logs: tuple[str, ...] = (), log_groups: tuple[str, ...] = ()
    ) -> Resource:
        if key not in self.diagnostics:
            self.diagnostics[key] = diagnostic_setting(
                self, f"Diagnostics-{key}", name=f"to-{self.props.name}", target_resource_id=target,
                log_analytics_workspace_id=self.log_analytics_workspace_id, logs=logs,
                log_groups=log_groups, metrics=["AllMetrics"], provider=self._provider,
            )
        return self.diagnostics[key]

    # -- watches --------------------------------------------------------------------------------

    def watch_endpoint(self, endpoint: "Endpoint") -> dict[str, Resource]:
        """Diagnostics to Logs and the serving alerts of ``endpoint`` (see the module docstring).
        Returns the alerts it created, by name. Watching twice creates nothing new."""
        p = self.props
        base = _key(endpoint.endpoint_name, endpoint.region)
        if base in self.diagnostics:
            return {k: v for k, v in self.alarms.items() if k.startswith(base + "-")}
        self._diagnostics(base, endpoint.endpoint_id, logs=ENDPOINT_LOG_CATEGORIES)
        ep_ns, dep_ns = f"{_ML}/onlineEndpoints", f"{_ML}/onlineEndpoints/deployments"
        traffic = f"AmlOnlineEndpointTrafficLog | where _ResourceId =~ '{endpoint.endpoint_id}'"
        made = [
            self._metric_alert(
                f"{base}-latency-p99", scope=endpoint.endpoint_id, namespace=ep_ns, metric="RequestLatency_P99",
                aggregation="Average", operator="GreaterThan", threshold=p.latency_p99_ms,
                description=f"p99 latency of {endpoint.endpoint_name} ({endpoint.region}) above {p.latency_p99_ms} ms",
            ),
            self._log_alert(
                f"{base}-error-rate",
                query=(
                    f"{traffic} | summarize total = count(), errors = countif(toint(ResponseCode) >= 500) "
                    "| extend error_rate = iff(total == 0, 0.0, 100.0 * errors / total)"
                ),
                column="error_rate", operator="GreaterThan", threshold=p.error_rate_percent,
                description=f"5xx responses of {endpoint.endpoint_name} ({endpoint.region}) above {p.error_rate_percent}%",
            ),
            self._log_alert(
                f"{base}-no-invocations",
                query=f"{traffic} | summarize requests = count()",
                column="requests", operator="LessThan", threshold=1, window="PT30M",
                description=f"No request reached {endpoint.endpoint_name} ({endpoint.region}) in 30 minutes",
            ),
            self._metric_alert(
                f"{base}-cpu", scope=endpoint.deployment_id, namespace=dep_ns, metric="CpuUtilizationPercentage",
                aggregation="Average", operator="GreaterThan", threshold=p.cpu_percent,
                description=f"CPU of {endpoint.endpoint_name} ({endpoint.region}) above {p.cpu_percent}%",
            ),
            self._metric_alert(
                f"{base}-memory", scope=endpoint.deployment_id, namespace=dep_ns,
                metric="CpuMemoryUtilizationPercentage", aggregation="Average", operator="GreaterThan",
                threshold=p.memory_percent,
                description=f"Memory of {endpoint.endpoint_name} ({endpoint.region}) above {p.memory_percent}%",
            ),
        ]
        if endpoint.props.gpu:
            made.append(self._metric_alert(
                f"{base}-gpu", scope=endpoint.deployment_id, namespace=dep_ns, metric="GpuUtilizationPercentage",
                aggregation="Average", operator="GreaterThan", threshold=p.gpu_percent,
                description=f"GPU of {endpoint.endpoint_name} ({endpoint.region}) above {p.gpu_percent}%",
            ))
        if p.data_quality and endpoint.capture_assets:
            self.data_quality_targets.append(f"{endpoint.endpoint_name}@{endpoint.region}")
        self._panel(
            f"{endpoint.endpoint_name} ({endpoint.region}): requests, p99 latency (ms), 5xx",
            f"{traffic} | summarize requests = count(), p99_ms = percentile(TotalDurationMs, 99), "
            "errors = countif(toint(ResponseCode) >= 500) by bin(TimeGenerated, 5m)",
        )
        self._panel(
            f"{endpoint.endpoint_name} ({endpoint.region}): CPU / memory / GPU %",
            f"AzureMetrics | where ResourceId =~ '{endpoint.deployment_id}' | where MetricName in "
            "('CpuUtilizationPercentage', 'CpuMemoryUtilizationPercentage', 'GpuUtilizationPercentage') "
            "| summarize avg(Average) by MetricName, bin(TimeGenerated, 5m)",
        )
        return {m.get("name"): m for m in made}

    def watch_training(self, training: "Training") -> Resource:
        """Alert when a training run fails in ``training``'s workspace (``Failed Runs`` > 0 in an
        hour) and send the workspace's logs to Logs. Watching twice returns the first alert."""
        workspace_id = training.props.workspace_id
        name = _key(training.props.name, "failed-runs")
        if name in self.alarms:
            return self.alarms[name]
        self._diagnostics(_key(training.props.name, "workspace"), workspace_id, log_groups=("allLogs",))
        self._panel(
            f"{training.props.name}: failed training runs",
            f"AzureMetrics | where ResourceId =~ '{workspace_id}' | where MetricName == 'Failed Runs' "
            "| summarize failed = sum(Total) by bin(TimeGenerated, 1h)",
        )
        return self._metric_alert(
            name, scope=workspace_id, namespace=_ML, metric="Failed Runs", aggregation="Total",
            operator="GreaterThan", threshold=0, window="PT1H", frequency="PT15M", severity=2,
            description=f"A training run failed in the workspace of {training.props.name}",
        )

    def watch_store(self, store: "DataStore") -> Resource:
        """Alert when ``store``'s availability drops below :data:`STORE_AVAILABILITY_PERCENT`.
        Replication lag cannot be alerted on (see the module docstring)."""
        name = _key(store.props.name, "availability")
        if name in self.alarms:
            return self.alarms[name]
        return self._metric_alert(
            name, scope=store.store_id, namespace="Microsoft.Storage/storageAccounts", metric="Availability",
            aggregation="Average", operator="LessThan", threshold=STORE_AVAILABILITY_PERCENT,
            description=f"Availability of store {store.props.name} below {STORE_AVAILABILITY_PERCENT}%",
        )
