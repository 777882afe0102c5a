"""Props of the run side (serving, routing, monitoring, budgets), shared by clouds.

``*Settings`` models are what the spec's sections hold; ``*Props`` add the construct-level
fields. Cloud packages subclass the props only to add what a cloud needs.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from .props import EncryptionProps, Model

__all__ = [
    "BudgetProps",
    "BudgetSettings",
    "EndpointProps",
    "EndpointSettings",
    "MonitoringProps",
    "MonitoringSettings",
    "RoutingProps",
    "RoutingSettings",
    "ServerlessSettings",
    "ServingSettings",
]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ServerlessSettings(Model):
    """Serverless inference (AWS SageMaker serverless): scales to zero, pay per request."""

    memory_gib: Literal[1, 2, 3, 4, 5, 6] = Field(default=2, description="Memory per instance, GiB. Defaults to 2.")
    max_concurrency: int = Field(default=10, ge=1, le=200, description="Concurrent invocations. Defaults to 10.")


class EndpointSettings(Model):
    """One model-serving endpoint, deployed in every region of the spec."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$", description="Endpoint name.")
    machine_type: str | None = Field(
        default=None,
        description=(
            "Instance type. Defaults to None: AWS ml.m5.large (ml.g5.xlarge with gpu), Azure "
            "Standard_DS3_v2 (Standard_NC4as_T4_v3), GCP n2-standard-4 (g2-standard-8)."
        ),
    )
    gpu: bool = Field(default=False, description="GPU instances. Defaults to False.")
    min_instances: int = Field(default=1, ge=1, le=100, description="Instances always running (high availability: 2+). Defaults to 1.")
    max_instances: int = Field(default=4, ge=1, le=100, description="Autoscaling cap (a cost cap). Defaults to 4.")
    target_invocations_per_instance: int = Field(
        default=100, ge=1, description="Autoscaling target: invocations per instance per minute. Defaults to 100."
    )
    scale_in_cooldown_seconds: int = Field(default=300, ge=0, description="Wait after scaling in. Defaults to 300.")
    scale_out_cooldown_seconds: int = Field(default=60, ge=0, description="Wait after scaling out. Defaults to 60.")
    serverless: ServerlessSettings | None = Field(
        default=None, description="Serverless instead of instances (AWS only). Defaults to None."
    )
    data_capture_percent: int = Field(
        default=10, ge=0, le=100,
        description="Share of requests/responses captured to the data store for monitoring. Defaults to 10; 0 disables.",
    )
    placeholder_image: str | None = Field(
        default=None,
        min_length=3,
        description=(
            "Phase 1 of the two-phase deployment: a container image (registry/repository:tag) that "
            "serves before the first trained model exists, starting without model data. AWS and "
            "Azure only (a Vertex AI endpoint exists without a model). Defaults to None: the "
            "cloud's built-in placeholder (AWS: a scikit-learn placeholder model answering "
            "{\"placeholder\": true}; Azure: Microsoft's ASP.NET Core sample container; an image of "
            "your own must answer GET /healthz on port 8080 there)."
        ),
    )

    @model_validator(mode="after")
    def _scale(self) -> "EndpointSettings":
        if self.min_instances > self.max_instances:
            raise ValueError(f"min_instances ({self.min_instances}) must not exceed max_instances ({self.max_instances})")
        if self.serverless is not None and self.gpu:
            raise ValueError("serverless endpoints have no GPUs: remove gpu or serverless")
        return self


class ServingSettings(Model):
    """The spec's `serving` section."""

    endpoints: list[EndpointSettings] = Field(min_length=1, description="Endpoints, each deployed in every region.")

    @field_validator("endpoints")
    @classmethod
    def _unique(cls, endpoints: list[EndpointSettings]) -> list[EndpointSettings]:
        names = [e.name for e in endpoints]
        if len(set(names)) != len(names):
            raise ValueError(f"endpoint names must be unique, got {names}")
        return endpoints


class EndpointProps(EndpointSettings):
    """Props of an ``Endpoint`` construct (one region)."""

    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps, description="Key for endpoint volumes and captured data. Defaults to a new key, rotated every 90 days."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every resource. Defaults to none.")


class RoutingSettings(Model):
    """Global routing in front of the regional endpoints."""

    policy: Literal["latency", "failover", "geo"] = Field(
        default="latency",
        description="latency: nearest healthy region; failover: primary, then the next; geo: by caller location. Defaults to latency.",
    )
    domain: str = Field(
        min_length=4,
        max_length=253,
        pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        description="DNS zone the platform answers under, e.g. ml.example.com (created as a public zone).",
    )
    health_check_interval_seconds: Literal[10, 30] = Field(
        default=30, description="Health-check interval (10 costs more). Defaults to 30."
    )
    geo: dict[str, list[str]] | None = Field(
        default=None,
        description=(
            "policy geo, AWS and Azure: region -> the caller locations it answers, in the provider's "
            "codes. AWS (Route 53): continents AF AN AS EU NA OC SA, ISO country codes (DE), "
            "subdivisions (US-CA), * for everyone else. Azure (Traffic Manager): WORLD, GEO-AF "
            "GEO-AN GEO-AS GEO-AP GEO-EU GEO-ME GEO-NA GEO-SA, ISO country codes, states (US-CA). "
            "More specific codes win over continents. Each code once. Defaults to None: every "
            "continent goes to the first region on it (else to the region of the nearest "
            "continent) and everyone else to the primary; regions named here answer exactly their "
            "codes and the others share the rest. GCP takes none: Cloud DNS answers from the "
            "nearest region."
        ),
    )

    @field_validator("geo")
    @classmethod
    def _geo_codes(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is not None:
            for region, codes in value.items():
                if not codes:
                    raise ValueError(f"{region}: give at least one location code, or leave the region out")
        return value


class RoutingProps(RoutingSettings):
    """Props of a ``Routing`` construct."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$", description="Logical name.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every resource. Defaults to none.")


class MonitoringSettings(Model):
    """Alerts, dashboard, logs and model/data-quality monitoring."""

    alert_emails: list[str] = Field(min_length=1, description="Who receives alerts (email).")
    latency_p99_ms: int = Field(default=500, ge=1, description="Alert when endpoint p99 latency exceeds this. Defaults to 500 ms.")
    error_rate_percent: float = Field(default=1.0, gt=0, le=100, description="Alert when 5xx errors exceed this share. Defaults to 1%.")
    cpu_percent: int = Field(default=80, ge=1, le=100, description="Alert on sustained CPU above this. Defaults to 80%.")
    gpu_percent: int = Field(default=90, ge=1, le=100, description="Alert on sustained GPU above this. Defaults to 90%.")
    memory_percent: int = Field(default=85, ge=1, le=100, description="Alert on sustained memory above this. Defaults to 85%.")
    replication_lag_minutes: int = Field(default=15, ge=1, description="Alert when store replication lags more. Defaults to 15.")
    log_retention_days: int = Field(default=365, ge=1, le=3653, description="Log retention. Defaults to 365 days.")
    data_quality: bool = Field(
        default=True, description="Schedule data-quality monitoring on captured data where the cloud offers it. Defaults to True."
    )
    data_quality_baseline_uri: str | None = Field(
        default=None,
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        description=(
            "AWS only: S3 prefix holding the baseline constraints.json and statistics.json (from a "
            "suggest-baseline job of the training pipeline). Defaults to None: the data-quality "
            "jobs compute statistics of captured data only, without constraint checks, until a "
            "baseline is set (phase 2)."
        ),
    )

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        bad = [e for e in emails if not _EMAIL.match(e)]
        if bad:
            raise ValueError(f"not email addresses: {bad}")
        return emails


class MonitoringProps(MonitoringSettings):
    """Props of a ``Monitoring`` construct."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$", description="Logical name.")
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps, description="Key for the alert topic and logs. Defaults to a new key, rotated every 90 days."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added to every resource. Defaults to none.")


class BudgetSettings(Model):
    """A monthly cost budget with alerts to the alert target."""

    monthly_amount: float = Field(gt=0, description="Monthly budget in `currency`.")
    currency: Literal["USD", "EUR", "GBP"] = Field(default="USD", description="Budget currency. Defaults to USD.")
    thresholds_percent: list[int] = Field(
        default_factory=lambda: [80, 100], min_length=1,
        description="Alert at these shares of the amount (actual spend). Defaults to 80 and 100.",
    )

    @field_validator("thresholds_percent")
    @classmethod
    def _thresholds(cls, values: list[int]) -> list[int]:
        if any(v <= 0 or v > 1000 for v in values) or len(set(values)) != len(values):
            raise ValueError("thresholds_percent must be distinct percentages between 1 and 1000")
        return sorted(values)


class BudgetProps(BudgetSettings):
    """Props of a ``Budget`` construct."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$", description="Logical name.")
    tags: dict[str, str] = Field(default_factory=dict, description="Tags added where the budget resource takes them.")
