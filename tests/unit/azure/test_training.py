"""Azure Training: low-priority pools with a dedicated fallback, scale to zero, private nodes, one
identity; and the training identity's grants in the platform are exactly what it needs."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from constructs_lib.azure import Training, TrainingProps
from constructs_lib.azure.training import DEFAULT_CPU_VM_SIZE, DEFAULT_GPU_VM_SIZE, compute_names, fallback_name
from constructs_lib.core import engine
from constructs_lib.core.build_props import TrainingPoolSettings
from constructs_lib.core.build_props import TrainingProps as CoreTrainingProps
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.spec import load_spec
from constructs_lib.core.synth import stack_document
from constructs_lib.platform import build_stack

from .build_helpers import WHERE, WORKSPACE_ID, Built

SUBNET = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/subnets/ml"
NETWORK = SimpleNamespace(private_subnet_ids=[SUBNET])
ROOT = __import__("pathlib").Path(__file__).resolve().parents[3]


def props(*pools: TrainingPoolSettings, **kw) -> TrainingProps:
    extra = {"pools": list(pools)} if pools else {}
    return TrainingProps(name="ml-train", **WHERE, workspace_id=WORKSPACE_ID, **extra, **kw)


@pytest.fixture(scope="module")
def default() -> Built:
    return Built(lambda st: Training(st, "Training", props(), network=NETWORK))


def test_spot_pools_with_dedicated_fallback(default: Built) -> None:
    clusters = default.of("azurerm_machine_learning_compute_cluster")
    assert {p: (c["name"], c["vm_priority"], c["vm_size"]) for p, c in clusters.items()} == {
        "Training/Pool-cpu": ("cpu", "LowPriority", DEFAULT_CPU_VM_SIZE),
        "Training/Pool-cpu-od": ("cpu-od", "Dedicated", DEFAULT_CPU_VM_SIZE),
        "Training/Pool-gpu": ("gpu", "LowPriority", DEFAULT_GPU_VM_SIZE),
        "Training/Pool-gpu-od": ("gpu-od", "Dedicated", DEFAULT_GPU_VM_SIZE),
    }
    t = default.built
    assert set(t.pools) == {"cpu", "gpu"} and set(t.fallback_pools) == {"cpu", "gpu"}
    assert t.pools["gpu"].get("vm_priority") == "LowPriority"


def test_scale_to_zero_cap_and_idle(default: Built) -> None:
    clusters = default.of("azurerm_machine_learning_compute_cluster")
    assert clusters["Training/Pool-gpu"]["scale_settings"] == {
        "min_node_count": 0, "max_node_count": 2, "scale_down_nodes_after_idle_duration": "PT10M"}
    # The fallback has the same cap and also scales to zero.
    assert clusters["Training/Pool-gpu-od"]["scale_settings"]["max_node_count"] == 2
    assert clusters["Training/Pool-gpu-od"]["scale_settings"]["min_node_count"] == 0
    assert clusters["Training/Pool-cpu"]["scale_settings"]["max_node_count"] == 4


def test_private_nodes_without_public_ip_or_local_auth(default: Built) -> None:
    for c in default.of("azurerm_machine_learning_compute_cluster").values():
        assert c["subnet_resource_id"] == SUBNET
        assert c["node_public_ip_enabled"] is False
        assert c["local_auth_enabled"] is False
        assert c["ssh_public_access_enabled"] is False
        assert c["machine_learning_workspace_id"] == WORKSPACE_ID


def test_one_execution_identity(default: Built) -> None:
    identities = default.of("azurerm_user_assigned_identity")
    assert list(identities) == ["Training/Resource"]
    ident = default.ref("azurerm_user_assigned_identity", "Training/Resource", "id")
    for c in default.of("azurerm_machine_learning_compute_cluster").values():
        assert c["identity"] == {"type": "UserAssigned", "identity_ids": [ident]}
    assert default.built.principal == default.built.resource.ref("principal_id")


def test_pool_options() -> None:
    b = Built(lambda st: Training(st, "T", props(
        TrainingPoolSettings(name="a100", gpu=True, machine_type="Standard_NC24ads_A100_v4", min_nodes=1,
                             max_nodes=8, idle_minutes=5, on_demand_fallback=False),
        TrainingPoolSettings(name="etl", spot=False, max_nodes=3),
    ), network=NETWORK))
    clusters = b.of("azurerm_machine_learning_compute_cluster")
    assert set(clusters) == {"T/Pool-a100", "T/Pool-etl"}  # no fallback without spot+fallback
    a100 = clusters["T/Pool-a100"]
    assert (a100["vm_size"], a100["vm_priority"]) == ("Standard_NC24ads_A100_v4", "LowPriority")
    assert a100["scale_settings"] == {"min_node_count": 1, "max_node_count": 8,
                                      "scale_down_nodes_after_idle_duration": "PT5M"}
    assert clusters["T/Pool-etl"]["vm_priority"] == "Dedicated"


def test_errors() -> None:
    with pytest.raises(ValueError, match="network must provide private_subnet_ids"):
        Built(lambda st: Training(st, "T", props(), network=SimpleNamespace(private_subnet_ids=[])))
    # A fallback name that is another pool's name gets a hash of its pool name instead.
    clash = compute_names([TrainingPoolSettings(name="gpu"), TrainingPoolSettings(name="gpu-od")])
    assert clash["gpu"][1] != "gpu-od" and clash["gpu"][1].endswith("-od")
    assert len({n for pair in clash.values() for n in pair if n}) == 4
    with pytest.raises(ValidationError, match="min_nodes \\(5\\) must not exceed max_nodes \\(2\\)"):
        TrainingPoolSettings(name="x1", min_nodes=5, max_nodes=2)
    with pytest.raises(ValidationError, match="take no disk key"):
        props(encryption={"key_id": "https://kv.vault.azure.net/keys/k"})
    with pytest.raises(ValidationError, match="workspace_id"):
        TrainingProps(name="ml-train", **WHERE)
    with pytest.raises(TypeError, match="resource_group_name, location and workspace_id"):
        Built(lambda st: Training(st, "T", CoreTrainingProps(name="ml-train"), network=NETWORK))
    assert fallback_name("a-very-long-pool") == "a-very-long-p-od" and len(fallback_name("a-very-long-pool")) == 16


def test_long_pool_names_get_distinct_fallback_clusters() -> None:
    # Two 16-character names that differ after the 13th character would both give "gpupoolaaaaaa-od".
    pools = [TrainingPoolSettings(name="gpupoolaaaaaaaaa", gpu=True), TrainingPoolSettings(name="gpupoolaaaaaaaab")]
    names = compute_names(pools)
    fallbacks = [names[p.name][1] for p in pools]
    assert len(set(fallbacks)) == 2 and all(f and len(f) <= 16 and f.endswith("-od") for f in fallbacks)
    assert compute_names(list(reversed(pools))) == names  # independent of the order
    built = Built(lambda st: Training(st, "T", props(*pools), network=NETWORK))
    clusters = sorted(c["name"] for c in built.of("azurerm_machine_learning_compute_cluster").values())
    assert clusters == sorted(["gpupoolaaaaaaaaa", "gpupoolaaaaaaaab", *fallbacks])
    assert compute_names([TrainingPoolSettings(name="cpu")])["cpu"] == ("cpu", "cpu-od")  # short names unchanged


@pytest.fixture(scope="module")
def reference() -> dict:
    app = engine.App(outdir="/tmp/cdktf-mlops-azure-unit-ref")
    stack = build_stack(app, load_spec(ROOT / "examples/reference/azure.yaml"))
    return stack_document(stack)


def test_training_identity_grants_are_exact(reference: dict) -> None:
    res = reference["resource"]
    (training_id,) = [n for n, b in res["azurerm_user_assigned_identity"].items()
                      if b["//"]["metadata"]["path"].endswith("/training/Resource")]
    who = "${azurerm_user_assigned_identity.%s.principal_id}" % training_id

    def path_of(ref: str) -> str:
        m = re.match(r"\$\{(\w+)\.(\w+)\.", ref)
        assert m, ref
        return res[m.group(1)][m.group(2)]["//"]["metadata"]["path"].removeprefix("reference-azure/")

    grants = sorted(
        (b.get("role_definition_name") or path_of(b["role_definition_id"]), path_of(b["scope"].split("}")[0] + "}"))
        for b in res["azurerm_role_assignment"].values() if b["principal_id"] == who
    )
    assert grants == [
        ("AcrPull", "containers/Resource"),
        ("Key Vault Secrets User", "tracking/Secrets"),
        ("Storage Blob Data Contributor", "artifacts/Resource"),
        ("Storage Blob Data Reader", "data/Resource"),
        ("Storage Blob Data Reader", "features/Offline/Resource"),
        ("features/ReaderRole", "features/Resource/Resource"),
        ("models/CandidateWriterRole", "workspace/Resource"),  # candidates only: not the registry
        ("tracking/Resource", "workspace/Resource"),
    ]
    redis = [b for b in res["azurerm_redis_cache_access_policy_assignment"].values() if b["object_id"] == who]
    assert [b["access_policy_name"] for b in redis] == ["Data Reader"]
    assert audit_stack(reference) == []
