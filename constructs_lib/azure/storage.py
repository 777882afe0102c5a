"""A versioned, encrypted, lifecycle-managed data store on Azure: a StorageV2 account with one
private container, a customer-managed key, soft delete, a lifecycle policy, a delete lock, blob
access logs in Log Analytics, and optional geo-replication (RA-GZRS).

Example::

    store = DataStore(self, "Data", DataStoreProps(
        name="ml-data", resource_group_name="rg-ml", location="westeurope",
        replication=ReplicationProps(region="northeurope"),
        tags={"team": "ml"},
    ))
    store.grant_read(training_identity.ref("principal_id"), principal_type="ServicePrincipal")

What is created (construct ids in brackets), in the order the constructor builds it:

1. ``azurerm_log_analytics_workspace`` [Logs] when no workspace is given (with ``access_logging``):
   the destination of the access logs and of the key vault's audit events.
2. a :class:`~constructs_lib.azure.keys.Key` [Key] unless ``encryption.key_id`` is given.
3. ``azurerm_user_assigned_identity`` [Identity] and ``azurerm_role_assignment`` [KeyAccess]:
   the account's identity gets "Key Vault Crypto Service Encryption User" on the key only.
4. ``azurerm_storage_account`` [Resource]: StorageV2, Standard, ZRS (RA-GZRS with replication),
   HTTPS only, TLS 1.2, shared keys and local users disabled (Entra ID auth only), public network
   access disabled with a Deny firewall that lets trusted Azure services through, no anonymous
   blob access, copies only within the tenant, infrastructure (double) encryption, queues and
   tables also under the account key, blob versioning, change feed, blob and container soft
   delete, and the customer-managed key through the user-assigned identity.
5. ``azurerm_storage_container`` [Container]: the private container ``data``.
6. ``azurerm_storage_management_policy`` [Lifecycle]: Cool / Cold tiering and expiry of old versions.
7. ``azurerm_management_lock`` [Lock]: CanNotDelete on the account (with ``deletion_protection``).
   Locks are inherited: while it exists, the container and the lifecycle policy cannot be deleted
   either (remove the lock first, deliberately). Deleting blobs inside the account is not blocked.
8. ``azurerm_monitor_diagnostic_setting`` [AccessLogs] on ``<account>/blobServices/default``
   sending StorageRead / StorageWrite / StorageDelete to Log Analytics (with ``access_logging``).
9. with ``network``: private endpoints of the account for ``blob`` and ``dfs``.

Azure has no multipart-upload object to abort: uncommitted blocks of an unfinished upload are
discarded by the service after 7 days, so ``lifecycle.abort_incomplete_upload_days`` has no
setting here (it is accepted for a uniform spec and ignored).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.acknowledge import Acknowledge
from ..core.errors import ConstructError
from ..core.naming import compact_name, short_hash
from ..core.recovery import Recovery
from ..core.props import DataStoreProps as _CoreDataStoreProps
from ..core.regions import AZURE_PAIRS, AZURE_REGIONS
from ..core.resource import Resource
from ._common import attr, diagnostic_setting, log_workspace, role_assignment
from .keys import Key, key_identity, own_key

if TYPE_CHECKING:
    from ._common import PrivateEndpoints

__all__ = [
    "BLOB_DATA_CONTRIBUTOR_ROLE",
    "BLOB_DATA_READER_ROLE",
    "CONTAINER_NAME",
    "DEFAULT_LOG_RETENTION_DAYS",
    "DEFAULT_SOFT_DELETE_RETENTION_DAYS",
    "PAIRED_REGIONS",
    "DataStore",
    "DataStoreProps",
    "Recovery",
    "storage_account_name",
]

#: Built-in role of ``grant_read``: read and list blobs.
BLOB_DATA_READER_ROLE = "Storage Blob Data Reader"
#: Built-in role of ``grant_write``: read, write and delete blobs (no account management, no RBAC).
BLOB_DATA_CONTRIBUTOR_ROLE = "Storage Blob Data Contributor"
#: The one container of the store.
CONTAINER_NAME = "data"
DEFAULT_LOG_RETENTION_DAYS = 365
DEFAULT_SOFT_DELETE_RETENTION_DAYS = 30
#: Microsoft's typical recovery time of a customer-managed unplanned failover to the secondary
#: region (there is no SLA); reads from the secondary endpoint (RA-) work without a failover.
GEO_FAILOVER_RTO_MINUTES = 60

#: Azure region pairs (secondary region of each primary) for the regions that have one: the table
#: of :mod:`constructs_lib.core.regions` (its source is named there). Geo-redundant storage always
#: replicates to the paired region; the caller cannot choose another, and a region without a pair
#: (``AZURE_REGIONS[r][1] is None``) has no geo-redundant storage.
PAIRED_REGIONS: dict[str, str] = AZURE_PAIRS


def _region(value: str) -> str:
    """'West Europe' -> 'westeurope' (the two spellings Azure accepts for a location)."""
    return value.replace(" ", "").lower()


class DataStoreProps(_CoreDataStoreProps):
    """Azure data store: the shared :class:`~constructs_lib.core.props.DataStoreProps` plus where
    the account lives and the Azure-only knobs, each with a secure default."""

    resource_group_name: str = Field(description="Resource group of the storage account and its key.")
    location: str = Field(description="Azure region of the account, e.g. 'westeurope'.")
    log_analytics_workspace_id: str | None = Field(
        default=None,
        description=(
            "Log Analytics workspace that receives blob access logs (and the key vault's audit "
            "logs). Defaults to None: with `access_logging` a workspace is created for the store, "
            "keeping logs `log_retention_days`."
        ),
    )
    log_retention_days: int = Field(
        default=DEFAULT_LOG_RETENTION_DAYS,
        ge=30,
        le=730,
        description=(
            "Retention of the workspace this construct creates, in days (30-730). Defaults to 365. "
            "Ignored when `log_analytics_workspace_id` is given."
        ),
    )
    key_resource_id: str | None = Field(
        default=None,
        description=(
            "Azure Resource Manager id of the key given in `encryption.key_id` "
            "(/subscriptions/.../providers/Microsoft.KeyVault/vaults/<vault>/keys/<key>): the scope "
            "on which the account's identity gets 'Key Vault Crypto Service Encryption User'. "
            "Required with `encryption.key_id`, not allowed without it."
        ),
    )
    soft_delete_retention_days: int = Field(
        default=DEFAULT_SOFT_DELETE_RETENTION_DAYS,
        ge=1,
        le=365,
        description=(
            "How long deleted blobs and deleted containers can be restored, in days (1-365). "
            "Defaults to 30."
        ),
    )
    hierarchical_namespace: bool = Field(
        default=False,
        description=(
            "Enable the hierarchical namespace (ADLS Gen2: real directories, POSIX ACLs, atomic "
            "renames). Defaults to False because Azure does not support blob versioning or the "
            "change feed on such accounts; enabling it requires `versioning: false` (blob and "
            "container soft delete still protect the data)."
        ),
    )

    @field_validator("resource_group_name", "location")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value

    @model_validator(mode="after")
    def _azure_rules(self) -> "DataStoreProps":
        if self.hierarchical_namespace and self.versioning:
            raise ValueError(
                "hierarchical_namespace: true cannot be combined with versioning: true — Azure does "
                "not support blob versioning on accounts with a hierarchical namespace (ADLS Gen2). "
                "Set versioning: false (soft delete still protects deleted data) or "
                "hierarchical_namespace: false"
            )
        if self.encryption.key_id is not None and self.key_resource_id is None:
            raise ValueError(
                "encryption.key_id is set but key_resource_id is not: give the Resource Manager id "
                "of that key (/subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.KeyVault/"
                "vaults/<vault>/keys/<key>) so the account's identity can be granted use of it"
            )
        if self.key_resource_id is not None and self.encryption.key_id is None:
            raise ValueError(
                "key_resource_id is only used with encryption.key_id: set encryption.key_id to the "
                "key's versionless id, or remove key_resource_id to let the store create its key"
            )
        if self.replication is not None and not engine.Token.is_unresolved(self.location):
            primary = _region(self.location)
            wanted = _region(self.replication.region)
            paired = PAIRED_REGIONS.get(primary)
            if paired is None and primary in AZURE_REGIONS:
                raise ValueError(
                    f"replication: {self.location!r} has no paired region, and Azure geo-redundant "
                    "storage (RA-GZRS) replicates only to the pair; remove replication (the account "
                    "stays zone-redundant)"
                )
            if paired is not None and wanted != paired:
                raise ValueError(
                    f"replication.region {self.replication.region!r} is not the paired region of "
                    f"{self.location!r}: Azure geo-redundant storage (RA-GZRS) always replicates to "
                    f"the paired region, which is {paired!r}. Set replication.region: {paired}"
                )
        return self




def storage_account_name(name: str, resource_group_name: str) -> str:
    """The globally unique storage account name for logical ``name``: 'st' + name without hyphens +
    a 6-character hash of name and resource group (when literal), 3-24 lowercase letters/digits."""
    seed = [name] if engine.Token.is_unresolved(resource_group_name) else [name, resource_group_name]
    suffix = short_hash(*seed)
    return compact_name("st", name, max_length=24 - len(suffix)) + suffix


class DataStore(MlopsConstruct):
    """A versioned, CMK-encrypted, private Azure storage account with one container (``data``).

    ``props``: :class:`DataStoreProps`. ``provider``: an ``azurerm`` provider for another
    subscription (defaults to the stack's default ``azurerm`` provider). ``replica_provider`` is
    accepted for the uniform interface and unused: Azure replicates inside the account to the
    paired region, so there is no second resource to place.

    Principals of :meth:`grant_read` / :meth:`grant_write` are Entra object ids (a user, group,
    service principal, or a managed identity's ``principal_id``). Data-plane access is Entra-only
    (shared keys are disabled), so a role assignment is all a principal needs. The account itself
    unwraps its data keys with the customer-managed key through its own identity, so readers and
    writers need no role on the key.

    Attributes:
        resource: the ``azurerm_storage_account``.
        key: the created :class:`Key`, or None when ``encryption.key_id`` was given.
        key_id: versionless Key Vault key id used for encryption.
        store_name: storage account name (token).
        store_id: storage account Resource Manager id (token).
        container: the ``azurerm_storage_container`` named ``data``.
        identity: the account's ``azurerm_user_assigned_identity``.
        replica: always None on Azure (the geo-replica is part of the account; see ``recovery``).
        recovery: :class:`Recovery` objectives.
        workspace: the ``azurerm_log_analytics_workspace`` created for access logs, or None.
        private_endpoints: subresource -> ``azurerm_private_endpoint``; with ``network`` the
            store gets "blob" and "dfs" endpoints (and its key vault a "vault" endpoint), and no
            CKV2_AZURE_33 / CKV2_AZURE_32 acknowledgement is needed.
    """

    props_type = DataStoreProps
    props_hint = "resource_group_name and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: DataStoreProps,
        *,
        provider: engine.TerraformProvider | None = None,
        replica_provider: engine.TerraformProvider | None = None,
        network: "PrivateEndpoints | None" = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self._network = network
        workspace_id = self._log_destination()
        key_scope = self._customer_managed_key(workspace_id)
        key_access = self._key_identity(key_scope)
        self._account(key_access)
        self._container()
        self._lifecycle_policy(provider)
        self._lock()
        self._access_logs(workspace_id)
        #: subresource ("blob", "dfs", "file"...) -> its ``azurerm_private_endpoint``.
        self.private_endpoints: dict[str, Resource] = {}
        if network is not None:
            for subresource in ("blob", "dfs"):
                self.add_private_endpoint(subresource)
        self.replica: Resource | None = None
        replication = props.replication
        self.recovery = Recovery(
            rpo_minutes=replication.rpo_minutes if replication else None,
            rto_minutes=GEO_FAILOVER_RTO_MINUTES if replication else None,
            replica_region=replication.region if replication else None,
        )
        self._acknowledge()

    # -- steps ----------------------------------------------------------------------------------

    def _log_destination(self) -> str | None:
        """1. The workspace of the access logs (and the key vault's audit events): the given one,
        or one created here with ``access_logging``; None without either."""
        props = self.props
        self.workspace: Resource | None = None
        if props.access_logging and props.log_analytics_workspace_id is None:
            self.workspace = log_workspace(
                self, name=props.name, resource_group_name=props.resource_group_name,
                location=props.location, retention_days=props.log_retention_days, provider=self._provider,
            )
            return attr(self.workspace, "id")
        return props.log_analytics_workspace_id

    def _customer_managed_key(self, workspace_id: str | None) -> str:
        """2. The store's own key unless the caller supplies one; returns the key's scope (the
        Resource Manager id its role assignments target)."""
        props = self.props
        self.key: Key | None = own_key(
            self, "Key", props.encryption, name=props.name, resource_group_name=props.resource_group_name,
            location=props.location, deletion_protection=props.deletion_protection,
            log_analytics_workspace_id=workspace_id if props.access_logging else None,
            provider=self._provider, network=self._network,
        )
        if self.key is not None:
            self.key_id: str = self.key.key_id
            return self.key.resource_id
        self.key_id = props.encryption.key_id  # type: ignore[assignment]  # set when no key is made
        return props.key_resource_id  # type: ignore[return-value]  # validated with key_id

    def _key_identity(self, key_scope: str) -> Resource:
        """3. The account's identity, allowed to wrap and unwrap with the key; returns the key role."""
        props = self.props
        self.identity, key_access = key_identity(
            self,
            name=f"id-{props.name}-storage",
            resource_group_name=props.resource_group_name,
            location=props.location,
            key_scope=key_scope,
            description="Storage account identity wraps and unwraps its data keys",
            provider=self._provider,
        )
        return key_access

    def _account(self, key_access: Resource) -> None:
        """4. The storage account (see the module docstring for its settings)."""
        props = self.props
        hns = props.hierarchical_namespace
        blob_properties = {
            "versioning_enabled": props.versioning,
            # Change feed (an audit trail of every blob change) is not available with HNS.
            "change_feed_enabled": not hns,
            "change_feed_retention_in_days": None if hns else props.lifecycle.noncurrent_version_expiry_days,
            "delete_retention_policy": {"days": props.soft_delete_retention_days},
            "container_delete_retention_policy": {"days": props.soft_delete_retention_days},
        }
        self.resource = Resource(
            self,
            "Resource",
            "azurerm_storage_account",
            provider=self._provider,
            # The key must be usable by the identity before the account is created with it.
            depends_on=[key_access],
            prevent_destroy=props.deletion_protection,
            name=storage_account_name(props.name, props.resource_group_name),
            resource_group_name=props.resource_group_name,
            location=props.location,
            account_kind="StorageV2",
            account_tier="Standard",
            account_replication_type="RAGZRS" if props.replication else "ZRS",
            access_tier="Hot",
            is_hns_enabled=hns,
            https_traffic_only_enabled=True,
            min_tls_version="TLS1_2",
            shared_access_key_enabled=False,
            default_to_oauth_authentication=True,
            local_user_enabled=False,
            sftp_enabled=False,
            nfsv3_enabled=False,
            allow_nested_items_to_be_public=False,
            cross_tenant_replication_enabled=False,
            allowed_copy_scope="AAD",
            public_network_access="Disabled",
            infrastructure_encryption_enabled=True,
            queue_encryption_key_type="Account",
            table_encryption_key_type="Account",
            network_rules={"default_action": "Deny", "bypass": ["AzureServices"]},
            identity={"type": "UserAssigned", "identity_ids": [attr(self.identity, "id")]},
            customer_managed_key={
                "key_vault_key_id": self.key_id,
                "user_assigned_identity_id": attr(self.identity, "id"),
            },
            blob_properties=blob_properties,
        )
        self.store_name: str = attr(self.resource, "name")
        self.store_id: str = attr(self.resource, "id")

    def _container(self) -> None:
        """5. The private container ``data``."""
        self.container = Resource(
            self,
            "Container",
            "azurerm_storage_container",
            provider=self._provider,
            name=CONTAINER_NAME,
            storage_account_id=self.store_id,
            container_access_type="private",
        )

    def _lock(self) -> None:
        """7. CanNotDelete on the account with ``deletion_protection``."""
        if self.props.deletion_protection:
            Resource(
                self,
                "Lock",
                "azurerm_management_lock",
                provider=self._provider,
                name=f"{self.props.name}-cannot-delete",
                scope=self.store_id,
                lock_level="CanNotDelete",
                notes="Stateful ML data store: remove this lock deliberately before deleting the account.",
            )

    def _access_logs(self, workspace_id: str | None) -> None:
        """8. Blob read / write / delete requests to Log Analytics with ``access_logging``."""
        if self.props.access_logging and workspace_id is not None:
            diagnostic_setting(
                self, "AccessLogs", name="blob-access",
                target_resource_id=f"{self.store_id}/blobServices/default",
                log_analytics_workspace_id=workspace_id,
                logs=["StorageDelete", "StorageRead", "StorageWrite"], metrics=["Transaction"],
                provider=self._provider,
            )

    def _lifecycle_policy(self, provider: engine.TerraformProvider | None) -> None:
        """6. Cool / Cold tiering of current blobs and expiry of old versions and snapshots."""
        lc = self.props.lifecycle
        base_blob = {
            "tier_to_cool_after_days_since_modification_greater_than": lc.infrequent_access_after_days,
            # Cold, not Archive: Archive is not offered on zone-redundant (ZRS/GZRS) accounts, and
            # Cold keeps data online (no rehydration before a training job can read it).
            "tier_to_cold_after_days_since_modification_greater_than": lc.archive_after_days,
        }
        actions: dict[str, object] = {
            # Old snapshots follow the same expiry as old versions.
            "snapshot": {"delete_after_days_since_creation_greater_than": lc.noncurrent_version_expiry_days},
        }
        if any(v is not None for v in base_blob.values()):
            actions["base_blob"] = base_blob
        if self.props.versioning:
            # Azure counts a version's age from when it was created (its original write), not from
            # when it stopped being current; S3 and GCS count from the latter.
            actions["version"] = {"delete_after_days_since_creation": lc.noncurrent_version_expiry_days}
        Resource(
            self,
            "Lifecycle",
            "azurerm_storage_management_policy",
            provider=provider,
            storage_account_id=self.store_id,
            rule=[
                {
                    "name": "tiering-and-expiry",
                    "enabled": True,
                    "filters": {"blob_types": ["blockBlob"]},
                    "actions": actions,
                }
            ],
        )

    def _acknowledge(self) -> None:
        ack = Acknowledge.of(self)
        ack.add(
            "CKV_AZURE_59",
            reason=(
                "Public network access is disabled with public_network_access = \"Disabled\", the "
                "argument azurerm 5 uses; checkov 3.3 only reads the deprecated boolean "
                "public_network_access_enabled, which azurerm 5 replaces."
            ),
        )
        if self._network is None:
            ack.add(
                "CKV2_AZURE_33",
                reason=(
                    "Public network access is disabled and the firewall denies all but trusted "
                    "Azure services; no network was given to this store, so its private endpoints "
                    "are left to the caller's network (pass network= to attach them here)."
                ),
            )
        ack.add(
            "CKV_AZURE_33",
            reason=(
                "The store holds blobs only and creates no queues; queue_properties logging (classic "
                "Storage Analytics, written with the account key) does not exist in azurerm 5 and "
                "shared-key access is disabled on this account."
            ),
        )
        if self.props.access_logging:
            reason_21 = (
                "Blob read/write/delete requests are logged through a diagnostic setting on "
                "blobServices/default to Log Analytics; the check only accepts "
                "azurerm_log_analytics_storage_insights, which needs the account key that this "
                "account disables."
            )
        else:
            reason_21 = (
                "Access logging was turned off explicitly by the caller (access_logging: false), "
                "e.g. for a throwaway environment; the default store logs every blob request."
            )
        ack.add("CKV2_AZURE_21", reason=reason_21)
        if self.props.replication is None:
            ack.add(
                "CKV_AZURE_206",
                reason=(
                    "Zone-redundant storage (ZRS) keeps three synchronous copies in separate "
                    "availability zones; cross-region replication (RA-GZRS) is opt-in through "
                    "`replication` because it doubles storage and adds geo-transfer cost."
                ),
            )

    def add_private_endpoint(self, subresource: str) -> Resource:
        """A private endpoint of the account for ``subresource`` ("blob", "dfs", "file", "queue",
        "table") in the network given at construction, with its private DNS zone group. Asking
        twice returns the first endpoint. Blob and dfs endpoints are created with the store."""
        if self._network is None:
            raise ConstructError(
                self.node.path,
                "add_private_endpoint needs the store to be created with network="
            )
        if subresource not in self.private_endpoints:
            self.private_endpoints[subresource] = self._network.add_private_endpoint(
                self, f"PrivateEndpoint-{subresource}", self.store_id, subresource
            )
        return self.private_endpoints[subresource]

    # -- grants ---------------------------------------------------------------------------------

    def grant_read(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` (an Entra object id) read and list blobs of the ``data`` container:
        "Storage Blob Data Reader" scoped to that container. No key role is needed (see class doc).

        ``principal_type`` ("ServicePrincipal", "User", "Group") may be given for a principal
        created in the same apply, to skip Entra replication checks. Returns ``[the role
        assignment]``; granting the same principal twice returns the first assignment.
        """
        return [self._grant("Read", principal, BLOB_DATA_READER_ROLE, principal_type)]

    def grant_write(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` (an Entra object id) read, write and delete blobs of the ``data``
        container: "Storage Blob Data Contributor" scoped to that container — no account
        management and no permission changes. No key role is needed (see class doc). Returns
        ``[the role assignment]``."""
        return [self._grant("Write", principal, BLOB_DATA_CONTRIBUTOR_ROLE, principal_type)]

    @property
    def container_scope(self) -> str:
        """Resource Manager id of the ``data`` container, the scope of grants."""
        return f"{self.store_id}/blobServices/default/containers/{CONTAINER_NAME}"

    def _grant(self, kind: str, principal: str, role: str, principal_type: str | None) -> Resource:
        return role_assignment(
            self,
            self._grants,
            kind,
            principal,
            target=self.container_scope,
            role=role,
            principal_type=principal_type,
            provider=self._provider,
        )
