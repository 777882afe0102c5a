"""Azure Routing: a Traffic Manager profile per endpoint with HTTPS probes of every region, the
policy mapped to a routing method, and — in the platform — an endpoint in every region of the
spec with routing covering each of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from constructs_lib.azure import Endpoint, EndpointProps, Routing, RoutingProps
from constructs_lib.azure.routing import HEALTHY_STATUS_RANGES, failover_minutes
from constructs_lib.core import engine
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.spec import load_spec
from constructs_lib.core.synth import stack_document
from constructs_lib.platform import build_stack

from .build_helpers import RG, WORKSPACE_ID, Built

ROOT = Path(__file__).resolve().parents[3]


def endpoints(st, regions, *, public=True, name="churn"):
    return [
        Endpoint(st, f"Ep-{name}-{r}", EndpointProps(
            name=name, resource_group_name=RG, location=r, workspace_id=WORKSPACE_ID,
            data_capture_percent=0, public_network_access=public,
        ))
        for r in regions
    ]


def routing(policy="failover", regions=("westeurope", "northeurope"), **kw) -> Built:
    def build(st):
        eps = endpoints(st, regions)
        return Routing(st, "Routing", RoutingProps(
            name="ml-route", resource_group_name=RG, domain="ml.example.com", policy=policy, **kw,
        ), endpoints=eps)
    return Built(build)


def test_failover_probes_every_region() -> None:
    b = routing("failover", health_check_interval_seconds=10)
    profile = b.at("azurerm_traffic_manager_profile", "Routing/Resource-churn")
    assert profile["traffic_routing_method"] == "Priority"
    mc = profile["monitor_config"]
    assert (mc["protocol"], mc["port"], mc["path"], mc["interval_in_seconds"]) == ("HTTPS", 443, "/", 10)
    assert mc["expected_status_code_ranges"] == HEALTHY_STATUS_RANGES
    assert mc["timeout_in_seconds"] < mc["interval_in_seconds"]
    r: Routing = b.built
    assert set(r.records) == set(r.health_checks) == {"westeurope", "northeurope"}
    eps = b.of("azurerm_traffic_manager_external_endpoint")
    assert {e["target"]: e["priority"] for e in eps.values()} == {
        "churn.westeurope.inference.ml.azure.com": 1, "churn.northeurope.inference.ml.azure.com": 2}
    assert all(e["profile_id"] == b.ref("azurerm_traffic_manager_profile", "Routing/Resource-churn", "id")
               for e in eps.values())
    cname = b.at("azurerm_dns_cname_record", "Routing/Record-churn")
    assert cname["target_resource_id"] == b.ref("azurerm_traffic_manager_profile", "Routing/Resource-churn", "id")
    assert b.at("azurerm_dns_zone", "Routing/Zone")["name"] == "ml.example.com" == r.domain
    assert r.recovery.rto_minutes == failover_minutes(10) == 2


def test_latency_sets_endpoint_locations() -> None:
    b = routing("latency")
    assert b.at("azurerm_traffic_manager_profile", "Routing/Resource-churn")["traffic_routing_method"] == "Performance"
    eps = b.of("azurerm_traffic_manager_external_endpoint").values()
    assert sorted(e["endpoint_location"] for e in eps) == ["northeurope", "westeurope"]
    assert all("priority" not in e for e in eps)


def test_geo_maps_every_region_of_the_world_once() -> None:
    b = routing("geo", regions=("westeurope", "eastus", "japaneast"))
    assert b.at("azurerm_traffic_manager_profile", "Routing/Resource-churn")["traffic_routing_method"] == "Geographic"
    maps = {e["name"]: e["geo_mappings"] for e in b.of("azurerm_traffic_manager_external_endpoint").values()}
    assert maps == {
        "westeurope": ["GEO-AF", "GEO-EU", "GEO-ME", "WORLD"],
        "eastus": ["GEO-NA", "GEO-SA"],
        "japaneast": ["GEO-AN", "GEO-AS", "GEO-AP"],
    }
    codes = [c for m in maps.values() for c in m]
    assert len(codes) == len(set(codes)) == 9  # 8 geographic regions + WORLD, each once


def test_geo_two_regions_on_one_continent() -> None:
    # By default the second European region answers nothing and gets no Traffic Manager endpoint.
    b = routing("geo", regions=("westeurope", "northeurope", "eastus2"))
    maps = {e["name"]: e["geo_mappings"] for e in b.of("azurerm_traffic_manager_external_endpoint").values()}
    assert sorted(maps) == ["eastus2", "westeurope"] and b.built.geo["churn"]["northeurope"] == []
    given = routing("geo", geo={"northeurope": ["IE", "GB"]})
    maps = {e["name"]: e["geo_mappings"] for e in given.of("azurerm_traffic_manager_external_endpoint").values()}
    assert maps["northeurope"] == ["IE", "GB"] and "WORLD" in maps["westeurope"]
    with pytest.raises(ValueError, match="not a Traffic Manager geographic code"):
        routing("geo", geo={"northeurope": ["EU"]})


def test_refuses_private_or_duplicate_endpoints() -> None:
    def private(st):
        Routing(st, "R", RoutingProps(name="ml-route", resource_group_name=RG, domain="ml.example.com"),
                endpoints=endpoints(st, ["westeurope"], public=False))
    with pytest.raises(ValueError, match="public_network_access"):
        Built(private)

    def twice(st):
        eps = endpoints(st, ["westeurope"]) + [Endpoint(st, "Again", EndpointProps(
            name="churn", resource_group_name=RG, location="westeurope", workspace_id=WORKSPACE_ID,
            data_capture_percent=0, public_network_access=True))]
        Routing(st, "R", RoutingProps(name="ml-route", resource_group_name=RG, domain="ml.example.com"), endpoints=eps)
    with pytest.raises(ValueError, match="two endpoints 'churn' in region 'westeurope'"):
        Built(twice)
    with pytest.raises(ValidationError):
        RoutingProps(name="ml-route", resource_group_name=RG, domain="not a domain")


@pytest.fixture(scope="module")
def serving_stack():
    spec = load_spec(ROOT / "examples" / "multi-region-serving" / "azure.yaml")
    app = engine.App(outdir="/tmp/cdktf-mlops-azure-run")
    stack = build_stack(app, spec)
    return spec, stack, stack_document(stack)


def test_every_region_has_an_endpoint_and_routing_covers_each(serving_stack) -> None:
    spec, stack, doc = serving_stack
    eps = [c for c in stack.node.find_all() if isinstance(c, Endpoint)]
    for settings in spec.serving.endpoints:
        assert sorted(e.region for e in eps if e.props.name == settings.name) == sorted(spec.regions)
    targets = sorted(e["target"] for e in doc["resource"]["azurerm_traffic_manager_external_endpoint"].values())
    assert targets == sorted(e.host for e in eps)
    routing = next(c for c in stack.node.find_all() if isinstance(c, Routing))
    assert set(routing.health_checks) == set(spec.regions)
    profile = next(iter(doc["resource"]["azurerm_traffic_manager_profile"].values()))
    assert profile["traffic_routing_method"] == "Priority"  # policy: failover
    # each region's endpoint lives in a workspace of that region
    workspaces = {w["location"]: w for w in doc["resource"]["azurerm_machine_learning_workspace"].values()}
    assert sorted(workspaces) == sorted(spec.regions)
    recovery = doc["output"]["recovery_serving"]["value"]
    assert recovery.get("rpo_minutes") is None  # serving holds no data; null in cdk.tf.json
    assert (recovery["rto_minutes"], recovery["replica_region"]) == (failover_minutes(30), spec.regions[1])


def test_serving_stack_is_least_privilege(serving_stack) -> None:
    _, _, doc = serving_stack
    assert audit_stack(doc) == []
