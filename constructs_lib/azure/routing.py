"""Global routing on Azure: one Traffic Manager profile per logical endpoint, with an HTTPS health
probe of every regional endpoint, and a public DNS zone for ``domain`` with a CNAME per endpoint.

Why Traffic Manager and not Front Door: Azure ML managed online endpoints cannot be a Front Door
Private Link origin, and Front Door counts only HTTP 200 as a healthy probe, while an endpoint with
Entra ID auth answers an anonymous probe with 401 — every origin would look unhealthy and failover
would never happen. Traffic Manager accepts configured status ranges, maps the three policies
directly (``failover`` → Priority, ``latency`` → Performance, ``geo`` → Geographic) and costs
cents. Its limits are documented in ``docs/azure-run.md``:

* DNS-level routing: clients resolve ``<endpoint>.<domain>`` (CNAME → Traffic Manager → the
  healthy region's ``<endpoint>.<region>.inference.ml.azure.com``). Azure ML endpoints have no
  custom domains or certificates, so clients call the canonical regional host name that the CNAME
  chain ends in (TLS is validated against it), e.g. ``socket.getaddrinfo(..., flags=AI_CANONNAME)``.
* The probe (``GET https://<regional host>/``, :data:`HEALTHY_STATUS_RANGES`) proves that the
  regional inference front end serves the endpoint over TLS and enforces Entra auth (401); it does
  not call the model — model health is watched by :class:`~constructs_lib.azure.monitoring.Monitoring`.
* Endpoints must accept public traffic (``EndpointProps.public_network_access``): probes and
  clients come from the internet. :class:`Routing` refuses private endpoints.

What is created (construct ids in brackets): ``azurerm_dns_zone`` [Zone] (unless ``zone`` is
given), per logical endpoint an ``azurerm_traffic_manager_profile`` [Resource-<name>] (the first
one is also ``resource``), an ``azurerm_traffic_manager_external_endpoint`` [Endpoint-<name>-<region>]
per region, and an ``azurerm_dns_cname_record`` [Record-<name>].

Geo policy (Geographic method): every region answers the geographic codes of
:func:`~constructs_lib.core.regions.geo_mapping` — by default each Traffic Manager region (GEO-EU,
GEO-NA, ...) goes to the first spec region on it, else to the region of the nearest continent, and
``WORLD`` (everyone not mapped elsewhere) to the primary; ``props.geo`` (the spec's ``routing.geo``)
gives regions exact codes. Every code is answered once, so any set of regions works. A region on a
continent an earlier region already answers gets no codes by default and therefore no Traffic
Manager endpoint (Traffic Manager needs codes on every endpoint of a Geographic profile): give it
countries in ``routing.geo`` (e.g. ``northeurope: [IE, GB]``) to route callers there. The mapping
is ``geo`` (logical endpoint -> region -> codes).

Failover time (the serving RTO): ``interval × (tolerated failures + 1) + DNS TTL`` — with the
defaults (30 s, 3, TTL 30 s) 150 s, reported as 3 minutes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.naming import bucket_name, short_hash
from ..core.recovery import Recovery
from ..core.regions import continent_of, geo_code_problem, geo_mapping, traffic_manager_code
from ..core.resource import Resource
from ..core.run_props import RoutingProps as _CoreRoutingProps
from ._common import attr

if TYPE_CHECKING:
    from .serving import Endpoint

__all__ = [
    "DNS_TTL_SECONDS",
    "HEALTHY_STATUS_RANGES",
    "ROUTING_METHODS",
    "TOLERATED_FAILURES",
    "Routing",
    "RoutingProps",
    "continent",
    "failover_minutes",
]

#: spec policy -> Traffic Manager routing method.
ROUTING_METHODS = {"failover": "Priority", "latency": "Performance", "geo": "Geographic"}
#: Probe answers that count as healthy: success, or 401 from Entra auth (the front end is up).
HEALTHY_STATUS_RANGES = ["200-299", "401-401"]
#: Failed probes tolerated before a region is taken out.
TOLERATED_FAILURES = 3
#: TTL of the Traffic Manager answers and the CNAME records.
DNS_TTL_SECONDS = 30

def continent(region: str) -> str:
    """The Traffic Manager geographic region code of ``region``'s continent (``GEO-EU`` ...; see
    :mod:`constructs_lib.core.regions`)."""
    return traffic_manager_code(continent_of("azure", region))


def failover_minutes(interval_seconds: int, timeout_failures: int = TOLERATED_FAILURES, ttl: int = DNS_TTL_SECONDS) -> int:
    """Minutes until clients reach another region: probes to detect, then cached answers expire."""
    return math.ceil((interval_seconds * (timeout_failures + 1) + ttl) / 60)


class RoutingProps(_CoreRoutingProps):
    """The shared routing props plus where the zone lives and geographic overrides."""

    resource_group_name: str = Field(description="Resource group of the DNS zone and Traffic Manager profiles.")

    @field_validator("resource_group_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class Routing(MlopsConstruct):
    """Health-checked global routing over regional :class:`~constructs_lib.azure.serving.Endpoint`
    instances (see the module docstring).

    ``endpoints``: every regional endpoint to route to, possibly of several logical endpoints; each
    logical endpoint (``props.name`` of its endpoint) gets its own profile and host name, with at
    most one endpoint per region. ``zone``: an existing ``azurerm_dns_zone`` (e.g. from another
    :class:`Routing`) instead of creating one.

    Attributes:
        resource: the first profile. ``profiles``: logical endpoint -> profile.
        records: region -> ``azurerm_traffic_manager_external_endpoint`` (of the first logical
            endpoint); ``records_by_endpoint``: logical endpoint -> region -> external endpoint.
        health_checks: region -> the external endpoint carrying that region's probe status (the
            probe itself is the profile's ``monitor_config``).
        dns_records: logical endpoint -> ``azurerm_dns_cname_record``.
        domain: the DNS zone. ``hosts`` / ``hostnames``: logical endpoint -> ``<endpoint>.<domain>``.
        zone: the ``azurerm_dns_zone`` (created or given); ``name_servers``: its name servers
            (delegate ``domain`` to them).
        recovery: :class:`Recovery` of serving: RPO None (no data), RTO = :func:`failover_minutes`.
    """

    props_type = RoutingProps
    props_hint = "resource_group_name"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: RoutingProps,
        *,
        endpoints: "Sequence[Endpoint]",
        zone: Resource | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not endpoints:
            raise ConstructError(self.node.path, "routing needs at least one endpoint")
        groups: dict[str, list[Endpoint]] = {}
        for ep in endpoints:
            group = groups.setdefault(ep.props.name, [])
            if any(other.region == ep.region for other in group):
                raise ConstructError(self.node.path, f"two endpoints {ep.props.name!r} in region {ep.region!r}")
            group.append(ep)
        for ep in endpoints:
            if not ep.props.public_network_access:
                raise ConstructError(
                    self.node.path,
                    f"endpoint {ep.node.path} is private (public_network_access: "
                    "false); Traffic Manager probes and clients come from the internet, so routed "
                    "endpoints need public_network_access=True (Entra ID auth still applies)"
                )
        rg = props.resource_group_name
        self.domain: str = props.domain
        self.zone = zone or Resource(
            self, "Zone", "azurerm_dns_zone", provider=provider, name=props.domain, resource_group_name=rg,
        )
        self.name_servers: list[str] = self.zone.ref_list("name_servers")
        method = ROUTING_METHODS[props.policy]
        interval = props.health_check_interval_seconds
        self.profiles: dict[str, Resource] = {}
        self.records_by_endpoint: dict[str, dict[str, Resource]] = {}
        self.dns_records: dict[str, Resource] = {}
        self.hosts: dict[str, str] = {}
        self.hostnames: dict[str, str] = self.hosts
        rto = failover_minutes(interval)
        #: logical endpoint -> region -> Traffic Manager codes it answers (geo policy only).
        self.geo: dict[str, dict[str, list[str]]] = {}
        for logical, group in groups.items():
            geo = self._geo(logical, [e.region for e in group]) if props.policy == "geo" else {}
            if geo:
                self.geo[logical] = dict(geo)
            relative = bucket_name(props.name, logical, max_length=56) + "-" + short_hash(props.domain, logical)
            profile = Resource(
                self,
                f"Resource-{logical}",
                "azurerm_traffic_manager_profile",
                provider=provider,
                name=f"tm-{bucket_name(props.name, logical, max_length=60)}",
                resource_group_name=rg,
                traffic_routing_method=method,
                traffic_view_enabled=False,
                dns_config={"relative_name": relative, "ttl": DNS_TTL_SECONDS},
                monitor_config={
                    "protocol": "HTTPS",
                    "port": 443,
                    "path": "/",
                    "interval_in_seconds": interval,
                    "timeout_in_seconds": 9 if interval == 10 else 10,
                    "tolerated_number_of_failures": TOLERATED_FAILURES,
                    "expected_status_code_ranges": HEALTHY_STATUS_RANGES,
                },
            )
            self.profiles[logical] = profile
            regional: dict[str, Resource] = {}
            for priority, ep in enumerate(group, start=1):
                if geo and not geo[ep.region]:
                    continue  # answers no location (another region has its continent): no entry
                regional[ep.region] = Resource(
                    self,
                    f"Endpoint-{logical}-{ep.region}",
                    "azurerm_traffic_manager_external_endpoint",
                    provider=provider,
                    name=ep.region,
                    profile_id=attr(profile, "id"),
                    target=ep.host,
                    enabled=True,
                    priority=priority if method == "Priority" else None,
                    endpoint_location=ep.region if method == "Performance" else None,
                    geo_mappings=geo.get(ep.region),
                )
            for ep in group:
                others = [e.region for e in group if e is not ep]
                ep.recovery = Recovery(rpo_minutes=None, rto_minutes=rto, replica_region=others[0] if others else None)
            self.records_by_endpoint[logical] = regional
            self.dns_records[logical] = Resource(
                self,
                f"Record-{logical}",
                "azurerm_dns_cname_record",
                provider=provider,
                name=logical,
                zone_name=attr(self.zone, "name"),
                resource_group_name=rg,
                ttl=DNS_TTL_SECONDS,
                target_resource_id=attr(profile, "id"),
            )
            self.hosts[logical] = f"{logical}.{props.domain}"
        first = next(iter(groups))
        self.resource = self.profiles[first]
        self.records: dict[str, Resource] = dict(self.records_by_endpoint[first])
        self.health_checks: dict[str, Resource] = dict(self.records)
        regions = [e.region for e in groups[first]]
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=rto, replica_region=regions[1] if len(regions) > 1 else None)

    def _geo(self, logical: str, regions: list[str]) -> Mapping[str, list[str]]:
        """Region -> geographic codes of ``logical``'s profile: :func:`~constructs_lib.core.regions.geo_mapping`
        of ``props.geo`` (checked against Traffic Manager's codes; each code once)."""
        given = {r: codes for r, codes in (self.props.geo or {}).items() if r in regions}
        seen: dict[str, str] = {}
        for region, codes in given.items():
            for code in codes:
                problem = geo_code_problem("azure", code)
                if problem or code in seen:
                    raise ConstructError(
                        self.node.path,
                        f"geo.{region} of {logical!r}: "
                        f"{problem or f'{code!r} is already answered by {seen[code]}'}"
                    )
                seen[code] = region
        return geo_mapping("azure", regions, given)
