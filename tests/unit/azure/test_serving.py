"""Azure Endpoint: private AAD-auth online endpoint, placeholder deployment the pipeline replaces,
autoscaling from the props, data capture into the CMK-encrypted capture store."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.azure import DataStore, DataStoreProps, Endpoint, EndpointProps
from constructs_lib.azure.serving import (
    DEFAULT_CPU_INSTANCE_TYPE,
    DEFAULT_GPU_INSTANCE_TYPE,
    DEPLOYMENT_NAME,
    PIPELINE_OWNED_PROPERTIES,
    PLACEHOLDER_IMAGE,
    cooldown,
)
from constructs_lib.azure.storage import BLOB_DATA_CONTRIBUTOR_ROLE

from .build_helpers import WHERE, WORKSPACE_ID, Built

API = "Microsoft.MachineLearningServices/workspaces"


def endpoint_props(**kw) -> EndpointProps:
    base = dict(name="churn", **WHERE, workspace_id=WORKSPACE_ID)
    return EndpointProps(**{**base, **kw})


@pytest.fixture(scope="module")
def built() -> Built:
    def build(st):
        store = DataStore(st, "Capture", DataStoreProps(name="ml-capture", **WHERE))
        return Endpoint(st, "Ep", endpoint_props(
            min_instances=2, max_instances=6, target_invocations_per_instance=200,
            scale_in_cooldown_seconds=600, scale_out_cooldown_seconds=61, data_capture_percent=20,
        ), capture_store=store)
    return Built(build)


def _azapi(built: Built, path: str) -> dict:
    return built.at("azapi_resource", path)


def test_endpoint_is_private_with_entra_auth_and_identity(built: Built) -> None:
    ep = _azapi(built, "Ep/Resource")
    assert ep["type"] == f"{API}/onlineEndpoints@2025-12-01"
    assert ep["parent_id"] == WORKSPACE_ID and ep["location"] == "westeurope"
    assert ep["body"]["properties"]["authMode"] == "AADToken"
    assert ep["body"]["properties"]["publicNetworkAccess"] == "Disabled"
    assert ep["identity"] == [{"type": "SystemAssigned"}]
    assert built.built.region == "westeurope"
    assert built.built.health_target == "https://churn.westeurope.inference.ml.azure.com/"
    assert built.built.recovery.rpo_minutes is None


def test_public_access_only_when_asked() -> None:
    b = Built(lambda st: Endpoint(st, "Ep", endpoint_props(public_network_access=True, data_capture_percent=0)))
    assert b.at("azapi_resource", "Ep/Resource")["body"]["properties"]["publicNetworkAccess"] == "Enabled"


def test_deployment_placeholder_path_and_network(built: Built) -> None:
    dep = _azapi(built, "Ep/Deployment")
    props = dep["body"]["properties"]
    assert dep["name"] == DEPLOYMENT_NAME
    assert dep["parent_id"] == built.ref("azapi_resource", "Ep/Resource", "id")
    assert props["egressPublicNetworkAccess"] == "Disabled"
    assert props["instanceType"] == DEFAULT_CPU_INSTANCE_TYPE
    assert props["scaleSettings"] == {"scaleType": "Default"}
    assert dep["body"]["sku"] == {"name": "Default", "capacity": 2}
    # Phase 1 serves the placeholder container; the pipeline owns model, environment and code.
    assert props["environmentId"] == built.ref("azapi_resource", "Ep/PlaceholderEnvVersion", "id")
    assert "model" not in props
    assert dep["lifecycle"]["ignore_changes"] == sorted(PIPELINE_OWNED_PROPERTIES)
    env = _azapi(built, "Ep/PlaceholderEnvVersion")["body"]["properties"]
    assert env["image"] == PLACEHOLDER_IMAGE
    # Route paths need a letter, digit or underscore (the REST definition's pattern): not "/".
    assert env["inferenceConfig"]["livenessRoute"] == {"path": "/healthz", "port": 8080}
    assert env["inferenceConfig"]["readinessRoute"] == {"path": "/healthz", "port": 8080}
    assert env["inferenceConfig"]["scoringRoute"] == {"path": "/score", "port": 8080}
    traffic = built.at("azapi_update_resource", "Ep/Traffic")
    assert traffic["body"] == {"properties": {"traffic": {DEPLOYMENT_NAME: 100}}}
    assert traffic["depends_on"] == [built.ref("azapi_resource", "Ep/Deployment", "id").removeprefix("${").removesuffix(".id}")]


def test_autoscaling_from_props(built: Built) -> None:
    auto = built.at("azurerm_monitor_autoscale_setting", "Ep/Autoscale")
    assert auto["target_resource_id"] == built.ref("azapi_resource", "Ep/Deployment", "id")
    (profile,) = auto["profile"]
    assert profile["capacity"] == {"minimum": 2, "maximum": 6, "default": 2}
    out, in_ = profile["rule"]
    assert out["scale_action"] == {"direction": "Increase", "type": "ChangeCount", "value": 1, "cooldown": "PT2M"}
    assert in_["scale_action"] == {"direction": "Decrease", "type": "ChangeCount", "value": 1, "cooldown": "PT10M"}
    assert out["metric_trigger"]["metric_name"] == "RequestsPerMinute"
    assert out["metric_trigger"]["divide_by_instance_count"] is True
    assert (out["metric_trigger"]["operator"], out["metric_trigger"]["threshold"]) == ("GreaterThan", 200)
    assert (in_["metric_trigger"]["operator"], in_["metric_trigger"]["threshold"]) == ("LessThan", 100)
    assert out["metric_trigger"]["dimensions"] == [{"name": "deployment", "operator": "Equals", "values": [DEPLOYMENT_NAME]}]


def test_data_capture_percent_into_cmk_store(built: Built) -> None:
    collector = _azapi(built, "Ep/Deployment")["body"]["properties"]["dataCollector"]
    assert set(collector["collections"]) == {"request", "response"}
    for kind, c in collector["collections"].items():
        assert c["samplingRate"] == 0.2 and c["dataCollectionMode"] == "Enabled"
        assert c["dataId"] == built.ref("azapi_resource", f"Ep/Capture-{kind}", "id")
        uri = _azapi(built, f"Ep/Capture-{kind}")["body"]["properties"]["dataUri"]
        blob = built.ref("azurerm_storage_account", "Capture/Resource", "primary_blob_endpoint")
        assert uri == f"{blob}data/capture/churn/{kind}/"
    account = built.at("azurerm_storage_account", "Capture/Resource")
    assert account["customer_managed_key"]["key_vault_key_id"] == built.ref(
        "azurerm_key_vault_key", "Capture/Key/Resource", "versionless_id")
    principal = built.ref("azapi_resource", "Ep/Resource", "identity.0.principal_id")
    store_id = built.ref("azurerm_storage_account", "Capture/Resource", "id")
    assert (BLOB_DATA_CONTRIBUTOR_ROLE, f"{store_id}/blobServices/default/containers/data", principal) in built.assignments()


def test_no_capture_at_zero_percent_and_gpu_default() -> None:
    b = Built(lambda st: Endpoint(st, "Ep", endpoint_props(gpu=True, data_capture_percent=0)))
    props = b.at("azapi_resource", "Ep/Deployment")["body"]["properties"]
    assert "dataCollector" not in props
    assert props["instanceType"] == DEFAULT_GPU_INSTANCE_TYPE
    assert b.assignments() == []


def test_errors() -> None:
    with pytest.raises(ValidationError, match="take no key of their own"):
        endpoint_props(encryption={"key_id": "https://kv.vault.azure.net/keys/k"})
    with pytest.raises(ValidationError, match="must not exceed max_instances"):
        endpoint_props(min_instances=5, max_instances=2)
    with pytest.raises(ValueError, match="no capture_store was given"):
        Built(lambda st: Endpoint(st, "Ep", endpoint_props(data_capture_percent=5)))
    with pytest.raises(TypeError, match="props must be"):
        Built(lambda st: Endpoint(st, "Ep", object()))


def test_cooldowns_round_up_to_minutes() -> None:
    assert [cooldown(s) for s in (0, 60, 61, 300)] == ["PT1M", "PT1M", "PT2M", "PT5M"]
