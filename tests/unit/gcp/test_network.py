"""gcp.Network: private custom-mode VPC, subnet, NAT, deny-all ingress, flow logs, existing ids."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.gcp import Network, NetworkProps
from constructs_lib.gcp.network import address_plan

from .conftest import PROJECT


def net_props(**kw) -> NetworkProps:
    return NetworkProps(**{"name": "ml-net", "project": PROJECT, "location": "us-central1", **kw})


def make(build, **kw):
    holder = {}
    built = build(lambda s: holder.setdefault("net", Network(s, "Net", net_props(**kw))))
    return built, holder["net"]


def test_private_network_defaults(build) -> None:
    built, net = make(build)
    vpc = built.by_path("google_compute_network", "gcp/Net/Resource")
    assert vpc["auto_create_subnetworks"] is False
    subnet = built.by_path("google_compute_subnetwork", "gcp/Net/Subnet")
    assert subnet["private_ip_google_access"] is True
    assert subnet["ip_cidr_range"] == "10.40.0.0/19"
    assert subnet["region"] == "us-central1"
    assert subnet["network"] == "${" + built.address(net.resource) + ".id}"
    assert subnet["secondary_ip_range"] == [
        {"range_name": "pods", "ip_cidr_range": "10.40.128.0/17"},
        {"range_name": "services", "ip_cidr_range": "10.40.32.0/19"},
    ]
    assert subnet["log_config"]["metadata"] == "INCLUDE_ALL_METADATA"
    nat = built.by_path("google_compute_router_nat", "gcp/Net/Nat")
    assert nat["log_config"]["enable"] is True
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "LIST_OF_SUBNETWORKS"
    fw = built.by_path("google_compute_firewall", "gcp/Net/DenyIngress")
    assert fw["direction"] == "INGRESS" and fw["deny"] == [{"protocol": "all"}]
    assert fw["priority"] == 65534 and "allow" not in fw
    # no rule in the construct allows any ingress
    assert all("allow" not in b for b in built.resources("google_compute_firewall").values())
    bucket = built.by_path("google_logging_project_bucket_config", "gcp/Net/FlowLogBucket")
    assert bucket["retention_days"] == 90
    assert net.private_subnet_ids == [net.subnet.ref("id")]
    assert net.control_plane_cidr == "10.40.64.0/28"
    api = built.resources("google_project_service")
    assert [b["service"] for b in api.values()] == ["compute.googleapis.com"]
    assert all(b["disable_on_destroy"] is False for b in api.values())


def test_flow_logs_off(build) -> None:
    built, _ = make(build, flow_logs=False)
    assert "log_config" not in built.by_path("google_compute_subnetwork", "gcp/Net/Subnet")
    assert built.resources("google_logging_project_sink") == {}


def test_existing_network_creates_nothing(build) -> None:
    existing = {"network_id": "projects/p/global/networks/n", "subnet_ids": ["projects/p/regions/r/subnetworks/s"]}
    built, net = make(build, existing=existing, control_plane_cidr="172.16.0.0/28")
    assert built.resources("google_compute_network") == {}
    assert built.resources("google_compute_subnetwork") == {}
    assert net.network_id == existing["network_id"]
    assert net.private_subnet_ids == existing["subnet_ids"]
    assert net.control_plane_cidr == "172.16.0.0/28"


def test_address_plan_small_range() -> None:
    assert address_plan("10.1.0.0/20") == {
        "nodes": "10.1.0.0/23", "services": "10.1.2.0/23", "pods": "10.1.8.0/21", "control_plane": "10.1.4.0/28",
    }


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"cidr": "8.8.0.0/16"}, "private IPv4"),
        ({"location": "US Central"}, "location"),
        ({"existing": {"network_id": "n", "subnet_ids": ["s"]}}, "control_plane_cidr"),
        ({"existing": {"network_id": "n", "subnet_ids": ["a", "b"]}, "control_plane_cidr": "172.16.0.0/28"}, "exactly one"),
        ({"control_plane_cidr": "172.16.0.0/24"}, "private /28"),
    ],
)
def test_network_props_validation(kw, message) -> None:
    with pytest.raises(ValidationError, match=message):
        net_props(**kw)
