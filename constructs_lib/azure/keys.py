"""Customer-managed keys on Azure: a Key Vault (RBAC, purge protection, no public access) and an
HSM-backed key with an automatic rotation policy.

Example::

    key = Key(self, "Key", KeyProps(name="ml-data", resource_group_name="rg-ml", location="westeurope"))
    key.grant_encrypt_decrypt(identity.ref("principal_id"), principal_type="ServicePrincipal")

Deployment note: the vault has public network access disabled and its firewall denies everything
except trusted Azure services. Creating the key (a data-plane call) therefore needs the deployer to
reach the vault over a private endpoint / allowed network — e.g. run Terraform from a runner inside
the virtual network that has the vault's private endpoint. Pass ``network=`` (a
:class:`~constructs_lib.azure.network.Network`) to attach that private endpoint here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.acknowledge import Acknowledge
from ..core.naming import compact_name, short_hash
from ..core.props import EncryptionProps
from ..core.props import KeyProps as CoreKeyProps
from ..core.resource import DataSource, Resource
from ._common import attr, diagnostic_setting, role_assignment

if TYPE_CHECKING:
    from ._common import PrivateEndpoints

__all__ = [
    "CRYPTO_OFFICER_ROLE",
    "CRYPTO_SERVICE_ENCRYPTION_USER_ROLE",
    "DEFAULT_KEY_SIZE",
    "Key",
    "KeyProps",
    "key_identity",
    "key_vault",
    "own_key",
    "vault_name",
]

#: Built-in role that lets a service (a storage account's identity) wrap/unwrap with a key — and
#: nothing else (no key management, no secrets).
CRYPTO_SERVICE_ENCRYPTION_USER_ROLE = "Key Vault Crypto Service Encryption User"
#: Built-in role the deployer needs on an RBAC vault to create keys and set their rotation policy.
#: Scoped to the one vault; it grants no secret, certificate or role-management rights.
CRYPTO_OFFICER_ROLE = "Key Vault Crypto Officer"
#: RSA modulus of a created key. 3072 bits meets current guidance beyond 2030 (NIST SP 800-57).
DEFAULT_KEY_SIZE = 3072

# How long a key version stays valid after the next one is created; Azure Storage picks up a new
# version of a versionless key within 24 hours, so 30 days leaves ample margin.
_EXPIRY_GRACE_DAYS = 30


class KeyProps(CoreKeyProps):
    """A Key Vault and a customer-managed key in it: the core key fields plus where the vault lives.

    The key is named ``name``; the vault name is derived from it (lowercased, non-alphanumerics
    removed, 'kv' prefix, 6-character hash suffix of name and resource group so that vault names
    stay globally unique). A new key version is created every ``rotation_days``; each version
    expires 30 days after it was rotated out.
    """

    resource_group_name: str = Field(description="Resource group of the vault.")
    location: str = Field(description="Azure region of the vault, e.g. 'westeurope'.")
    deletion_window_days: int = Field(
        default=30,
        ge=7,
        le=90,
        description=(
            "Soft-delete retention of the vault in days (Azure accepts 7-90). Purge protection is "
            "always on, so a deleted vault or key cannot be purged before this period ends. "
            "Defaults to 30."
        ),
    )
    key_size: Literal[3072, 4096] = Field(
        default=DEFAULT_KEY_SIZE,
        description="RSA-HSM key size in bits. Defaults to 3072.",
    )
    grant_deployer: bool = Field(
        default=True,
        description=(
            "Give the identity running Terraform the 'Key Vault Crypto Officer' role on this vault "
            "(and nothing wider), which an RBAC vault requires before Terraform can create the key "
            "and its rotation policy. Defaults to True; set False when the deployer already holds "
            "a suitable role through a group."
        ),
    )
    log_analytics_workspace_id: str | None = Field(
        default=None,
        description=(
            "Log Analytics workspace that receives the vault's AuditEvent logs (every key "
            "operation). Defaults to None: no diagnostic setting is created."
        ),
    )

    @field_validator("name")
    @classmethod
    def _key_vault_key_name(cls, value: str) -> str:
        if "_" in value:
            raise ValueError(
                "Key Vault key names allow letters, digits and '-' only: replace '_' with '-'"
            )
        return value

    @field_validator("resource_group_name", "location")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


def key_vault(
    scope: engine.Construct,
    id: str,
    *,
    name: str,
    resource_group_name: str,
    location: str,
    tenant_id: str,
    soft_delete_retention_days: int,
    deletion_protection: bool,
    provider: engine.TerraformProvider | None = None,
) -> Resource:
    """An ``azurerm_key_vault`` the way every vault of this library is made: premium (HSM-backed),
    Entra RBAC instead of access policies, purge protection, soft delete, no public network access,
    a firewall that denies everything but trusted Azure services, and no VM/template/disk access."""
    return Resource(
        scope,
        id,
        "azurerm_key_vault",
        provider=provider,
        prevent_destroy=deletion_protection,
        name=name,
        resource_group_name=resource_group_name,
        location=location,
        tenant_id=tenant_id,
        sku_name="premium",
        rbac_authorization_enabled=True,
        purge_protection_enabled=True,
        soft_delete_retention_days=soft_delete_retention_days,
        public_network_access_enabled=False,
        enabled_for_deployment=False,
        enabled_for_disk_encryption=False,
        enabled_for_template_deployment=False,
        network_acls={"default_action": "Deny", "bypass": "AzureServices"},
    )


def vault_name(name: str, resource_group_name: str) -> str:
    """The globally unique vault name for ``name`` (3-24 letters and digits, starting with 'kv').

    The 6-character suffix hashes ``name`` and the resource group (when it is a literal), so the
    same logical name in two resource groups gives two different vaults.
    """
    seed = [name] if engine.Token.is_unresolved(resource_group_name) else [name, resource_group_name]
    suffix = short_hash(*seed)
    return compact_name("kv", name, max_length=24 - len(suffix)) + suffix


class Key(MlopsConstruct):
    """An Azure Key Vault (premium, RBAC, purge protection, no public access) and one RSA-HSM key
    with an automatic rotation policy.

    Resources: ``azurerm_key_vault`` (child "Vault"), ``azurerm_key_vault_key`` (child "Resource",
    the primary), an ``azurerm_client_config`` data source for the tenant id, and — with the
    defaults — an ``azurerm_role_assignment`` giving the deployer "Key Vault Crypto Officer" on the
    vault, plus an ``azurerm_monitor_diagnostic_setting`` when a Log Analytics workspace is given.

    Attributes:
        resource: the ``azurerm_key_vault_key``.
        vault: the ``azurerm_key_vault``.
        private_endpoint: the vault's ``azurerm_private_endpoint`` when ``network`` was given.
        key_id: versionless data-plane id of the key (``https://<vault>.vault.azure.net/keys/<name>``),
            what services take as a customer-managed key so that they follow rotation.
        resource_id: versionless Azure Resource Manager id of the key, the scope of role assignments.
        vault_id: Resource Manager id of the vault.
    """

    props_type = KeyProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: KeyProps,
        *,
        provider: engine.TerraformProvider | None = None,
        network: "PrivateEndpoints | None" = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)

        client = DataSource(self, "ClientConfig", "azurerm_client_config", provider=provider)

        self.vault = key_vault(
            self,
            "Vault",
            name=vault_name(props.name, props.resource_group_name),
            resource_group_name=props.resource_group_name,
            location=props.location,
            tenant_id=attr(client, "tenant_id"),
            soft_delete_retention_days=props.deletion_window_days,
            deletion_protection=props.deletion_protection,
            provider=provider,
        )
        self.vault_id: str = attr(self.vault, "id")

        depends: list[Resource] = []
        if props.grant_deployer:
            depends.append(
                Resource(
                    self,
                    "DeployerAccess",
                    "azurerm_role_assignment",
                    provider=provider,
                    scope=self.vault_id,
                    role_definition_name=CRYPTO_OFFICER_ROLE,
                    principal_id=attr(client, "object_id"),
                    description="Terraform deployer manages the customer-managed key of this vault",
                )
            )

        self.resource = Resource(
            self,
            "Resource",
            "azurerm_key_vault_key",
            provider=provider,
            depends_on=depends,
            prevent_destroy=props.deletion_protection,
            name=props.name,
            key_vault_id=self.vault_id,
            key_type="RSA-HSM",
            key_size=props.key_size,
            # Only what envelope encryption needs: the service wraps and unwraps its data keys.
            key_opts=["unwrapKey", "wrapKey"],
            rotation_policy={
                "automatic": {"time_after_creation": f"P{props.rotation_days}D"},
                "expire_after": f"P{props.rotation_days + _EXPIRY_GRACE_DAYS}D",
                "notify_before_expiry": f"P{_EXPIRY_GRACE_DAYS - 1}D",
            },
        )
        self.key_id: str = attr(self.resource, "versionless_id")
        self.resource_id: str = attr(self.resource, "resource_versionless_id")

        if props.log_analytics_workspace_id:
            diagnostic_setting(
                self, "AuditLogs", name="audit", target_resource_id=self.vault_id,
                log_analytics_workspace_id=props.log_analytics_workspace_id, logs=["AuditEvent"],
                provider=provider,
            )

        ack = Acknowledge.of(self)
        ack.add(
            "CKV_AZURE_40",
            reason=(
                "The key expires through its rotation policy (expire_after = rotation period + 30 "
                "days, a new version every rotation period), which renews expiry automatically; a "
                "fixed expiration_date timestamp would make synthesis non-deterministic and would "
                "break the store when the date passed."
            ),
        )
        self.private_endpoint: Resource | None = None
        if network is not None:
            self.private_endpoint = network.add_private_endpoint(self, "PrivateEndpoint", self.vault_id, "vault")
        else:
            ack.add(
                "CKV2_AZURE_32",
                reason=(
                    "Public network access is disabled and the firewall denies all but trusted "
                    "Azure services; no network was given to this key, so the private endpoint is "
                    "left to the caller's network (pass network= to attach one here)."
                ),
            )

    def grant_encrypt_decrypt(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` (an Entra object id, e.g. a managed identity's ``principal_id``)
        wrap and unwrap with this key: "Key Vault Crypto Service Encryption User" on the key only.

        ``principal_type`` ("ServicePrincipal", "User", "Group") may be given for a principal
        created in the same apply, to skip Entra replication checks. Returns ``[the role
        assignment]``; granting the same principal twice returns the first assignment.
        """
        return [role_assignment(
            self,
            self._grants,
            "EncryptDecrypt",
            principal,
            target=self.resource_id,
            role=CRYPTO_SERVICE_ENCRYPTION_USER_ROLE,
            principal_type=principal_type,
            provider=self._provider,
        )]


def own_key(
    scope: engine.Construct,
    id: str,
    encryption: EncryptionProps,
    *,
    name: str,
    resource_group_name: str,
    location: str,
    deletion_protection: bool,
    log_analytics_workspace_id: str | None,
    provider: engine.TerraformProvider | None,
    network: "PrivateEndpoints | None" = None,
) -> Key | None:
    """The construct's own customer-managed key, or ``None`` when ``encryption.key_id`` brings one.

    The own key is ``Key(scope, id, KeyProps.for_encryption(name, encryption, ...))`` in
    ``resource_group_name`` / ``location``: a new vault and key rotated every
    ``encryption.rotation_days``, ``prevent_destroy`` with ``deletion_protection``, audit logs to
    ``log_analytics_workspace_id`` (none when None), the vault's private endpoint in ``network``.
    The same name and signature serve every Azure construct with a key.
    """
    if encryption.key_id is not None:
        return None
    return Key(
        scope,
        id,
        KeyProps.for_encryption(
            name,
            encryption,
            resource_group_name=resource_group_name,
            location=location,
            deletion_protection=deletion_protection,
            log_analytics_workspace_id=log_analytics_workspace_id,
        ),
        provider=provider,
        network=network,
    )


def key_identity(
    scope: engine.Construct,
    *,
    name: str,
    resource_group_name: str,
    location: str,
    key_scope: str,
    description: str,
    provider: engine.TerraformProvider | None,
) -> tuple[Resource, Resource]:
    """A user-assigned identity [Identity] that may wrap and unwrap data keys with the key at
    ``key_scope`` ("Key Vault Crypto Service Encryption User" [KeyAccess]).

    Returns ``(identity, key_access)``; make the resource that uses the key depend on
    ``key_access``.
    """
    identity = Resource(
        scope,
        "Identity",
        "azurerm_user_assigned_identity",
        provider=provider,
        name=name,
        resource_group_name=resource_group_name,
        location=location,
    )
    key_access = Resource(
        scope,
        "KeyAccess",
        "azurerm_role_assignment",
        provider=provider,
        scope=key_scope,
        role_definition_name=CRYPTO_SERVICE_ENCRYPTION_USER_ROLE,
        principal_id=attr(identity, "principal_id"),
        principal_type="ServicePrincipal",
        description=description,
    )
    return identity, key_access

