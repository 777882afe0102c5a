"""The Azure platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: azure``.

Build order (each piece takes what it needs from the ones before):

1. ``azurerm`` (and ``azapi`` when the model registry or feature store needs it), the resource group.
2. :class:`Network` from ``spec.network_settings``; every later construct puts its private
   endpoints (storage blob/dfs, key vaults, registry, workspace, registry, Redis) into it.
3. A :class:`DataStore` per ``storage.stores`` entry.
4. :class:`ContainerRegistry` (``registry.containers``).
5. An Azure ML :class:`Workspace` when training, tracking, the model registry or the feature store
   needs one: default storage = the ``artifacts`` store, registry = the container registry.
6. :class:`Tracking`, :class:`Training`, :class:`ModelRegistry`, :class:`FeatureStore`.
7. Grants of the training identity: read ``data``, write ``artifacts``, pull images, write
   (candidate) models, track experiments, read tracker secrets, read features — nothing else.
"""

from __future__ import annotations

from typing import Any

from ..core import engine
from ..core.providers import declare_provider
from ..core.resource import Resource
from ..core.spec import PlatformSpec
from ..core.tags import Tags
from ._common import attr
from .features import FeatureStore, FeatureStoreProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .storage import DataStore, DataStoreProps
from .tracking import Tracking, TrackingProps, Workspace, WorkspaceProps
from .training import Training, TrainingProps

__all__ = ["build_platform"]

_SP = "ServicePrincipal"


def build_platform(stack: Any, spec: PlatformSpec) -> None:
    """Declare ``azurerm`` (Entra ID auth for storage), ``azapi`` when needed, and the platform's
    constructs (see the module docstring).

    azurerm has no provider-level default tags, so the stack tags go through ``Tags`` to every
    taggable resource.
    """
    assert spec.azure is not None  # guaranteed by the spec validator
    declare_provider(
        stack,
        "azurerm",
        features={},
        storage_use_azuread=True,
        subscription_id=spec.azure.subscription_id,
    )
    if spec.registry is not None or spec.features is not None:
        declare_provider(stack, "azapi")
    Tags.of(stack).add_all(spec.all_tags)
    location = spec.primary_region
    others = list(spec.regions[1:])
    if spec.azure.create_resource_group:
        rg = Resource(stack, "resource_group", "azurerm_resource_group",
                      name=spec.azure.resource_group, location=location)
        rg_name = rg.ref("name")
    else:
        rg_name = spec.azure.resource_group
    where = {"resource_group_name": rg_name, "location": location}

    network: Network | None = None
    settings = spec.network_settings
    if settings is not None:
        network = Network(stack, "network", NetworkProps(
            name=spec.resource_name("net"), **where, **settings.model_dump(),
        ))

    for store in spec.storage.stores:
        props = DataStoreProps(name=spec.resource_name(store), **where, **spec.store_settings())
        stack.stores[store] = DataStore(stack, store, props, network=network)
    logs = next((s.workspace for s in stack.stores.values() if s.workspace is not None), None)
    log_id = attr(logs, "id") if logs is not None else None

    acr: ContainerRegistry | None = None
    if spec.registry is not None:
        c = spec.registry.containers
        acr = ContainerRegistry(stack, "containers", ContainerRegistryProps(
            name=spec.resource_name("images"), **where, replica_locations=others,
            repositories=c.repositories, scan_on_push=c.scan_on_push, immutable_tags=c.immutable_tags,
            untagged_expiry_days=c.untagged_expiry_days, encryption=spec.storage.encryption,
            log_analytics_workspace_id=log_id, deletion_protection=spec.storage.deletion_protection,
        ), network=network)

    home = stack.stores.get("artifacts") or next(iter(stack.stores.values()))
    workload_subnet = network.private_subnet_ids[0] if network is not None else None
    workspace: Workspace | None = None
    stack.network = network
    if spec.training or spec.tracking or spec.features or spec.registry:
        pools = spec.training.pools if spec.training else []
        builder = next((p.name for p in pools if not p.gpu), pools[0].name if pools else None)
        workspace = Workspace(stack, "workspace", WorkspaceProps(
            name=spec.resource_name("ml"), **where, storage_account_id=home.store_id,
            container_registry_id=acr.registry_id if acr else None,
            encryption=spec.storage.encryption, log_analytics_workspace_id=log_id,
            image_build_compute_name=builder, deletion_protection=spec.storage.deletion_protection,
        ), network=network, serverless_subnet_id=workload_subnet)
        stack.workspace = workspace  # for later builders (automation) on the same stack
        if network is not None:
            home.add_private_endpoint("file")  # the workspace keeps code snapshots in file shares

    tracking: Tracking | None = None
    if spec.tracking is not None and workspace is not None:
        tracking = Tracking(stack, "tracking", TrackingProps(
            name=spec.resource_name("tracking"), **where, workspace_id=workspace.workspace_id,
            server_size=spec.tracking.server_size, saas_trackers=spec.tracking.saas_trackers,
            log_analytics_workspace_id=log_id, deletion_protection=spec.storage.deletion_protection,
        ), network=network)

    training: Training | None = None
    if spec.training is not None and workspace is not None:
        if network is None:  # network_settings is never None when training is on
            raise ValueError("training needs a network")
        training = Training(stack, "training", TrainingProps(
            name=spec.resource_name("training"), **where, workspace_id=workspace.workspace_id,
            pools=spec.training.pools,
        ), network=network)

    models: ModelRegistry | None = None
    if spec.registry is not None and workspace is not None:
        m = spec.registry.models
        models = ModelRegistry(stack, "models", ModelRegistryProps(
            name=spec.resource_name("models"), **where, replica_locations=others,
            approval=m.approval, promotion_targets=m.promotion_targets,
            workspace_id=workspace.workspace_id,
        ), network=network)

    features: FeatureStore | None = None
    if spec.features is not None:
        features = FeatureStore(stack, "features", FeatureStoreProps(
            name=spec.resource_name("features"), **where, online=spec.features.online,
            groups=spec.features.groups, storage_account_id=home.store_id,
            container_registry_id=acr.registry_id if acr else None,
            encryption=spec.storage.encryption, log_analytics_workspace_id=log_id,
            deletion_protection=spec.storage.deletion_protection,
        ), network=network, serverless_subnet_id=workload_subnet)

    if training is not None:
        who = training.principal
        if "data" in stack.stores:
            stack.stores["data"].grant_read(who, principal_type=_SP)
        if "artifacts" in stack.stores:
            stack.stores["artifacts"].grant_write(who, principal_type=_SP)
        if acr is not None:
            acr.grant_pull(who, principal_type=_SP)
        if models is not None:
            models.grant_write(who, principal_type=_SP)
        if tracking is not None:
            tracking.grant_access(who, principal_type=_SP)
            if tracking.vault is not None:
                tracking.grant_secret_read(who, principal_type=_SP)
        if features is not None:
            features.grant_read(who, principal_type=_SP)
        _out(stack, "training_principal_id", who, "Entra object id of the training identity (grant it more with role assignments)")
        _out(stack, "training_client_id", training.client_id, "Client id of the training identity (AZURE_CLIENT_ID in jobs)")
        _out(stack, "training_pools", {k: v.ref("name") for k, v in training.pools.items()}, "Compute cluster per pool")
        _out(stack, "training_fallback_pools", {k: v.ref("name") for k, v in training.fallback_pools.items()},
             "Dedicated fallback cluster per spot pool (retry preempted jobs here)")
    if workspace is not None:
        _out(stack, "ml_workspace_id", workspace.workspace_id, "Azure ML workspace id")
    if acr is not None:
        _out(stack, "container_registry_login_server", acr.login_server, "Login server of the container registry")
    if tracking is not None:
        _out(stack, "tracking_uri", tracking.tracking_uri, "MLflow tracking URI")
        if tracking.secrets:
            _out(stack, "tracker_secrets", tracking.secrets,
                 "Secret URI per SaaS tracker, to fill with `az keyvault secret set`")
    if models is not None:
        _out(stack, "model_registry_id", models.registry_id, "Azure ML registry id")
        if models.approver is not None:
            _out(stack, "model_approver_client_id", attr(models.approver, "client_id"),
                 "Client id of the identity that approves (promotes) models into the registry")
    if features is not None:
        _out(stack, "feature_store_id", features.workspace.workspace_id, "Feature store (Azure ML workspace) id")


def _out(stack: Any, id: str, value: Any, description: str) -> None:
    engine.TerraformOutput(stack, id, value=value, description=description)
