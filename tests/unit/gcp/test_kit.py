"""gcp.Kit: the platform plan's GCP factories, the contract the constructs satisfy, and the outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from constructs_lib.core import contract, engine
from constructs_lib.core.recovery import Recovery
from constructs_lib.core.spec import PlatformSpec, load_spec
from constructs_lib.gcp.kit import Kit
from constructs_lib.platform import build_stack

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted(ROOT.glob("examples/*/gcp.yaml"))
#: The outputs the GCP stacks had before the output contract: none of them may come back.
OLD_NAMES = {
    "training_cluster", "container_registry_urls", "model_registry_bucket", "model_registry_approver",
    "tracking_tensorboard", "feature_dataset", "data_quality_commands", "budget_status",
}
OLD_PATTERNS = re.compile(r"^(serving_\w+_(endpoints|deploy)|pipeline_\w+_(id|start_topic))$")


def _contract_pattern() -> re.Pattern[str]:
    names = [re.sub(r"<[a-z]+>", "[a-z0-9_]+", spec.name) for spec in contract.OUTPUTS]
    return re.compile("^(" + "|".join(names) + ")$")


def _synth(tmp_path: Path, spec: PlatformSpec) -> tuple[object, dict]:
    app = engine.App(outdir=str(tmp_path))
    stack = build_stack(app, spec)
    app.synth()
    return stack, json.loads((tmp_path / "stacks" / spec.name / "cdk.tf.json").read_text())


def _ref(stack, resource, attribute: str) -> str:
    return "${" + f"{resource.terraform_resource_type}.{stack.get_logical_id(resource)}.{attribute}" + "}"


def test_reference_constructs_satisfy_the_contract(tmp_path: Path) -> None:
    spec = load_spec(ROOT / "examples" / "reference" / "gcp.yaml")
    stack, _ = _synth(tmp_path, spec)
    assert isinstance(stack.kit, Kit)
    for store in stack.stores.values():
        assert isinstance(store, contract.DataStoreLike)
    checks = {
        "network": contract.NetworkLike,
        "training": contract.TrainingLike,
        "containers": contract.ContainerRegistryLike,
        "models": contract.ModelRegistryLike,
        "tracking": contract.TrackingLike,
        "features": contract.FeatureStoreLike,
        "monitoring": contract.MonitoringLike,
        "budget": contract.BudgetLike,
        "airflow": contract.AirflowLike,
    }
    for attribute, protocol in checks.items():
        assert isinstance(getattr(stack, attribute), protocol), attribute
    for regional in stack.endpoints.values():
        for endpoint in regional.values():
            assert isinstance(endpoint, contract.EndpointLike)
    assert stack.routing and all(isinstance(r, contract.RoutingLike) for r in stack.routing.values())
    assert set(stack.routing) == set(stack.endpoints)
    assert stack.pipelines and all(isinstance(p, contract.PipelineLike) for p in stack.pipelines.values())
    assert stack.retraining is not None
    assert not hasattr(stack, "workspace")  # nothing Azure-only on a GCP stack


@pytest.mark.parametrize("spec_file", EXAMPLES, ids=lambda p: p.parent.name)
def test_every_output_is_in_the_contract_or_gcp_prefixed(spec_file: Path, tmp_path: Path) -> None:
    spec = load_spec(spec_file)
    _, doc = _synth(tmp_path, spec)
    pattern = _contract_pattern()
    outputs = doc["output"]
    for name in outputs:
        assert pattern.match(name) or name.startswith("gcp_"), f"{name} is neither a contract output nor gcp_"
        assert name not in OLD_NAMES and not OLD_PATTERNS.match(name), f"old output name {name}"
    assert {"store_data_name", "store_data_key", "store_data_recovery"} <= set(outputs)


def test_reference_output_values(tmp_path: Path) -> None:
    spec = load_spec(ROOT / "examples" / "reference" / "gcp.yaml")
    stack, doc = _synth(tmp_path, spec)
    out = {name: body["value"] for name, body in doc["output"].items()}
    assert out["network_id"] == _ref(stack, stack.network.resource, "id")
    assert out["network_private_subnet_ids"] == [_ref(stack, stack.network.subnet, "id")]
    assert out["training_principal"] == _ref(stack, stack.training.service_account, "email")
    assert out["gcp_training_cluster"] == _ref(stack, stack.training.cluster, "name")
    region = spec.primary_region
    assert out["container_registry"]["url"] == f"{region}-docker.pkg.dev"
    assert out["container_registry"]["repositories"] == {
        repo: f"{region}-docker.pkg.dev/{spec.gcp.project}/{spec.resource_name('images')}-{repo}"
        for repo in stack.containers.repositories
    }
    assert out["model_registry"] == {
        "id": _ref(stack, stack.models.store.resource, "name"),
        "approver": _ref(stack, stack.models.approver, "email"),
    }
    # tracking.mlflow: the MLflow server's deterministic Cloud Run URL; the TensorBoard is GCP-prefixed.
    assert out["tracking_uri"] == (
        f"https://{spec.resource_name('tracking')}-mlflow-${{data.google_project."
        f"{stack.get_logical_id(next(iter(stack.node.find_child('GcpServices').projects.values())))}.number}}"
        f".{spec.primary_region}.run.app"
    )
    assert out["gcp_tracking_tensorboard"] == _ref(stack, stack.tracking.resource, "id")
    assert out["gcp_metadata_store_init"].startswith(f"gcloud workflows run {spec.resource_name('tracking')}-metadata-init ")
    assert out["tracking_secrets"] == {"wandb": f"{spec.resource_name('tracking')}-wandb-api-key"}
    assert out["feature_store"]["id"] == _ref(stack, stack.features.resource, "id")
    assert set(out["feature_store"]["groups"]) == {g.name for g in spec.features.groups}
    churn = out["serving_churn"]
    assert list(churn) == spec.regions
    for r, value in churn.items():
        endpoint = stack.endpoints["churn"][r]
        assert value["id"] == _ref(stack, endpoint.resource, "id")
        assert value["url"].startswith("https://${trimprefix(") and value["url"].endswith(":predict")
    assert set(out["gcp_serving_churn_deploy"]) == set(spec.regions)
    assert all("gcloud ai endpoints deploy-model" in c for c in out["gcp_serving_churn_deploy"].values())
    assert out["routing_hostnames"] == {"churn": f"churn.{spec.routing.domain}"}
    assert out["alert_targets"] == [_ref(stack, c, "id") for c in stack.monitoring.channels.values()]
    assert out["budget_id"] == _ref(stack, stack.budget.resource, "id")
    assert out["gcp_data_quality_commands"]
    # Recovery numbers as before the contract: the dual-region model bucket, routing to the 2nd region.
    assert out["recovery_model_registry"] == {"rpo_minutes": 15, "rto_minutes": 0, "replica_region": spec.regions[1]}
    assert out["recovery_serving"] == {"rpo_minutes": None, "rto_minutes": 4, "replica_region": spec.regions[1]}
    none = {"rpo_minutes": None, "rto_minutes": None, "replica_region": None}
    for thing in ("container_registry", "tracking", "features"):
        assert out[f"recovery_{thing}"] == none, thing


def _reference_data(**changes: object) -> dict:
    data = yaml.safe_load((ROOT / "examples" / "reference" / "gcp.yaml").read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


def test_without_routing_endpoints_are_private_with_a_null_url(tmp_path: Path) -> None:
    spec = PlatformSpec.model_validate(_reference_data(routing=None))
    stack, doc = _synth(tmp_path, spec)
    assert stack.routing == {} and "routing_hostnames" not in doc["output"]
    churn = doc["output"]["serving_churn"]["value"]
    assert all(v["url"] is None for v in churn.values())  # a private predict URL exists only after deployment
    # Each endpoint still has the other region to fail over to.
    assert doc["output"]["recovery_serving"]["value"] == {"rpo_minutes": None, "rto_minutes": 4,
                                                          "replica_region": spec.regions[1]}
    assert stack.endpoints["churn"][spec.regions[1]].recovery.replica_region == spec.regions[0]


def test_one_region_serving_has_no_failover(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "examples" / "multi-region-serving" / "gcp.yaml").read_text())
    data["regions"] = data["regions"][:1]
    spec = PlatformSpec.model_validate(data)
    stack, doc = _synth(tmp_path, spec)
    assert doc["output"]["recovery_serving"]["value"] == {"rpo_minutes": None, "rto_minutes": None,
                                                          "replica_region": None}
    assert next(iter(stack.routing.values())).recovery == Recovery(rpo_minutes=None, rto_minutes=None)


def test_pipelines_without_a_store_name_what_to_add() -> None:
    data = yaml.safe_load((ROOT / "examples" / "retraining" / "gcp.yaml").read_text())
    stack = build_stack(engine.App(), PlatformSpec.model_validate(data))
    kit = stack.kit
    stack.stores = {}
    with pytest.raises(ValueError, match="add one under storage.stores"):
        kit.pipelines()
