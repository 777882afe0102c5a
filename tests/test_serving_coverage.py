"""Every region of a spec has every endpoint, and global routing covers every regional endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.core.spec import load_specs
from constructs_lib.platform import synthesize

ROOT = Path(__file__).resolve().parents[1]
SERVING_SPECS = [
    f for example in sorted((ROOT / "examples").iterdir()) if example.is_dir()
    for f in sorted(example.glob("*.yaml"))
    if (spec := load_specs([f])[0]).serving is not None
]


def _aws(doc: dict, spec) -> tuple[dict[str, set[str]], set[str]]:
    regions = {("aws." + p["alias"]) if "alias" in p else None: p["region"] for p in doc["provider"]["aws"]}
    endpoints: dict[str, set[str]] = {}
    for body in doc["resource"].get("aws_sagemaker_endpoint", {}).values():
        endpoints.setdefault(body["name"], set()).add(regions[body.get("provider")])
    checks = {n: b for n, b in doc["resource"].get("aws_route53_health_check", {}).items()}
    routed = set()
    for body in doc["resource"].get("aws_route53_record", {}).values():
        region = body.get("set_identifier")
        if region and f"runtime.sagemaker.{region}.amazonaws.com" in body.get("records", []):
            check = body["health_check_id"].split(".")[1]
            assert checks[check]["cloudwatch_alarm_region"] == region
            routed.add(region)
    return endpoints, routed


def _azure(doc: dict, spec) -> tuple[dict[str, set[str]], set[str]]:
    endpoints: dict[str, set[str]] = {}
    for body in doc["resource"].get("azapi_resource", {}).values():
        if "/onlineEndpoints@" in body["type"]:
            endpoints.setdefault(body["name"], set()).add(body["location"])
    routed = set()
    for body in doc["resource"].get("azurerm_traffic_manager_external_endpoint", {}).values():
        for region in spec.regions:
            if f".{region}.inference.ml.azure.com" in body["target"]:
                routed.add(region)
    return endpoints, routed


def _gcp(doc: dict, spec) -> tuple[dict[str, set[str]], set[str]]:
    endpoints: dict[str, set[str]] = {}
    by_logical: dict[str, str] = {}
    for logical, body in doc["resource"].get("google_vertex_ai_endpoint", {}).items():
        endpoints.setdefault(body["name"], set()).add(body["region"])
        by_logical[logical] = body["region"]
    text = json.dumps(doc["resource"].get("google_dns_record_set", {}))
    routed = {region for logical, region in by_logical.items() if f"google_vertex_ai_endpoint.{logical}." in text}
    uptime = doc["resource"].get("google_monitoring_uptime_check_config", {})
    assert len(uptime) >= len(by_logical), "every regional endpoint has an uptime check"
    return endpoints, routed


@pytest.mark.parametrize("spec_file", SERVING_SPECS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_region_serves_and_routing_covers_it(spec_file: Path, tmp_path: Path) -> None:
    spec = load_specs([spec_file])[0]
    result = synthesize([spec_file], outdir=tmp_path / "out")
    doc = json.loads((result.stacks[0].directory / "cdk.tf.json").read_text())
    endpoints, routed = {"aws": _aws, "azure": _azure, "gcp": _gcp}[spec.cloud](doc, spec)
    assert len(endpoints) == len(spec.serving.endpoints)
    for name, regions in endpoints.items():
        assert regions == set(spec.regions), f"{name} is served in {sorted(regions)}, spec names {spec.regions}"
    if spec.routing is not None:
        assert routed == set(spec.regions), f"routing covers {sorted(routed)} of {spec.regions}"


def test_there_are_serving_examples() -> None:
    assert {f.stem for f in SERVING_SPECS} >= {"aws", "azure", "gcp"}
