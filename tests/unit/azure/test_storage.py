"""Azure DataStore and Key: synthesized JSON, props validation, grants, schema and checkov."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.azure import DataStore, DataStoreProps, Key, KeyProps, Recovery
from constructs_lib.azure.storage import PAIRED_REGIONS, storage_account_name
from constructs_lib.core import engine
from constructs_lib.core.acknowledge import Acknowledge
from constructs_lib.core.props import DataStoreProps as CoreDataStoreProps
from constructs_lib.core.props import EncryptionProps, LifecycleProps, ReplicationProps
from constructs_lib.core.resource import Provider
from constructs_lib.core.schema import validate_stack
from constructs_lib.core.synth import stack_document

RG = "rg-ml"
LOCATION = "westeurope"
KEY_ID = "https://kvshared.vault.azure.net/keys/shared-cmk"
KEY_RESOURCE_ID = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sec/providers/"
    "Microsoft.KeyVault/vaults/kvshared/keys/shared-cmk"
)
READER = "11111111-1111-1111-1111-111111111111"
WRITER = "22222222-2222-2222-2222-222222222222"
# Built-in roles a least-privilege data store may assign; nothing broader.
ALLOWED_ROLES = {
    "Key Vault Crypto Officer",
    "Key Vault Crypto Service Encryption User",
    "Storage Blob Data Contributor",
    "Storage Blob Data Reader",
}


def props(**overrides: Any) -> DataStoreProps:
    base: dict[str, Any] = {"name": "ml-data", "resource_group_name": RG, "location": LOCATION}
    base.update(overrides)
    return DataStoreProps(**base)


class Synth:
    """A synthesized test stack: the JSON document plus the live stack for construct lookups."""

    def __init__(self, tmp: Path, build: Callable[[engine.TerraformStack], Any]) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        app = engine.App(outdir=str(tmp / "out"))
        self.stack = engine.TerraformStack(app, "test")
        Provider(self.stack, "azurerm", "azurerm", source="hashicorp/azurerm",
                 version=">= 5.10, < 6.0", features={})
        self.built = build(self.stack)
        self.doc: dict[str, Any] = stack_document(self.stack)  # tags merged, as synthesis does

    def of(self, tf_type: str) -> dict[str, dict[str, Any]]:
        """Resources of ``tf_type`` keyed by construct path (relative to the stack)."""
        out = {}
        for body in self.doc.get("resource", {}).get(tf_type, {}).values():
            out[body["//"]["metadata"]["path"].removeprefix("test/")] = body
        return out

    def one(self, tf_type: str) -> dict[str, Any]:
        found = self.of(tf_type)
        assert len(found) == 1, f"expected one {tf_type}, got {sorted(found)}"
        return next(iter(found.values()))

    def ref(self, tf_type: str, path: str, attribute: str) -> str:
        """The interpolation ``${type.logical_id.attribute}`` of the resource at ``path``."""
        return "${%s.%s.%s}" % (tf_type, self.logical_id(path, tf_type), attribute)

    def logical_id(self, path: str, tf_type: str) -> str:
        for name, body in self.doc["resource"][tf_type].items():
            if body["//"]["metadata"]["path"] == f"test/{path}":
                return name
        raise KeyError(path)


def store(tmp_path: Path, **overrides: Any) -> tuple[Synth, DataStore]:
    s = Synth(tmp_path, lambda st: DataStore(st, "Data", props(**overrides)))
    return s, s.built


# -- the default store ----------------------------------------------------------------------------


def test_default_store_emits_expected_resources(tmp_path: Path) -> None:
    s, _ = store(tmp_path)
    counts = {t: len(v) for t, v in s.doc["resource"].items()}
    assert counts == {
        "azurerm_key_vault": 1,
        "azurerm_key_vault_key": 1,
        "azurerm_log_analytics_workspace": 1,
        "azurerm_management_lock": 1,
        "azurerm_monitor_diagnostic_setting": 2,  # blob access logs + vault audit logs
        "azurerm_role_assignment": 2,  # account identity on the key + deployer on the vault
        "azurerm_storage_account": 1,
        "azurerm_storage_container": 1,
        "azurerm_storage_management_policy": 1,
        "azurerm_user_assigned_identity": 1,
    }
    assert list(s.doc["data"]) == ["azurerm_client_config"]
    assert "provider" in s.doc and set(s.doc["provider"]) == {"azurerm"}  # no provider of its own


def test_storage_account_is_secure_by_default(tmp_path: Path) -> None:
    s, d = store(tmp_path)
    acct = s.one("azurerm_storage_account")
    expected = {
        "account_kind": "StorageV2",
        "account_tier": "Standard",
        "account_replication_type": "ZRS",
        "is_hns_enabled": False,
        "https_traffic_only_enabled": True,
        "min_tls_version": "TLS1_2",
        "shared_access_key_enabled": False,
        "default_to_oauth_authentication": True,
        "local_user_enabled": False,
        "allow_nested_items_to_be_public": False,
        "cross_tenant_replication_enabled": False,
        "public_network_access": "Disabled",
        "infrastructure_encryption_enabled": True,
        "network_rules": {"default_action": "Deny", "bypass": ["AzureServices"]},
    }
    assert {k: acct.get(k) for k in expected} == expected
    assert acct["lifecycle"] == {"prevent_destroy": True}
    blob = acct["blob_properties"]
    assert blob["versioning_enabled"] is True
    assert blob["change_feed_enabled"] is True
    assert blob["delete_retention_policy"] == {"days": 30}
    assert blob["container_delete_retention_policy"] == {"days": 30}
    # The primary child collapses: the account is the store itself.
    assert acct["//"]["metadata"]["path"] == "test/Data/Resource"
    assert d.resource.terraform_resource_type == "azurerm_storage_account"

    container = s.one("azurerm_storage_container")
    assert container["name"] == "data" and container["container_access_type"] == "private"
    assert container["storage_account_id"] == "${azurerm_storage_account.%s.id}" % s.logical_id(
        "Data/Resource", "azurerm_storage_account")


def test_customer_managed_key_through_user_assigned_identity(tmp_path: Path) -> None:
    s, d = store(tmp_path)
    acct = s.one("azurerm_storage_account")
    key_name = s.logical_id("Data/Key/Resource", "azurerm_key_vault_key")
    uai_name = s.logical_id("Data/Identity", "azurerm_user_assigned_identity")
    uai_id = "${azurerm_user_assigned_identity.%s.id}" % uai_name
    assert acct["identity"] == {"type": "UserAssigned", "identity_ids": [uai_id]}
    assert acct["customer_managed_key"] == {
        # versionless id: the account follows automatic rotation
        "key_vault_key_id": "${azurerm_key_vault_key.%s.versionless_id}" % key_name,
        "user_assigned_identity_id": uai_id,
    }
    access = s.of("azurerm_role_assignment")["Data/KeyAccess"]
    assert access["role_definition_name"] == "Key Vault Crypto Service Encryption User"
    assert access["scope"] == "${azurerm_key_vault_key.%s.resource_versionless_id}" % key_name
    assert access["principal_id"] == "${azurerm_user_assigned_identity.%s.principal_id}" % uai_name
    # the account is created only after its identity may use the key
    assert acct["depends_on"] == [
        "azurerm_role_assignment.%s" % s.logical_id("Data/KeyAccess", "azurerm_role_assignment")]
    assert isinstance(d.key, Key)
    assert engine.Token.is_unresolved(d.key_id) and engine.Token.is_unresolved(d.store_id)


def test_key_vault_and_key_follow_encryption_props(tmp_path: Path) -> None:
    s, _ = store(tmp_path, encryption=EncryptionProps(rotation_days=180, deletion_window_days=14))
    vault = s.one("azurerm_key_vault")
    expected = {
        "sku_name": "premium",
        "rbac_authorization_enabled": True,
        "purge_protection_enabled": True,
        "soft_delete_retention_days": 14,
        "public_network_access_enabled": False,
        "network_acls": {"default_action": "Deny", "bypass": "AzureServices"},
    }
    assert {k: vault.get(k) for k in expected} == expected
    assert vault["tenant_id"].startswith("${data.azurerm_client_config.")
    assert "access_policy" not in vault  # RBAC only
    key = s.one("azurerm_key_vault_key")
    assert key["key_type"] == "RSA-HSM" and key["key_size"] == 3072
    assert key["key_opts"] == ["unwrapKey", "wrapKey"]
    assert key["rotation_policy"] == {
        "automatic": {"time_after_creation": "P180D"},
        "expire_after": "P210D",
        "notify_before_expiry": "P29D",
    }
    assert key["lifecycle"] == {"prevent_destroy": True}
    deployer = s.of("azurerm_role_assignment")["Data/Key/DeployerAccess"]
    assert deployer["role_definition_name"] == "Key Vault Crypto Officer"
    assert deployer["scope"] == s.ref("azurerm_key_vault", "Data/Key/Vault", "id")
    assert key["depends_on"] == [
        "azurerm_role_assignment.%s" % s.logical_id("Data/Key/DeployerAccess", "azurerm_role_assignment")]


def test_lifecycle_policy_uses_props_days(tmp_path: Path) -> None:
    s, _ = store(tmp_path, lifecycle=LifecycleProps(
        infrequent_access_after_days=45, archive_after_days=200, noncurrent_version_expiry_days=60))
    policy = s.one("azurerm_storage_management_policy")
    (rule,) = policy["rule"]
    assert rule["enabled"] is True and rule["filters"] == {"blob_types": ["blockBlob"]}
    assert rule["actions"] == {
        "base_blob": {
            "tier_to_cool_after_days_since_modification_greater_than": 45,
            "tier_to_cold_after_days_since_modification_greater_than": 200,
        },
        "version": {"delete_after_days_since_creation": 60},
        "snapshot": {"delete_after_days_since_creation_greater_than": 60},
    }
    assert s.one("azurerm_storage_account")["blob_properties"]["change_feed_retention_in_days"] == 60


def test_lifecycle_without_tiering_or_versioning(tmp_path: Path) -> None:
    s, _ = store(tmp_path, versioning=False,
                 lifecycle=LifecycleProps(infrequent_access_after_days=None, archive_after_days=None))
    (rule,) = s.one("azurerm_storage_management_policy")["rule"]
    assert set(rule["actions"]) == {"snapshot"}
    assert s.one("azurerm_storage_account")["blob_properties"]["versioning_enabled"] is False


def test_access_logs_go_to_a_created_workspace(tmp_path: Path) -> None:
    s, d = store(tmp_path, log_retention_days=90)
    ws = s.one("azurerm_log_analytics_workspace")
    assert ws["retention_in_days"] == 90 and ws["local_authentication_enabled"] is False
    ws_ref = s.ref("azurerm_log_analytics_workspace", "Data/Logs", "id")
    diag = s.of("azurerm_monitor_diagnostic_setting")
    blob = diag["Data/AccessLogs"]
    acct = s.logical_id("Data/Resource", "azurerm_storage_account")
    assert blob["target_resource_id"] == "${azurerm_storage_account.%s.id}/blobServices/default" % acct
    assert blob["log_analytics_workspace_id"] == ws_ref
    assert [c["category"] for c in blob["enabled_log"]] == ["StorageDelete", "StorageRead", "StorageWrite"]
    audit = diag["Data/Key/AuditLogs"]
    assert audit["enabled_log"] == [{"category": "AuditEvent"}]
    assert audit["log_analytics_workspace_id"] == ws_ref
    assert d.workspace is not None


def test_access_logs_to_a_given_workspace_and_off(tmp_path: Path) -> None:
    ws_id = "/subscriptions/x/resourceGroups/rg-ops/providers/Microsoft.OperationalInsights/workspaces/ops"
    s, _ = store(tmp_path / "given", log_analytics_workspace_id=ws_id)
    assert "azurerm_log_analytics_workspace" not in s.doc["resource"]
    diags = s.of("azurerm_monitor_diagnostic_setting").values()
    assert {d["log_analytics_workspace_id"] for d in diags} == {ws_id}

    s, d = store(tmp_path / "off", access_logging=False)
    assert "azurerm_log_analytics_workspace" not in s.doc["resource"]
    assert "azurerm_monitor_diagnostic_setting" not in s.doc["resource"]
    assert d.workspace is None


def test_deletion_protection_off_removes_lock_and_prevent_destroy(tmp_path: Path) -> None:
    s, _ = store(tmp_path / "on")
    lock = s.one("azurerm_management_lock")
    assert lock["lock_level"] == "CanNotDelete"
    assert lock["scope"] == s.ref("azurerm_storage_account", "Data/Resource", "id")

    s, _ = store(tmp_path / "off", deletion_protection=False)
    assert "azurerm_management_lock" not in s.doc["resource"]
    for tf_type in ("azurerm_storage_account", "azurerm_key_vault", "azurerm_key_vault_key"):
        assert "lifecycle" not in s.one(tf_type), tf_type


def test_replication_uses_ragzrs_and_reports_recovery(tmp_path: Path) -> None:
    s, d = store(tmp_path, replication=ReplicationProps(region="northeurope", rpo_minutes=30))
    assert s.one("azurerm_storage_account")["account_replication_type"] == "RAGZRS"
    assert d.replica is None
    assert d.recovery == Recovery(rpo_minutes=30, rto_minutes=60, replica_region="northeurope")

    s, d = store(tmp_path / "single")
    assert d.recovery == Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)


def test_replication_region_must_be_the_paired_region() -> None:
    with pytest.raises(ValidationError, match=r"paired region of 'westeurope'.*'northeurope'"):
        props(replication=ReplicationProps(region="eastus"))
    # Both spellings of a location are understood.
    assert props(location="West Europe", replication=ReplicationProps(region="North Europe")).replication
    # A region known to have no pair cannot replicate; a region the table lacks is accepted
    # (Azure decides), and so is a token location.
    with pytest.raises(ValidationError, match="'italynorth' has no paired region"):
        props(location="italynorth", replication=ReplicationProps(region="anywhere"))
    assert props(location="futureregion", replication=ReplicationProps(region="anywhere")).replication
    token = engine.Token.as_string(engine.TerraformVariable(
        engine.TerraformStack(engine.App(), "v"), "loc", type="string").string_value)
    assert props(location=token, replication=ReplicationProps(region="eastus")).replication
    assert all(PAIRED_REGIONS[r] in PAIRED_REGIONS for r in PAIRED_REGIONS)


def test_supplied_key_is_used_and_granted(tmp_path: Path) -> None:
    s, d = store(tmp_path, encryption=EncryptionProps(key_id=KEY_ID), key_resource_id=KEY_RESOURCE_ID)
    assert "azurerm_key_vault" not in s.doc["resource"]
    assert "azurerm_key_vault_key" not in s.doc["resource"]
    assert s.one("azurerm_storage_account")["customer_managed_key"]["key_vault_key_id"] == KEY_ID
    (access,) = s.of("azurerm_role_assignment").values()
    assert access["scope"] == KEY_RESOURCE_ID
    assert access["role_definition_name"] == "Key Vault Crypto Service Encryption User"
    assert d.key is None and d.key_id == KEY_ID


def test_props_validation_errors() -> None:
    with pytest.raises(ValidationError, match="key_resource_id is not"):
        props(encryption=EncryptionProps(key_id=KEY_ID))
    with pytest.raises(ValidationError, match="only used with encryption.key_id"):
        props(key_resource_id=KEY_RESOURCE_ID)
    with pytest.raises(ValidationError, match="hierarchical_namespace: true cannot be combined"):
        props(hierarchical_namespace=True)
    with pytest.raises(ValidationError, match="resource_group_name"):
        DataStoreProps(name="ml-data", location=LOCATION)
    with pytest.raises(ValidationError, match="must not be empty"):
        props(location=" ")
    with pytest.raises(ValidationError, match="log_retention_days"):
        props(log_retention_days=10)
    with pytest.raises(ValidationError, match="public_access: Extra inputs are not permitted"):
        props(public_access=True)
    with pytest.raises(ValidationError, match="replication needs versioning"):
        props(versioning=False, replication=ReplicationProps(region="northeurope"))


def test_core_props_are_rejected_with_a_clear_message(tmp_path: Path) -> None:
    app = engine.App(outdir=str(tmp_path))
    stack = engine.TerraformStack(app, "test")
    with pytest.raises(TypeError, match=r"props must be constructs_lib\.azure\.storage\.DataStoreProps \(with resource_group_name and location\), got constructs_lib\.core\.props\.DataStoreProps"):
        DataStore(stack, "Data", CoreDataStoreProps(name="ml-data"))  # type: ignore[arg-type]


def test_hierarchical_namespace_without_versioning(tmp_path: Path) -> None:
    s, _ = store(tmp_path, hierarchical_namespace=True, versioning=False)
    acct = s.one("azurerm_storage_account")
    assert acct["is_hns_enabled"] is True
    assert acct["blob_properties"]["versioning_enabled"] is False
    assert acct["blob_properties"]["change_feed_enabled"] is False
    assert "change_feed_retention_in_days" not in acct["blob_properties"]


# -- grants ---------------------------------------------------------------------------------------


def test_grants_are_exact_and_container_scoped(tmp_path: Path) -> None:
    def build(st: engine.TerraformStack) -> DataStore:
        d = DataStore(st, "Data", props())
        (first,) = d.grant_read(READER)
        assert d.grant_read(READER) == [first]  # granting twice gives one assignment
        d.grant_write(WRITER, principal_type="Group")
        return d

    s = Synth(tmp_path, build)
    acct = s.logical_id("Data/Resource", "azurerm_storage_account")
    scope = "${azurerm_storage_account.%s.id}/blobServices/default/containers/data" % acct
    grants = {b["principal_id"]: b for b in s.of("azurerm_role_assignment").values()
              if b["principal_id"] in (READER, WRITER)}
    strip = lambda b: {k: v for k, v in b.items() if k != "//"}  # noqa: E731
    assert strip(grants[READER]) == {
        "principal_id": READER, "role_definition_name": "Storage Blob Data Reader", "scope": scope}
    assert strip(grants[WRITER]) == {
        "principal_id": WRITER, "principal_type": "Group",
        "role_definition_name": "Storage Blob Data Contributor", "scope": scope}
    # readers and writers get no key role: the account's own identity uses the key
    key_roles = [b for b in s.of("azurerm_role_assignment").values()
                 if b["role_definition_name"].startswith("Key Vault")]
    assert {b["principal_id"] for b in key_roles}.isdisjoint({READER, WRITER})


def test_grant_to_a_token_principal_and_bad_input(tmp_path: Path) -> None:
    def build(st: engine.TerraformStack) -> DataStore:
        d = DataStore(st, "Data", props())
        d.grant_read(d.identity.ref("principal_id"))  # an IResolvable token is accepted
        with pytest.raises(ValueError, match="Entra object id"):
            d.grant_read("")
        with pytest.raises(ValueError, match="principal_type"):
            d.grant_write(WRITER, principal_type="Robot")
        return d

    s = Synth(tmp_path, build)
    reads = [b for b in s.of("azurerm_role_assignment").values()
             if b["role_definition_name"] == "Storage Blob Data Reader"]
    assert [r["principal_id"] for r in reads] == [
        "${azurerm_user_assigned_identity.%s.principal_id}"
        % s.logical_id("Data/Identity", "azurerm_user_assigned_identity")]


def test_only_least_privilege_roles_are_assigned(tmp_path: Path) -> None:
    def build(st: engine.TerraformStack) -> None:
        d = DataStore(st, "Data", props())
        d.grant_read(READER)
        d.grant_write(WRITER)

    s = Synth(tmp_path, build)
    roles = {b["role_definition_name"] for b in s.of("azurerm_role_assignment").values()}
    assert roles == ALLOWED_ROLES
    text = json.dumps(s.doc)
    for broad in ('"Owner"', '"Contributor"', "Administrator", '"*"'):
        assert broad not in text


# -- Key on its own -------------------------------------------------------------------------------


def test_key_standalone_options_and_grant(tmp_path: Path) -> None:
    def build(st: engine.TerraformStack) -> Key:
        k = Key(st, "Cmk", KeyProps(name="feature-store", resource_group_name=RG, location=LOCATION,
                                   key_size=4096, grant_deployer=False, deletion_protection=False,
                                   deletion_window_days=90))
        k.grant_encrypt_decrypt("33333333-3333-3333-3333-333333333333", principal_type="ServicePrincipal")
        return k

    s = Synth(tmp_path, build)
    key = s.one("azurerm_key_vault_key")
    assert key["key_size"] == 4096 and "depends_on" not in key and "lifecycle" not in key
    assert s.one("azurerm_key_vault")["soft_delete_retention_days"] == 90
    (grant,) = s.of("azurerm_role_assignment").values()
    assert grant["role_definition_name"] == "Key Vault Crypto Service Encryption User"
    assert grant["scope"] == "${azurerm_key_vault_key.%s.resource_versionless_id}" % s.logical_id(
        "Cmk/Resource", "azurerm_key_vault_key")
    assert "azurerm_monitor_diagnostic_setting" not in s.doc["resource"]
    with pytest.raises(ValidationError, match="key_size"):
        KeyProps(name="k-1", resource_group_name=RG, location=LOCATION, key_size=2048)


# -- names, tags, determinism, schema ------------------------------------------------------------


def test_storage_account_names_follow_azure_rules() -> None:
    a = storage_account_name("ml-data", "rg-a")
    b = storage_account_name("ml-data", "rg-b")
    long = storage_account_name("a" + "-very-long-logical-name" * 2, "rg-a")
    for n in (a, b, long):
        assert 3 <= len(n) <= 24 and n.isalnum() and n == n.lower() and n.startswith("st"), n
    assert a != b
    assert storage_account_name("ml-data", "rg-a") == a


def test_tags_reach_every_taggable_resource(tmp_path: Path) -> None:
    s, _ = store(tmp_path, tags={"team": "ml", "cost-center": "42"})
    tagged = {t for t, rs in s.doc["resource"].items() for b in rs.values() if b.get("tags")}
    assert tagged == {"azurerm_key_vault", "azurerm_key_vault_key", "azurerm_log_analytics_workspace",
                      "azurerm_storage_account", "azurerm_user_assigned_identity"}
    assert s.one("azurerm_storage_account")["tags"] == {"cost-center": "42", "team": "ml"}


def test_output_is_deterministic_and_schema_valid(tmp_path: Path) -> None:
    def build(st: engine.TerraformStack) -> None:
        d = DataStore(st, "Data", props(replication=ReplicationProps(region="northeurope")))
        d.grant_read(READER)
        d.grant_write(WRITER)

    first = Synth(tmp_path / "a", build).doc
    second = Synth(tmp_path / "b", build).doc
    text = json.dumps(first, sort_keys=True)
    assert text == json.dumps(second, sort_keys=True)
    assert str(tmp_path) not in text and "/tmp" not in text
    assert validate_stack(first, stack="test") == []


# -- checkov --------------------------------------------------------------------------------------


def _checkov() -> list[str]:
    local = Path(sys.executable).parent / "checkov"
    if not local.exists():
        pytest.skip("checkov is not installed next to this interpreter (pip install checkov==3.3.30)")
    return [str(local)]


@pytest.mark.slow
def test_checkov_findings_are_all_acknowledged(tmp_path: Path) -> None:
    cmd = _checkov()

    def build(st: engine.TerraformStack) -> dict[str, DataStore]:
        plain = DataStore(st, "Plain", props(name="plain-data"))
        full = DataStore(st, "Full", props(
            name="full-data", replication=ReplicationProps(region="northeurope"),
            encryption=EncryptionProps(key_id=KEY_ID), key_resource_id=KEY_RESOURCE_ID))
        full.grant_read(READER)
        full.grant_write(WRITER)
        return {"Plain": plain, "Full": full}

    s = Synth(tmp_path, build)
    path = tmp_path / "cdk.tf.json"
    path.write_text(json.dumps(s.doc, indent=2))
    env = {**os.environ, "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "BC_SKIP_MAPPING": "TRUE"}
    proc = subprocess.run(
        [*cmd, "-f", str(path), "--framework", "terraform_json", "--skip-download", "--compact",
         "-o", "json"],
        capture_output=True, text=True, env=env, check=False, timeout=300,
    )
    report = json.loads(proc.stdout)
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] >= 30, "checkov must really have scanned the stack"

    # acknowledgements by logical id (checkov names resource checks "resource.<id>", graph checks
    # "<type>.<id>"; the logical id is unique in a stack either way)
    acks: dict[str, set[str]] = {}
    for node in s.stack.node.find_all():
        if isinstance(node, engine.TerraformResource):
            acks[s.stack.get_logical_id(node)] = {a.check_id for a in Acknowledge.of(node).effective()}
    failed = report["results"]["failed_checks"]
    unacknowledged = [(c["check_id"], c["resource"]) for c in failed
                      if c["check_id"] not in acks.get(c["resource"].split(".")[-1], set())]
    assert unacknowledged == []

    # every acknowledgement of the default store answers a real finding (none is stale)
    failed_ids = {c["check_id"] for c in failed}
    own = {a.check_id for a in Acknowledge.of(s.built["Plain"]).own} | {
        a.check_id for a in Acknowledge.of(s.built["Plain"].key).own}
    assert own <= failed_ids, own - failed_ids
    # a replicated store needs no replication acknowledgement
    assert "CKV_AZURE_206" not in {a.check_id for a in Acknowledge.of(s.built["Full"]).own}
    # what secure defaults must make pass, passes
    passed = {c["check_id"] for c in report["results"]["passed_checks"]}
    assert {"CKV2_AZURE_1", "CKV_AZURE_44", "CKV_AZURE_35", "CKV2_AZURE_40", "CKV_AZURE_189",
            "CKV_AZURE_110", "CKV_AZURE_112", "CKV2_AZURE_38", "CKV_AZURE_190"} <= passed


def test_import_loads_no_other_cloud() -> None:
    code = ("import sys, constructs_lib.azure; "
            "bad = [m for m in sys.modules if m.startswith(('constructs_lib.aws', 'constructs_lib.gcp'))"
            " or m.startswith('cdktf_cdktf_provider')]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_key_props_share_the_core_model() -> None:
    from constructs_lib.core.props import KeyProps as CoreKeyProps

    props = KeyProps(name="ml-data", resource_group_name=RG, location=LOCATION)
    assert isinstance(props, CoreKeyProps)
    assert (props.rotation_days, props.deletion_window_days, props.deletion_protection) == (90, 30, True)
    with pytest.raises(ValidationError, match="deletion_window_days"):
        KeyProps(name="ml-data", resource_group_name=RG, location=LOCATION, deletion_window_days=91)
    with pytest.raises(ValidationError, match="replace '_' with '-'"):
        KeyProps(name="ml_data", resource_group_name=RG, location=LOCATION)
