"""PlatformStack: the same attributes on every cloud, and recovery outputs a report can read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from constructs_lib.core import engine
from constructs_lib.core.spec import load_specs
from constructs_lib.platform import build_stack

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = sorted((ROOT / "examples" / "reference").glob("*.yaml"))
RECOVERY_KEYS = {"rpo_minutes", "rto_minutes", "replica_region"}


@pytest.mark.parametrize("spec_file", REFERENCE, ids=lambda p: p.stem)
def test_reference_stack_exposes_its_constructs(spec_file: Path) -> None:
    spec = load_specs([spec_file])[0]
    stack = build_stack(engine.App(), spec)
    assert set(stack.stores) == set(spec.storage.stores)
    for attribute in ("network", "training", "containers", "models", "tracking", "features", "monitoring", "budget"):
        assert getattr(stack, attribute) is not None, f"{spec.cloud}: stack.{attribute} not set"
    assert spec.serving is not None
    assert set(stack.endpoints) == {e.name for e in spec.serving.endpoints}
    for name, regional in stack.endpoints.items():
        assert list(regional) == spec.regions, f"{spec.cloud}: {name} regions {list(regional)}"
        for region, endpoint in regional.items():
            assert endpoint.region == region
    assert stack.routing  # a Routing, or (AWS) one per endpoint name
    assert getattr(stack, "workspace", None) is None  # cloud-specific pieces stay private to the kit
    if spec.cloud == "azure":
        assert stack.kit.workspace is not None  # the Azure ML workspace
    if spec.cloud == "aws":  # per-region providers and serving networks
        assert set(stack.kit.region_providers) == set(spec.regions) and not hasattr(stack, "region_providers")
        assert set(stack.kit.serving_networks) == set(spec.regions[1:])


def test_every_recovery_output_of_every_example_has_the_three_keys(tmp_path: Path) -> None:
    from constructs_lib.platform import synthesize

    examples = [d for d in sorted((ROOT / "examples").iterdir()) if d.is_dir()]
    result = synthesize(examples, outdir=tmp_path / "out")
    seen = 0
    for stack in result.stacks:
        outputs = json.loads((stack.directory / "cdk.tf.json").read_text()).get("output", {})
        for name, body in outputs.items():
            if "recovery" in name:
                seen += 1
                assert set(body["value"]) == RECOVERY_KEYS, f"{stack.name}: {name} = {body['value']}"
    assert seen >= 3 * 5  # stores, registries, tracking, serving on each cloud's reference at least


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_spec_placeholder_image_reaches_the_endpoint(cloud: str) -> None:
    from constructs_lib.core.synth import stack_document

    spec = load_specs([ROOT / "examples" / "reference" / f"{cloud}.yaml"])[0]
    image = "registry.example.com/team/placeholder:1.0"
    assert spec.serving is not None
    endpoints = [e.model_copy(update={"placeholder_image": image}) for e in spec.serving.endpoints]
    spec = spec.model_copy(update={"serving": spec.serving.model_copy(update={"endpoints": endpoints})})
    text = json.dumps(stack_document(build_stack(engine.App(), spec)))
    assert text.count(image) >= len(spec.regions), f"{cloud}: the placeholder image is not used in every region"


def test_spec_data_quality_baseline_reaches_the_aws_monitoring_job() -> None:
    from constructs_lib.core.synth import stack_document

    spec = load_specs([ROOT / "examples" / "reference" / "aws.yaml"])[0]
    assert spec.monitoring is not None
    before = json.dumps(stack_document(build_stack(engine.App(), spec)))
    assert "constraints.json" not in before  # phase 1: statistics only
    monitoring = spec.monitoring.model_copy(update={"data_quality_baseline_uri": "s3://baselines-bucket/churn"})
    doc = stack_document(build_stack(engine.App(), spec.model_copy(update={"monitoring": monitoring})))
    jobs = doc["resource"]["aws_sagemaker_data_quality_job_definition"].values()
    assert jobs and all(
        j["data_quality_baseline_config"]["constraints_resource"]["s3_uri"] == "s3://baselines-bucket/churn/constraints.json"
        for j in jobs
    )


def _fallback_caps(cloud: str, doc: dict) -> dict[str, int]:
    """Cap of each on-demand fallback in a synthesized stack (AWS: vCPUs; others: nodes), by address."""
    res = doc["resource"]
    if cloud == "aws":
        return {
            lid: b["compute_resources"]["max_vcpus"]
            for lid, b in res["aws_batch_compute_environment"].items()
            if b["compute_resources"]["type"] == "EC2"
        }
    if cloud == "azure":
        return {
            b["name"]: b["scale_settings"]["max_node_count"]
            for b in res["azurerm_machine_learning_compute_cluster"].values()
            if b["vm_priority"] == "Dedicated"
        }
    return {
        b["name"]: b["autoscaling"]["total_max_node_count"]
        for b in res["google_container_node_pool"].values()
        if not b["node_config"].get("spot")
    }


@pytest.mark.parametrize("spec_file", REFERENCE, ids=lambda p: p.stem)
def test_on_demand_max_nodes_caps_the_fallback(spec_file: Path) -> None:
    from constructs_lib.core.synth import stack_document

    spec = load_specs([spec_file])[0]
    assert spec.training is not None
    before = _fallback_caps(spec.cloud, stack_document(build_stack(engine.App(), spec)))
    pools = [p.model_copy(update={"on_demand_max_nodes": 1}) if p.spot and p.on_demand_fallback and p.max_nodes > 1 else p
             for p in spec.training.pools]
    assert any(p.on_demand_max_nodes == 1 for p in pools), "the reference needs a spot pool with max_nodes > 1"
    spec = spec.model_copy(update={"training": spec.training.model_copy(update={"pools": pools})})
    after = _fallback_caps(spec.cloud, stack_document(build_stack(engine.App(), spec)))
    assert after.keys() == before.keys() and after != before
    assert all(after[k] <= before[k] for k in after)


def test_azure_defender_plan_can_be_left_to_a_central_team() -> None:
    from constructs_lib.core.synth import stack_document

    spec = load_specs([ROOT / "examples" / "reference" / "azure.yaml"])[0]
    assert spec.azure is not None and spec.registry is not None and spec.registry.containers.scan_on_push
    plan = "azurerm_security_center_subscription_pricing"
    assert plan in stack_document(build_stack(engine.App(), spec))["resource"]
    central = spec.model_copy(update={"azure": spec.azure.model_copy(update={"manage_defender_plan": False})})
    assert plan not in stack_document(build_stack(engine.App(), central))["resource"]


def test_docs_inventory_is_current(reference_out) -> None:
    from constructs_lib.ops.inventory import inventory

    expected = inventory(reference_out.outdir)
    assert (ROOT / "docs" / "inventory.md").read_text() == expected, "docs/inventory.md is stale: run `make inventory`"
    # one row per capability, region suffixes folded: the endpoint of two regions is one row
    assert "| endpoint-churn |" in expected and "endpoint-churn-us-west-2" not in expected
    assert '| recovery_serving | `{"replica_region": "us-west-2", "rpo_minutes": null, "rto_minutes": 6}` |' in expected


def test_inventory_cli(reference_out, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from constructs_lib.cli import app

    result = CliRunner().invoke(app, ["inventory", "--out", str(reference_out.outdir)])
    assert result.exit_code == 0 and "## reference-gcp (" in result.output
    missing = CliRunner().invoke(app, ["inventory", "--out", str(tmp_path)])
    assert missing.exit_code == 1 and "no synthesized stacks" in missing.output
