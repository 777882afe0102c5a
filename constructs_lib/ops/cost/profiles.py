"""Usage profiles: the assumptions every usage figure of ``cdktf-mlops cost`` rests on.

A profile is a set of named parameters (:data:`PARAMETERS` says what each means and its unit).
Three are built in (:data:`PROFILES`); a usage file (YAML or JSON) picks one as its base and
overrides parameters for every resource (``defaults``) or for some (``resources``, keyed by
resource address such as ``aws_s3_bucket.data_7E2128CA`` or by construct path prefix such as
``reference-aws/data``; the longest matching key wins)::

    profile: typical
    defaults: {storage_gb: 2000}
    resources:
      reference-aws/data: {storage_gb: 20000, replicated_gb: 800}
      aws_batch_compute_environment.training_gpu_Spot_C047AECC: {training_node_hours: 300}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ...core.errors import MlopsError

__all__ = ["HOURS_PER_MONTH", "PARAMETERS", "PROFILES", "Usage", "UsageError", "load_usage"]

#: Hours in a month, as the cloud price pages and Infracost count them.
HOURS_PER_MONTH = 730.0

#: Parameter -> what it means (with its unit).
PARAMETERS: dict[str, str] = {
    "endpoint_load": "share of the room between min and max instances an endpoint uses on average "
                     "(0 = at min_instances all month, 1 = at max_instances all month)",
    "training_node_hours": "node-hours a training pool runs per month (spot and on-demand parts together)",
    "spot_share": "share of a pool's node-hours that run on spot / low-priority capacity when the pool has both",
    "storage_gb": "GB held by each data, artifact or model store (replicas hold the same)",
    "log_storage_gb": "GB held by each access-log or flow-log store",
    "data_age_days": "age of the oldest data in a store; data ages evenly, so lifecycle rules move the "
                     "share of it older than each transition day to the colder class",
    "replicated_gb": "GB written per month to each replicated store (copied to the replica region)",
    "image_storage_gb": "GB of container images per registry repository",
    "endpoint_data_gb": "GB through each interface VPC endpoint / NAT gateway per month",
    "monitor_job_minutes": "minutes each scheduled model-monitoring job runs",
    "airflow_load": "share of the room between min and max Airflow workers used on average",
    "dns_queries_millions": "million DNS queries per month per traffic-routing profile",
    "key_age_months": "age of each rotated key (every rotation adds a billed key version on GCP)",
    "serverless_busy_share": "share of the month a serverless endpoint computes at its max concurrency",
    "database_gb": "GB held by each Cloud SQL database; its disk grows to hold them when disk_autoresize is on "
                   "(never below disk_size)",
    "database_backup_gb": "GB of backups and point-in-time-recovery logs kept per Cloud SQL instance",
    "service_busy_hours": "instance-hours per month a request-billed Cloud Run service serves requests above its "
                          "min instances (time with a request in flight; capped at max instances all month)",
    "service_requests_millions": "million requests per month to each Cloud Run service",
    "table_write_millions": "million write request units per month to each on-demand DynamoDB table",
    "table_read_millions": "million read request units per month from each on-demand DynamoDB table",
    "table_storage_gb": "GB held by each DynamoDB table (point-in-time recovery bills the same GB)",
}

#: The built-in profiles. ``idle``: deployed, nobody uses it. ``typical``: a small team's steady
#: month. ``peak``: everything at its maximum scale, a heavy training month, large stores.
PROFILES: dict[str, dict[str, float]] = {
    "idle": {
        "endpoint_load": 0.0, "training_node_hours": 0.0, "spot_share": 0.8, "storage_gb": 10.0,
        "log_storage_gb": 1.0, "data_age_days": 30.0, "replicated_gb": 0.0, "image_storage_gb": 1.0,
        "endpoint_data_gb": 0.0, "monitor_job_minutes": 5.0, "airflow_load": 0.0,
        "dns_queries_millions": 0.0, "key_age_months": 12.0, "serverless_busy_share": 0.0,
        "database_gb": 1.0, "database_backup_gb": 1.0, "service_busy_hours": 0.0, "service_requests_millions": 0.0,
        "table_write_millions": 0.0, "table_read_millions": 0.0, "table_storage_gb": 0.001,
    },
    "typical": {
        "endpoint_load": 0.0, "training_node_hours": 40.0, "spot_share": 0.8, "storage_gb": 500.0,
        "log_storage_gb": 10.0, "data_age_days": 365.0, "replicated_gb": 50.0, "image_storage_gb": 20.0,
        "endpoint_data_gb": 10.0, "monitor_job_minutes": 10.0, "airflow_load": 0.0,
        "dns_queries_millions": 1.0, "key_age_months": 12.0, "serverless_busy_share": 0.02,
        "database_gb": 20.0, "database_backup_gb": 30.0, "service_busy_hours": 40.0, "service_requests_millions": 0.5,
        "table_write_millions": 0.01, "table_read_millions": 0.01, "table_storage_gb": 0.01,
    },
    "peak": {
        "endpoint_load": 1.0, "training_node_hours": 400.0, "spot_share": 0.8, "storage_gb": 5000.0,
        "log_storage_gb": 100.0, "data_age_days": 365.0, "replicated_gb": 500.0, "image_storage_gb": 100.0,
        "endpoint_data_gb": 200.0, "monitor_job_minutes": 20.0, "airflow_load": 1.0,
        "dns_queries_millions": 50.0, "key_age_months": 12.0, "serverless_busy_share": 0.25,
        "database_gb": 200.0, "database_backup_gb": 400.0, "service_busy_hours": 730.0, "service_requests_millions": 20.0,
        "table_write_millions": 1.0, "table_read_millions": 1.0, "table_storage_gb": 1.0,
    },
}


class UsageError(MlopsError):
    """An unknown profile or an invalid usage file."""


@dataclass(frozen=True)
class Usage:
    """The parameters of one run: a base profile, file-wide defaults and per-resource overrides."""

    profile: str
    defaults: dict[str, float]
    resources: dict[str, dict[str, float]] = field(default_factory=dict)
    source: str = ""

    def get(self, name: str, address: str, path: str) -> float:
        """Parameter ``name`` for the resource at ``address`` / construct ``path``."""
        best: tuple[int, float] | None = None
        for key, values in self.resources.items():
            if name in values and (key == address or path == key or path.startswith(key.rstrip("/") + "/")):
                if best is None or len(key) > best[0]:
                    best = (len(key), values[name])
        return best[1] if best else self.defaults[name]

    def overridden(self) -> list[str]:
        """One line per override of the usage file (to print with the assumptions)."""
        lines = [f"{k} = {v:g} (all resources)" for k, v in sorted(self.defaults.items())
                 if v != PROFILES[self.profile][k]]
        for key, values in sorted(self.resources.items()):
            lines += [f"{k} = {v:g} for {key}" for k, v in sorted(values.items())]
        return lines


def _numbers(values: Any, where: str) -> dict[str, float]:
    if not isinstance(values, dict):
        raise UsageError(f"{where}: expected a mapping of parameter: number")
    out = {}
    for name, value in values.items():
        if name not in PARAMETERS:
            raise UsageError(f"{where}.{name}: unknown parameter; use one of {', '.join(sorted(PARAMETERS))}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise UsageError(f"{where}.{name}: {value!r} is not a number >= 0")
        if name in ("spot_share", "endpoint_load", "airflow_load", "serverless_busy_share") and value > 1:
            raise UsageError(f"{where}.{name}: {value} is a share; use a number from 0 to 1")
        out[name] = float(value)
    return out


def load_usage(profile: str = "typical", path: str | Path | None = None) -> Usage:
    """The usage of a run: built-in ``profile``, or the file at ``path`` laid over its base profile."""
    if profile not in PROFILES:
        raise UsageError(f"--profile {profile!r}: use one of {', '.join(PROFILES)}")
    if path is None:
        return Usage(profile, dict(PROFILES[profile]))
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML or JSON ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping with profile, defaults and resources")
    unknown = sorted(set(data) - {"profile", "defaults", "resources"})
    if unknown:
        raise UsageError(f"{path}: unknown key(s) {', '.join(unknown)}; use profile, defaults and resources")
    base = data.get("profile", profile)
    if base not in PROFILES:
        raise UsageError(f"{path}: profile {base!r}: use one of {', '.join(PROFILES)}")
    defaults = {**PROFILES[base], **_numbers(data.get("defaults") or {}, f"{path}: defaults")}
    resources_ = data.get("resources") or {}
    if not isinstance(resources_, dict):
        raise UsageError(f"{path}: resources: expected a mapping of address or construct path: parameters")
    per = {str(k): _numbers(v, f"{path}: resources.{k}") for k, v in resources_.items()}
    return Usage(base, defaults, per, source=path.name)
