"""Regions on any continent (issue #8): every example synthesizes with three regions on three
continents on every cloud; store replicas go where each cloud can put them (and the recovery
outputs say so); every AWS serving region reads model artifacts from a bucket of its own region;
geo routing covers the world exactly once for any set of regions."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.core import engine, regions
from constructs_lib.core.spec import PlatformSpec
from constructs_lib.core.synth import stack_document
from constructs_lib.platform import synthesize
from constructs_lib.platform import build_stack

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p.name for p in (ROOT / "examples").iterdir() if p.is_dir() and list(p.glob("*.yaml")))

#: cloud -> (three regions on three continents, the store replica region each cloud chooses)
THREE_CONTINENTS = {
    "aws": (["eu-west-1", "us-east-1", "ap-northeast-1"], "us-east-1"),  # S3: the second region
    "azure": (["westeurope", "eastus2", "japaneast"], "northeurope"),  # RA-GZRS: the paired region
    "gcp": (["europe-west4", "us-central1", "asia-northeast1"], "europe-north1"),  # EUR4's other half
}
RECOVERY_KEYS = {"rpo_minutes", "rto_minutes", "replica_region"}


def spec_data(example: str, cloud: str, **changes: Any) -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "examples" / example / f"{cloud}.yaml").read_text())
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return data


def synth_file(data: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """Synthesize through the library's front door (schema checks included); the written cdk.tf.json."""
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(data))
    result = synthesize([spec_file], outdir=tmp_path / "out")
    (stack,) = result.stacks
    return json.loads((stack.directory / "cdk.tf.json").read_text())


def built(data: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    stack = build_stack(engine.App(), PlatformSpec.model_validate(data))
    return stack, stack_document(stack)


# ------------------------------------------------------------------------- three continents


@pytest.mark.parametrize("example", EXAMPLES)
@pytest.mark.parametrize("cloud", sorted(THREE_CONTINENTS))
def test_every_example_synthesizes_on_three_continents(example: str, cloud: str, tmp_path: Path) -> None:
    three, replica = THREE_CONTINENTS[cloud]
    doc = synth_file(spec_data(example, cloud, regions=three), tmp_path)
    outputs = doc.get("output", {})
    stores = {k: v["value"] for k, v in outputs.items() if k.startswith("store_") and k.endswith("_recovery")}
    assert stores, "no store recovery outputs"
    for name, value in stores.items():
        assert value["replica_region"] == replica, f"{name}: {value}"
    for name, body in outputs.items():
        if "recovery" in name:
            assert set(body["value"]) == RECOVERY_KEYS, f"{name}: {body['value']}"


def test_aws_endpoint_in_every_region_reads_models_from_its_own_region() -> None:
    three, _ = THREE_CONTINENTS["aws"]
    _, doc = built(spec_data("reference", "aws", regions=three))
    provider_region = {p.get("alias"): p["region"] for p in doc["provider"]["aws"]}
    buckets = doc["resource"]["aws_s3_bucket"]
    copies = {}
    for config in doc["resource"]["aws_s3_bucket_replication_configuration"].values():
        for rule in config["rule"]:
            if rule["filter"]["prefix"] == "models/":
                copies[rule["id"]] = rule["destination"]["bucket"]
    serving = doc["output"]["aws_serving_churn"]["value"]
    assert list(serving) == three
    for region, out in serving.items():
        (logical,) = re.findall(r"\$\{aws_s3_bucket\.([^.]+)\.id\}", out["model_artifacts_uri"])
        provider = buckets[logical].get("provider")  # "aws.<alias>", absent for the primary
        assert provider_region[provider.split(".", 1)[1] if provider else None] == region, (region, logical)
        role = next(
            body for body in doc["resource"]["aws_iam_role_policy"].values()
            if f"endpoint-churn-{region}" in body["//"]["metadata"]["path"]
            and "ReadModelArtifacts" in body["policy"]
        )
        read = next(s for s in json.loads(role["policy"])["Statement"] if s["Sid"] == "ReadModelArtifacts")
        assert any(logical in r and r.endswith("/models/*") for r in read["Resource"]), read
    # The region without the stores' replica gets its copy of models/ by S3 replication.
    assert list(copies) == ["models-to-ap-northeast-1"]
    (tokyo_bucket,) = re.findall(r"aws_s3_bucket\.([^.]+)\.id", serving["ap-northeast-1"]["model_artifacts_uri"])
    versioning = next(k for k, v in doc["resource"]["aws_s3_bucket_versioning"].items()
                      if v["bucket"] == f"${{aws_s3_bucket.{tokyo_bucket}.id}}")
    assert f"aws_s3_bucket_versioning.{versioning}.bucket" in copies["models-to-ap-northeast-1"]


def test_aws_failover_over_three_regions_is_an_ordered_chain() -> None:
    three, _ = THREE_CONTINENTS["aws"]
    _, doc = built(spec_data("reference", "aws", regions=three))
    records = [r for r in doc["resource"]["aws_route53_record"].values() if "failover_routing_policy" in r]
    by_name: dict[str, list[str]] = {}
    for r in records:
        by_name.setdefault(r["name"], []).append(r["failover_routing_policy"]["type"])
    fqdn = next(name for name in by_name if not name.startswith("failover"))
    assert {k: sorted(v) for k, v in by_name.items()} == {
        fqdn: ["PRIMARY", "SECONDARY"],
        f"failover1.{fqdn}": ["PRIMARY", "SECONDARY"],
    }
    alias = next(r for r in records if "alias" in r)
    assert alias["alias"]["name"].startswith("failover1.") and alias["alias"]["evaluate_target_health"] is True


def test_azure_model_registry_replicates_to_every_serving_region() -> None:
    three, replica = THREE_CONTINENTS["azure"]
    _, doc = built(spec_data("reference", "azure", regions=three))
    stores = {a["//"]["metadata"]["path"].split("/")[1]: a["account_replication_type"]
              for a in doc["resource"]["azurerm_storage_account"].values()}
    assert (stores["data"], stores["artifacts"]) == ("RAGZRS", "RAGZRS")
    registry = next(
        r for r in doc["resource"]["azapi_resource"].values()
        if r["type"].startswith("Microsoft.MachineLearningServices/registries@")
    )
    body = registry["body"] if isinstance(registry["body"], dict) else json.loads(registry["body"])
    located = {d["location"] for d in body["properties"]["regionDetails"]}
    assert located == set(three)


def test_gcp_store_is_a_dual_region_in_the_primary_multi_region() -> None:
    three, replica = THREE_CONTINENTS["gcp"]
    _, doc = built(spec_data("reference", "gcp", regions=three))
    data = [b for b in doc["resource"]["google_storage_bucket"].values() if "custom_placement_config" in b]
    assert data and all(b["location"] == "EU" for b in data)
    assert all(b["custom_placement_config"]["data_locations"] == ["EUROPE-WEST4", replica.upper()] for b in data)


@pytest.mark.parametrize(
    ("cloud", "primary", "expected"),
    [
        ("gcp", "europe-west2", None),  # London: in no multi-region
        ("gcp", "southamerica-east1", None),
        ("gcp", "us-east4", "us-central1"),  # the US multi-region's NAM4 anchor
        ("azure", "polandcentral", None),  # no paired region
        ("azure", "brazilsouth", "southcentralus"),
    ],
)
def test_no_possible_replica_means_null_recovery(cloud: str, primary: str, expected: str | None, tmp_path: Path) -> None:
    other = {"gcp": "asia-northeast1", "azure": "japaneast"}[cloud]
    doc = synth_file(spec_data("multi-region-serving", cloud, regions=[primary, other]), tmp_path)
    for name, body in doc["output"].items():
        if name.startswith("store_") and name.endswith("_recovery"):
            assert body["value"]["replica_region"] == expected, f"{name}: {body['value']}"


# ------------------------------------------------------------------------------------- geo


def _route53_locations(doc: dict[str, Any]) -> list[str]:
    out = []
    for r in doc["resource"]["aws_route53_record"].values():
        loc = r.get("geolocation_routing_policy")
        if loc:
            out.append(loc.get("continent") or "-".join(v for v in (loc.get("country"), loc.get("subdivision")) if v))
    return out


def test_aws_geo_two_regions_on_one_continent_covers_the_world_once() -> None:
    _, doc = built(spec_data("multi-region-serving", "aws", regions=["ca-central-1", "us-west-2"],
                             routing__policy="geo"))
    codes = _route53_locations(doc)
    assert Counter(codes) == Counter([*regions.ROUTE53_CONTINENTS, "*"])


def test_aws_geo_override_gives_the_second_region_a_country() -> None:
    stack, doc = built(spec_data("multi-region-serving", "aws", regions=["ca-central-1", "us-west-2"],
                                 routing__policy="geo", routing__geo={"ca-central-1": ["CA"]}))
    codes = _route53_locations(doc)
    assert Counter(codes) == Counter([*regions.ROUTE53_CONTINENTS, "*", "CA"])
    assert stack.routing["churn"].geo == {"ca-central-1": ["CA"], "us-west-2": [*regions.ROUTE53_CONTINENTS, "*"]}


@pytest.mark.parametrize("three", [["westeurope", "northeurope", "eastus2"], ["westeurope", "eastus2", "japaneast"]])
def test_azure_geo_covers_the_world_once(three: list[str]) -> None:
    _, doc = built(spec_data("multi-region-serving", "azure", regions=three, routing__policy="geo"))
    codes = [c for e in doc["resource"]["azurerm_traffic_manager_external_endpoint"].values() for c in e["geo_mappings"]]
    assert Counter(codes) == Counter([*regions.TRAFFIC_MANAGER_REGIONS, "WORLD"])


def test_every_continent_is_assigned_once_for_any_regions() -> None:
    for cloud in ("aws", "azure"):
        known = list(regions.REGIONS[cloud])
        for start in range(0, len(known), 3):
            chosen = known[start:start + 3]
            mapping = regions.geo_mapping(cloud, chosen)
            codes = [c for cs in mapping.values() for c in cs]
            assert len(codes) == len(set(codes)), (cloud, chosen, mapping)
            expected = regions.ROUTE53_CONTINENTS if cloud == "aws" else regions.TRAFFIC_MANAGER_REGIONS
            assert set(codes) == {*expected, regions.catch_all(cloud)}, (cloud, chosen, mapping)
