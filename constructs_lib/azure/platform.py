"""The Azure platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: azure``.

Build order (each piece takes what it needs from the ones before):

1. ``azurerm`` (and ``azapi`` when the model registry or feature store needs it), the resource group.
2. :class:`Network` from ``spec.network_settings``; every later construct puts its private
   endpoints (storage blob/dfs, key vaults, registry, workspace, registry, Redis) into it.
3. A :class:`DataStore` per ``storage.stores`` entry.
4. :class:`ContainerRegistry` (``registry.containers``).
5. An Azure ML :class:`Workspace` when training, tracking, the model registry or the feature store
   needs one: default storage = the ``artifacts`` store, registry = the container registry. It is
   ``stack.workspace``; :func:`~constructs_lib.azure.automation.build_automation`, which runs
   later, attaches each pipeline's execution identity to it (``Workspace.attach_identity``).
6. :class:`Tracking`, :class:`Training`, :class:`ModelRegistry`, :class:`FeatureStore`.
7. Grants of the training identity: read ``data``, write ``artifacts``, pull images, write
   (candidate) models, track experiments, read tracker secrets, read features — nothing else.
8. Serving (``spec.serving``): per region other than the primary, a serving store (the region's
   workspace storage and capture destination: an RA-GZRS replica is read-only) and a
   :class:`Workspace` there; one :class:`Endpoint` per endpoint and region (public inbound only
   when ``spec.routing`` needs it). azurerm is global (every resource names its location), so no
   aliased provider is declared for other regions.
9. :class:`Routing` over every regional endpoint, :class:`Monitoring` watching every endpoint, the
   training compute and every replicated store, and a :class:`Budget` on the resource group.
10. Outputs, including ``recovery_<thing>`` ({rpo_minutes, rto_minutes, replica_region}).
"""

from __future__ import annotations

from typing import Any

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.construct import grant_training
from ..core.errors import ConstructError
from ..core.providers import declare_provider
from ..core.recovery import Recovery, recovery_output
from ..core.resource import DataSource, Resource
from ..core.spec import PlatformSpec
from ..core.tags import Tags
from ._common import attr
from .budget import Budget, BudgetProps
from .features import FeatureStore, FeatureStoreProps
from .monitoring import Monitoring, MonitoringProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .routing import Routing, RoutingProps
from .serving import Endpoint, EndpointProps
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
    if spec.registry is not None or spec.features is not None or spec.serving is not None:
        declare_provider(stack, "azapi")
    Tags.of(stack).add_all(spec.all_tags)
    location = spec.primary_region
    others = list(spec.regions[1:])
    if spec.azure.create_resource_group:
        rg = Resource(stack, "resource_group", "azurerm_resource_group",
                      name=spec.azure.resource_group, location=location)
        rg_name = rg.ref("name")
    else:
        rg = None
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
            manage_defender_plan=spec.azure.manage_defender_plan, untagged_expiry_days=c.untagged_expiry_days, encryption=spec.storage.encryption,
            log_analytics_workspace_id=log_id, deletion_protection=spec.storage.deletion_protection,
        ), network=network)

    home = stack.stores.get("artifacts") or next(iter(stack.stores.values()))
    workload_subnet = network.private_subnet_ids[0] if network is not None else None
    workspace: Workspace | None = None
    stack.network = network
    if spec.training or spec.tracking or spec.features or spec.registry or spec.serving:
        pools = spec.training.pools if spec.training else []
        builder = next((p.name for p in pools if not p.gpu), pools[0].name if pools else None)
        workspace = Workspace(stack, "workspace", WorkspaceProps(
            name=spec.resource_name("ml"), **where, storage_account_id=home.store_id,
            container_registry_id=acr.registry_id if acr else None,
            encryption=spec.storage.encryption, log_analytics_workspace_id=log_id,
            image_build_compute_name=builder, deletion_protection=spec.storage.deletion_protection,
        ), network=network, serverless_subnet_id=workload_subnet)
        stack.workspace = workspace  # for later builders (automation attaches pipeline identities)
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
            raise ConstructError(None, "training needs a network")
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
        grant_training(who, data=stack.stores.get("data"), artifacts=stack.stores.get("artifacts"),
                       containers=acr, models=models, tracking=tracking, features=features, principal_type=_SP)
        _out(stack, "training_principal_id", who, "Entra object id of the training identity (grant it more with role assignments)")
        _out(stack, "training_client_id", training.client_id, "Client id of the training identity (AZURE_CLIENT_ID in jobs)")
        _out(stack, "training_pools", {k: v.ref("name") for k, v in training.pools.items()}, "Compute cluster per pool")
        _out(stack, "training_fallback_pools", {k: v.ref("name") for k, v in training.fallback_pools.items()},
             "Dedicated fallback cluster per spot pool (retry preempted jobs here)")
    stack.training, stack.containers, stack.models = training, acr, models
    stack.tracking, stack.features = tracking, features
    _run_side(stack, spec, where=where, rg=rg,
              workspace=workspace, acr=acr, network=network, log_id=log_id, training=training)

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
    if tracking is not None:
        # The workspace (runs, metrics, model metadata) is regional: no cross-region copy. Its
        # artifacts live in the artifacts store (see store_artifacts_recovery).
        _recovery(stack, "tracking", None, None, None,
                  "Recovery of experiment tracking: the Azure ML workspace is regional (null = no cross-region copy)")
    if acr is not None:
        if others:
            _recovery(stack, "container_registry", None, 0, others[0],
                      "Recovery of the container registry: geo-replicated asynchronously (RPO not published, "
                      "rpo_minutes null); pulls move to a healthy replica automatically (RTO 0)")
        else:
            _recovery(stack, "container_registry", None, None, None,
                      "Recovery of the container registry: single region (null = no cross-region copy)")
    if models is not None:
        _recovery(stack, "model_registry", None, 0 if others else None, others[0] if others else None,
                  "Recovery of the model registry: the Azure ML registry keeps model storage in every "
                  "replica region (copied when a model is registered; RPO not published, rpo_minutes "
                  "null) and serves reads from them (RTO 0; null = single region)")
    if features is not None:
        _recovery(stack, "features", None, None, None,
                  "Recovery of the feature store: its workspace and online cache are regional; the "
                  "offline data lives in the replicated stores (null = no cross-region copy)")


def _run_side(
    stack: Any, spec: PlatformSpec, *, where: dict[str, Any], rg: Resource | None, workspace: Workspace | None,
    acr: ContainerRegistry | None, network: Network | None, log_id: str | None, training: Training | None,
) -> None:
    """Serving in every region, routing, monitoring and the budget (steps 8-9 of the module doc)."""
    assert spec.azure is not None
    endpoints: list[Endpoint] = []  # endpoint-major, primary region first
    if spec.serving is not None and workspace is not None:
        workspaces: dict[str, Workspace] = {spec.primary_region: workspace}
        capture: dict[str, DataStore] = {
            spec.primary_region: stack.stores.get("data") or next(iter(stack.stores.values()))
        }
        settings = {k: v for k, v in spec.store_settings().items() if k != "replication"}
        for region in spec.regions[1:]:
            store = DataStore(stack, f"serving-{region}", DataStoreProps(
                name=spec.resource_name("serve", region), resource_group_name=where["resource_group_name"],
                location=region, log_analytics_workspace_id=log_id, **settings,
            ), network=network)
            if network is not None:
                store.add_private_endpoint("file")
            Acknowledge.of(store).add("CKV_AZURE_206", reason=(
                "This is the second region's own serving store (that region's workspace files and "
                "captured requests); it exists because the primary stores' RA-GZRS copies here are "
                "read-only. ZRS keeps three zone-redundant copies; captured requests are monitoring "
                "input, not a system of record, so a geo-copy of them is not worth its cost."
            ))
            capture[region] = store
            workspaces[region] = Workspace(stack, f"workspace-{region}", WorkspaceProps(
                name=spec.resource_name("ml", region), resource_group_name=where["resource_group_name"],
                location=region, storage_account_id=store.store_id,
                container_registry_id=acr.registry_id if acr else None,
                encryption=spec.storage.encryption, log_analytics_workspace_id=log_id,
                deletion_protection=spec.storage.deletion_protection,
            ), network=network)
        for ep in spec.serving.endpoints:
            for region in spec.regions:
                endpoints.append(Endpoint(stack, f"endpoint-{ep.name}-{region}", EndpointProps(
                    **ep.model_dump(exclude_none=True), resource_group_name=where["resource_group_name"], location=region,
                    workspace_id=workspaces[region].workspace_id,
                    endpoint_name=spec.resource_name(ep.name, max_length=32),
                    public_network_access=spec.routing is not None,
                ), capture_store=capture[region], network=network))
        stack.endpoints = {
            ep.name: {e.region: e for e in endpoints if e.props.name == ep.name} for ep in spec.serving.endpoints
        }
        _out(stack, "serving_endpoints",
             {ep.name: {e.region: e.scoring_uri for e in endpoints if e.props.name == ep.name}
              for ep in spec.serving.endpoints},
             "Scoring URI per endpoint and region (Entra ID token with the endpoint's scope required)")

    routing: Routing | None = None
    if spec.routing is not None and endpoints:
        routing = Routing(stack, "routing", RoutingProps(
            name=spec.resource_name("route"), resource_group_name=where["resource_group_name"],
            **spec.routing.model_dump(),
        ), endpoints=endpoints)
        stack.routing = routing
        _out(stack, "routing_hosts", routing.hosts, "Global host name per endpoint (Traffic Manager behind a CNAME)")
        _out(stack, "routing_name_servers", routing.zone.ref_list("name_servers"),
             "Name servers of the public zone: delegate the domain to them")
    if endpoints:
        rto = routing.recovery.rto_minutes if routing is not None else None
        _recovery(stack, "serving", None, rto, spec.regions[1] if rto is not None and len(spec.regions) > 1 else None,
                  "Recovery of serving: no data (RPO null); RTO = Traffic Manager failover time (null = no routing)")

    if spec.monitoring is None:
        return
    monitoring = Monitoring(stack, "monitoring", MonitoringProps(
        name=spec.resource_name("mon"), **where, **spec.monitoring.model_dump(),
    ))
    stack.monitoring = monitoring
    for endpoint in endpoints:
        monitoring.watch_endpoint(endpoint)
    if training is not None:
        monitoring.watch_training(training)
    for store in stack.stores.values():
        if store.props.replication is not None:
            monitoring.watch_store(store)
    _out(stack, "alert_target_id", monitoring.alert_target, "Action group that receives every alert")
    if spec.budget is not None:
        if rg is not None:
            rg_id = rg.ref("id")
        else:
            rg_id = DataSource(stack, "budget_resource_group", "azurerm_resource_group",
                               name=spec.azure.resource_group).ref("id")
        stack.budget = Budget(stack, "budget", BudgetProps(
            name=spec.resource_name("budget"), resource_group_id=rg_id, **spec.budget.model_dump(),
        ), alert_target_id=monitoring.alert_target)


def _recovery(stack: Any, thing: str, rpo: int | None, rto: int | None, region: str | None, description: str) -> None:
    """Output ``recovery_<thing>`` = {rpo_minutes, rto_minutes, replica_region}, with explicit nulls."""
    recovery_output(stack, f"recovery_{thing}", Recovery(rpo, rto, region), description)


def _out(stack: Any, id: str, value: Any, description: str) -> None:
    engine.TerraformOutput(stack, id, value=value, description=description)
