"""The Azure kit: one factory per step of the platform plan (:mod:`constructs_lib.platform`).

The plan calls the factories in its build order; each reads what earlier steps set on the stack.
What is Azure's own stays here:

* ``azurerm`` is global (every resource names its location): no aliased provider per region.
  ``azapi`` is declared when the model registry, the feature store, serving or pipelines need it.
  azurerm has no provider-level default tags, so the stack tags go through ``Tags`` to every
  taggable resource. The resource group is created unless ``azure.create_resource_group`` is off.
* The :class:`Network` is built before the stores (their blob / dfs / vault private endpoints go
  into it); :meth:`Kit.network` returns it.
* The Azure ML :class:`Workspace` (``kit.workspace``, private to the kit) exists when training,
  tracking, the model registry, the feature store or serving needs one: default storage = the
  ``artifacts`` store (with a ``file`` private endpoint for code snapshots), registry = the
  container registry (built with the workspace when the training step comes first), image builds
  on the first CPU pool. Training clusters, the model registry's candidates, tracking and the
  pipelines live in it; each pipeline's execution identity is attached to it.
* Serving: per region other than the primary, a serving store (that region's workspace storage
  and capture destination: an RA-GZRS replica is read-only) and a :class:`Workspace` there; one
  :class:`Endpoint` per endpoint and region, public only when ``routing`` needs it. One
  :class:`Routing` serves every endpoint.
* :class:`Monitoring` watches every endpoint, the training workspace and every replicated store;
  the :class:`Budget` covers the resource group and alerts the monitoring action group.
* Pipelines need the workspace: without one nothing is built and a warning says so. There is no
  managed Airflow on Azure (the spec refuses ``airflow``).

Data versioning (:meth:`Kit.store_access`): DVC remote ``azure://data/dvc`` with the store's
``account_name`` (dvc-azure then signs in with ``DefaultAzureCredential``: workload or managed
identity, environment, Azure CLI); Delta tables under ``az://data/delta/`` with
``azure_storage_account_name``. Blob Storage creates a blob only if absent (``If-None-Match: *``),
which is all delta-rs needs for safe concurrent commits: ``storage.delta`` adds no resource here.

Cloud-only outputs (:meth:`Kit.cloud_outputs`): ``azure_ml_workspace_id``,
``azure_training_client_id`` and ``azure_model_approver_client_id``.
"""

from __future__ import annotations

import warnings
from typing import Any

from ..core.acknowledge import Acknowledge
from ..core.construct import grant_training
from ..core.contract import CloudOutput, DeltaWriter, DvcRemote, StoreAccess
from ..core.errors import ConstructError
from ..core.providers import declare_provider
from ..core.resource import DataSource, Resource
from ..core.spec import PlatformSpec
from ..core.tags import Tags
from ._common import attr
from .budget import Budget, BudgetProps
from .features import FeatureStore, FeatureStoreProps
from .monitoring import Monitoring, MonitoringProps
from .network import Network, NetworkProps
from .pipelines import Pipeline, PipelineProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .retraining import Retraining, RetrainingProps
from .routing import Routing, RoutingProps
from .serving import Endpoint, EndpointProps
from .storage import CONTAINER_NAME, DataStore, DataStoreProps
from .tracking import Tracking, TrackingProps, Workspace, WorkspaceProps
from .training import Training, TrainingProps

__all__ = ["Kit"]

#: Principal type of every identity the platform creates (skips Entra replication checks).
_SP = "ServicePrincipal"


class Kit:
    """The Azure factories of the platform plan for one ``stack`` and ``spec``.

    Attributes:
        workspace: the platform's Azure ML :class:`Workspace` in the primary region, or None.
        serving_workspaces: region -> the workspace serving endpoints run in (primary included).
        resource_group: the ``azurerm_resource_group`` when the stack creates it, else None.
        where: ``resource_group_name`` and ``location`` (primary region) of the platform.
        log_analytics_workspace_id: the first store's access-log workspace, shared by the
            registry, the workspaces, tracking and the feature store (None without one).
    """

    def __init__(self, stack: Any, spec: PlatformSpec) -> None:
        if spec.azure is None:  # guaranteed by the spec validator
            raise ConstructError(spec.name, "an Azure spec needs its `azure` section")
        self.stack = stack
        self.spec = spec
        self.azure = spec.azure
        self.resource_group: Resource | None = None
        rg_name = spec.azure.resource_group
        self.where: dict[str, str] = {"resource_group_name": rg_name, "location": spec.primary_region}
        self.log_analytics_workspace_id: str | None = None
        self.workspace: Workspace | None = None
        self.serving_workspaces: dict[str, Workspace] = {}
        self._built: dict[str, Any] = {}  # memo of pieces several steps need (network, registry, workspace)
        self._endpoints: list[Endpoint] = []  # endpoint-major, primary region first

    # -- 1. providers -----------------------------------------------------------------------------

    def providers(self) -> None:
        """``azurerm`` (Entra ID auth for storage), ``azapi`` when needed, the stack tags, and the
        resource group unless it exists already."""
        spec = self.spec
        declare_provider(self.stack, "azurerm", features={}, storage_use_azuread=True,
                         subscription_id=self.azure.subscription_id)
        if spec.registry is not None or spec.features is not None or spec.serving is not None or (
            spec.pipelines and self._needs_workspace()
        ):
            declare_provider(self.stack, "azapi")
        Tags.of(self.stack).add_all(spec.all_tags)
        if self.azure.create_resource_group:
            self.resource_group = Resource(self.stack, "resource_group", "azurerm_resource_group",
                                           name=self.azure.resource_group, location=spec.primary_region)
            self.where["resource_group_name"] = self.resource_group.ref("name")

    # -- 2-3. stores and network ------------------------------------------------------------------

    def stores(self) -> dict[str, DataStore]:
        """A :class:`DataStore` per ``storage.stores`` entry, with private endpoints in the network."""
        network = self._network()
        stores: dict[str, DataStore] = {}
        for store in self.spec.storage.stores:
            props = DataStoreProps(name=self.spec.resource_name(store), **self.where, **self.spec.store_settings())
            stores[store] = DataStore(self.stack, store, props, network=network)
        logs = next((s.workspace for s in stores.values() if s.workspace is not None), None)
        self.log_analytics_workspace_id = attr(logs, "id") if logs is not None else None
        return stores

    def network(self) -> Network | None:
        """The :class:`Network` (built with the stores, which put their endpoints into it)."""
        return self._network()

    def _network(self) -> Network | None:
        if "network" not in self._built:
            settings = self.spec.network_settings
            self._built["network"] = None if settings is None else Network(self.stack, "network", NetworkProps(
                name=self.spec.resource_name("net"), **self.where, **settings.model_dump(),
            ))
        return self._built["network"]  # type: ignore[no-any-return]

    # -- 4. training ------------------------------------------------------------------------------

    def training(self) -> Training:
        """Compute clusters per pool in the platform's workspace, one execution identity."""
        assert self.spec.training is not None
        workspace, network = self._workspace(), self._network()
        if workspace is None or network is None:  # never: training implies both
            raise ConstructError(self.spec.name, "training needs a network and an Azure ML workspace")
        return Training(self.stack, "training", TrainingProps(
            name=self.spec.resource_name("training"), **self.where, workspace_id=workspace.workspace_id,
            pools=self.spec.training.pools,
        ), network=network)

    # -- 5. registries ----------------------------------------------------------------------------

    def registries(self) -> tuple[ContainerRegistry | None, ModelRegistry | None]:
        """The container registry and the Azure ML model registry (gated by the dev workspace)."""
        assert self.spec.registry is not None
        acr, workspace = self._container_registry(), self._workspace()
        if workspace is None:  # never: a registry implies the workspace
            return acr, None
        m = self.spec.registry.models
        models = ModelRegistry(self.stack, "models", ModelRegistryProps(
            name=self.spec.resource_name("models"), **self.where, replica_locations=list(self.spec.regions[1:]),
            approval=m.approval, promotion_targets=m.promotion_targets, workspace_id=workspace.workspace_id,
        ), network=self._network())
        return acr, models

    def _container_registry(self) -> ContainerRegistry | None:
        if "containers" not in self._built:
            self._built["containers"] = None
            if self.spec.registry is not None:
                c, spec = self.spec.registry.containers, self.spec
                self._built["containers"] = ContainerRegistry(self.stack, "containers", ContainerRegistryProps(
                    name=spec.resource_name("images"), **self.where, replica_locations=list(spec.regions[1:]),
                    repositories=c.repositories, scan_on_push=c.scan_on_push, immutable_tags=c.immutable_tags,
                    manage_defender_plan=self.azure.manage_defender_plan,
                    untagged_expiry_days=c.untagged_expiry_days, encryption=spec.storage.encryption,
                    log_analytics_workspace_id=self.log_analytics_workspace_id,
                    deletion_protection=spec.storage.deletion_protection,
                ), network=self._network())
        return self._built["containers"]  # type: ignore[no-any-return]

    # -- the platform's Azure ML workspace (private to the kit) ------------------------------------

    def _needs_workspace(self) -> bool:
        s = self.spec
        return bool(s.training or s.tracking or s.features or s.registry or s.serving)

    def _home_store(self) -> DataStore:
        stores = self.stack.stores
        if not stores:
            raise ConstructError(self.spec.name, "the Azure ML workspace needs a store (storage.stores)")
        return stores.get("artifacts") or next(iter(stores.values()))  # type: ignore[no-any-return]

    def _workspace(self) -> Workspace | None:
        """The platform's workspace, built on first use (see the module docstring)."""
        if "workspace" in self._built:
            return self.workspace
        self._built["workspace"] = True
        if not self._needs_workspace():
            return None
        spec, home, network, acr = self.spec, self._home_store(), self._network(), self._container_registry()
        pools = spec.training.pools if spec.training else []
        builder = next((p.name for p in pools if not p.gpu), pools[0].name if pools else None)
        self.workspace = Workspace(self.stack, "workspace", WorkspaceProps(
            name=spec.resource_name("ml"), **self.where, storage_account_id=home.store_id,
            container_registry_id=acr.registry_id if acr else None,
            encryption=spec.storage.encryption, log_analytics_workspace_id=self.log_analytics_workspace_id,
            image_build_compute_name=builder, deletion_protection=spec.storage.deletion_protection,
        ), network=network, serverless_subnet_id=network.private_subnet_ids[0] if network is not None else None)
        if network is not None:
            home.add_private_endpoint("file")  # the workspace keeps code snapshots in file shares
        self.serving_workspaces[spec.primary_region] = self.workspace
        return self.workspace

    # -- 6-8. tracking, features, grants ----------------------------------------------------------

    def tracking(self) -> Tracking | None:
        """MLflow tracking on the workspace and empty SaaS tracker secret slots."""
        assert self.spec.tracking is not None
        workspace = self._workspace()
        if workspace is None:  # never: tracking implies the workspace
            return None
        t, spec = self.spec.tracking, self.spec
        return Tracking(self.stack, "tracking", TrackingProps(
            name=spec.resource_name("tracking"), **self.where, workspace_id=workspace.workspace_id,
            server_size=t.server_size, saas_trackers=t.saas_trackers,
            log_analytics_workspace_id=self.log_analytics_workspace_id,
            deletion_protection=spec.storage.deletion_protection,
        ), network=self._network())

    def features(self) -> FeatureStore:
        """A feature-store workspace on the artifacts store, offline (ADLS Gen2) and online stores."""
        assert self.spec.features is not None
        self._workspace()  # the platform's workspace exists with every ML section
        spec, network, acr = self.spec, self._network(), self._container_registry()
        return FeatureStore(self.stack, "features", FeatureStoreProps(
            name=spec.resource_name("features"), **self.where, online=spec.features.online,
            groups=spec.features.groups, storage_account_id=self._home_store().store_id,
            container_registry_id=acr.registry_id if acr else None,
            encryption=spec.storage.encryption, log_analytics_workspace_id=self.log_analytics_workspace_id,
            deletion_protection=spec.storage.deletion_protection,
        ), network=network, serverless_subnet_id=network.private_subnet_ids[0] if network is not None else None)

    def grants(self) -> None:
        """What the training identity may use (:func:`~constructs_lib.core.construct.grant_training`)."""
        st = self.stack
        if st.training is None:
            return
        grant_training(st.training.principal_id, data=st.stores.get("data"), artifacts=st.stores.get("artifacts"),
                       containers=st.containers, models=st.models, tracking=st.tracking, features=st.features,
                       principal_type=_SP)

    # -- 9-10. serving and routing ----------------------------------------------------------------

    def serving(self) -> dict[str, dict[str, Endpoint]]:
        """Per endpoint and region an :class:`Endpoint` in that region's workspace."""
        assert self.spec.serving is not None
        spec = self.spec
        if self._workspace() is None:  # never: serving implies the workspace
            return {}
        capture = {spec.primary_region: self.stack.stores.get("data") or next(iter(self.stack.stores.values()))}
        for region in spec.regions[1:]:
            capture[region] = self._regional_serving(region)
        for ep in spec.serving.endpoints:
            for region in spec.regions:
                self._endpoints.append(Endpoint(self.stack, f"endpoint-{ep.name}-{region}", EndpointProps(
                    **ep.model_dump(exclude_none=True), resource_group_name=self.where["resource_group_name"],
                    location=region, workspace_id=self.serving_workspaces[region].workspace_id,
                    endpoint_name=spec.resource_name(ep.name, max_length=32),
                    public_network_access=spec.routing is not None,
                ), capture_store=capture[region], network=self._network()))
        return {
            ep.name: {e.region: e for e in self._endpoints if e.props.name == ep.name} for ep in spec.serving.endpoints
        }

    def _regional_serving(self, region: str) -> DataStore:
        """The serving store and workspace of a region other than the primary; returns the store."""
        spec, network = self.spec, self._network()
        settings = {k: v for k, v in spec.store_settings().items() if k != "replication"}
        store = DataStore(self.stack, f"serving-{region}", DataStoreProps(
            name=spec.resource_name("serve", region), resource_group_name=self.where["resource_group_name"],
            location=region, log_analytics_workspace_id=self.log_analytics_workspace_id, **settings,
        ), network=network)
        if network is not None:
            store.add_private_endpoint("file")
        Acknowledge.of(store).add("CKV_AZURE_206", reason=(
            "This is the second region's own serving store (that region's workspace files and "
            "captured requests); it exists because the primary stores' RA-GZRS copies here are "
            "read-only. ZRS keeps three zone-redundant copies; captured requests are monitoring "
            "input, not a system of record, so a geo-copy of them is not worth its cost."
        ))
        acr = self._container_registry()
        self.serving_workspaces[region] = Workspace(self.stack, f"workspace-{region}", WorkspaceProps(
            name=spec.resource_name("ml", region), resource_group_name=self.where["resource_group_name"],
            location=region, storage_account_id=store.store_id,
            container_registry_id=acr.registry_id if acr else None,
            encryption=spec.storage.encryption, log_analytics_workspace_id=self.log_analytics_workspace_id,
            deletion_protection=spec.storage.deletion_protection,
        ), network=network)
        return store

    def routing(self) -> dict[str, Routing]:
        """One :class:`Routing` (Traffic Manager + DNS zone) over every regional endpoint, mapped
        from each endpoint name."""
        assert self.spec.routing is not None
        if not self._endpoints:
            return {}
        routing = Routing(self.stack, "routing", RoutingProps(
            name=self.spec.resource_name("route"), resource_group_name=self.where["resource_group_name"],
            **self.spec.routing.model_dump(),
        ), endpoints=self._endpoints)
        return {name: routing for name in self.stack.endpoints}

    # -- 11-12. monitoring and budget -------------------------------------------------------------

    def monitoring(self) -> Monitoring:
        """The action group, logs, dashboard, and alerts on every endpoint, the training workspace
        and every replicated store."""
        assert self.spec.monitoring is not None
        monitoring = Monitoring(self.stack, "monitoring", MonitoringProps(
            name=self.spec.resource_name("mon"), **self.where, **self.spec.monitoring.model_dump(),
        ))
        for endpoint in self._endpoints:
            monitoring.watch_endpoint(endpoint)
        if self.stack.training is not None:
            monitoring.watch_training(self.stack.training)
        for store in self.stack.stores.values():
            if store.props.replication is not None:
                monitoring.watch_store(store)
        return monitoring

    def budget(self) -> Budget:
        """A monthly budget on the resource group, alerting the monitoring action group."""
        assert self.spec.budget is not None
        monitoring = self.stack.monitoring
        if monitoring is None:  # the spec validator requires `monitoring` with `budget`
            raise ConstructError(self.spec.name, "budget alerts go to the monitoring alert target; add `monitoring`")
        if self.resource_group is not None:
            rg_id = self.resource_group.ref("id")
        else:
            rg_id = DataSource(self.stack, "budget_resource_group", "azurerm_resource_group",
                               name=self.azure.resource_group).ref("id")
        return Budget(self.stack, "budget", BudgetProps(
            name=self.spec.resource_name("budget"), resource_group_id=rg_id, **self.spec.budget.model_dump(),
        ), alert_target_id=monitoring.alert_target)

    # -- 13. automation ---------------------------------------------------------------------------

    def pipelines(self) -> dict[str, Pipeline]:
        """One :class:`Pipeline` per ``pipelines`` entry in the platform's workspace.

        Each pipeline's identity writes the ``artifacts`` store (the first store when there is
        none), reads every other store, and is attached to the workspace so that its runs can use
        serverless compute. Every run -- fired by the pipeline's schedule or submitted by a
        retraining bridge -- carries the pipeline's identity, and serverless compute runs a job
        under a user-assigned identity only when it is attached; the bridges' identities only call
        Resource Manager, so they are not attached. Without a workspace nothing is built and a
        warning says so.
        """
        spec, workspace = self.spec, self.workspace
        if workspace is None:
            warnings.warn(
                f"{spec.name}: pipelines need an Azure ML workspace and the platform built none; no "
                "pipeline or retraining trigger was created (add tracking or training to the spec)",
                stacklevel=2,
            )
            return {}
        stores: dict[str, DataStore] = dict(self.stack.stores)
        if not stores:
            raise ConstructError(spec.name, "pipelines need at least one store for their artifacts")
        artifacts = stores.get("artifacts") or next(iter(stores.values()))
        pipelines: dict[str, Pipeline] = {}
        for settings in spec.pipelines:
            pipeline = Pipeline(self.stack, f"pipeline-{settings.name}", PipelineProps(
                name=spec.resource_name(settings.name, max_length=32), definition=settings.definition,
                parameters=settings.parameters, workspace_id=workspace.workspace_id, **self.where,
            ), artifacts_store=artifacts)
            workspace.attach_identity(pipeline.identity_id)
            for store in stores.values():
                if store is not artifacts:
                    store.grant_read(pipeline.principal, principal_type=_SP)
            pipelines[settings.name] = pipeline
        return pipelines

    def retraining(self) -> Retraining | None:
        """Schedule, new-data and drift triggers of ``retraining.pipeline`` (None without pipelines)."""
        r = self.spec.retraining
        pipelines = self.stack.pipelines
        if r is None or not pipelines or self.workspace is None:
            return None
        return Retraining(self.stack, "retraining", RetrainingProps(
            name=self.spec.resource_name("retrain"), pipeline=r.pipeline, schedule=r.schedule,
            on_new_data=r.on_new_data, on_drift=r.on_drift,
            application_insights_id=attr(self.workspace.insights, "id"),
            metric_namespace=f"cdktf-mlops/{self.spec.name}", **self.where,
        ), pipeline=pipelines[r.pipeline], stores=dict(self.stack.stores))

    def airflow(self) -> None:
        """Nothing: Azure has no managed Airflow here (the spec refuses ``airflow`` for Azure)."""
        return None

    # -- 14. outputs -------------------------------------------------------------------------------

    def store_access(self) -> dict[str, StoreAccess]:
        """Per store: its DVC remote and, with ``storage.delta``, its Delta Lake writer settings."""
        out: dict[str, StoreAccess] = {}
        for name, store in self.stack.stores.items():
            account = store.store_name
            delta = None
            if self.spec.storage.delta:
                delta = DeltaWriter(
                    f"az://{CONTAINER_NAME}/delta/", {"azure_storage_account_name": account},
                    "Blob Storage conditional create (If-None-Match: *): one writer wins each version, no lock table",
                )
            out[name] = StoreAccess(DvcRemote(f"azure://{CONTAINER_NAME}/dvc", {"account_name": account}), delta)
        return out

    def cloud_outputs(self) -> list[CloudOutput]:
        """The outputs only Azure has (prefixed ``azure_``)."""
        st, out = self.stack, []
        if self.workspace is not None:
            out.append(CloudOutput("azure_ml_workspace_id", self.workspace.workspace_id,
                                   "Azure ML workspace of training, tracking, candidate models and pipelines"))
        if st.training is not None:
            out.append(CloudOutput("azure_training_client_id", st.training.client_id,
                                   "Client id of the training identity (AZURE_CLIENT_ID in jobs)"))
        if st.models is not None and st.models.approver is not None:
            out.append(CloudOutput("azure_model_approver_client_id", attr(st.models.approver, "client_id"),
                                   "Client id of the identity that approves (promotes) models into the registry"))
        return out
