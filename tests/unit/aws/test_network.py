"""AWS Network: private subnets only, endpoints, locked default SG, encrypted flow logs, props errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import Network, NetworkProps
from constructs_lib.aws.network import DEFAULT_INTERFACE_ENDPOINTS, subnet_cidrs
from constructs_lib.core.build_props import ExistingNetwork
from constructs_lib.core.build_props import NetworkProps as CoreNetworkProps
from constructs_lib.core.schema import validate_stack

from .build_helpers import statements


def build_network(build, props: Any) -> tuple[Any, Network]:
    holder: dict[str, Network] = {}
    built = build(lambda stack, replica: holder.setdefault("n", Network(stack, "Net", props)))
    return built, holder["n"]


@pytest.fixture
def default(build):
    return build_network(build, NetworkProps(name="ml-net", zone_names=["eu-west-1a", "eu-west-1b"]))


def test_schema_valid_and_private_subnets_only(default) -> None:
    built, net = default
    assert validate_stack(built.doc, stack="aws") == []
    subnets = built.resources("aws_subnet")
    assert len(subnets) == 2 and len(net.private_subnet_ids) == 2
    assert sorted(s["cidr_block"] for s in subnets.values()) == ["10.40.0.0/20", "10.40.16.0/20"]
    assert sorted(s["availability_zone"] for s in subnets.values()) == ["eu-west-1a", "eu-west-1b"]
    assert all(s["map_public_ip_on_launch"] is False for s in subnets.values())
    # nothing that could give a path to or from the internet
    for forbidden in ("aws_internet_gateway", "aws_nat_gateway", "aws_eip", "aws_route"):
        assert forbidden not in built.doc["resource"]
    vpc = built.by_path("aws_vpc", "aws/Net/Resource")
    assert vpc["cidr_block"] == "10.40.0.0/16" and vpc["enable_dns_hostnames"] is True


def test_endpoints_s3_gateway_and_private_dns_interfaces(default) -> None:
    built, net = default
    endpoints = built.resources("aws_vpc_endpoint")
    assert len(endpoints) == len(DEFAULT_INTERFACE_ENDPOINTS) + 1
    by_service = {e["service_name"].rsplit(".", 1)[-1] if e["vpc_endpoint_type"] == "Gateway" else
                  e["service_name"].split("}.", 1)[1]: e for e in endpoints.values()}
    assert by_service["s3"]["vpc_endpoint_type"] == "Gateway"
    assert by_service["s3"]["route_table_ids"] == [built.ref(net.route_table, "id")]
    for service in ("sagemaker.api", "sagemaker.runtime", "ecr.api", "ecr.dkr", "sts", "logs", "secretsmanager"):
        ep = by_service[service]
        assert ep["vpc_endpoint_type"] == "Interface" and ep["private_dns_enabled"] is True
        assert ep["security_group_ids"] == [built.ref(net.endpoint_security_group, "id")]
        assert len(ep["subnet_ids"]) == 2


def test_endpoint_security_group_allows_https_from_vpc_only(default) -> None:
    built, _ = default
    (rule,) = built.resources("aws_vpc_security_group_ingress_rule").values()
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"], rule["cidr_ipv4"]) == (443, 443, "tcp", "10.40.0.0/16")
    assert "aws_vpc_security_group_egress_rule" not in built.doc["resource"]
    (default_sg,) = built.resources("aws_default_security_group").values()
    assert "ingress" not in default_sg and "egress" not in default_sg


def test_flow_logs_encrypted_with_retention_and_scoped_role(default) -> None:
    built, net = default
    group = built.by_path("aws_cloudwatch_log_group", "aws/Net/FlowLogGroup")
    assert group["retention_in_days"] == 90
    assert group["kms_key_id"] == built.ref(net.flow_log_key.resource, "arn")
    flow = built.by_path("aws_flow_log", "aws/Net/FlowLog")
    assert flow["traffic_type"] == "ALL" and flow["log_destination_type"] == "cloud-watch-logs"
    key_policy = statements(built.by_path("aws_kms_key", "aws/Net/FlowLogKey/Resource"))
    logs = key_policy["CloudWatchLogsOfThisLogGroupOnly"]
    assert logs["Principal"]["Service"].startswith("logs.")
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].endswith(":log-group:/aws/vpc/flow-logs/ml-net")
    (write,) = statements(built.by_path("aws_iam_role_policy", "aws/Net/FlowLogPolicy")).values()
    assert write["Action"] == ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    assert all("/aws/vpc/flow-logs/ml-net" in r for r in write["Resource"])


def test_zones_from_data_source_when_not_named(build) -> None:
    built, _ = build_network(build, CoreNetworkProps(name="ml-net", zones=3, flow_logs=False))
    assert "aws_flow_log" not in built.doc["resource"]
    (zones,) = built.doc["data"]["aws_availability_zones"].values()
    assert zones["state"] == "available"
    azs = sorted(s["availability_zone"] for s in built.resources("aws_subnet").values())
    assert [a.split(",")[-1].strip(" )}") for a in azs] == ["0", "1", "2"]


def test_existing_network_creates_only_endpoints(build) -> None:
    props = NetworkProps(
        name="ml-net",
        existing=ExistingNetwork(network_id="vpc-123", subnet_ids=["subnet-a", "subnet-b"]),
        interface_endpoints=["sts"],
        flow_logs=False,
    )
    built, net = build_network(build, props)
    assert net.network_id == "vpc-123" and net.private_subnet_ids == ["subnet-a", "subnet-b"]
    assert "aws_vpc" not in built.doc["resource"] and "aws_subnet" not in built.doc["resource"]
    (endpoint,) = built.resources("aws_vpc_endpoint").values()
    assert endpoint["subnet_ids"] == ["subnet-a", "subnet-b"] and net.s3_prefix_list_id is None


def test_subnet_cidrs_split() -> None:
    assert subnet_cidrs("10.0.0.0/16", 3) == ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"]
    assert subnet_cidrs("10.0.0.0/20", 2) == ["10.0.0.0/22", "10.0.4.0/22"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cidr": "8.8.0.0/16"}, "private IPv4 range"),
        ({"cidr": "10.0.0.0/24"}, "/20 or larger"),
        ({"zones": 4}, "less than or equal to 3"),
        ({"interface_endpoints": ["s3"]}, "gateway endpoint"),
        ({"interface_endpoints": ["sts", "sts"]}, "must not repeat"),
    ],
)
def test_props_errors(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        NetworkProps(name="ml-net", **kwargs)


def test_zone_names_must_match_zones(build) -> None:
    with pytest.raises(ValueError, match="names 1 zone"):
        build_network(build, NetworkProps(name="ml-net", zone_names=["eu-west-1a"]))


def test_route_tables_only_for_existing_networks(build) -> None:
    with pytest.raises(ValueError, match="existing network only"):
        build_network(build, NetworkProps(name="ml-net", existing_route_table_ids=["rtb-1"]))


def test_json_is_deterministic(build) -> None:
    a, _ = build_network(build, NetworkProps(name="ml-net"))
    b, _ = build_network(build, NetworkProps(name="ml-net"))
    assert json.dumps(a.doc, sort_keys=True) == json.dumps(b.doc, sort_keys=True)
