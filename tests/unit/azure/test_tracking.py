"""Azure Workspace and Tracking: private CMK workspace, MLflow access role, empty SaaS secret slots."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from constructs_lib.azure import Network, NetworkProps, Tracking, TrackingProps, Workspace, WorkspaceProps
from constructs_lib.azure.tracking import SECRETS_USER_ROLE, TRACKING_ACTIONS
from constructs_lib.core.resource import Resource

from .build_helpers import PRINCIPAL, STORAGE_ID, WHERE, WORKSPACE_ID, Built, acks_of

WRITER = "66666666-6666-6666-6666-666666666666"


def tracking_props(**kw) -> TrackingProps:
    return TrackingProps(name="ml-tracking", **WHERE, workspace_id=WORKSPACE_ID, **kw)


@pytest.fixture(scope="module")
def workspace() -> Built:
    def build(st):
        net = Network(st, "Net", NetworkProps(name="ml-net", **WHERE, flow_logs=False))
        return Workspace(st, "Ws", WorkspaceProps(name="ml-dev", **WHERE, storage_account_id=STORAGE_ID,
                                                  image_build_compute_name="cpu"),
                         network=net, serverless_subnet_id=net.private_subnet_ids[0])
    return Built(build)


def test_workspace_is_private_hbi_and_cmk_encrypted(workspace: Built) -> None:
    ws = workspace.at("azurerm_machine_learning_workspace", "Ws/Resource")
    expected = {
        "high_business_impact": True, "public_network_access_enabled": False, "kind": "Default",
        "v1_legacy_mode_enabled": False, "storage_account_access_type": "identity",
        "storage_account_id": STORAGE_ID, "image_build_compute_name": "cpu", "name": "mlw-ml-dev",
    }
    assert {k: ws[k] for k in expected} == expected
    ident = workspace.ref("azurerm_user_assigned_identity", "Ws/Identity", "id")
    assert ws["encryption"] == {
        "key_vault_id": workspace.ref("azurerm_key_vault", "Ws/Key/Vault", "id"),
        "key_id": workspace.ref("azurerm_key_vault_key", "Ws/Key/Resource", "versionless_id"),
        "user_assigned_identity_id": ident,
    }
    assert ws["key_vault_id"] == workspace.ref("azurerm_key_vault", "Ws/Key/Vault", "id")
    assert ws["identity"] == {"type": "SystemAssigned, UserAssigned", "identity_ids": [ident]}
    assert ws["managed_network"] == {"isolation_mode": "Disabled"}
    assert ws["serverless_compute"] == {
        "subnet_id": workspace.ref("azurerm_subnet", "Net/Workloads", "id"), "public_ip_enabled": False}


def test_workspace_insights_and_private_endpoint(workspace: Built) -> None:
    appi = workspace.at("azurerm_application_insights", "Ws/Insights")
    assert appi["workspace_id"] == workspace.ref("azurerm_log_analytics_workspace", "Ws/Logs", "id")
    ws = workspace.at("azurerm_machine_learning_workspace", "Ws/Resource")
    assert ws["application_insights_id"] == workspace.ref("azurerm_application_insights", "Ws/Insights", "id")
    pe = workspace.at("azurerm_private_endpoint", "Ws/PrivateEndpoint")
    assert pe["private_service_connection"]["subresource_names"] == ["amlworkspace"]
    assert workspace.at("azurerm_private_endpoint", "Ws/Key/PrivateEndpoint")


IDENTITY_A = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ml/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-a"
)


def test_attach_identity_appends_once_after_the_workspace_identity() -> None:
    def build(st):
        ws = Workspace(st, "Ws", WorkspaceProps(name="ml-dev", **WHERE, storage_account_id=STORAGE_ID,
                                                extra_identity_ids=[IDENTITY_A, IDENTITY_A]))
        later = Resource(st, "Later", "azurerm_user_assigned_identity", name="id-later", **WHERE)
        ws.attach_identity(later.ref("id"))
        ws.attach_identity(later.ref("id"))  # the same token again: no duplicate
        ws.attach_identity(IDENTITY_A)  # already there through the props: no duplicate
        return ws

    b = Built(build)
    own = b.ref("azurerm_user_assigned_identity", "Ws/Identity", "id")
    later = b.ref("azurerm_user_assigned_identity", "Later", "id")
    ws = b.at("azurerm_machine_learning_workspace", "Ws/Resource")
    assert ws["identity"] == {"type": "SystemAssigned, UserAssigned", "identity_ids": [own, IDENTITY_A, later]}
    assert ws["encryption"]["user_assigned_identity_id"] == own  # the key identity is untouched
    assert len(b.built.identity_ids) == 3
    with pytest.raises(ValueError, match="attach_identity takes the Resource Manager id"):
        b.built.attach_identity("  ")


def test_workspace_props_errors() -> None:
    with pytest.raises(ValidationError, match="needs key_resource_id and key_vault_id"):
        WorkspaceProps(name="ml-dev", **WHERE, storage_account_id=STORAGE_ID,
                       encryption={"key_id": "https://kv.vault.azure.net/keys/k"})
    with pytest.raises(ValidationError, match="feature_store_connections is required with kind FeatureStore"):
        WorkspaceProps(name="ml-dev", **WHERE, storage_account_id=STORAGE_ID, kind="FeatureStore")


@pytest.fixture(scope="module")
def tracking() -> Built:
    def build(st):
        t = Tracking(st, "Tracking", tracking_props(saas_trackers=["wandb", "comet"], secret_writers=[WRITER]))
        t.grant_access(PRINCIPAL)
        t.grant_secret_read(PRINCIPAL)
        return t
    return Built(build)


def test_secrets_are_empty_slots_never_in_terraform(tracking: Built) -> None:
    res = tracking.doc["resource"]
    assert "azurerm_key_vault_secret" not in res
    assert not any(b.get("type", "").startswith("Microsoft.KeyVault/vaults/secrets")
                   for b in res.get("azapi_resource", {}).values())
    text = json.dumps(tracking.doc)
    assert '"value"' not in text and "value_wo" not in text
    uri = tracking.built.vault.ref("vault_uri")
    assert tracking.built.secrets == {
        "comet": f"{uri}secrets/comet-api-key", "wandb": f"{uri}secrets/wandb-api-key"}
    vault = tracking.at("azurerm_key_vault", "Tracking/Secrets")
    assert vault["public_network_access_enabled"] is False and vault["rbac_authorization_enabled"] is True


def test_secret_read_is_scoped_to_the_dedicated_vault(tracking: Built) -> None:
    vault = tracking.ref("azurerm_key_vault", "Tracking/Secrets", "id")
    role = tracking.ref("azurerm_role_definition", "Tracking/Resource", "role_definition_resource_id")
    assert tracking.assignments() == sorted([
        (role, WORKSPACE_ID, PRINCIPAL),
        (SECRETS_USER_ROLE, vault, PRINCIPAL),
        ("Key Vault Secrets Officer", vault, WRITER),
    ])
    definition = tracking.at("azurerm_role_definition", "Tracking/Resource")
    assert definition["permissions"] == [{"actions": sorted(TRACKING_ACTIONS)}]
    assert definition["assignable_scopes"] == [WORKSPACE_ID]
    assert "CKV2_AZURE_32" in acks_of(tracking.built)  # no network given: endpoint left to the caller


def test_tracking_uri_and_no_trackers() -> None:
    b = Built(lambda st: Tracking(st, "Tracking", tracking_props()))
    t = b.built
    assert t.tracking_uri == f"azureml://westeurope.api.azureml.ms/mlflow/v1.0{WORKSPACE_ID}"
    assert t.vault is None and t.secrets == {} and "azurerm_key_vault" not in b.doc["resource"]
    assert t.grant_secret_read(PRINCIPAL) == []  # nothing to read: nothing granted (as on AWS)
    assert "azurerm_role_assignment" not in Built(
        lambda st: Tracking(st, "Tracking", tracking_props()).grant_secret_read(PRINCIPAL)
    ).doc.get("resource", {})


def test_tracking_props_errors() -> None:
    with pytest.raises(ValidationError, match="saas_trackers"):
        tracking_props(saas_trackers=["mlflow-cloud"])
    with pytest.raises(ValidationError, match="encryption.key_id is not used here"):
        tracking_props(encryption={"key_id": "https://kv.vault.azure.net/keys/k"})
    with pytest.raises(ValidationError, match="workspace_id"):
        TrackingProps(name="ml-tracking", **WHERE)
