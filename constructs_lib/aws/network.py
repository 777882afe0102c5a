"""A private network for ML workloads: a VPC with private subnets only, reached through endpoints.

What ``Network`` builds, with every default (``props.existing`` unset):

* an ``aws_vpc`` (the construct's ``resource``) of ``props.cidr`` with DNS support and DNS host
  names on (interface endpoints with private DNS need both);
* one private ``aws_subnet`` per zone, ``props.zones`` of them, in ``zone_names`` (the platform
  passes ``<region>a``, ``<region>b``, ``<region>c``) or else the first available zones of the
  region (``data.aws_availability_zones``, opt-in zones excluded); CIDRs are the first /20 blocks of ``props.cidr`` (smaller ranges are split
  in four); ``map_public_ip_on_launch = false``;
* one route table without any route to the internet (no internet gateway, no NAT gateway: nothing
  in the network can reach or be reached from the internet) associated with every subnet;
* an S3 *gateway* endpoint on that route table (free), so training reads and writes S3 privately;
* an *interface* endpoint with private DNS for every service of ``interface_endpoints`` (default
  :data:`DEFAULT_INTERFACE_ENDPOINTS`: SageMaker API, runtime and MLflow, ECR API and registry,
  ECS agent services for Batch hosts, STS, CloudWatch Logs, Secrets Manager), in every subnet,
  behind one security group that allows HTTPS (443) from the VPC CIDR only and nothing else;
* the VPC's default security group locked down (``aws_default_security_group`` with no rule), so a
  resource that forgets its security group gets no traffic at all;
* with ``props.flow_logs`` (default): VPC flow logs of ALL traffic to a CloudWatch Logs group
  ``/aws/vpc/flow-logs/<name>`` kept ``props.flow_log_retention_days`` days and encrypted with a new
  customer-managed key (rotation on; the key policy lets only CloudWatch Logs of this region use it
  for that log group), written through a role that can only write to that group.

With ``props.existing`` the construct creates no VPC or subnets: it looks the VPC up
(``data.aws_vpc``) and creates the endpoint security group and the interface endpoints in the given
subnets (set ``interface_endpoints=[]`` when the network already has them: two endpoints with
private DNS for one service conflict), plus the S3 gateway endpoint when
``existing_route_table_ids`` names the subnets' route tables. Flow logs are created for the
existing VPC when ``flow_logs`` is on.

Cost: interface endpoints are billed per endpoint, per zone and hour (about USD 7.3 a month each
in us-east-1): the default 11 endpoints in 2 zones cost about USD 160 a month. Trim
``interface_endpoints`` for a small environment. The gateway endpoint is free.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from pydantic import Field, field_validator

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.build_props import NetworkProps as CoreNetworkProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.props import KeyProps
from ..core.resource import DataSource, Resource
from . import _iam
from ._iam import allow, ref, region_of_arn
from .keys import Key

__all__ = ["DEFAULT_INTERFACE_ENDPOINTS", "Network", "NetworkProps"]

#: Interface endpoints created by default: what SageMaker training, Batch hosts (ECS agent, image
#: pulls, logs), MLflow tracking and tracker secrets need without an internet path.
DEFAULT_INTERFACE_ENDPOINTS: tuple[str, ...] = (
    "ecr.api",
    "ecr.dkr",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "logs",
    "sagemaker.api",
    "sagemaker.experiments",
    "sagemaker.runtime",
    "secretsmanager",
    "sts",
)


class NetworkProps(CoreNetworkProps):
    """Core :class:`~constructs_lib.core.build_props.NetworkProps` plus AWS-only fields."""

    interface_endpoints: list[str] = Field(
        default_factory=lambda: list(DEFAULT_INTERFACE_ENDPOINTS),
        description=(
            "Services (`com.amazonaws.<region>.<service>`) that get an interface endpoint with "
            "private DNS. Defaults to DEFAULT_INTERFACE_ENDPOINTS (11 services)."
        ),
    )
    zone_names: list[str] = Field(
        default_factory=list,
        description=(
            "Availability zones of the private subnets, by name (e.g. eu-west-1a), one per zone. "
            "Defaults to none: the first `zones` available zones of the region, looked up with "
            "data.aws_availability_zones."
        ),
    )
    existing_route_table_ids: list[str] = Field(
        default_factory=list,
        description=(
            "Route tables of an existing network's subnets that get the S3 gateway endpoint. "
            "Defaults to none: no S3 gateway endpoint in an existing network."
        ),
    )

    @field_validator("interface_endpoints")
    @classmethod
    def _services(cls, services: list[str]) -> list[str]:
        for s in services:
            if not s or not all(c.isalnum() or c in ".-" for c in s) or s != s.lower():
                raise ValueError(f"interface endpoint service {s!r} must look like 'ecr.dkr' (lowercase)")
            if s == "s3":
                raise ValueError("s3 gets a gateway endpoint (free); remove it from interface_endpoints")
        if len(set(services)) != len(services):
            raise ValueError("interface_endpoints must not repeat a service")
        return sorted(services)


def subnet_cidrs(cidr: str, zones: int) -> list[str]:
    """The private subnet ranges of ``cidr``: its first ``zones`` /20 blocks (/+2 for small ranges)."""
    net = ipaddress.ip_network(cidr)
    new_prefix = 20 if net.prefixlen <= 18 else net.prefixlen + 2
    return [str(s) for s in list(net.subnets(new_prefix=new_prefix))[:zones]]


class Network(MlopsConstruct):
    """A private VPC for ML workloads (or an existing one), reachable only through VPC endpoints.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`NetworkProps` (or the core ``NetworkProps``, which gets the AWS defaults);
            see the module docstring for what every default builds.
        provider: the ``aws`` provider of the region. Defaults to the stack's default provider.

    Attributes:
        resource: the ``aws_vpc``, or ``None`` for an existing network.
        network_id: VPC id token (or the given id).
        private_subnet_ids: subnet id tokens (or the given ids), one per zone.
        cidr_block: the VPC CIDR (literal for a created VPC, token for an existing one).
        endpoint_security_group: the ``aws_security_group`` of the interface endpoints, or ``None``
            when ``interface_endpoints`` is empty.
        endpoints: service -> ``aws_vpc_endpoint`` (``"s3"`` is the gateway endpoint).
        s3_prefix_list_id: token of the S3 gateway endpoint's prefix list (for security group
            egress rules), or ``None`` when no gateway endpoint exists.
        flow_log: the ``aws_flow_log``, or ``None``.
        flow_log_group: the ``aws_cloudwatch_log_group`` of flow logs, or ``None``.
        flow_log_key: the :class:`~.keys.Key` encrypting flow logs, or ``None``.
    """

    props_type = CoreNetworkProps
    props: CoreNetworkProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreNetworkProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        services: list[str] = list(getattr(props, "interface_endpoints", DEFAULT_INTERFACE_ENDPOINTS))
        route_table_ids: list[str] = list(getattr(props, "existing_route_table_ids", []))
        zone_names: list[str] = list(getattr(props, "zone_names", []))
        if zone_names and len(zone_names) != props.zones:
            raise ConstructError(
                self.node.path,
                f"zone_names names {len(zone_names)} zone(s) but zones is {props.zones}; "
                "name one zone per private subnet"
            )
        self._zone_names = zone_names
        if route_table_ids and props.existing is None:
            raise ConstructError(
                self.node.path,
                "existing_route_table_ids applies to an existing network only; "
                "set `existing` or remove existing_route_table_ids"
            )
        self.resource: Resource | None = None
        self.endpoints: dict[str, Resource] = {}
        self.s3_prefix_list_id: str | None = None
        if props.existing is None:
            vpc_arn = self._create(props)
        else:
            vpc = DataSource(self, "Vpc", "aws_vpc", provider=provider, id=props.existing.network_id)
            self.network_id = props.existing.network_id
            self.private_subnet_ids = list(props.existing.subnet_ids)
            self.cidr_block = ref(vpc, "cidr_block")
            vpc_arn = ref(vpc, "arn")
        region = region_of_arn(self, "VpcArn", vpc_arn)
        self.region: str = region

        # Without interface endpoints there is nothing for the endpoint security group to guard.
        self.endpoint_security_group: Resource | None = None
        if services:
            self.endpoint_security_group = Resource(
                self,
                "EndpointSecurityGroup",
                "aws_security_group",
                provider=provider,
                name=f"{props.name}-endpoints",
                description=f"HTTPS from {props.name} to its VPC interface endpoints",
                vpc_id=self.network_id,
            )
            Resource(
                self,
                "EndpointHttpsFromVpc",
                "aws_vpc_security_group_ingress_rule",
                provider=provider,
                security_group_id=ref(self.endpoint_security_group, "id"),
                description="HTTPS from inside the VPC only",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                cidr_ipv4=self.cidr_block,
            )
        if props.existing is None or route_table_ids:
            s3 = Resource(
                self,
                "S3Endpoint",
                "aws_vpc_endpoint",
                provider=provider,
                vpc_id=self.network_id,
                service_name=f"com.amazonaws.{region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=route_table_ids or [ref(self.route_table, "id")],
            )
            self.endpoints["s3"] = s3
            self.s3_prefix_list_id = ref(s3, "prefix_list_id")
        for service in services:
            cid = "Endpoint" + "".join(p.capitalize() for p in service.replace("-", ".").split("."))
            self.endpoints[service] = Resource(
                self,
                cid,
                "aws_vpc_endpoint",
                provider=provider,
                vpc_id=self.network_id,
                service_name=f"com.amazonaws.{region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=self.private_subnet_ids,
                security_group_ids=[ref(self.endpoint_security_group, "id")],  # type: ignore[arg-type]
            )

        self.flow_log: Resource | None = None
        self.flow_log_group: Resource | None = None
        self.flow_log_key: Key | None = None
        if props.flow_logs:
            self._flow_logs(props, region)

    # ------------------------------------------------------------------ parts

    def _create(self, props: CoreNetworkProps) -> str:
        provider = self._provider
        self.resource = Resource(
            self,
            "Resource",
            "aws_vpc",
            provider=provider,
            cidr_block=props.cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": props.name},
        )
        self.network_id = ref(self.resource, "id")
        self.cidr_block = props.cidr
        if self._zone_names:
            zone_of = list(self._zone_names)
        else:
            zones = DataSource(
                self,
                "Zones",
                "aws_availability_zones",
                provider=provider,
                state="available",
                filter=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            )
            Acknowledge.of(zones).add(
                "CKV_AWS_394",
                reason=(
                    "Subnets take the first `zones` entries of the sorted zone list by index, so a "
                    "zone AWS adds later does not move or add subnets; pass NetworkProps.zone_names "
                    "(the platform does) to pin zones by name."
                ),
            )
            zone_of = [
                engine.Token.as_string(engine.Fn.element(zones.ref_list("names"), n)) for n in range(props.zones)
            ]
        self.route_table = Resource(
            self,
            "PrivateRouteTable",
            "aws_route_table",
            provider=provider,
            vpc_id=self.network_id,
            tags={"Name": f"{props.name}-private"},
        )
        self.subnets: list[Resource] = []
        for n, cidr in enumerate(subnet_cidrs(props.cidr, props.zones)):
            subnet = Resource(
                self,
                f"PrivateSubnet{n + 1}",
                "aws_subnet",
                provider=provider,
                vpc_id=self.network_id,
                cidr_block=cidr,
                availability_zone=zone_of[n],
                map_public_ip_on_launch=False,
                tags={"Name": f"{props.name}-private-{n + 1}"},
            )
            Resource(
                self,
                f"PrivateSubnet{n + 1}Routes",
                "aws_route_table_association",
                provider=provider,
                subnet_id=ref(subnet, "id"),
                route_table_id=ref(self.route_table, "id"),
            )
            self.subnets.append(subnet)
        self.private_subnet_ids = [ref(s, "id") for s in self.subnets]
        Resource(
            self,
            "DefaultSecurityGroup",
            "aws_default_security_group",
            provider=provider,
            vpc_id=self.network_id,
            tags={"Name": f"{props.name}-default-deny-all"},
        )
        return ref(self.resource, "arn")

    def _flow_logs(self, props: CoreNetworkProps, region: str) -> None:
        provider = self._provider
        account = _iam.account_id(self, provider)
        partition = _iam.partition(self, provider)
        group_name = f"/aws/vpc/flow-logs/{props.name}"
        group_arn = f"arn:{partition}:logs:{region}:{account}:log-group:{group_name}"
        self.flow_log_key = Key(
            self,
            "FlowLogKey",
            KeyProps(name=f"{props.name}-flow-logs", description=f"Encrypts the VPC flow logs of {props.name}"),
            provider=provider,
        )
        self.flow_log_key.allow_cloudwatch_logs(
            "CloudWatchLogsOfThisLogGroupOnly", region=region, log_group_arn=group_arn
        )
        self.flow_log_group = Resource(
            self,
            "FlowLogGroup",
            "aws_cloudwatch_log_group",
            provider=provider,
            name=group_name,
            retention_in_days=props.flow_log_retention_days,
            kms_key_id=self.flow_log_key.key_id,
        )
        if props.flow_log_retention_days < 365:
            Acknowledge.of(self.flow_log_group).add(
                "CKV_AWS_338",
                reason=(
                    f"Flow-log retention is the platform owner's decision, set by "
                    f"network.flow_log_retention_days ({props.flow_log_retention_days} days): flow "
                    "records are high-volume metadata whose cost grows with retention; raise it to "
                    "365 where an audit requires a year."
                ),
            )
        role = _iam.service_role(
            self,
            "FlowLogRole",
            name=f"{props.name}-flow-logs",
            description=f"VPC flow log delivery of {props.name} to its log group",
            services=["vpc-flow-logs.amazonaws.com"],
            provider=provider,
        )
        _iam.role_policy(
            self,
            "FlowLogPolicy",
            name=f"{props.name}-flow-logs",
            principal=role,
            statements=[
                allow(
                    "WriteThisLogGroupOnly",
                    ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                    [group_arn, f"{group_arn}:*"],
                )
            ],
            provider=provider,
        )
        self.flow_log = Resource(
            self,
            "FlowLog",
            "aws_flow_log",
            provider=provider,
            vpc_id=self.network_id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=ref(self.flow_log_group, "arn"),
            iam_role_arn=ref(role, "arn"),
            max_aggregation_interval=600,
        )

    def security_group_egress_targets(self) -> list[dict[str, Any]]:
        """Egress rule targets that reach the endpoints: the VPC CIDR and, when present, S3's prefix list."""
        out: list[dict[str, Any]] = [{"cidr_ipv4": self.cidr_block}]
        if self.s3_prefix_list_id is not None:
            out.append({"prefix_list_id": self.s3_prefix_list_id})
        return out

