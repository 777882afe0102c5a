"""A feature store on Azure: an Azure ML workspace of kind FeatureStore, an ADLS Gen2 offline store,
an optional Azure Cache for Redis online store, and one feature-store entity per group.

What is created (construct ids in brackets):

* :class:`~constructs_lib.azure.tracking.Workspace` [Resource] with ``kind = "FeatureStore"`` and a
  ``feature_store`` block naming the offline (and online) connections; its default storage is
  ``storage_account_id`` (the artifacts store), its key a new CMK.
* :class:`~constructs_lib.azure.storage.DataStore` [Offline]: the offline store, a CMK-encrypted
  account with a hierarchical namespace (feature stores require ADLS Gen2, which Azure does not
  combine with blob versioning — soft delete protects it instead).
* ``azurerm_user_assigned_identity`` [Materialization]: runs materialization jobs; it may write the
  offline store (and the online store).
* ``azapi_resource`` ``workspaces/connections`` [OfflineConnection] (and [OnlineConnection]):
  azurerm has no connection resource; both use the materialization identity, no secrets.
* with ``online``: ``azurerm_redis_cache`` [Online] — Standard C1 (primary + replica), Entra
  authentication only (access keys off), TLS 1.2, no public network access, a private endpoint.
  Azure Cache for Redis has no customer-managed-key option for Standard; data is encrypted at
  rest by the platform.
* per group: ``azapi_resource`` ``workspaces/featurestoreEntities`` + ``/versions`` "1" with the
  group's ``record_identifier`` as index column. ``groups`` maps group -> that entity version.

Feature *sets* (the group's features, source and transformation) are a data-plane step: a
feature-set version points at a specification folder (``FeaturesetSpec.yaml``) in storage, which
Terraform does not produce. Register them with ``az ml feature-set create --file <spec>.yaml
--feature-store-name <store>`` after apply; ``feature_set_specs`` gives the columns per group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from ..core import engine
from ..core.build_props import FeatureStoreProps as _CoreFeatureStoreProps
from ..core.construct import MlopsConstruct
from ..core.naming import bucket_name
from ..core.recovery import Recovery
from ..core.resource import Resource
from ._common import ML_API_VERSION, attr, custom_role, role_assignment
from .storage import DataStore, DataStoreProps
from .tracking import Workspace, WorkspaceProps

if TYPE_CHECKING:
    from ._common import PrivateEndpoints

__all__ = [
    "FEATURE_API_VERSION",
    "FEATURE_READER_ACTIONS",
    "FEATURE_WRITER_ACTIONS",
    "FeatureStore",
    "FeatureStoreProps",
]

FEATURE_API_VERSION = ML_API_VERSION
OFFLINE_CONNECTION = "offline-store"
ONLINE_CONNECTION = "online-store"
#: Custom role of ``grant_read``: get the feature store, list and show its feature sets and
#: entities (the operations cover their versions too; RBAC has no ``versions`` level for them).
#: The "feature set consumer" minimum of Microsoft Learn's "Manage access control for managed
#: feature store", without ``datastores/listSecrets/action`` (datastores here use identities).
FEATURE_READER_ACTIONS = [
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/featurestores/read",
    "Microsoft.MachineLearningServices/workspaces/featuresets/read",
    "Microsoft.MachineLearningServices/workspaces/featurestoreentities/read",
]
#: Custom role of ``grant_write``: also create and update feature sets and entities (and their
#: versions); no delete, no backfill (``featuresets/action``).
FEATURE_WRITER_ACTIONS = [
    *FEATURE_READER_ACTIONS,
    "Microsoft.MachineLearningServices/workspaces/featuresets/write",
    "Microsoft.MachineLearningServices/workspaces/featurestoreentities/write",
]
_TYPES = {"string": "string", "integral": "long", "fractional": "double"}


class FeatureStoreProps(_CoreFeatureStoreProps):
    """The shared feature-store props plus where it lives and what it builds on."""

    resource_group_name: str = Field(description="Resource group of the feature store.")
    location: str = Field(description="Azure region, e.g. 'westeurope'.")
    storage_account_id: str = Field(
        description="Default storage of the feature-store workspace (the artifacts store; no hierarchical namespace)."
    )
    container_registry_id: str | None = Field(
        default=None, description="Registry for materialization images. Defaults to None (see WorkspaceProps)."
    )
    log_analytics_workspace_id: str | None = Field(
        default=None, description="Log Analytics workspace for logs. Defaults to None: created where needed."
    )
    deletion_protection: bool = Field(
        default=True, description="prevent_destroy / locks on the workspace, keys and offline store. Defaults to True."
    )

    @model_validator(mode="after")
    def _unique_groups(self) -> "FeatureStoreProps":
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError(f"feature group names must be unique, got {names}")
        return self


class FeatureStore(MlopsConstruct):
    """A feature store (see the module docstring).

    Attributes:
        workspace: the FeatureStore :class:`Workspace`; ``resource`` its workspace resource.
        offline: the offline :class:`DataStore`; ``online``: the ``azurerm_redis_cache`` or None.
        materialization: the materialization identity.
        groups: group name -> its ``featurestoreEntities/versions`` ``azapi_resource``.
        store_id: the feature-store workspace id; group_ids: group name -> id of its entity version.
        feature_set_specs: group name -> {"index": ..., "timestamp": ..., "features": {name: type}}.
        recovery: :class:`Recovery` — all None: the workspace and the online cache are regional;
            the offline data lives in the stores (see their recovery).
    """

    props_type = FeatureStoreProps
    props_hint = "resource_group_name, location and storage_account_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: FeatureStoreProps,
        *,
        network: "PrivateEndpoints | None" = None,
        serverless_subnet_id: str | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        rg, location = props.resource_group_name, props.location

        self.materialization = Resource(
            self, "Materialization", "azurerm_user_assigned_identity", provider=provider,
            name=f"id-{props.name}-materialization", resource_group_name=rg, location=location,
        )
        mat_principal = attr(self.materialization, "principal_id")

        self.offline = DataStore(
            self,
            "Offline",
            DataStoreProps(
                name=bucket_name(props.name, "offline", max_length=40),
                resource_group_name=rg,
                location=location,
                hierarchical_namespace=True,
                versioning=False,
                encryption=props.encryption,
                deletion_protection=props.deletion_protection,
                log_analytics_workspace_id=props.log_analytics_workspace_id,
            ),
            provider=provider,
            network=network,
        )
        self.offline.grant_write(mat_principal, principal_type="ServicePrincipal")

        self.online: Resource | None = None
        if props.online:
            self.online = Resource(
                self,
                "Online",
                "azurerm_redis_cache",
                provider=provider,
                prevent_destroy=False,  # a cache: rebuilt from the offline store by materialization
                name=f"redis-{props.name}",
                resource_group_name=rg,
                location=location,
                sku_name="Standard",
                family="C",
                capacity=1,
                redis_version="6",
                minimum_tls_version="1.2",
                non_ssl_port_enabled=False,
                public_network_access_enabled=False,
                access_keys_authentication_enabled=False,
                redis_configuration={"active_directory_authentication_enabled": True},
            )
            if network is not None:
                network.add_private_endpoint(self, "OnlineEndpoint", attr(self.online, "id"), "redisCache")
            self._redis_access("Materialization", mat_principal, "Data Contributor")

        self.workspace = Workspace(
            self,
            "Resource",
            WorkspaceProps(
                name=props.name,
                resource_group_name=rg,
                location=location,
                storage_account_id=props.storage_account_id,
                container_registry_id=props.container_registry_id,
                kind="FeatureStore",
                encryption=props.encryption,
                log_analytics_workspace_id=props.log_analytics_workspace_id,
                feature_store_connections=(OFFLINE_CONNECTION, ONLINE_CONNECTION if props.online else None),
                extra_identity_ids=[attr(self.materialization, "id")],
                deletion_protection=props.deletion_protection,
            ),
            network=network,
            serverless_subnet_id=serverless_subnet_id,
            provider=provider,
        )
        self.resource = self.workspace.resource
        ws_id = self.workspace.workspace_id
        self.store_id: str = ws_id
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)
        credentials = {
            "clientId": attr(self.materialization, "client_id"),
            "resourceId": attr(self.materialization, "id"),
        }
        self._connection("OfflineConnection", OFFLINE_CONNECTION, ws_id, {
            "category": "ADLSGen2",
            "target": self.offline.container_scope,
            "authType": "ManagedIdentity",
            "credentials": credentials,
        })
        if self.online is not None:
            self._connection("OnlineConnection", ONLINE_CONNECTION, ws_id, {
                "category": "Redis",
                "target": attr(self.online, "id"),
                "authType": "ManagedIdentity",
                "credentials": credentials,
            })

        self.groups: dict[str, Resource] = {}
        self.feature_set_specs: dict[str, dict[str, object]] = {}
        for group in props.groups:
            entity = Resource(
                self, f"Entity-{group.name}", "azapi_resource",
                type=f"Microsoft.MachineLearningServices/workspaces/featurestoreEntities@{FEATURE_API_VERSION}",
                name=group.name.replace("_", "-"),
                parent_id=ws_id,
                body={"properties": {"description": f"Entity of feature group {group.name}"}},
            )
            self.groups[group.name] = Resource(
                self, f"EntityVersion-{group.name}", "azapi_resource",
                type=f"Microsoft.MachineLearningServices/workspaces/featurestoreEntities/versions@{FEATURE_API_VERSION}",
                name="1",
                parent_id=attr(entity, "id"),
                body={"properties": {
                    "description": f"Index of feature group {group.name}",
                    # The record identifier is a string (REST FeatureDataType values: String, Integer, Long, ...).
                    "indexColumns": [{"columnName": group.record_identifier, "dataType": "String"}],
                }},
            )
            self.feature_set_specs[group.name] = {
                "index": group.record_identifier,
                "timestamp": group.event_time,
                "features": {k: _TYPES[v] for k, v in sorted(group.features.items())},
            }

        self.group_ids: dict[str, str] = {name: attr(version, "id") for name, version in self.groups.items()}

        self._reader = custom_role(
            self, "ReaderRole", name=f"{props.name} feature reader", target=ws_id,
            actions=FEATURE_READER_ACTIONS, description="Read feature sets of one feature store (cdktf-mlops).",
            provider=provider,
        )
        self._writer = custom_role(
            self, "WriterRole", name=f"{props.name} feature writer", target=ws_id,
            actions=FEATURE_WRITER_ACTIONS, description="Register feature sets in one feature store (cdktf-mlops).",
            provider=provider,
        )

    def _connection(self, cid: str, name: str, parent: str, properties: dict[str, object]) -> Resource:
        return Resource(
            self, cid, "azapi_resource",
            type=f"Microsoft.MachineLearningServices/workspaces/connections@{FEATURE_API_VERSION}",
            name=name,
            parent_id=parent,
            body={"properties": properties},
        )

    def _redis_access(self, kind: str, principal: str, policy: str) -> Resource:
        def make() -> Resource:
            n = 1 + sum(1 for k in self._grants if k.startswith("redis:"))
            return Resource(
                self, f"OnlineAccess{kind}{n}", "azurerm_redis_cache_access_policy_assignment",
                provider=self._provider,
                name=f"{kind.lower()}{n}",
                redis_cache_id=attr(self.online, "id"),  # type: ignore[arg-type]
                access_policy_name=policy,
                object_id=principal,
                object_id_alias=f"{kind.lower()}{n}",
            )
        return self._once(f"redis:{kind}:{principal}", make)

    def grant_read(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` read features: the reader role on the feature store, "Storage Blob
        Data Reader" on the offline store and, with ``online``, the Redis "Data Reader" policy."""
        out = [
            role_assignment(self, self._grants, "Read", principal, target=self.workspace.workspace_id,
                            role=self._reader, principal_type=principal_type, provider=self._provider),
            *self.offline.grant_read(principal, principal_type=principal_type),
        ]
        if self.online is not None:
            out.append(self._redis_access("Reader", principal, "Data Reader"))
        return out

    def grant_write(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` register feature sets and write feature data: the writer role,
        "Storage Blob Data Contributor" on the offline store and the Redis "Data Contributor" policy."""
        out = [
            role_assignment(self, self._grants, "Write", principal, target=self.workspace.workspace_id,
                            role=self._writer, principal_type=principal_type, provider=self._provider),
            *self.offline.grant_write(principal, principal_type=principal_type),
        ]
        if self.online is not None:
            out.append(self._redis_access("Writer", principal, "Data Contributor"))
        return out
