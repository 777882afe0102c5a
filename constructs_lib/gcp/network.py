"""A private VPC network for ML workloads on GCP.

``Network`` is the GCP member of the ``Network`` family (same class name and public attributes on
AWS and Azure). From one :class:`NetworkProps` it emits, unless ``props.existing`` is given:

* ``google_compute_network`` (child ``Resource``): custom-mode (``auto_create_subnetworks =
  false``), regional routing, default internet routes kept for Cloud NAT egress;
* ``google_compute_subnetwork`` (child ``Subnet``): one regional subnet carved from ``cidr`` with
  Private Google Access (Google APIs without public IPs), flow logs (``log_config``, 5-second
  aggregation, 50 % sampling, all metadata) when ``flow_logs``, and two secondary ranges for GKE
  pods and services;
* ``google_compute_router`` + ``google_compute_router_nat`` (children ``Router``, ``Nat``): egress
  to the internet (package mirrors, SaaS trackers) for nodes without public IPs; NAT logging of
  errors and translations;
* ``google_compute_firewall`` (child ``DenyIngress``): deny all ingress at the lowest priority
  (65534), logged. Nothing is opened: GKE adds the rules its control plane and pods need, and SSH
  is not allowed (use ``gcloud compute ssh --tunnel-through-iap`` after adding a rule yourself if
  you must). Egress is left to the implied allow rule and leaves through Cloud NAT only, since no
  node has an external IP;
* with ``flow_logs``, a regional Cloud Logging bucket (child ``FlowLogBucket``) that keeps flow
  logs for ``flow_log_retention_days`` and a sink (child ``FlowLogSink``) that routes the subnet's
  flow logs into it (the ``_Default`` bucket keeps its own 30-day copy).

Address plan of ``cidr`` (e.g. 10.40.0.0/16): the upper half is the pod range (``pods``,
10.40.128.0/17: 128 nodes at 110 pods each), the first eighth the node subnet (10.40.0.0/19), the
second eighth the service range (``services``, 10.40.32.0/19) and the first /28 of the third eighth
the GKE control-plane range (10.40.64.0/28), which no subnet may overlap.
"""

from __future__ import annotations

import ipaddress

from pydantic import Field, model_validator

from ..core import build_props, engine
from ..core.construct import MlopsConstruct
from ..core.resource import Resource
from ._common import PROJECT_PATTERN, REGION_PATTERN, require_services

__all__ = ["Network", "NetworkProps", "address_plan"]

_FLOW_LOG_SAMPLING = 0.5


def address_plan(cidr: str) -> dict[str, str]:
    """The ranges carved from ``cidr``: ``nodes``, ``services``, ``pods`` and ``control_plane``."""
    net = ipaddress.ip_network(cidr)
    low, high = net.subnets(prefixlen_diff=1)
    eighths = list(low.subnets(prefixlen_diff=2))
    control = next(eighths[2].subnets(new_prefix=28))
    return {
        "nodes": str(eighths[0]),
        "services": str(eighths[1]),
        "pods": str(high),
        "control_plane": str(control),
    }


class NetworkProps(build_props.NetworkProps):
    """GCP network props: the shared :class:`~constructs_lib.core.build_props.NetworkProps` plus the
    project and region. ``zones`` is accepted for parity and unused: GCP subnets are regional."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the network.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of the subnet, router and NAT (e.g. 'us-central1').")
    pods_range_name: str = Field(
        default="pods",
        pattern=r"^[a-z][a-z0-9-]{0,62}$",
        description=(
            "Name of the subnet's secondary range for GKE pods. Defaults to 'pods'. With `existing`, "
            "the given subnet must already have a secondary range of this name."
        ),
    )
    services_range_name: str = Field(
        default="services",
        pattern=r"^[a-z][a-z0-9-]{0,62}$",
        description="Name of the secondary range for GKE services. Defaults to 'services' (same rule as pods).",
    )
    control_plane_cidr: str | None = Field(
        default=None,
        description=(
            "A /28 for the private GKE control plane. Defaults to None: the first /28 of the third "
            "eighth of `cidr` (10.40.64.0/28 for 10.40.0.0/16). Required with `existing`."
        ),
    )

    @model_validator(mode="after")
    def _gcp_rules(self) -> "NetworkProps":
        if self.control_plane_cidr is not None:
            try:
                cp = ipaddress.ip_network(self.control_plane_cidr)
            except ValueError:
                raise ValueError(f"control_plane_cidr {self.control_plane_cidr!r} is not a /28 like 172.16.0.0/28") from None
            if cp.prefixlen != 28 or not cp.is_private:
                raise ValueError(f"control_plane_cidr {self.control_plane_cidr!r} must be a private /28")
        elif self.existing is not None:
            raise ValueError(
                "existing networks need control_plane_cidr: a private /28 that overlaps no subnet "
                "of the network, for the GKE control plane"
            )
        if self.existing is not None and len(self.existing.subnet_ids) != 1:
            raise ValueError(
                "existing.subnet_ids must name exactly one subnetwork on GCP (subnets are regional)"
            )
        return self


class Network(MlopsConstruct):
    """A private custom-mode VPC with one regional subnet, Cloud NAT and a deny-all ingress rule.

    Defaults (from :class:`NetworkProps`): 10.40.0.0/16 split as in the module docstring; flow logs
    on, kept 90 days in a dedicated log bucket; no SSH or other ingress; egress only through Cloud
    NAT.

    Public attributes (same names on every cloud):

    * ``network_id`` — token (or the supplied id) of the network id;
    * ``private_subnet_ids`` — list with the subnetwork id (token or supplied);

    and GCP extras: ``resource`` (the network, None with ``existing``), ``subnet``, ``router``,
    ``nat``, ``firewall`` (None with ``existing``), ``project``, ``location``,
    ``pods_range_name``, ``services_range_name``, ``control_plane_cidr``, ``master_authorized_cidr``
    (the node range, allowed to reach the private control plane; with ``existing``: ``cidr``, so
    set ``cidr`` to the existing subnet's range), ``plan`` (the address plan).
    """

    props_type = NetworkProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: NetworkProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self.project = props.project
        self.location = props.location
        self.pods_range_name = props.pods_range_name
        self.services_range_name = props.services_range_name
        self.plan = address_plan(props.cidr)
        self.control_plane_cidr = props.control_plane_cidr or self.plan["control_plane"]
        self.resource: Resource | None = None
        self.subnet: Resource | None = None
        self.router: Resource | None = None
        self.nat: Resource | None = None
        self.firewall: Resource | None = None
        self.flow_log_bucket: Resource | None = None

        if props.existing is not None:
            self.network_id: str = props.existing.network_id
            self.private_subnet_ids: list[str] = list(props.existing.subnet_ids)
            self.master_authorized_cidr = props.cidr
            return

        deps = require_services(self, props.project, ["compute.googleapis.com"], provider=provider)
        self.resource = Resource(
            self,
            "Resource",
            "google_compute_network",
            provider=provider,
            depends_on=deps,
            name=props.name,
            project=props.project,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            description="Private network for ML workloads (cdktf-mlops)",
        )
        log_config = None
        if props.flow_logs:
            log_config = {
                "aggregation_interval": "INTERVAL_5_SEC",
                "flow_sampling": _FLOW_LOG_SAMPLING,
                "metadata": "INCLUDE_ALL_METADATA",
            }
        subnet_name = f"{props.name}-{props.location}"[:63]
        self.subnet = Resource(
            self,
            "Subnet",
            "google_compute_subnetwork",
            provider=provider,
            name=subnet_name,
            project=props.project,
            region=props.location,
            network=self.resource.ref("id"),
            ip_cidr_range=self.plan["nodes"],
            private_ip_google_access=True,
            stack_type="IPV4_ONLY",
            secondary_ip_range=[
                {"range_name": props.pods_range_name, "ip_cidr_range": self.plan["pods"]},
                {"range_name": props.services_range_name, "ip_cidr_range": self.plan["services"]},
            ],
            log_config=log_config,
        )
        self.router = Resource(
            self,
            "Router",
            "google_compute_router",
            provider=provider,
            name=f"{props.name}-router",
            project=props.project,
            region=props.location,
            network=self.resource.ref("id"),
        )
        self.nat = Resource(
            self,
            "Nat",
            "google_compute_router_nat",
            provider=provider,
            name=f"{props.name}-nat",
            project=props.project,
            region=props.location,
            router=self.router.ref("name"),
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="LIST_OF_SUBNETWORKS",
            subnetwork=[{"name": self.subnet.ref("id"), "source_ip_ranges_to_nat": ["ALL_IP_RANGES"]}],
            enable_endpoint_independent_mapping=False,
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
        )
        self.firewall = Resource(
            self,
            "DenyIngress",
            "google_compute_firewall",
            provider=provider,
            name=f"{props.name}-deny-ingress",
            project=props.project,
            network=self.resource.ref("id"),
            description="Deny all ingress not allowed by a higher-priority rule (cdktf-mlops)",
            direction="INGRESS",
            priority=65534,
            source_ranges=["0.0.0.0/0"],
            deny=[{"protocol": "all"}],
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
        )
        if props.flow_logs:
            self.flow_log_bucket = Resource(
                self,
                "FlowLogBucket",
                "google_logging_project_bucket_config",
                provider=provider,
                project=props.project,
                location=props.location,
                bucket_id=f"{props.name}-flow-logs"[:100],
                retention_days=props.flow_log_retention_days,
                description="VPC flow logs of the ML network (cdktf-mlops)",
            )
            Resource(
                self,
                "FlowLogSink",
                "google_logging_project_sink",
                provider=provider,
                project=props.project,
                name=f"{props.name}-flow-logs",
                destination=(
                    f"logging.googleapis.com/projects/{props.project}/locations/{props.location}"
                    f"/buckets/{props.name}-flow-logs"
                ),
                filter=(
                    'log_id("compute.googleapis.com/vpc_flows") AND resource.type="gce_subnetwork" '
                    f'AND resource.labels.subnetwork_name="{subnet_name}"'
                ),
                unique_writer_identity=True,
                depends_on=[self.flow_log_bucket],
            )

        self.network_id = self.resource.ref("id")
        self.private_subnet_ids = [self.subnet.ref("id")]
        self.master_authorized_cidr = self.plan["nodes"]

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Network({self.node.path!r}, location={self.location!r})"
