"""gcp.Routing: DNSSEC zone, routing policy per spec policy, an uptime check per region, coverage."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from constructs_lib.core import engine
from constructs_lib.core.recovery import Recovery
from constructs_lib.core.spec import PlatformSpec
from constructs_lib.core.synth import stack_document
from constructs_lib.gcp import Endpoint, EndpointProps, Routing, RoutingProps
from constructs_lib.platform import build_stack

from .conftest import PROJECT

REGIONS = ("us-central1", "us-east1", "europe-west4")
ROOT = Path(__file__).resolve().parents[3]


def make(build, *, policy: str = "latency", regions=REGIONS):
    holder: dict = {}

    def body(stack):
        eps = [
            Endpoint(stack, f"ep-{r}", EndpointProps(name="churn", project=PROJECT, location=r, data_capture_percent=0))
            for r in regions
        ]
        holder["eps"] = eps
        holder["routing"] = Routing(
            stack, "Routing", RoutingProps(name="ml-dns", project=PROJECT, domain="ml.example.com", policy=policy),
            endpoints=eps,
        )

    return build(body), holder


def _host(built, ep) -> str:
    return '${trimprefix(' + built.address(ep.resource) + '.dedicated_endpoint_dns, "https://")}'


def test_zone_is_public_signed_and_logged(build) -> None:
    built, h = make(build)
    zone = built.by_path("google_dns_managed_zone", "gcp/Routing/Resource")
    assert zone["dns_name"] == "ml.example.com." and zone["visibility"] == "public"
    assert zone["dnssec_config"]["state"] == "on"
    assert {k["algorithm"] for k in zone["dnssec_config"]["default_key_specs"]} == {"rsasha256"}
    assert zone["cloud_logging_config"] == {"enable_logging": True}
    assert h["routing"].domain == "ml.example.com"


def test_latency_policy_geo_items_per_region(build) -> None:
    built, h = make(build, policy="latency")
    rec = built.by_path("google_dns_record_set", "gcp/Routing/RecordChurn")
    assert rec["name"] == "churn.ml.example.com." and rec["type"] == "CNAME" and rec["ttl"] == 60
    pol = rec["routing_policy"]
    assert pol["enable_geo_fencing"] is False
    assert pol["geo"] == [{"location": e.region, "rrdatas": [_host(built, e) + "."]} for e in h["eps"]]


def test_geo_policy_fences(build) -> None:
    built, _ = make(build, policy="geo")
    assert built.by_path("google_dns_record_set", "gcp/Routing/RecordChurn")["routing_policy"]["enable_geo_fencing"] is True


def test_failover_policy_weights_primary(build) -> None:
    built, h = make(build, policy="failover")
    wrr = built.by_path("google_dns_record_set", "gcp/Routing/RecordChurn")["routing_policy"]["wrr"]
    assert [i["weight"] for i in wrr] == [1, 0, 0]
    assert wrr[0]["rrdatas"] == [_host(built, h["eps"][0]) + "."]


def test_health_check_per_region(build) -> None:
    built, h = make(build)
    routing = h["routing"]
    assert set(routing.health_checks) == set(REGIONS) == set(routing.records)
    for ep in h["eps"]:
        check = built.by_path("google_monitoring_uptime_check_config", routing.health_checks[ep.region].node.path)
        assert check["period"] == "60s"
        assert check["monitored_resource"] == {"type": "uptime_url", "labels": {"project_id": PROJECT, "host": _host(built, ep)}}
        assert check["http_check"]["path"] == ep.health_path and check["http_check"]["validate_ssl"] is True
        assert len(check["selected_regions"]) >= 3


def test_private_endpoint_refused(build) -> None:
    from constructs_lib.gcp import Network, NetworkProps

    def body(stack):
        net = Network(stack, "net", NetworkProps(name="ml-net", project=PROJECT, location="us-central1"))
        ep = Endpoint(stack, "ep", EndpointProps(name="churn", project=PROJECT, location="us-central1"), network=net)
        Routing(stack, "Routing", RoutingProps(name="ml-dns", project=PROJECT, domain="ml.example.com"), endpoints=[ep])

    with pytest.raises(ValueError, match="private"):
        build(body)


def test_props_errors() -> None:
    with pytest.raises(ValidationError, match="policy"):
        RoutingProps(name="ml-dns", project=PROJECT, domain="ml.example.com", policy="weighted")
    with pytest.raises(ValidationError, match="domain"):
        RoutingProps(name="ml-dns", project=PROJECT, domain="ML_EXAMPLE")


def test_platform_every_region_has_endpoints_and_routing_covers_them() -> None:
    data = yaml.safe_load((ROOT / "examples" / "multi-region-serving" / "gcp.yaml").read_text())
    data["regions"] = ["us-central1", "us-east1", "us-west1"]
    data["serving"]["endpoints"].append({"name": "fraud", "data_capture_percent": 0})
    spec = PlatformSpec.model_validate(data)
    stack = build_stack(engine.App(), spec)
    doc = stack_document(stack)
    endpoints = stack.endpoints
    assert set(endpoints) == {"churn", "fraud"}
    for name, regional in endpoints.items():
        assert set(regional) == set(spec.regions), name
    records = doc["resource"]["google_dns_record_set"]
    assert len(records) == 2
    targets = {t for r in records.values() for item in r["routing_policy"]["wrr"] for t in item["rrdatas"]}
    for regional in endpoints.values():
        for ep in regional.values():
            assert f'${{trimprefix(google_vertex_ai_endpoint.{stack.get_logical_id(ep.resource)}.dedicated_endpoint_dns, "https://")}}.' in targets
    checks = doc["resource"]["google_monitoring_uptime_check_config"]
    assert len(checks) == 2 * len(spec.regions)
    routing = stack.routing["churn"]
    assert stack.routing == {"churn": routing, "fraud": routing}  # one zone serves both endpoint names
    assert routing.covered == {e.endpoint_name: list(spec.regions) for e in (r["us-central1"] for r in endpoints.values())}
    assert routing.hostnames == {name: f"{name}.{spec.routing.domain}" for name in ("churn", "fraud")}  # spec names
    assert doc["output"]["routing_hostnames"]["value"] == routing.hostnames
    assert routing.recovery == Recovery(rpo_minutes=None, rto_minutes=4, replica_region="us-east1")


def test_hostnames_are_keyed_by_host_label_and_one_region_has_no_failover(build) -> None:
    _, h = make(build, regions=("us-central1",))
    assert h["routing"].hostnames == {"churn": "churn.ml.example.com"}
    assert h["routing"].recovery == Recovery(rpo_minutes=None, rto_minutes=None)


def test_two_endpoint_names_with_one_host_label_are_refused(build) -> None:
    def body(stack):
        eps = [
            Endpoint(stack, f"ep-{n}", EndpointProps(name=n, dns_label="churn", project=PROJECT, location="us-central1",
                                                     data_capture_percent=0))
            for n in ("churn-a", "churn-b")
        ]
        Routing(stack, "Routing", RoutingProps(name="ml-dns", project=PROJECT, domain="ml.example.com"), endpoints=eps)

    with pytest.raises(ValueError, match="'churn-a' and 'churn-b' both have the host label 'churn'"):
        build(body)
