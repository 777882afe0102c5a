"""Experiment tracking on Azure: the Azure Machine Learning workspace (its MLflow endpoint is the
tracking server) and, for SaaS trackers, a dedicated Key Vault that holds their API keys.

Two constructs:

* :class:`Workspace` — an ``azurerm_machine_learning_workspace`` with everything it depends on.
  Training compute, the model registry's approval gate, tracking and the feature store all hang
  off a workspace, so it is its own construct and the others take its id in their props.
* :class:`Tracking` — tracking access (a custom role scoped to the workspace) and one *empty*
  secret slot per SaaS tracker.

SaaS tracker secrets never pass through Terraform: ``azurerm_key_vault_secret`` requires a value,
which would land in the plan and (except for the write-only ``value_wo``) in the state. Instead the
construct creates a dedicated vault that holds nothing else, gives ``grant_secret_read``
principals "Key Vault Secrets User" on that vault only, and ``secrets`` maps each tracker to the
URI the secret must have. An operator with "Key Vault Secrets Officer" on that vault (see
``secret_writers``) fills it out of band, from a machine that reaches the vault's private endpoint::

    az keyvault secret set --vault-name <vault> --name wandb-api-key --file key.txt \\
        --content-type text/plain --expires <date>

Jobs read it with their managed identity (``DefaultAzureCredential`` + ``SecretClient``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.build_props import TrackingProps as _CoreTrackingProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.naming import bucket_name
from ..core.props import EncryptionProps, Model
from ..core.recovery import Recovery
from ..core.resource import DataSource, Resource
from ._common import attr, custom_role, diagnostic_setting, log_workspace, role_assignment
from .keys import Key, key_identity, key_vault, own_key, vault_name

if TYPE_CHECKING:
    from ._common import PrivateEndpoints

__all__ = [
    "SECRETS_OFFICER_ROLE",
    "SECRETS_USER_ROLE",
    "TRACKING_ACTIONS",
    "Tracking",
    "TrackingProps",
    "Workspace",
    "WorkspaceProps",
    "secret_name",
]

#: Built-in role of ``grant_secret_read``: read secret values of one vault, nothing else.
SECRETS_USER_ROLE = "Key Vault Secrets User"
#: Built-in role of ``secret_writers``: set and rotate secrets of one vault (no keys, no RBAC).
SECRETS_OFFICER_ROLE = "Key Vault Secrets Officer"
#: Actions of the custom tracking role: read the workspace, write experiments and runs (MLflow
#: metrics, parameters, tags), read datastores for artifact locations. No compute, no models.
TRACKING_ACTIONS = [
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/experiments/*",
    "Microsoft.MachineLearningServices/workspaces/datastores/read",
]
_NAME = r"^[a-z][a-z0-9-]{1,38}[a-z0-9]$"


def secret_name(tracker: str) -> str:
    """The Key Vault secret name that holds ``tracker``'s API key: ``<tracker>-api-key``."""
    return f"{tracker}-api-key"


# --------------------------------------------------------------------------------------- workspace


class WorkspaceProps(Model):
    """An Azure Machine Learning workspace: private, high business impact, CMK-encrypted."""

    name: str = Field(pattern=_NAME, description="Logical name; the workspace is named `mlw-<name>`.")
    resource_group_name: str = Field(description="Resource group of the workspace.")
    location: str = Field(description="Azure region, e.g. 'westeurope'.")
    storage_account_id: str = Field(
        description=(
            "Default storage of the workspace (job code, outputs, MLflow artifacts): the platform's "
            "artifacts store. Must not have a hierarchical namespace (Azure ML does not support it)."
        )
    )
    container_registry_id: str | None = Field(
        default=None,
        description=(
            "Registry for environment images. Defaults to None: Azure ML creates one on first image "
            "build, outside this construct's control — give the platform's registry."
        ),
    )
    kind: Literal["Default", "FeatureStore"] = Field(
        default="Default", description="Workspace kind. Defaults to Default; FeatureStore for a feature store."
    )
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps,
        description="Customer-managed key of workspace data. Defaults to a new key (and vault), rotated every 90 days.",
    )
    key_resource_id: str | None = Field(
        default=None,
        description="Resource Manager id of `encryption.key_id` (required with it) for the identity's key role.",
    )
    key_vault_id: str | None = Field(
        default=None,
        description="Vault of `encryption.key_id` (required with it); also the workspace's own vault.",
    )
    log_analytics_workspace_id: str | None = Field(
        default=None,
        description="Log Analytics workspace behind Application Insights. Defaults to None: one is created.",
    )
    log_retention_days: int = Field(
        default=90, ge=30, le=730, description="Retention of created Log Analytics / Application Insights data. Defaults to 90."
    )
    image_build_compute_name: str | None = Field(
        default=None,
        description=(
            "Compute cluster that builds environment images (the registry is private, so ACR "
            "Tasks cannot). Defaults to None: set it to a CPU pool of Training."
        ),
    )
    feature_store_connections: tuple[str, str | None] | None = Field(
        default=None,
        description="(offline, online) connection names of a FeatureStore workspace. Defaults to None.",
    )
    spark_runtime_version: str = Field(
        default="3.4", description="Spark runtime of feature-store materialization jobs. Defaults to 3.4."
    )
    extra_identity_ids: list[str] = Field(
        default_factory=list,
        description=(
            "More user-assigned identities for the workspace (e.g. materialization), after its own. "
            "Defaults to none: only the workspace's own identity (attach more later with "
            "Workspace.attach_identity)."
        ),
    )
    deletion_protection: bool = Field(
        default=True, description="Terraform prevent_destroy on the workspace and its key. Defaults to True."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags of every resource. Defaults to none.")

    @model_validator(mode="after")
    def _key(self) -> "WorkspaceProps":
        given = (self.key_resource_id is not None, self.key_vault_id is not None)
        if self.encryption.key_id is not None and not all(given):
            raise ValueError(
                "encryption.key_id needs key_resource_id and key_vault_id (the key's Resource "
                "Manager id and its vault's id)"
            )
        if self.encryption.key_id is None and any(given):
            raise ValueError("key_resource_id / key_vault_id are only used with encryption.key_id")
        if (self.kind == "FeatureStore") != (self.feature_store_connections is not None):
            raise ValueError("feature_store_connections is required with kind FeatureStore and only then")
        return self


class Workspace(MlopsConstruct):
    """An Azure Machine Learning workspace and what it depends on.

    Resources: ``azurerm_machine_learning_workspace`` [Resource] (high business impact: scratch
    disks of compute encrypted and less diagnostic data collected; public network access off;
    CMK encryption; identity-based storage access; v1 legacy mode off; managed network isolation
    Disabled because compute runs in the platform's own virtual network — the two are mutually
    exclusive; serverless compute in the workload subnet without public IPs when a network is
    given), a :class:`Key` [Key] whose vault is also the workspace vault, an
    ``azurerm_user_assigned_identity`` [Identity] that reads the CMK ("Key Vault Crypto Service
    Encryption User" on the key), ``azurerm_application_insights`` [Insights] (workspace-based) on
    an ``azurerm_log_analytics_workspace`` [Logs] unless one is given, and an ``amlworkspace``
    private endpoint with ``network``.

    The workspace's primary identity is system-assigned: Azure ML assigns it the roles it needs on
    the storage account, registry, vault and Application Insights when the workspace is created.
    A user-assigned primary identity would need Contributor-level roles on each, which the
    library's least-privilege audit forbids.

    More user-assigned identities (jobs that run as them on serverless compute need them on the
    workspace) come from ``extra_identity_ids`` or, after creation, :meth:`attach_identity`; the
    platform attaches each pipeline's execution identity that way.

    Attributes: ``resource``, ``workspace_id``, ``workspace_name``, ``key`` (or None), ``identity``,
    ``insights``, ``private_endpoint`` (or None), ``location``, ``identity_ids``.
    """

    props_type = WorkspaceProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: WorkspaceProps,
        *,
        network: "PrivateEndpoints | None" = None,
        serverless_subnet_id: str | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        rg, location = props.resource_group_name, props.location
        self.location = location

        la_id = props.log_analytics_workspace_id
        if la_id is None:
            logs = log_workspace(
                self, name=props.name, resource_group_name=rg, location=location,
                retention_days=props.log_retention_days, provider=provider,
            )
            la_id = attr(logs, "id")
        self.insights = Resource(
            self,
            "Insights",
            "azurerm_application_insights",
            provider=provider,
            name=f"appi-{props.name}",
            resource_group_name=rg,
            location=location,
            application_type="other",
            workspace_id=la_id,
            retention_in_days=props.log_retention_days,
        )

        self.key: Key | None = own_key(
            self, "Key", props.encryption, name=props.name, resource_group_name=rg, location=location,
            deletion_protection=props.deletion_protection, log_analytics_workspace_id=la_id,
            provider=provider, network=network,
        )
        if self.key is not None:
            key_id, key_scope, vault_id = self.key.key_id, self.key.resource_id, self.key.vault_id
        else:
            key_id = props.encryption.key_id
            key_scope, vault_id = props.key_resource_id, props.key_vault_id  # validated together

        self.identity, key_access = key_identity(
            self,
            name=f"id-{props.name}-workspace",
            resource_group_name=rg,
            location=location,
            key_scope=key_scope,
            description="Machine learning workspace identity wraps and unwraps its data keys",
            provider=provider,
        )
        feature_store = None
        if props.feature_store_connections is not None:
            offline, online = props.feature_store_connections
            feature_store = {
                "computer_spark_runtime_version": props.spark_runtime_version,
                "offline_connection_name": offline,
                "online_connection_name": online,
            }
        self.resource = Resource(
            self,
            "Resource",
            "azurerm_machine_learning_workspace",
            provider=provider,
            depends_on=[key_access],
            prevent_destroy=props.deletion_protection,
            name=bucket_name("mlw", props.name, max_length=33),  # Azure ML: 3-33 characters
            resource_group_name=rg,
            location=location,
            kind=props.kind,
            sku_name="Basic",
            application_insights_id=attr(self.insights, "id"),
            key_vault_id=vault_id,
            storage_account_id=props.storage_account_id,
            storage_account_access_type="identity",
            container_registry_id=props.container_registry_id,
            image_build_compute_name=props.image_build_compute_name,
            high_business_impact=True,
            public_network_access_enabled=False,
            v1_legacy_mode_enabled=False,
            identity={
                "type": "SystemAssigned, UserAssigned",
                # dict.fromkeys: no duplicates, first occurrence wins, order kept.
                "identity_ids": list(dict.fromkeys([attr(self.identity, "id"), *props.extra_identity_ids])),
            },
            encryption={
                "key_vault_id": vault_id,
                "key_id": key_id,
                "user_assigned_identity_id": attr(self.identity, "id"),
            },
            managed_network={"isolation_mode": "Disabled"},
            serverless_compute=(
                {"subnet_id": serverless_subnet_id, "public_ip_enabled": False}
                if serverless_subnet_id
                else None
            ),
            feature_store=feature_store,
        )
        self.workspace_id: str = attr(self.resource, "id")
        self.workspace_name: str = attr(self.resource, "name")
        self.private_endpoint: Resource | None = None
        if network is not None:
            self.private_endpoint = network.add_private_endpoint(
                self, "PrivateEndpoint", self.workspace_id, "amlworkspace"
            )
        Acknowledge.of(self).add(
            "CKV2_AZURE_50",
            reason=(
                "The workspace's storage account disables public access with "
                "public_network_access = \"Disabled\" (the azurerm 5 argument); checkov 3.3 only "
                "reads the deprecated boolean public_network_access_enabled."
            ),
        )

    @property
    def identity_ids(self) -> list[str]:
        """Resource Manager ids of the user-assigned identities on the workspace, in the order
        written: the workspace's own identity first, then ``extra_identity_ids``, then those of
        :meth:`attach_identity` (a copy; change it with :meth:`attach_identity`)."""
        return list(self.resource.get("identity")["identity_ids"])

    def attach_identity(self, identity_id: str) -> None:
        """Attach the user-assigned identity ``identity_id`` (its Resource Manager id, a literal or
        a token such as ``Pipeline.identity_id``) to the workspace, after the workspace's own
        identity and the ones already attached.

        Azure ML runs a job on serverless compute under a user-assigned identity only when that
        identity is attached to the workspace. Attaching grants the identity no role; it lets
        whoever may submit jobs in this workspace run them as that identity, so attach only
        execution identities of this workspace's jobs. Attaching the same id again (the same
        string or token) changes nothing. Deploying needs "Managed Identity Operator" (or the
        ``.../userAssignedIdentities/*/assign/action``) on the identity, as for the workspace's
        own identity.
        """
        if not isinstance(identity_id, str) and engine.Token.is_unresolved(identity_id):
            identity_id = engine.Token.as_string(identity_id)
        if not isinstance(identity_id, str) or not identity_id.strip():
            raise ConstructError(
                self.node.path,
                "attach_identity takes the Resource Manager id of a user-assigned "
                f"identity (a non-empty string), got {identity_id!r}"
            )
        ids = self.identity_ids
        if identity_id in ids:
            return
        identity = dict(self.resource.get("identity"))
        identity["identity_ids"] = [*ids, identity_id]
        self.resource.set(identity=identity)


# ---------------------------------------------------------------------------------------- tracking


class TrackingProps(_CoreTrackingProps):
    """The shared tracking props plus the workspace that tracks and the Azure-only knobs."""

    resource_group_name: str = Field(description="Resource group of the secrets vault.")
    location: str = Field(description="Azure region, e.g. 'westeurope'.")
    workspace_id: str = Field(description="Resource Manager id of the Azure ML workspace whose MLflow endpoint tracks runs.")
    secret_writers: list[str] = Field(
        default_factory=list,
        description=(
            "Entra object ids (operators, a CI identity) given 'Key Vault Secrets Officer' on the "
            "secrets vault so they can fill the tracker secrets. Defaults to none: assign it "
            "out of band, just in time."
        ),
    )
    deletion_protection: bool = Field(
        default=True, description="Terraform prevent_destroy on the secrets vault. Defaults to True."
    )
    log_analytics_workspace_id: str | None = Field(
        default=None,
        description="Workspace that receives the secrets vault's AuditEvent logs. Defaults to None: none.",
    )

    @field_validator("encryption")
    @classmethod
    def _no_key(cls, value: EncryptionProps) -> EncryptionProps:
        if value.key_id is not None:
            raise ValueError(
                "Azure tracking data is encrypted with the workspace's key (WorkspaceProps.encryption) "
                "and secrets by the vault's HSM: encryption.key_id is not used here"
            )
        return value


class Tracking(MlopsConstruct):
    """Experiment tracking on an Azure ML workspace, and empty SaaS tracker secret slots.

    Resources: ``azurerm_role_definition`` [Resource] — a custom role on the workspace allowing
    :data:`TRACKING_ACTIONS` only (no built-in role is this narrow); with ``saas_trackers``, an
    ``azurerm_key_vault`` [Secrets] (premium, RBAC, purge protection, private) that holds only
    those secrets, its private endpoint with ``network``, an AuditEvent diagnostic setting with
    ``log_analytics_workspace_id``, and "Key Vault Secrets Officer" for each ``secret_writers``.
    No secret is created (see the module docstring).

    Attributes:
        tracking_uri: the MLflow tracking URI of the workspace.
        secrets / secret_ids: tracker -> versionless URI of its (to-be-filled) secret.
        vault: the secrets ``azurerm_key_vault``, or None without SaaS trackers.
        recovery: :class:`Recovery` — all None: the workspace (runs, metrics, model metadata) is
            regional, with no cross-region copy; its artifacts live in the artifacts store.
    """

    props_type = TrackingProps
    props_hint = "resource_group_name, location and workspace_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: TrackingProps,
        *,
        network: "PrivateEndpoints | None" = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self.tracking_uri: str = (
            f"azureml://{props.location}.api.azureml.ms/mlflow/v1.0{props.workspace_id}"
        )
        self.resource = custom_role(
            self,
            "Resource",
            name=f"{props.name} experiment tracking",
            target=props.workspace_id,
            actions=TRACKING_ACTIONS,
            description="Log MLflow experiments and runs in one Azure ML workspace (cdktf-mlops).",
            provider=provider,
        )
        self.vault: Resource | None = None
        self.secrets: dict[str, str] = {}
        self.secret_ids: dict[str, str] = self.secrets
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)
        if props.saas_trackers:
            client = DataSource(self, "ClientConfig", "azurerm_client_config", provider=provider)
            self.vault = key_vault(
                self,
                "Secrets",
                name=vault_name(f"{props.name}-secrets", props.resource_group_name),
                resource_group_name=props.resource_group_name,
                location=props.location,
                tenant_id=attr(client, "tenant_id"),
                soft_delete_retention_days=props.encryption.deletion_window_days,
                deletion_protection=props.deletion_protection,
                provider=provider,
            )
            uri = attr(self.vault, "vault_uri")
            for tracker in sorted(set(props.saas_trackers)):
                self.secrets[tracker] = f"{uri}secrets/{secret_name(tracker)}"
            for writer in props.secret_writers:
                role_assignment(
                    self, self._grants, "SecretWriter", writer, target=attr(self.vault, "id"),
                    role=SECRETS_OFFICER_ROLE, principal_type=None, provider=provider,
                    description="Fills SaaS tracker API keys out of band",
                )
            if props.log_analytics_workspace_id:
                diagnostic_setting(
                    self, "AuditLogs", name="audit", target_resource_id=attr(self.vault, "id"),
                    log_analytics_workspace_id=props.log_analytics_workspace_id, logs=["AuditEvent"],
                    provider=provider,
                )
            if network is not None:
                network.add_private_endpoint(self, "SecretsEndpoint", attr(self.vault, "id"), "vault")
            else:
                Acknowledge.of(self).add(
                    "CKV2_AZURE_32",
                    reason=(
                        "Public network access is disabled and the firewall denies all but trusted "
                        "Azure services; no network was given, so the secrets vault's private "
                        "endpoint is left to the caller's network."
                    ),
                )

    def grant_access(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` (an Entra object id) log experiments and runs through MLflow: the
        custom tracking role on the workspace. Returns ``[the role assignment]``; granting twice
        returns the first assignment."""
        return [role_assignment(
            self, self._grants, "Access", principal, target=self.props.workspace_id,
            role=self.resource, principal_type=principal_type, provider=self._provider,
        )]

    def grant_secret_read(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` read the SaaS tracker secrets: "Key Vault Secrets User" on the
        dedicated vault (which holds nothing else). Returns ``[the role assignment]``, or ``[]``
        (nothing granted) when no tracker is configured, as on the other clouds."""
        if self.vault is None:
            return []
        return [role_assignment(
            self, self._grants, "SecretRead", principal, target=attr(self.vault, "id"),
            role=SECRETS_USER_ROLE, principal_type=principal_type, provider=self._provider,
        )]
