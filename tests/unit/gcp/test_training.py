"""gcp.Training: private GKE cluster, spot pools with on-demand fallback, scale to zero, identities."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.core.acknowledge import Acknowledge
from constructs_lib.gcp import Network, NetworkProps, Training, TrainingProps
from constructs_lib.gcp.training import NODE_ROLES, accelerator_for

from .conftest import PROJECT

POOL = "google_container_node_pool"


def train_props(**kw) -> TrainingProps:
    return TrainingProps(**{"name": "ml-train", "project": PROJECT, "location": "us-central1", **kw})


def make(build, **kw):
    holder = {}

    def body(stack):
        net = Network(stack, "Net", NetworkProps(name="ml-net", project=PROJECT, location="us-central1"))
        holder["net"] = net
        holder["t"] = Training(stack, "Training", train_props(**kw), network=net)

    built = build(body)
    return built, holder["t"], holder["net"]


def test_default_pools_are_spot_with_fallback_and_scale_to_zero(build) -> None:
    built, t, _ = make(build)
    assert set(t.pools) == {"cpu", "gpu"} and set(t.fallback_pools) == {"cpu", "gpu"}
    gpu = built.by_path(POOL, "gcp/Training/PoolGpu")
    assert gpu["node_config"]["spot"] is True
    assert gpu["autoscaling"] == {"total_min_node_count": 0, "total_max_node_count": 2, "location_policy": "ANY"}
    assert gpu["node_config"]["guest_accelerator"] == [
        {"type": "nvidia-l4", "count": 1, "gpu_driver_installation_config": {"gpu_driver_version": "LATEST"}}
    ]
    assert gpu["node_config"]["machine_type"] == "g2-standard-8"
    fallback = built.by_path(POOL, "gcp/Training/PoolGpuOnDemand")
    assert "spot" not in fallback["node_config"]
    assert fallback["autoscaling"]["total_max_node_count"] == 2
    assert fallback["autoscaling"]["total_min_node_count"] == 0
    assert fallback["node_config"]["labels"]["mlops.dev/capacity"] == "on-demand"
    cpu = built.by_path(POOL, "gcp/Training/PoolCpu")
    assert "guest_accelerator" not in cpu["node_config"]
    assert cpu["autoscaling"]["total_max_node_count"] == 4
    for body in built.resources(POOL).values():
        nc = body["node_config"]
        assert body["network_config"] == {"enable_private_nodes": True}
        assert nc["boot_disk_kms_key"] == "${" + built.address(t.key.resource) + ".id}"
        assert nc["disk_size_gb"] == 200
        assert nc["workload_metadata_config"] == {"mode": "GKE_METADATA"}
        assert nc["shielded_instance_config"]["enable_secure_boot"] is True
        assert nc["taint"][0]["effect"] == "NO_SCHEDULE"
        assert nc["service_account"] == "${" + built.address(t.node_service_account) + ".email}"


def test_cluster_is_private_and_encrypted(build) -> None:
    built, t, net = make(build)
    c = built.by_path("google_container_cluster", "gcp/Training/Cluster")
    assert c["private_cluster_config"]["enable_private_nodes"] is True
    assert c["private_cluster_config"]["enable_private_endpoint"] is True
    assert c["private_cluster_config"]["master_ipv4_cidr_block"] == "10.40.64.0/28"
    assert c["master_authorized_networks_config"]["cidr_blocks"] == [
        {"cidr_block": "10.40.0.0/19", "display_name": "ml-nodes"}
    ]
    assert c["database_encryption"] == {"state": "ENCRYPTED", "key_name": "${" + built.address(t.key.resource) + ".id}"}
    assert c["workload_identity_config"] == {"workload_pool": f"{PROJECT}.svc.id.goog"}
    assert c["subnetwork"] == "${" + built.address(net.subnet) + ".id}"
    assert c["remove_default_node_pool"] is True
    assert c["deletion_protection"] is True
    assert c["cluster_autoscaling"]["autoscaling_profile"] == "OPTIMIZE_UTILIZATION"
    assert {a.check_id for a in Acknowledge.of(t.cluster).effective()} == {"CKV_GCP_65"}


def test_one_identity_with_exact_roles(build) -> None:
    built, t, _ = make(build)
    assert t.principal == t.service_account.ref("member")
    assert len(built.resources("google_service_account")) == 2  # identity + nodes
    roles = sorted(b["role"] for b in built.resources("google_project_iam_member").values())
    assert roles == sorted(NODE_ROLES)
    for b in built.resources("google_project_iam_member").values():
        assert b["member"] == "${" + built.address(t.node_service_account) + ".member}"
    (wi,) = built.resources("google_service_account_iam_member").values()
    assert wi["role"] == "roles/iam.workloadIdentityUser"
    assert wi["member"] == f"serviceAccount:{PROJECT}.svc.id.goog[training/trainer]"
    agents = sorted(b["member"] for b in built.resources("google_kms_crypto_key_iam_member").values())
    assert any("compute-system" in a for a in agents) and any("container-engine-robot" in a for a in agents)


def test_spot_without_fallback_and_on_demand_pools(build) -> None:
    pools = [
        {"name": "gpu", "gpu": True, "spot": True, "on_demand_fallback": False, "max_nodes": 8, "min_nodes": 1},
        {"name": "cpu", "spot": False, "idle_minutes": 30, "disk_size_gib": 64},
    ]
    built, t, _ = make(build, pools=pools, rbac_security_group="gke-security-groups@example.com")
    assert t.fallback_pools == {}
    gpu = built.by_path(POOL, "gcp/Training/PoolGpu")
    assert gpu["autoscaling"]["total_min_node_count"] == 1 and gpu["autoscaling"]["total_max_node_count"] == 8
    cpu = built.by_path(POOL, "gcp/Training/PoolCpu")
    assert "spot" not in cpu["node_config"] and cpu["node_config"]["disk_size_gb"] == 64
    c = built.by_path("google_container_cluster", "gcp/Training/Cluster")
    assert c["authenticator_groups_config"] == {"security_group": "gke-security-groups@example.com"}
    assert Acknowledge.of(t.cluster).effective() == ()


def test_accelerators() -> None:
    assert accelerator_for("g2-standard-24").count == 2
    assert accelerator_for("a2-highgpu-4g").type == "nvidia-tesla-a100"
    assert accelerator_for("n1-standard-8") is None


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"pools": [{"name": "gpu", "gpu": True, "machine_type": "n1-standard-8"}]}, "no built-in GPU"),
        ({"pools": [{"name": "cpu"}], "accelerators": {"cpu": {"type": "nvidia-tesla-t4", "count": 1}}}, "gpu is false"),
        ({"accelerators": {"nope": {"type": "nvidia-tesla-t4", "count": 1}}}, "do not exist"),
        ({"node_zones": ["europe-west4-a"]}, "not a zone"),
        ({"pools": [{"name": "cpu", "min_nodes": 5, "max_nodes": 2}]}, "must not exceed"),
        ({"pools": [{"name": "cpu"}, {"name": "cpu"}]}, "unique"),
        ({"rbac_security_group": "admins@example.com"}, "rbac_security_group"),
    ],
)
def test_training_props_validation(kw, message) -> None:
    with pytest.raises(ValidationError, match=message):
        train_props(**kw)


def test_t4_pool_with_accelerator_override(build) -> None:
    pools = [{"name": "t4", "gpu": True, "machine_type": "n1-standard-8"}]
    built, _, _ = make(build, pools=pools, accelerators={"t4": {"type": "nvidia-tesla-t4", "count": 2}})
    acc = built.by_path(POOL, "gcp/Training/PoolT4")["node_config"]["guest_accelerator"][0]
    assert (acc["type"], acc["count"]) == ("nvidia-tesla-t4", 2)


def test_network_must_be_a_gcp_network(build) -> None:
    def body(stack):
        with pytest.raises(TypeError, match="network must be"):
            Training(stack, "T", train_props(), network=object())  # type: ignore[arg-type]

    build(body)


def test_platform_grants_the_training_identity_exactly() -> None:
    """The reference spec: the training identity gets exactly its documented grants, nothing else."""
    from pathlib import Path

    from constructs_lib.core import engine
    from constructs_lib.core.spec import load_spec
    from constructs_lib.core.synth import stack_document
    from constructs_lib.platform import build_stack

    spec = load_spec(Path(__file__).resolve().parents[3] / "examples" / "reference" / "gcp.yaml")
    stack = build_stack(engine.App(), spec)
    doc = stack_document(stack)
    who = "${" + f"google_service_account.{stack.get_logical_id(stack.training.service_account)}.member" + "}"
    got = set()
    for tf_type, blocks in doc["resource"].items():
        for body in blocks.values():
            if tf_type.endswith("_iam_member") and body.get("member") == who:
                role = body["role"]
                if role.startswith("${google_project_iam_custom_role."):
                    role = "custom:" + next(
                        b["title"] for n, b in doc["resource"]["google_project_iam_custom_role"].items() if n in role
                    ).split(" ", 1)[1]
                got.add((tf_type, body["//"]["metadata"]["path"].split("/")[1], role))
    assert got == {
        ("google_storage_bucket_iam_member", "data", "roles/storage.objectViewer"),
        ("google_storage_bucket_iam_member", "artifacts", "roles/storage.objectViewer"),
        ("google_storage_bucket_iam_member", "artifacts", "roles/storage.objectCreator"),
        ("google_artifact_registry_repository_iam_member", "containers", "roles/artifactregistry.reader"),
        ("google_storage_bucket_iam_member", "models", "roles/storage.objectViewer"),
        ("google_storage_bucket_iam_member", "models", "roles/storage.objectCreator"),
        ("google_project_iam_member", "models", "custom:model publisher"),
        ("google_project_iam_member", "tracking", "custom:tracking user"),
        ("google_cloud_run_v2_service_iam_member", "tracking", "roles/run.invoker"),  # tracking.mlflow
        ("google_secret_manager_secret_iam_member", "tracking", "roles/secretmanager.secretAccessor"),
        ("google_bigquery_dataset_iam_member", "features", "roles/bigquery.dataViewer"),
        ("google_project_iam_member", "features", "roles/bigquery.jobUser"),
        ("google_project_iam_member", "features", "custom:online feature reader"),
    }
    assert set(doc["output"]) >= {"training_principal", "training_pools", "container_registry", "model_registry",
                                  "tracking_uri", "tracking_secrets", "feature_store", "gcp_training_cluster"}
    assert doc["output"]["training_principal"]["value"] == who.replace(".member}", ".email}")
    pools = doc["output"]["training_pools"]["value"]
    assert set(pools) == {p.name for p in spec.training.pools}
    for name, pool in pools.items():  # the spot pool first, its on-demand fallback second
        assert pool["target"] == "${" + f"google_container_node_pool.{stack.get_logical_id(stack.training.pools[name])}.name" + "}"
        assert pool["fallback"] == "${" + f"google_container_node_pool.{stack.get_logical_id(stack.training.fallback_pools[name])}.name" + "}"
