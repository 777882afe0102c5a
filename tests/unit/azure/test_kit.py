"""The Azure kit: the reference stack's constructs satisfy the contract's protocols, every output is
in the contract or carries the ``azure_`` prefix, the workspace stays the kit's own, and every
``grant_*`` returns the grants it made as a list."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from constructs_lib.azure.kit import Kit
from constructs_lib.azure.routing import Routing
from constructs_lib.azure.tracking import Workspace
from constructs_lib.core import contract, engine
from constructs_lib.core.resource import Resource
from constructs_lib.core.spec import load_spec
from constructs_lib.core.synth import stack_document
from constructs_lib.platform import Kit as KitProtocol
from constructs_lib.platform import build_stack

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = sorted(p.parent.name for p in (ROOT / "examples").glob("*/azure.yaml"))
PRINCIPAL = "33333333-3333-3333-3333-333333333333"


def _stack(example: str) -> Any:
    return build_stack(engine.App(), load_spec(ROOT / "examples" / example / "azure.yaml"))


@pytest.fixture(scope="module")
def reference() -> Any:
    return _stack("reference")


def test_kit_implements_every_factory_of_the_plan() -> None:
    wanted = {n for n, _ in inspect.getmembers(KitProtocol, inspect.isfunction) if not n.startswith("_")}
    have = {n for n, _ in inspect.getmembers(Kit, inspect.isfunction) if not n.startswith("_")}
    assert wanted and wanted <= have, sorted(wanted - have)


def test_reference_constructs_satisfy_the_contract(reference: Any) -> None:
    st = reference
    assert isinstance(st.kit, Kit)
    checks: list[tuple[Any, type]] = [
        *((s, contract.DataStoreLike) for s in st.stores.values()),
        (st.network, contract.NetworkLike),
        (st.training, contract.TrainingLike),
        (st.containers, contract.ContainerRegistryLike),
        (st.models, contract.ModelRegistryLike),
        (st.tracking, contract.TrackingLike),
        (st.features, contract.FeatureStoreLike),
        *((e, contract.EndpointLike) for regional in st.endpoints.values() for e in regional.values()),
        *((r, contract.RoutingLike) for r in st.routing.values()),
        (st.monitoring, contract.MonitoringLike),
        (st.budget, contract.BudgetLike),
        *((p, contract.PipelineLike) for p in st.pipelines.values()),
    ]
    assert len(checks) >= 14
    for construct, protocol in checks:
        assert isinstance(construct, protocol), f"{construct!r} is not a {protocol.__name__}"
    assert st.airflow is None  # no managed Airflow on Azure
    # the contract's value shapes
    assert set(st.training.pool_targets) == {p.name for p in st.spec.training.pools}
    for pool, target in st.training.pool_targets.items():
        spot = next(p for p in st.spec.training.pools if p.name == pool).spot
        assert set(target) == {"target", "fallback"} and (target["fallback"] is not None) == spot
    assert set(st.containers.repository_urls) == set(st.spec.registry.containers.repositories)
    assert st.models.approver_id is not None  # manual approval: the approver identity
    assert set(st.features.group_ids) == {g.name for g in st.spec.features.groups}
    assert st.monitoring.alert_targets == [st.monitoring.alert_target]
    assert all(p.trigger_id is None for p in st.pipelines.values())


def test_routing_maps_every_endpoint_to_the_one_routing(reference: Any) -> None:
    assert set(reference.routing) == set(reference.endpoints)
    (routing,) = set(reference.routing.values())
    assert isinstance(routing, Routing) and set(routing.hostnames) == set(reference.endpoints)


def test_the_workspace_is_the_kits_own(reference: Any) -> None:
    assert not hasattr(reference, "workspace")
    kit = reference.kit
    assert isinstance(kit.workspace, Workspace)
    assert list(kit.serving_workspaces) == reference.spec.regions
    assert kit.serving_workspaces[reference.spec.primary_region] is kit.workspace


def _contract_pattern() -> re.Pattern[str]:
    names = [re.sub(r"<[a-z]+>", "[a-z0-9_]+", re.escape(s.name).replace(r"\<", "<").replace(r"\>", ">"))
             for s in contract.OUTPUTS]
    return re.compile("^(" + "|".join(names) + ")$")


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_output_is_in_the_contract_or_azure_prefixed(example: str) -> None:
    doc = stack_document(_stack(example))
    names = set(doc["output"])
    pattern = _contract_pattern()
    outside = sorted(n for n in names if not pattern.match(n) and not n.startswith("azure_"))
    assert outside == [], f"{example}: outputs neither in the contract nor azure_-prefixed: {outside}"
    assert not {n for n in names if n.startswith(("aws_", "gcp_"))}
    assert "azure_ml_workspace_id" in names  # every example has ML sections, so a workspace


def test_reference_outputs_have_the_contract_shapes(reference: Any) -> None:
    out = {k: v["value"] for k, v in stack_document(reference)["output"].items()}
    assert set(out["serving_churn"]) == set(reference.spec.regions)
    for region, value in out["serving_churn"].items():
        assert value["url"] == f"https://reference-azure-prod-churn.{region}.inference.ml.azure.com/score"
        assert value["id"].startswith("${azapi_resource.endpoint-churn-")
    assert set(out["training_pools"]["gpu"]) >= {"target"}
    assert set(out["container_registry"]) == {"url", "repositories"}
    assert set(out["model_registry"]) == {"id", "approver"}
    assert set(out["feature_store"]) == {"id", "groups"}
    assert list(out["tracking_secrets"]) == ["wandb"]
    assert out["routing_hostnames"] == {"churn": "churn.reference-azure.ml.example.com"}
    assert isinstance(out["alert_targets"], list) and len(out["alert_targets"]) == 1
    assert {"azure_training_client_id", "azure_model_approver_client_id"} <= set(out)
    gone = {"serving_endpoints", "routing_hosts", "alert_target_id", "tracker_secrets", "training_principal_id",
            "training_fallback_pools", "ml_workspace_id", "model_registry_id", "pipeline_train_id"}
    assert not gone & set(out)


def test_every_grant_returns_a_list_of_the_grants_it_made(reference: Any) -> None:
    st = reference
    constructs = [*st.stores.values(), st.containers, st.models, st.tracking, st.features,
                  *st.pipelines.values(), st.stores["data"].key]
    seen = 0
    for construct in constructs:
        for name, method in inspect.getmembers(construct, inspect.ismethod):
            if not name.startswith("grant_"):
                continue
            first = method(PRINCIPAL)
            assert isinstance(first, list) and first, f"{type(construct).__name__}.{name}"
            assert all(isinstance(g, Resource) for g in first)
            assert method(PRINCIPAL) == first  # granting again makes nothing new
            seen += 1
    assert seen >= 12
