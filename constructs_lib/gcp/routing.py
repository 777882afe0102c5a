"""Global routing on GCP: a public Cloud DNS zone with routing policies over the regional endpoints.

``Routing`` is the GCP member of the ``Routing`` family (same class name and public attributes on
AWS and Azure). From one :class:`RoutingProps` and the regional
:class:`~constructs_lib.gcp.serving.Endpoint` objects it emits:

* ``google_dns_managed_zone`` (child ``Resource``): public zone for ``domain`` with DNSSEC on
  (NSEC3, RSASHA256 2048-bit key-signing and 1024-bit zone-signing keys) and query logging;
  ``force_destroy = false``. Delegate the domain to the zone's name servers and add the DS record
  at the parent (``gcloud dns dns-keys list``);
* per endpoint name one ``google_dns_record_set`` (``records[region]`` is the same record for every
  region it covers) ``<dns_label>.<domain>`` of type CNAME, TTL 60 s, whose routing policy holds
  one item per region pointing at that region's dedicated endpoint host:

  * ``latency`` → a ``geo`` policy, one item per region without geo-fencing: Cloud DNS answers
    with the region nearest to the caller (Cloud DNS has no latency policy; nearest region is its
    proxy for lowest latency);
  * ``geo`` → the same ``geo`` policy with ``enable_geo_fencing = true``: callers are always
    answered with their nearest region, never another one;
  * ``failover`` → a weighted (``wrr``) policy, weight 1 on the primary region (the first
    endpoint) and 0 on the others: all traffic goes to the primary; failing over sets the weights
    the other way round (``docs/gcp-run.md`` has the command);

* per region a ``google_monitoring_uptime_check_config`` (``health_checks[region]``) on the
  endpoint's ``health_target``: HTTPS with certificate validation every 60 s from three checker
  regions; any 2xx or 4xx answer (the predict URL answers 401 without a token, and 400 before the
  first model is deployed) counts as up, while 5xx, TLS errors and timeouts count as down. The
  check proves the region's serving front end answers; whether the model answers well is what the
  monitoring alarms watch (errors, latency, invocations).

Why the records are not health-checked by Cloud DNS itself: Cloud DNS health-checked routing
policies (``health_checked_targets``) take only IP addresses of load balancers or external
endpoints, and a Vertex AI endpoint is a Google-managed host name without a stable IP. The uptime
checks therefore drive an alert (``Monitoring.watch_routing``) and the switch is a record update.
A global external Application Load Balancer cannot put Vertex AI behind health checks either
(internet NEGs are not health-checked, serverless NEGs do not take Vertex AI). Health-check
interval: Cloud Monitoring's shortest uptime period is 60 s, so both allowed
``health_check_interval_seconds`` values (10, 30) give 60 s checks.

TLS: the record is a CNAME to the Vertex AI host, whose certificate names that host, not
``domain``. Callers resolve ``<endpoint>.<domain>`` and call the host it points to (the
``endpoint_host`` helper in ``docs/gcp-run.md``), with an OAuth token as for any Vertex AI call.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError, ConstructTypeError
from ..core.recovery import Recovery
from ..core.resource import Resource
from ..core.run_props import RoutingProps as CoreRoutingProps
from ..core.tags import gcp_labels
from ._common import PROJECT_PATTERN, require_services
from .serving import DETECTION_SECONDS, RECORD_TTL_SECONDS, UPTIME_PERIOD_SECONDS, Endpoint

__all__ = ["CHECKER_REGIONS", "Routing", "RoutingProps"]

CHECKER_REGIONS: tuple[str, ...] = ("USA", "EUROPE", "ASIA_PACIFIC")
"""Uptime checker regions (Cloud Monitoring needs at least three)."""
_UPTIME_TIMEOUT = "10s"


class RoutingProps(CoreRoutingProps):
    """GCP routing props: the shared :class:`~constructs_lib.core.run_props.RoutingProps` plus the
    project that holds the zone and the uptime checks."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the DNS zone and uptime checks.")


class Routing(MlopsConstruct):
    """A public, DNSSEC-signed Cloud DNS zone routing each endpoint name to its regional endpoints.

    Public attributes (same names on every cloud):

    * ``resource`` — the ``google_dns_managed_zone`` :class:`Resource`;
    * ``domain`` — the zone's domain (without the trailing dot);
    * ``records`` — region -> the ``google_dns_record_set`` covering that region (one record per
      endpoint name; with several endpoint names, the first one's: see ``records_by_endpoint``);
    * ``health_checks`` — region -> ``google_monitoring_uptime_check_config`` (the first endpoint
      name's; all in ``health_checks_by_endpoint``);

    * ``hostnames`` — host label (each endpoint's ``dns_label``: the spec's endpoint name on a
      platform stack) -> the global FQDN callers use;
    * ``name_servers`` — token of the zone's name servers (delegate the domain to them);
    * ``recovery`` — :class:`Recovery` of serving when the first endpoint's region is lost: the
      next region of that endpoint and the RTO of :mod:`~constructs_lib.gcp.serving` (detection
      plus record TTL); RTO ``None`` with one region (nothing to fail over to);

    and GCP extras: ``records_by_endpoint`` (endpoint name -> record), ``health_checks_by_endpoint``
    (endpoint name -> region -> uptime check), ``covered`` (endpoint name -> regions), ``policy``,
    ``primary_region``, ``period_seconds``.
    """

    props_type = RoutingProps
    props_hint = "project"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: RoutingProps,
        *,
        endpoints: Sequence[Endpoint],
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        endpoints = list(endpoints)
        if not endpoints:
            raise ConstructError(self.node.path, "endpoints is empty; routing needs at least one Endpoint")
        for e in endpoints:
            if not isinstance(e, Endpoint):
                raise ConstructTypeError(self.node.path, "endpoints must be constructs_lib.gcp.Endpoint objects")
            if e.health_target is None:
                raise ConstructError(
                    self.node.path,
                    f"endpoint {e.node.path} is private (network=...); public "
                    "routing needs public endpoints"
                )
        by_name: dict[str, dict[str, Endpoint]] = {}
        labels: dict[str, str] = {}
        for e in endpoints:
            regions = by_name.setdefault(e.endpoint_name, {})
            if e.region in regions:
                raise ConstructError(self.node.path, f"two endpoints named {e.endpoint_name!r} in {e.region}")
            regions[e.region] = e
            if labels.setdefault(e.dns_label, e.endpoint_name) != e.endpoint_name:
                raise ConstructError(
                    self.node.path,
                    f"endpoints {labels[e.dns_label]!r} and {e.endpoint_name!r} both have the host label "
                    f"{e.dns_label!r}; give them different dns_label values (one name per endpoint)",
                )

        project = props.project
        self.domain = props.domain
        self.policy = props.policy
        self.primary_region = endpoints[0].region
        self.period_seconds = UPTIME_PERIOD_SECONDS
        deps = require_services(self, project, ["dns.googleapis.com", "monitoring.googleapis.com"], provider=provider)
        self.resource = Resource(
            self,
            "Resource",
            "google_dns_managed_zone",
            provider=provider,
            depends_on=deps,
            project=project,
            name=props.name,
            dns_name=f"{props.domain}.",
            description=f"Serving endpoints of {props.name} (cdktf-mlops)",
            visibility="public",
            force_destroy=False,
            labels=gcp_labels(props.tags) or None,
            dnssec_config={
                "state": "on",
                "non_existence": "nsec3",
                "default_key_specs": [
                    {"algorithm": "rsasha256", "key_length": 2048, "key_type": "keySigning", "kind": "dns#dnsKeySpec"},
                    {"algorithm": "rsasha256", "key_length": 1024, "key_type": "zoneSigning", "kind": "dns#dnsKeySpec"},
                ],
            },
            cloud_logging_config={"enable_logging": True},
        )
        self.name_servers: list[str] = self.resource.ref_list("name_servers")

        self.records_by_endpoint: dict[str, Resource] = {}
        self.health_checks_by_endpoint: dict[str, dict[str, Resource]] = {}
        self.hostnames: dict[str, str] = {}
        for name, regional in by_name.items():
            dns_label = next(iter(regional.values())).dns_label
            fqdn = f"{dns_label}.{props.domain}"
            self.hostnames[dns_label] = fqdn
            label = _title(name)
            self.records_by_endpoint[name] = Resource(
                self,
                f"Record{label}",
                "google_dns_record_set",
                provider=provider,
                project=project,
                managed_zone=self.resource.ref("name"),
                name=f"{fqdn}.",
                type="CNAME",
                ttl=RECORD_TTL_SECONDS,
                routing_policy=self._policy(list(regional.values())),
            )
            checks: dict[str, Resource] = {}
            for region, e in regional.items():
                checks[region] = Resource(
                    self,
                    f"Health{label}{_title(region)}",
                    "google_monitoring_uptime_check_config",
                    provider=provider,
                    depends_on=deps,
                    project=project,
                    display_name=f"{name} {region} serving front end",
                    period=f"{UPTIME_PERIOD_SECONDS}s",
                    timeout=_UPTIME_TIMEOUT,
                    selected_regions=list(CHECKER_REGIONS),
                    checker_type="STATIC_IP_CHECKERS",
                    log_check_failures=True,
                    user_labels=gcp_labels({"endpoint": name, "region": region}),
                    monitored_resource={
                        "type": "uptime_url",
                        "labels": {"project_id": project, "host": e.host},
                    },
                    http_check={
                        "path": e.health_path,
                        "port": 443,
                        "use_ssl": True,
                        "validate_ssl": True,
                        "request_method": "GET",
                        "accepted_response_status_codes": [
                            {"status_class": "STATUS_CLASS_2XX"},
                            {"status_class": "STATUS_CLASS_4XX"},
                        ],
                    },
                )
            self.health_checks_by_endpoint[name] = checks

        first = next(iter(by_name))
        self.records: dict[str, Resource] = {}
        for name, regional in by_name.items():
            for region in regional:
                self.records.setdefault(region, self.records_by_endpoint[name])
        self.health_checks: dict[str, Resource] = dict(self.health_checks_by_endpoint[first])
        self.covered: dict[str, list[str]] = {name: list(regional) for name, regional in by_name.items()}
        self.recovery = _recovery(list(by_name[first].values()))

    def _policy(self, regional: list[Endpoint]) -> dict[str, Any]:
        def target(e: Endpoint) -> list[str]:
            return [f"{e.host}."]

        if self.policy == "failover":
            return {
                "wrr": [
                    {"weight": 1 if e.region == self.primary_region else 0, "rrdatas": target(e)}
                    for e in regional
                ]
            }
        return {
            "enable_geo_fencing": self.policy == "geo",
            "geo": [{"location": e.region, "rrdatas": target(e)} for e in regional],
        }

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Routing({self.node.path!r}, domain={self.domain!r})"


def _recovery(regional: list[Endpoint]) -> Recovery:
    """Recovery of serving behind the routing when the first region is lost: callers move to the
    next region of the first endpoint name after detection and the record TTL (RPO: no data)."""
    if len(regional) < 2:
        return Recovery(rpo_minutes=None, rto_minutes=None)
    rto = math.ceil((DETECTION_SECONDS + RECORD_TTL_SECONDS) / 60)
    return Recovery(rpo_minutes=None, rto_minutes=rto, replica_region=regional[1].region)


def _title(name: str) -> str:
    return "".join(p.capitalize() for p in name.replace("_", "-").split("-"))
