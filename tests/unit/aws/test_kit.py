"""The AWS kit: the plan's factories, constructs that satisfy the contract, and the stack outputs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from constructs_lib.aws.kit import BOOTSTRAP_IMAGE_TAG, Kit
from constructs_lib.core import contract, engine
from constructs_lib.core.spec import PlatformSpec, load_spec
from constructs_lib.core.synth import stack_document
from constructs_lib.platform import build_stack

REPO = Path(__file__).resolve().parents[3]
REFERENCE = REPO / "examples" / "reference" / "aws.yaml"
CONTRACT = [re.compile("^" + re.sub(r"<[a-z_]+>", "[a-z0-9_]+", o.name) + "$") for o in contract.OUTPUTS]


@pytest.fixture(scope="module")
def reference() -> tuple[Any, dict[str, Any]]:
    stack = build_stack(engine.App(), load_spec(str(REFERENCE)))
    return stack, stack_document(stack)


def _spec(**changes: Any) -> PlatformSpec:
    data = yaml.safe_load(REFERENCE.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return PlatformSpec.model_validate(data)


def _recovery(value: dict[str, Any]) -> tuple[Any, Any, Any]:
    """(rpo, rto, replica region) of a recovery output (the in-memory document leaves nulls out)."""
    assert set(value) <= {"rpo_minutes", "rto_minutes", "replica_region"}, value
    return value.get("rpo_minutes"), value.get("rto_minutes"), value.get("replica_region")


def _ref(stack: Any, element: Any, attribute: str) -> str:
    return f"${{{element.terraform_resource_type}.{stack.get_logical_id(element)}.{attribute}}}"


def test_the_plan_uses_the_aws_kit(reference) -> None:
    stack, _ = reference
    assert isinstance(stack.kit, Kit)


def test_reference_constructs_satisfy_the_protocols(reference) -> None:
    stack, _ = reference
    checks: list[tuple[Any, type]] = [
        *((s, contract.DataStoreLike) for s in stack.stores.values()),
        (stack.network, contract.NetworkLike),
        (stack.training, contract.TrainingLike),
        (stack.containers, contract.ContainerRegistryLike),
        (stack.models, contract.ModelRegistryLike),
        (stack.tracking, contract.TrackingLike),
        (stack.features, contract.FeatureStoreLike),
        *((e, contract.EndpointLike) for regional in stack.endpoints.values() for e in regional.values()),
        *((r, contract.RoutingLike) for r in stack.routing.values()),
        (stack.monitoring, contract.MonitoringLike),
        (stack.budget, contract.BudgetLike),
        *((p, contract.PipelineLike) for p in stack.pipelines.values()),
        (stack.airflow, contract.AirflowLike),
    ]
    assert stack.pipelines and stack.endpoints and stack.routing
    for construct, protocol in checks:
        assert isinstance(construct, protocol), f"{construct.node.path} is not a {protocol.__name__}"
    # the same kind of value on every cloud: lists and maps, not single topics or resources
    assert isinstance(stack.monitoring.alert_targets, list) and len(stack.monitoring.alert_targets) == 2
    assert set(stack.routing) == set(stack.endpoints)


def test_every_output_is_in_the_contract_or_aws_prefixed(reference) -> None:
    _, doc = reference
    outputs = doc["output"]
    for name in outputs:
        if name.startswith("aws_"):
            continue
        assert not name.startswith(("azure_", "gcp_")), name
        assert any(p.match(name) for p in CONTRACT), f"output {name} is neither in the contract nor aws_-prefixed"
    assert {n for n in outputs if n.startswith("aws_")} == {"aws_training_vpc_config", "aws_serving_churn"}


def test_output_values_keep_what_the_old_outputs_said(reference) -> None:
    stack, doc = reference
    out = {k: v["value"] for k, v in doc["output"].items()}
    training, containers, models = stack.training, stack.containers, stack.models
    # training: principal ARN, and per pool the job queue and the on-demand fallback environment
    assert out["training_principal"] == _ref(stack, training.principal, "arn")
    for pool, queue in training.pools.items():
        envs = training.compute_environments[pool]
        fallback = _ref(stack, envs[1], "arn") if len(envs) == 2 else None
        assert out["training_pools"][pool] == {"target": _ref(stack, queue, "name"), "fallback": fallback}
    assert any(v["fallback"] for v in out["training_pools"].values())
    assert out["aws_training_vpc_config"]["SecurityGroupIds"] == [_ref(stack, training.security_group, "id")]
    # registries: repository URLs, the registry host, the group and its approver
    repos = {k: _ref(stack, r, "repository_url") for k, r in containers.repositories.items()}
    assert out["container_registry"]["repositories"] == repos
    assert out["container_registry"]["url"].startswith('${element(split("/", aws_ecr_repository.')
    assert out["model_registry"] == {
        "id": _ref(stack, models.resource, "model_package_group_name"),
        "approver": _ref(stack, models.approver_principal, "arn"),
    }
    assert out["tracking_secrets"] == {"wandb": _ref(stack, stack.tracking.secrets["wandb"], "arn")}
    assert out["feature_store"]["groups"] == {
        "customer_features": _ref(stack, stack.features.groups["customer_features"], "feature_group_name")
    }
    assert out["feature_store"]["id"].endswith("/feature-store/reference-aws-prod-features")
    # automation
    pipeline = stack.pipelines["train"]
    assert out["pipeline_train"] == {"id": _ref(stack, pipeline.resource, "id"), "trigger": _ref(stack, pipeline.resource, "arn")}
    assert out["airflow_uri"] == _ref(stack, stack.airflow.resource, "webserver_url")
    assert out["budget_id"] == "reference-aws-prod-budget"
    assert out["alert_targets"][0] == _ref(stack, stack.monitoring.topic, "arn")


def test_serving_outputs_per_region(reference) -> None:
    stack, doc = reference
    out = {k: v["value"] for k, v in doc["output"].items()}
    regions = stack.spec.regions
    assert list(out["serving_churn"]) == list(out["aws_serving_churn"]) == regions
    for region, endpoint in stack.endpoints["churn"].items():
        name = _ref(stack, endpoint.resource, "name")
        assert out["serving_churn"][region] == {
            "id": _ref(stack, endpoint.resource, "arn"),
            "url": f"https://runtime.sagemaker.{region}.amazonaws.com/endpoints/{name}/invocations",
        }
        extra = out["aws_serving_churn"][region]
        assert extra["endpoint_name"] == name and extra["role_arn"] == _ref(stack, endpoint.principal, "arn")
        assert extra["bootstrap_config"] == _ref(stack, endpoint.config, "name")
        assert extra["model_artifacts_uri"].endswith("/models/") and extra["capture_uri"].startswith("s3://")
    assert out["routing_hostnames"] == {"churn": stack.routing["churn"].fqdn}
    assert out["routing_name_servers"] == _ref(stack, stack.routing["churn"].zone, "name_servers")
    # the same numbers as the old recovery_serving_<endpoint>: failover RTO, the second region
    assert _recovery(out["recovery_serving"]) == (None, 6, regions[1])
    for thing in ("container_registry", "model_registry", "tracking", "features"):
        assert _recovery(out[f"recovery_{thing}"]) == (None, None, None)


def test_per_region_providers_and_serving_networks_stay_on_the_kit(reference) -> None:
    stack, doc = reference
    kit = stack.kit
    primary, second = stack.spec.regions
    assert kit.region_providers[primary] is None and kit.region_providers[second].alias == "replica"
    assert list(kit.serving_networks) == [second]
    assert stack.endpoints["churn"][primary].node.path and stack.network.resource is not None
    assert [p.get("alias") for p in doc["provider"]["aws"]] == [None, "replica"]  # us-east-1 is a spec region


def test_registries_are_built_before_the_pools_that_run_their_image(reference) -> None:
    stack, doc = reference
    url = _ref(stack, stack.containers.repositories["training"], "repository_url")
    images = {b["container_properties"] for b in doc["resource"]["aws_batch_job_definition"].values()}
    assert images and all(f'"image":"{url}:{BOOTSTRAP_IMAGE_TAG}"' in p for p in images)


def test_serving_without_routing_has_no_failover_rto() -> None:
    stack = build_stack(engine.App(), _spec(routing=None))
    doc = stack_document(stack)
    assert stack.routing == {} and "routing_hostnames" not in doc["output"]
    assert _recovery(doc["output"]["recovery_serving"]["value"]) == (None, None, None)
    assert "us_east_1" not in [p.get("alias") for p in doc["provider"]["aws"]]


def test_routing_outside_us_east_1_declares_its_provider() -> None:
    stack = build_stack(engine.App(), _spec(regions=["eu-west-1", "eu-central-1"]))
    doc = stack_document(stack)
    aliases = {p.get("alias"): p["region"] for p in doc["provider"]["aws"]}
    assert aliases == {None: "eu-west-1", "replica": "eu-central-1", "us_east_1": "us-east-1"}
    assert stack.routing["churn"].node.path.endswith("routing-churn")


def test_a_spec_without_automation_or_serving_has_none_of_their_outputs() -> None:
    spec = _spec(serving=None, routing=None, monitoring=None, budget=None, pipelines=None, retraining=None, airflow=None)
    stack = build_stack(engine.App(), spec)
    names = set(stack_document(stack)["output"])
    assert stack.kit.region_providers == {} and stack.endpoints == {} and stack.pipelines == {}
    assert not {n for n in names if n.startswith(("serving_", "aws_serving_", "pipeline_", "routing_"))}
    assert {"alert_targets", "budget_id", "airflow_uri", "recovery_serving"}.isdisjoint(names)
    assert {"training_pools", "container_registry", "aws_training_vpc_config"} <= names
