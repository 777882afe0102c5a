"""Azure ContainerRegistry (Premium, CMK, private, retention, scan on push) and ModelRegistry
(azapi Azure ML registry, RBAC approval gate, promotion targets)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from constructs_lib.azure import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from constructs_lib.azure.registry import REGISTRY_READER_ACTIONS, REGISTRY_USER_ROLE, registry_name

from .build_helpers import PRINCIPAL, WHERE, WORKSPACE_ID, Built, acks_of

TARGET = "44444444-4444-4444-4444-444444444444"


def acr_props(**kw) -> ContainerRegistryProps:
    return ContainerRegistryProps(name="ml-images", **WHERE, **kw)


def models_props(**kw) -> ModelRegistryProps:
    base = {"workspace_id": WORKSPACE_ID}
    base.update(kw)
    return ModelRegistryProps(name="ml-models", **WHERE, **base)


@pytest.fixture(scope="module")
def acr() -> Built:
    def build(st):
        r = ContainerRegistry(st, "Acr", acr_props(untagged_expiry_days=7))
        r.grant_pull(PRINCIPAL)
        r.grant_push("55555555-5555-5555-5555-555555555555")
        return r
    return Built(build)


def test_registry_is_private_premium_and_cleans_untagged(acr: Built) -> None:
    r = acr.at("azurerm_container_registry", "Acr/Resource")
    expected = {
        "sku": "Premium", "admin_enabled": False, "anonymous_pull_enabled": False,
        "public_network_access_enabled": False, "zone_redundancy_enabled": True,
        "data_endpoint_enabled": True, "export_policy_enabled": False, "retention_policy_in_days": 7,
    }
    assert {k: r[k] for k in expected} == expected
    assert r["name"] == registry_name("ml-images", "rg-ml") and r["name"].isalnum()
    assert "georeplications" not in r


def test_registry_uses_a_customer_managed_key(acr: Built) -> None:
    r = acr.at("azurerm_container_registry", "Acr/Resource")
    ident = acr.ref("azurerm_user_assigned_identity", "Acr/Identity", "id")
    assert r["identity"] == {"type": "UserAssigned", "identity_ids": [ident]}
    assert r["encryption"] == [{
        "key_vault_key_id": acr.ref("azurerm_key_vault_key", "Acr/Key/Resource", "versionless_id"),
        "identity_client_id": acr.ref("azurerm_user_assigned_identity", "Acr/Identity", "client_id"),
    }]
    key_access = acr.at("azurerm_role_assignment", "Acr/KeyAccess")
    assert key_access["role_definition_name"] == "Key Vault Crypto Service Encryption User"


def test_scan_on_push_enables_defender_for_containers(acr: Built) -> None:
    plan = acr.at("azurerm_security_center_subscription_pricing", "Acr/ScanOnPush")
    assert (plan["tier"], plan["resource_type"]) == ("Standard", "Containers")
    assert plan["extension"] == [{"name": "ContainerRegistriesVulnerabilityAssessments"}]
    off = Built(lambda st: ContainerRegistry(st, "Acr", acr_props(scan_on_push=False)))
    assert "azurerm_security_center_subscription_pricing" not in off.doc["resource"]
    central = Built(lambda st: ContainerRegistry(st, "Acr", acr_props(manage_defender_plan=False)))
    assert "azurerm_security_center_subscription_pricing" not in central.doc["resource"]


def test_repositories_and_immutable_tags(acr: Built) -> None:
    r = acr.built
    login = r.resource.ref("login_server")
    assert r.repositories == {"training": f"{login}/training", "serving": f"{login}/serving"}
    assert r.immutable_tags is True
    assert r.immutable_tags_command("serving") == (
        f"az acr repository update --name {registry_name('ml-images', 'rg-ml')} "
        "--image serving:$TAG --write-enabled false")
    with pytest.raises(KeyError, match="unknown repository 'nope'"):
        r.immutable_tags_command("nope")


def test_grants_are_exact(acr: Built) -> None:
    reg = acr.ref("azurerm_container_registry", "Acr/Resource", "id")
    grants = [(role, p) for role, scope, p in acr.assignments() if scope == reg]
    assert sorted(grants) == [("AcrPull", PRINCIPAL), ("AcrPush", "55555555-5555-5555-5555-555555555555")]
    (first,) = acr.built.grant_pull(PRINCIPAL)
    assert acr.built.grant_pull(PRINCIPAL) == [first]  # granting twice returns the first assignment


def test_geo_replicas_and_acknowledgements() -> None:
    b = Built(lambda st: ContainerRegistry(st, "Acr", acr_props(replica_locations=["northeurope"])))
    r = b.at("azurerm_container_registry", "Acr/Resource")
    assert r["georeplications"] == [{"location": "northeurope", "zone_redundancy_enabled": True,
                                     "global_endpoint_routing_enabled": True}]
    assert "CKV_AZURE_165" not in acks_of(b.built)
    single = Built(lambda st: ContainerRegistry(st, "Acr", acr_props()))
    assert {"CKV_AZURE_164", "CKV_AZURE_165", "CKV_AZURE_166"} <= acks_of(single.built)


def test_container_registry_props_errors() -> None:
    with pytest.raises(ValidationError, match="encryption.key_id and key_resource_id go together"):
        acr_props(encryption={"key_id": "https://kv.vault.azure.net/keys/k"})
    with pytest.raises(ValidationError, match="must not repeat the primary location"):
        acr_props(replica_locations=["westeurope"])
    with pytest.raises(ValidationError, match="repository name 'Bad_Repo'"):
        acr_props(repositories=["Bad_Repo"])


# ----------------------------------------------------------------------------------- model registry


@pytest.fixture(scope="module")
def gated() -> Built:
    def build(st):
        m = ModelRegistry(st, "Models", models_props(replica_locations=["northeurope"], promotion_targets=[TARGET]))
        m.grant_write(PRINCIPAL, principal_type="ServicePrincipal")
        return m
    return Built(build)


def test_model_registry_is_a_private_azure_ml_registry(gated: Built) -> None:
    reg = gated.at("azapi_resource", "Models/Resource")
    assert reg["type"] == "Microsoft.MachineLearningServices/registries@2025-12-01"
    assert reg["body"]["properties"]["publicNetworkAccess"] == "Disabled"
    assert [r["location"] for r in reg["body"]["properties"]["regionDetails"]] == ["westeurope", "northeurope"]
    assert reg["identity"] == [{"type": "SystemAssigned"}]
    assert "azapi" in gated.doc["provider"]


def test_manual_gate_training_writes_candidates_not_the_registry(gated: Built) -> None:
    writer = gated.ref("azurerm_role_definition", "Models/CandidateWriterRole", "role_definition_resource_id")
    mine = [(role, scope) for role, scope, p in gated.assignments() if p == PRINCIPAL]
    assert mine == [(writer, WORKSPACE_ID)]
    role = gated.at("azurerm_role_definition", "Models/CandidateWriterRole")
    assert role["assignable_scopes"] == [WORKSPACE_ID]
    assert all("registries" not in a for a in role["permissions"][0]["actions"])
    # Only the approver may write into the registry.
    approver = gated.ref("azurerm_user_assigned_identity", "Models/Approver", "principal_id")
    writers = [p for role, scope, p in gated.assignments() if role == REGISTRY_USER_ROLE]
    assert writers == [approver]
    assert gated.built.approval_gate == "manual"


def test_promotion_targets_read_the_registry(gated: Built) -> None:
    reg = gated.ref("azapi_resource", "Models/Resource", "id")
    reader = gated.ref("azurerm_role_definition", "Models/ReaderRole", "role_definition_resource_id")
    assert (reader, reg, TARGET) in gated.assignments()
    role = gated.at("azurerm_role_definition", "Models/ReaderRole")
    assert role["permissions"] == [{"actions": sorted(REGISTRY_READER_ACTIONS)}]


def test_automatic_approval_writes_the_registry() -> None:
    def build(st):
        m = ModelRegistry(st, "Models", models_props(approval="automatic", workspace_id=None))
        m.grant_write(PRINCIPAL)
        return m
    b = Built(build)
    reg = b.ref("azapi_resource", "Models/Resource", "id")
    assert b.assignments() == [(REGISTRY_USER_ROLE, reg, PRINCIPAL)]
    assert b.built.approver is None and "azurerm_user_assigned_identity" not in b.doc["resource"]


def test_model_registry_props_errors() -> None:
    with pytest.raises(ValidationError, match="approval: manual needs workspace_id"):
        models_props(workspace_id=None)
    with pytest.raises(ValidationError, match="do not support customer-managed keys"):
        models_props(encryption={"key_id": "https://kv.vault.azure.net/keys/k"})
    with pytest.raises(ValidationError, match="Input should be 'manual' or 'automatic'"):
        models_props(approval="sometimes")
