"""Azure FeatureStore: FeatureStore workspace, ADLS Gen2 offline store, Redis online store,
entities per group, exact grants."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.azure import FeatureStore, FeatureStoreProps
from constructs_lib.azure.features import FEATURE_READER_ACTIONS
from constructs_lib.core.build_props import FeatureGroupSettings

from .build_helpers import PRINCIPAL, STORAGE_ID, WHERE, Built

GROUP = FeatureGroupSettings(name="customer_features", record_identifier="customer_id",
                             features={"ltv": "fractional", "orders_30d": "integral"})


def fs_props(**kw) -> FeatureStoreProps:
    return FeatureStoreProps(name="ml-features", **WHERE, storage_account_id=STORAGE_ID, **kw)


@pytest.fixture(scope="module")
def online() -> Built:
    def build(st):
        f = FeatureStore(st, "Fs", fs_props(online=True, groups=[GROUP]))
        f.grant_read(PRINCIPAL)
        return f
    return Built(build)


def test_feature_store_workspace(online: Built) -> None:
    ws = online.at("azurerm_machine_learning_workspace", "Fs/Resource/Resource")
    assert ws["kind"] == "FeatureStore"
    assert ws["feature_store"] == {"computer_spark_runtime_version": "3.4",
                                   "offline_connection_name": "offline-store",
                                   "online_connection_name": "online-store"}
    assert ws["storage_account_id"] == STORAGE_ID and ws["public_network_access_enabled"] is False
    assert online.ref("azurerm_user_assigned_identity", "Fs/Materialization", "id") in ws["identity"]["identity_ids"]
    assert "encryption" in ws


def test_offline_store_is_encrypted_adls_gen2(online: Built) -> None:
    acct = online.at("azurerm_storage_account", "Fs/Offline/Resource")
    assert acct["is_hns_enabled"] is True
    assert acct["customer_managed_key"]["key_vault_key_id"] == online.ref(
        "azurerm_key_vault_key", "Fs/Offline/Key/Resource", "versionless_id")
    conn = online.at("azapi_resource", "Fs/OfflineConnection")
    assert conn["type"].startswith("Microsoft.MachineLearningServices/workspaces/connections@")
    props = conn["body"]["properties"]
    assert (props["category"], props["authType"]) == ("ADLSGen2", "ManagedIdentity")
    assert props["target"].startswith(online.ref("azurerm_storage_account", "Fs/Offline/Resource", "id"))


def test_online_store_is_private_redis_with_entra_auth(online: Built) -> None:
    redis = online.at("azurerm_redis_cache", "Fs/Online")
    expected = {"public_network_access_enabled": False, "non_ssl_port_enabled": False,
                "minimum_tls_version": "1.2", "access_keys_authentication_enabled": False}
    assert {k: redis[k] for k in expected} == expected
    assert redis["redis_configuration"] == {"active_directory_authentication_enabled": True}
    assert online.at("azapi_resource", "Fs/OnlineConnection")["body"]["properties"]["category"] == "Redis"


def test_one_entity_per_group(online: Built) -> None:
    version = online.at("azapi_resource", "Fs/EntityVersion-customer_features")
    assert version["type"].startswith("Microsoft.MachineLearningServices/workspaces/featurestoreEntities/versions@")
    assert version["body"]["properties"]["indexColumns"] == [{"columnName": "customer_id", "dataType": "String"}]
    assert set(online.built.groups) == {"customer_features"}
    assert online.built.feature_set_specs["customer_features"]["features"] == {"ltv": "double", "orders_30d": "long"}


def test_grant_read_is_exact(online: Built) -> None:
    reader = online.ref("azurerm_role_definition", "Fs/ReaderRole", "role_definition_resource_id")
    ws = online.ref("azurerm_machine_learning_workspace", "Fs/Resource/Resource", "id")
    offline = online.ref("azurerm_storage_account", "Fs/Offline/Resource", "id") + "/blobServices/default/containers/data"
    mine = [(role, scope) for role, scope, p in online.assignments() if p == PRINCIPAL]
    assert sorted(mine) == sorted([(reader, ws), ("Storage Blob Data Reader", offline)])
    redis = [b for b in online.of("azurerm_redis_cache_access_policy_assignment").values() if b["object_id"] == PRINCIPAL]
    assert [b["access_policy_name"] for b in redis] == ["Data Reader"]
    role = online.at("azurerm_role_definition", "Fs/ReaderRole")
    assert role["permissions"] == [{"actions": sorted(FEATURE_READER_ACTIONS)}]
    assert all(a.endswith("/read") for a in FEATURE_READER_ACTIONS)


def test_offline_only_and_grant_write() -> None:
    def build(st):
        f = FeatureStore(st, "Fs", fs_props())
        f.grant_write(PRINCIPAL)
        return f
    b = Built(build)
    assert "azurerm_redis_cache" not in b.doc["resource"]
    ws = b.at("azurerm_machine_learning_workspace", "Fs/Resource/Resource")
    assert ws["feature_store"]["offline_connection_name"] == "offline-store"
    assert "online_connection_name" not in ws["feature_store"]
    writer = b.ref("azurerm_role_definition", "Fs/WriterRole", "role_definition_resource_id")
    mine = sorted(role for role, scope, p in b.assignments() if p == PRINCIPAL)
    assert mine == sorted([writer, "Storage Blob Data Contributor"])


def test_feature_store_props_errors() -> None:
    with pytest.raises(ValidationError, match="feature group names must be unique"):
        fs_props(groups=[GROUP, GROUP])
    with pytest.raises(ValidationError, match="must not repeat record_identifier/event_time"):
        FeatureGroupSettings(name="g1", features={"event_time": "string"})
    with pytest.raises(ValidationError, match="storage_account_id"):
        FeatureStoreProps(name="ml-features", **WHERE)
