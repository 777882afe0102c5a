"""Container registry and model registry on Azure.

:class:`ContainerRegistry` — a Premium Azure Container Registry: customer-managed key through a
user-assigned identity, admin user and anonymous pull off, public network access off (private
endpoint), dedicated data endpoints, zone redundancy, geo-replicas in ``replica_locations``,
export off, a retention policy that deletes untagged manifests after ``untagged_expiry_days``,
and — with ``scan_on_push`` — the subscription's Microsoft Defender for Containers plan with
registry vulnerability assessment (ACR has no per-registry scan switch; Defender scans every
pushed image).

Not expressible in Terraform (documented bridges):

* repositories are created by the first push; ``repositories`` maps each logical repository to
  its image prefix ``<login server>/<name>``.
* ACR has no registry-wide immutable-tag setting. With ``immutable_tags`` the push pipeline locks
  each pushed tag: ``az acr repository update -n <registry> --image <repo>:<tag>
  --write-enabled false`` (``immutable_tags_command`` gives the command for a repository).

:class:`ModelRegistry` — an Azure ML registry (``azapi_resource``
``Microsoft.MachineLearningServices/registries@2025-12-01``: azurerm has no resource for it) with
a system-assigned identity, public network access disabled, and a region entry per location.
Azure ML has no approval state, so the gate is RBAC (``approval: manual``, the default):

1. ``grant_write`` (training) allows writing *candidate* models into the dev workspace only
   (custom role on the workspace: models read/write) — not the registry.
2. An approver identity [Approver] (a user-assigned identity for a release pipeline, plus any
   ``approvers`` object ids) holds "AzureML Registry User" on the registry and a model-reader role
   on the workspace. Approving = promoting: ``az ml model share --name <m> --version <v>
   --registry-name <registry> --share-with-name <m> --share-with-version <v>`` run as approver.
3. ``grant_read`` and ``promotion_targets`` (later environments' deployment identities) get a
   read-only custom role on the registry: they see approved models only.

With ``approval: automatic`` there is no approver and ``grant_write`` gives "AzureML Registry
User" on the registry directly. Azure ML registries do not support customer-managed keys:
``encryption.key_id`` is rejected and registry storage uses Microsoft-managed keys.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, field_validator, model_validator

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.build_props import ContainerRegistryProps as _CoreContainerRegistryProps
from ..core.build_props import ModelRegistryProps as _CoreModelRegistryProps
from ..core.construct import MlopsConstruct
from ..core.naming import bucket_name, compact_name, short_hash
from ..core.props import EncryptionProps
from ..core.recovery import Recovery
from ..core.resource import DataSource, Resource
from ._common import ML_API_VERSION, attr, custom_role, diagnostic_setting, role_assignment
from .keys import Key, key_identity, own_key

if TYPE_CHECKING:
    from ._common import PrivateEndpoints

__all__ = [
    "ACR_PULL_ROLE",
    "ACR_PUSH_ROLE",
    "CANDIDATE_WRITER_ACTIONS",
    "MODEL_READER_ACTIONS",
    "REGISTRY_API_VERSION",
    "REGISTRY_READER_ACTIONS",
    "REGISTRY_USER_ROLE",
    "ContainerRegistry",
    "ContainerRegistryProps",
    "ModelRegistry",
    "ModelRegistryProps",
    "registry_name",
]

ACR_PULL_ROLE = "AcrPull"
ACR_PUSH_ROLE = "AcrPush"
#: Built-in role to read and write assets of an Azure ML registry (the approver's role).
REGISTRY_USER_ROLE = "AzureML Registry User"
REGISTRY_API_VERSION = ML_API_VERSION
#: Custom role of ``grant_read`` / ``promotion_targets``: read approved models of the registry.
REGISTRY_READER_ACTIONS = [
    "Microsoft.MachineLearningServices/registries/read",
    "Microsoft.MachineLearningServices/registries/assets/read",
]
#: Custom role of ``grant_write`` with a manual gate: candidate models of the dev workspace.
CANDIDATE_WRITER_ACTIONS = [
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/models/read",
    "Microsoft.MachineLearningServices/workspaces/models/write",
    "Microsoft.MachineLearningServices/workspaces/models/versions/read",
    "Microsoft.MachineLearningServices/workspaces/models/versions/write",
]
#: Custom role of the approver on the dev workspace: read candidate models to promote them.
MODEL_READER_ACTIONS = [
    "Microsoft.MachineLearningServices/workspaces/read",
    "Microsoft.MachineLearningServices/workspaces/models/read",
    "Microsoft.MachineLearningServices/workspaces/models/versions/read",
]


def registry_name(name: str, resource_group_name: str) -> str:
    """Globally unique ACR name: 'cr' + name without hyphens + 6-character hash (5-50 alphanumerics)."""
    seed = [name] if engine.Token.is_unresolved(resource_group_name) else [name, resource_group_name]
    suffix = short_hash(*seed)
    return compact_name("cr", name, max_length=50 - len(suffix)) + suffix


# ------------------------------------------------------------------------------- container registry


class ContainerRegistryProps(_CoreContainerRegistryProps):
    """The shared container-registry props plus where the registry lives and Azure-only knobs."""

    resource_group_name: str = Field(description="Resource group of the registry and its key.")
    location: str = Field(description="Azure region, e.g. 'westeurope'.")
    replica_locations: list[str] = Field(
        default_factory=list,
        description="Regions that get a zone-redundant geo-replica. Defaults to none (single region).",
    )
    key_resource_id: str | None = Field(
        default=None, description="Resource Manager id of `encryption.key_id` (required with it)."
    )
    log_analytics_workspace_id: str | None = Field(
        default=None,
        description="Workspace for login and repository events. Defaults to None: no diagnostic setting.",
    )
    manage_defender_plan: bool = Field(
        default=True,
        description=(
            "With `scan_on_push`, enable Microsoft Defender for Containers (Standard, with registry "
            "vulnerability assessment) on the subscription from this stack. Defaults to True. The "
            "plan is subscription-wide: set False when it is managed centrally (scanning then "
            "depends on that plan), and remember that destroying this stack downgrades it."
        ),
    )
    deletion_protection: bool = Field(
        default=True, description="Terraform prevent_destroy on the registry and its key. Defaults to True."
    )

    @model_validator(mode="after")
    def _key(self) -> "ContainerRegistryProps":
        if (self.encryption.key_id is None) != (self.key_resource_id is None):
            raise ValueError("encryption.key_id and key_resource_id go together: give both or neither")
        if self.location in self.replica_locations:
            raise ValueError(f"replica_locations must not repeat the primary location {self.location!r}")
        return self


class ContainerRegistry(MlopsConstruct):
    """A private, CMK-encrypted Premium container registry (see the module docstring).

    Attributes:
        resource: the ``azurerm_container_registry``; ``registry_id``, ``login_server`` (also
            ``registry_url``).
        repositories / repository_urls: logical repository -> image prefix ``<login server>/<name>``.
        key: the created :class:`Key`, or None; ``identity``: the registry's CMK identity.
        private_endpoint: the ``registry`` endpoint with ``network``.
        recovery: :class:`Recovery` — geo-replicated asynchronously to ``replica_locations`` (RPO
            not published: None; RTO 0, pulls move to a healthy replica), else all None.
    """

    props_type = ContainerRegistryProps
    props_hint = "resource_group_name and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: ContainerRegistryProps,
        *,
        network: "PrivateEndpoints | None" = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        rg, location = props.resource_group_name, props.location
        self.key: Key | None = own_key(
            self, "Key", props.encryption, name=props.name, resource_group_name=rg, location=location,
            deletion_protection=props.deletion_protection,
            log_analytics_workspace_id=props.log_analytics_workspace_id, provider=provider, network=network,
        )
        if self.key is not None:
            key_id, key_scope = self.key.key_id, self.key.resource_id
        else:
            key_id, key_scope = props.encryption.key_id, props.key_resource_id
        self.identity, key_access = key_identity(
            self,
            name=f"id-{props.name}-registry",
            resource_group_name=rg,
            location=location,
            key_scope=key_scope,
            description="Container registry identity wraps and unwraps its data keys",
            provider=provider,
        )
        self.resource = Resource(
            self,
            "Resource",
            "azurerm_container_registry",
            provider=provider,
            depends_on=[key_access],
            prevent_destroy=props.deletion_protection,
            name=registry_name(props.name, rg),
            resource_group_name=rg,
            location=location,
            sku="Premium",
            admin_enabled=False,
            anonymous_pull_enabled=False,
            public_network_access_enabled=False,
            network_rule_bypass_option="AzureServices",
            data_endpoint_enabled=True,
            export_policy_enabled=False,
            zone_redundancy_enabled=True,
            quarantine_policy_enabled=False,
            retention_policy_in_days=props.untagged_expiry_days,
            identity={"type": "UserAssigned", "identity_ids": [attr(self.identity, "id")]},
            encryption=[{"key_vault_key_id": key_id, "identity_client_id": attr(self.identity, "client_id")}],
            georeplications=[
                {"location": loc, "zone_redundancy_enabled": True, "global_endpoint_routing_enabled": True}
                for loc in props.replica_locations
            ]
            or None,
        )
        self.registry_id: str = attr(self.resource, "id")
        self.login_server: str = attr(self.resource, "login_server")
        self.repositories: dict[str, str] = {r: f"{self.login_server}/{r}" for r in props.repositories}
        self.registry_url: str = self.login_server
        self.repository_urls: dict[str, str] = self.repositories
        self.immutable_tags: bool = props.immutable_tags
        # Geo-replicas are asynchronous (RPO not published: None); pulls move to a healthy replica
        # by themselves (RTO 0).
        replica = props.replica_locations[0] if props.replica_locations else None
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=0 if replica else None, replica_region=replica)

        self.private_endpoint: Resource | None = None
        if network is not None:
            self.private_endpoint = network.add_private_endpoint(self, "PrivateEndpoint", self.registry_id, "registry")

        self.defender_plan: Resource | None = None
        if props.scan_on_push and props.manage_defender_plan:
            self.defender_plan = Resource(
                self,
                "ScanOnPush",
                "azurerm_security_center_subscription_pricing",
                provider=provider,
                tier="Standard",
                resource_type="Containers",
                extension=[{"name": "ContainerRegistriesVulnerabilityAssessments"}],
            )
        if props.log_analytics_workspace_id:
            diagnostic_setting(
                self, "AuditLogs", name="registry-events", target_resource_id=self.registry_id,
                log_analytics_workspace_id=props.log_analytics_workspace_id,
                logs=["ContainerRegistryLoginEvents", "ContainerRegistryRepositoryEvents"],
                provider=provider,
            )

        ack = Acknowledge.of(self)
        ack.add(
            "CKV_AZURE_164",
            reason=(
                "Docker Content Trust (trust_policy) is deprecated by Azure and has no argument in "
                "azurerm 5; image signing moves to Notary Project signatures verified at deployment."
            ),
        )
        ack.add(
            "CKV_AZURE_166",
            reason=(
                "Quarantine holds every pushed image until a third-party scanner releases it; "
                "Defender for Containers scans on push but does not release quarantine, so enabling "
                "it would block every pull."
            ),
        )
        if not props.replica_locations:
            ack.add(
                "CKV_AZURE_165",
                reason=(
                    "The platform runs in one region; the registry is zone-redundant there. Geo-"
                    "replicas are added for each further region (replica_locations)."
                ),
            )

    def immutable_tags_command(self, repository: str) -> str:
        """The command the push pipeline runs after pushing ``repository:$TAG`` to lock the tag
        (ACR has no registry-wide immutable-tag setting)."""
        if repository not in self.repositories:
            raise KeyError(f"{self.node.path}: unknown repository {repository!r}")
        return (
            f"az acr repository update --name {self.resource.get('name')} "
            f"--image {repository}:$TAG --write-enabled false"
        )

    def grant_pull(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` (an Entra object id) pull images: "AcrPull" on the registry.
        Returns ``[the role assignment]``."""
        return [role_assignment(self, self._grants, "Pull", principal, target=self.registry_id,
                                role=ACR_PULL_ROLE, principal_type=principal_type, provider=self._provider)]

    def grant_push(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` push (and pull) images: "AcrPush" on the registry. Returns ``[the role
        assignment]``."""
        return [role_assignment(self, self._grants, "Push", principal, target=self.registry_id,
                                role=ACR_PUSH_ROLE, principal_type=principal_type, provider=self._provider)]


# ----------------------------------------------------------------------------------- model registry


class ModelRegistryProps(_CoreModelRegistryProps):
    """The shared model-registry props plus where it lives and the workspace its candidates come from."""

    resource_group_name: str = Field(description="Resource group of the registry.")
    location: str = Field(description="Primary Azure region, e.g. 'westeurope'.")
    replica_locations: list[str] = Field(
        default_factory=list, description="More regions the registry replicates models to. Defaults to none."
    )
    workspace_id: str | None = Field(
        default=None,
        description=(
            "The dev Azure ML workspace where training writes candidate models. Required with "
            "approval: manual (the gate is between that workspace and the registry)."
        ),
    )
    approvers: list[str] = Field(
        default_factory=list,
        description="Entra object ids (people, groups) allowed to approve = promote models. Defaults to none.",
    )

    @field_validator("encryption")
    @classmethod
    def _no_key(cls, value: EncryptionProps) -> EncryptionProps:
        if value.key_id is not None:
            raise ValueError(
                "Azure ML registries do not support customer-managed keys; remove encryption.key_id"
            )
        return value

    @model_validator(mode="after")
    def _gate(self) -> "ModelRegistryProps":
        if self.approval == "manual" and self.workspace_id is None:
            raise ValueError(
                "approval: manual needs workspace_id (the dev workspace that holds candidate models)"
            )
        if self.location in self.replica_locations:
            raise ValueError(f"replica_locations must not repeat the primary location {self.location!r}")
        return self


class ModelRegistry(MlopsConstruct):
    """An Azure ML registry with an RBAC approval gate (see the module docstring).

    Attributes:
        resource: the ``azapi_resource`` registry; ``registry_id``, ``registry_name``.
        approver: the approver ``azurerm_user_assigned_identity`` (manual approval), else None;
            ``approver_id``: its Entra object id (token), else None.
        approval_gate: "manual" or "automatic".
        promotion_grants: the role assignments of the ``promotion_targets`` entries.
        recovery: :class:`Recovery` — model storage is kept in every replica region (copied when a
            model is registered; RPO not published: None) and reads are served from them (RTO 0);
            all None in a single region.
    """

    props_type = ModelRegistryProps
    props_hint = "resource_group_name, location and workspace_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: ModelRegistryProps,
        *,
        network: "PrivateEndpoints | None" = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        client = DataSource(self, "ClientConfig", "azurerm_client_config", provider=provider)
        rg_id = f"/subscriptions/{attr(client, 'subscription_id')}/resourceGroups/{props.resource_group_name}"
        regions = [props.location, *props.replica_locations]
        self.registry_name: str = bucket_name("mlr", props.name, max_length=33)
        self.resource = Resource(
            self,
            "Resource",
            "azapi_resource",
            type=f"Microsoft.MachineLearningServices/registries@{REGISTRY_API_VERSION}",
            name=self.registry_name,
            parent_id=rg_id,
            location=props.location,
            identity=[{"type": "SystemAssigned"}],
            body={
                "properties": {
                    "publicNetworkAccess": "Disabled",
                    "regionDetails": [
                        {
                            "location": loc,
                            "acrDetails": [{"systemCreatedAcrAccount": {"acrAccountSku": "Premium"}}],
                            "storageAccountDetails": [
                                {
                                    "systemCreatedStorageAccount": {
                                        "storageAccountType": "Standard_ZRS",
                                        "storageAccountHnsEnabled": False,
                                        "allowBlobPublicAccess": False,
                                    }
                                }
                            ],
                        }
                        for loc in regions
                    ],
                }
            },
        )
        self.registry_id: str = attr(self.resource, "id")
        self.approval_gate: str = props.approval
        replica = props.replica_locations[0] if props.replica_locations else None
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=0 if replica else None, replica_region=replica)
        self.private_endpoint: Resource | None = None
        if network is not None:
            self.private_endpoint = network.add_private_endpoint(self, "PrivateEndpoint", self.registry_id, "amlregistry")

        self._reader = custom_role(
            self, "ReaderRole", name=f"{props.name} model registry reader", target=self.registry_id,
            actions=REGISTRY_READER_ACTIONS, description="Read approved models of one Azure ML registry (cdktf-mlops).",
            provider=provider,
        )
        self._writer: Resource | None = None
        self.approver: Resource | None = None
        self.approver_id: str | None = None
        if props.approval == "manual":
            assert props.workspace_id is not None  # validated
            self._writer = custom_role(
                self, "CandidateWriterRole", name=f"{props.name} candidate model writer",
                target=props.workspace_id, actions=CANDIDATE_WRITER_ACTIONS,
                description="Write candidate models into the dev workspace, not the registry (cdktf-mlops).",
                provider=provider,
            )
            model_reader = custom_role(
                self, "CandidateReaderRole", name=f"{props.name} candidate model reader",
                target=props.workspace_id, actions=MODEL_READER_ACTIONS,
                description="Read candidate models of the dev workspace to promote them (cdktf-mlops).",
                provider=provider,
            )
            self.approver = Resource(
                self, "Approver", "azurerm_user_assigned_identity", provider=provider,
                name=f"id-{props.name}-approver", resource_group_name=props.resource_group_name,
                location=props.location,
            )
            self.approver_id = attr(self.approver, "principal_id")
            approvers = [self.approver_id, *props.approvers]
            for n, who in enumerate(approvers):
                ptype = "ServicePrincipal" if n == 0 else None
                role_assignment(self, self._grants, "Approve", who, target=self.registry_id,
                                role=REGISTRY_USER_ROLE, principal_type=ptype, provider=provider,
                                description="Approves models by promoting them into the registry")
                role_assignment(self, self._grants, "ApproveRead", who, target=props.workspace_id,
                                role=model_reader, principal_type=ptype, provider=provider)
        self.promotion_grants: list[Resource] = [g for t in props.promotion_targets for g in self.grant_read(t)]

    def grant_read(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` read (approved) models of the registry: a read-only custom role on it.
        Returns ``[the role assignment]``."""
        return [role_assignment(self, self._grants, "Read", principal, target=self.registry_id,
                                role=self._reader, principal_type=principal_type, provider=self._provider)]

    def grant_write(self, principal: str, *, principal_type: str | None = None) -> list[Resource]:
        """Let ``principal`` write models. Manual approval: candidate models of the dev workspace
        only (the approver promotes them). Automatic: "AzureML Registry User" on the registry.
        Returns ``[the role assignment]``."""
        if self._writer is not None:
            target, role = self.props.workspace_id, self._writer
        else:
            target, role = self.registry_id, REGISTRY_USER_ROLE
        return [role_assignment(self, self._grants, "Write", principal, target=target,  # type: ignore[arg-type]
                                role=role, principal_type=principal_type, provider=self._provider)]
