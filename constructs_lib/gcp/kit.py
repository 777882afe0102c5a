"""The GCP kit: one factory per step of the platform plan (:mod:`constructs_lib.platform`).

``Kit(stack, spec)`` builds a :class:`~constructs_lib.core.spec.PlatformSpec` with ``cloud: gcp``
into ``stack``, one spec section per factory, in the plan's order. What is GCP's own:

* one ``google`` provider serves every region (each resource names its region), its
  ``default_labels`` are the spec's tags normalised to GCP label rules;
* build-side constructs live in the primary region; each serving region gets its own
  :class:`Endpoint` (with its own regional key); Vertex AI imports models only from a bucket in
  its own region, so each serving region the model bucket does not serve gets a regional copy of
  it (:meth:`ModelRegistry.serving_copy`);
* endpoints are private (peered to ``stack.network``) when the platform has a network and no
  ``routing``, public dedicated endpoints (IAM-authenticated) when routing must reach them;
* the budget is created on ``gcp.billing_account`` (the spec requires it with ``budget``);
* pipeline specs, artifacts and DAGs live in the ``artifacts`` store (the first store without
  one).

Outputs only GCP has (:meth:`Kit.cloud_outputs`): ``gcp_tracking_tensorboard`` (the Vertex AI
TensorBoard; ``tracking_uri`` is the MLflow server's URL with ``tracking.mlflow``),
``gcp_metadata_store_init`` (phase 2: create the Vertex ML Metadata store with the key),
``gcp_training_cluster``,
``gcp_serving_<endpoint>_deploy`` (region -> phase-2 commands),
``gcp_serving_<endpoint>_model_artifacts`` (region -> the ``gs://`` prefix Vertex AI there imports
approved models from; with a model registry) and ``gcp_data_quality_commands``.
"""

from __future__ import annotations

from typing import Any

from ..core.construct import grant_training
from ..core.contract import CloudOutput, DeltaWriter, DvcRemote, StoreAccess, output_name
from ..core.errors import ConstructError
from ..core.props import EncryptionProps
from ..core.providers import declare_provider
from ..core.spec import PlatformSpec
from ..core.tags import gcp_labels
from .airflow import Airflow, AirflowProps
from .budget import Budget, BudgetProps
from .features import FeatureStore, FeatureStoreProps
from .monitoring import Monitoring, MonitoringProps
from .network import Network, NetworkProps
from .pipelines import Pipeline, PipelineProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .retraining import Retraining, RetrainingProps
from .routing import Routing, RoutingProps
from .serving import Endpoint, EndpointProps
from .storage import DataStore, DataStoreProps
from .tracking import Tracking, TrackingProps
from .training import Training, TrainingProps

__all__ = ["Kit"]

_PIPELINE_NAME_MAX = 32  # PipelineProps.name allows 32 characters
_ENDPOINT_NAME_MAX = 32  # EndpointProps.name allows 32 characters


class Kit:
    """GCP factories of the platform plan. ``stack`` is the :class:`~constructs_lib.platform.PlatformStack`.

    Each factory builds one spec section into the stack and returns its construct(s); the plan sets
    them as stack attributes, which later factories read (``stack.stores``, ``stack.network``, ...).
    """

    def __init__(self, stack: Any, spec: PlatformSpec) -> None:
        assert spec.gcp is not None  # guaranteed by the spec validator
        self.stack = stack
        self.spec = spec
        self.project: str = spec.gcp.project
        #: project and primary region: where every build-side construct lives.
        self.where: dict[str, str] = {"project": self.project, "location": spec.primary_region}

    # --- build side -------------------------------------------------------------------------------

    def providers(self) -> None:
        """One ``google`` provider (project, primary region, the stack tags as ``default_labels``)."""
        declare_provider(
            self.stack,
            "google",
            project=self.project,
            region=self.spec.primary_region,
            default_labels=gcp_labels(self.spec.all_tags),
        )

    def stores(self) -> dict[str, DataStore]:
        """One :class:`DataStore` per ``storage.stores`` entry (dual-region with a replica region)."""
        spec = self.spec
        return {
            store: DataStore(
                self.stack,
                store,
                DataStoreProps(name=spec.resource_name(store), **self.where, **spec.store_settings()),
            )
            for store in spec.storage.stores
        }

    def network(self) -> Network:
        """The :class:`Network` of the primary region."""
        settings = self.spec.network_settings
        assert settings is not None  # the plan calls this only when the spec needs a network
        props = NetworkProps(name=self.spec.resource_name("net"), **self.where, **settings.model_dump())
        return Network(self.stack, "network", props)

    def training(self) -> Training:
        """:class:`Training` (GKE cluster, spot-first node pools) on ``stack.network``."""
        spec = self.spec
        assert spec.training is not None and self.stack.network is not None  # training needs a network
        props = TrainingProps(name=spec.resource_name("training"), pools=spec.training.pools, **self._common())
        return Training(self.stack, "training", props, network=self.stack.network)

    def registries(self) -> tuple[ContainerRegistry, ModelRegistry]:
        """The Artifact Registry repositories and the gated model registry."""
        spec = self.spec
        assert spec.registry is not None
        containers = ContainerRegistry(
            self.stack,
            "containers",
            ContainerRegistryProps(
                name=spec.resource_name("images"), **spec.registry.containers.model_dump(), **self._common()
            ),
        )
        models = ModelRegistry(
            self.stack,
            "models",
            ModelRegistryProps(
                name=spec.resource_name("models"),
                **spec.registry.models.model_dump(),
                access_logging=spec.storage.access_logging,
                replication_region=spec.replica_region,
                **self._common(),
            ),
        )
        return containers, models

    def tracking(self) -> Tracking:
        """:class:`Tracking`: a Vertex AI TensorBoard, the Vertex ML Metadata store (CMEK), the SaaS
        tracker secrets and, with ``tracking.mlflow``, an MLflow server on ``stack.network`` keeping
        artifacts in the artifacts store."""
        spec = self.spec
        assert spec.tracking is not None
        props = TrackingProps(name=spec.resource_name("tracking"), **spec.tracking.model_dump(), **self._common())
        mlflow = spec.tracking.mlflow
        return Tracking(
            self.stack,
            "tracking",
            props,
            network=self.stack.network if mlflow else None,
            artifacts_store=self._artifacts() if mlflow else None,
        )

    def features(self) -> FeatureStore:
        """:class:`FeatureStore`: BigQuery offline tables and the optional online store."""
        spec = self.spec
        assert spec.features is not None
        props = FeatureStoreProps(name=spec.resource_name("features"), **spec.features.model_dump(), **self._common())
        return FeatureStore(self.stack, "features", props)

    def grants(self) -> None:
        """The training identity's grants (:func:`~constructs_lib.core.construct.grant_training`), and
        image pulls for the training cluster's nodes (the kubelet pulls as the node identity)."""
        stack = self.stack
        training = stack.training
        if training is None:
            return
        grant_training(
            training.principal,
            data=stack.stores.get("data"),
            artifacts=stack.stores.get("artifacts"),
            containers=stack.containers,
            models=stack.models,
            tracking=stack.tracking,
            features=stack.features,
            id="Training",
        )
        if stack.containers is not None:
            stack.containers.grant_pull(training.node_principal, id="TrainingNodes")

    # --- run side ---------------------------------------------------------------------------------

    def serving(self) -> dict[str, dict[str, Endpoint]]:
        """Per ``serving`` endpoint and spec region an :class:`Endpoint` (construct id
        ``serving-<name>-<region>``, the same endpoint id ``<platform>-<env>-<name>`` in every
        region), capturing requests under the ``data`` store's key (the first store's without
        one). Each endpoint fails over to the next spec region (the first region's to the second,
        the others to the first). With a model registry each endpoint imports models from the
        bucket of its region (the model bucket, or its serving copy there)."""
        spec = self.spec
        assert spec.serving is not None
        stores = self.stack.stores
        capture = stores.get("data") or next(iter(stores.values()), None)
        private_net = self.stack.network if spec.routing is None else None
        endpoints: dict[str, dict[str, Endpoint]] = {}
        for settings in spec.serving.endpoints:
            props = {
                **settings.model_dump(),
                "name": spec.resource_name(settings.name, max_length=_ENDPOINT_NAME_MAX),
                "dns_label": settings.name,
                "encryption": self._regional_encryption(),
                "deletion_protection": spec.storage.deletion_protection,
                "project": self.project,
            }
            endpoints[settings.name] = {
                region: Endpoint(
                    self.stack,
                    f"serving-{settings.name}-{region}",
                    EndpointProps(**props, location=region),
                    capture_store=capture,
                    network=private_net,
                    failover_region=self._failover(region),
                    model_registry=self.stack.models,
                )
                for region in spec.regions
            }
        return endpoints

    def routing(self) -> dict[str, Routing]:
        """One :class:`Routing` (Cloud DNS zone, uptime checks) over every regional endpoint, for
        every endpoint name."""
        spec = self.spec
        assert spec.routing is not None
        routing = Routing(
            self.stack,
            "routing",
            RoutingProps(**spec.routing.model_dump(), name=spec.resource_name("dns"), project=self.project),
            endpoints=self._every_endpoint(),
        )
        return {name: routing for name in self.stack.endpoints}

    def monitoring(self) -> Monitoring:
        """:class:`Monitoring` watching every endpoint, the training cluster, every store (and the
        model bucket) and the routing health checks."""
        spec, stack = self.spec, self.stack
        assert spec.monitoring is not None
        monitoring = Monitoring(
            stack,
            "monitoring",
            MonitoringProps(
                **spec.monitoring.model_dump(),
                name=spec.resource_name("mon"),
                encryption=self._regional_encryption(),
                deletion_protection=spec.storage.deletion_protection,
                **self.where,
            ),
        )
        for endpoint in self._every_endpoint():
            monitoring.watch_endpoint(endpoint)
        if stack.training is not None:
            monitoring.watch_training(stack.training)
        for store in stack.stores.values():
            monitoring.watch_store(store)
        if stack.models is not None:
            monitoring.watch_store(stack.models.store)
        if stack.routing:
            monitoring.watch_routing(next(iter(stack.routing.values())))
        return monitoring

    def budget(self) -> Budget:
        """A :class:`Budget` on ``gcp.billing_account`` alerting the monitoring channels."""
        spec = self.spec
        assert spec.budget is not None and spec.gcp is not None
        billing_account = spec.gcp.billing_account
        monitoring = self.stack.monitoring
        # The spec validator requires a billing account and monitoring with a budget.
        assert billing_account is not None and monitoring is not None
        return Budget(
            self.stack,
            "budget",
            BudgetProps(
                **spec.budget.model_dump(),
                name=spec.resource_name("budget"),
                billing_account=billing_account,
                project=self.project,
            ),
            alert_target_id=monitoring.alert_target,
        )

    # --- automation -------------------------------------------------------------------------------

    def pipelines(self) -> dict[str, Pipeline]:
        """One :class:`Pipeline` per ``pipelines`` entry, its spec and artifacts in the artifacts store;
        each runner may use tracking (experiments, lineage, the MLflow server)."""
        spec = self.spec
        artifacts = self._artifacts()
        pipelines = {
            settings.name: Pipeline(
                self.stack,
                f"pipeline-{settings.name}",
                PipelineProps(
                    **{
                        **settings.model_dump(),
                        "name": spec.resource_name(settings.name, max_length=_PIPELINE_NAME_MAX),
                    },
                    encryption=spec.storage.encryption,
                    deletion_protection=spec.storage.deletion_protection,
                    **self.where,
                ),
                artifacts_store=artifacts,
            )
            for settings in spec.pipelines
        }
        tracking = self.stack.tracking
        if tracking is not None:
            for name, pipeline in pipelines.items():
                tracking.grant_access(pipeline.principal, id="Pipeline" + "".join(p.capitalize() for p in name.split("-")))
        return pipelines

    def retraining(self) -> Retraining:
        """:class:`Retraining` triggers of the pipeline ``retraining.pipeline`` names; the drift
        metric namespace is ``cdktf-mlops/<platform name>``."""
        spec = self.spec
        assert spec.retraining is not None
        return Retraining(
            self.stack,
            "retraining",
            RetrainingProps(
                **spec.retraining.model_dump(),
                name=spec.resource_name("retrain"),
                metric_namespace=f"cdktf-mlops/{spec.name}",
                **self.where,
            ),
            pipeline=self.stack.pipelines[spec.retraining.pipeline],
            stores=dict(self.stack.stores),
        )

    def airflow(self) -> Airflow:
        """:class:`Airflow` (Cloud Composer) reading DAGs from the artifacts store, on ``stack.network``
        when the platform has one."""
        spec = self.spec
        assert spec.airflow is not None
        return Airflow(
            self.stack,
            "airflow",
            AirflowProps(
                **spec.airflow.model_dump(),
                name=spec.resource_name("airflow"),
                encryption=spec.storage.encryption,
                deletion_protection=spec.storage.deletion_protection,
                **self.where,
            ),
            dags_store=self._artifacts(),
            network=self.stack.network,
        )

    # --- outputs ----------------------------------------------------------------------------------

    def store_access(self) -> dict[str, StoreAccess]:
        """Per store: its DVC remote (``gs://<bucket>/dvc``, ``projectname``; credentials from ADC) and,
        with ``storage.delta``, its Delta Lake writer settings: Cloud Storage creates an object only
        if absent (``ifGenerationMatch=0``), all delta-rs needs for safe concurrent commits, so
        ``storage.delta`` adds no resource and no storage option here."""
        out: dict[str, StoreAccess] = {}
        for name, store in self.stack.stores.items():
            bucket = store.store_name
            delta = None
            if self.spec.storage.delta:
                delta = DeltaWriter(
                    f"gs://{bucket}/delta/", {},
                    "Cloud Storage conditional create (ifGenerationMatch=0): one writer wins each version, no lock table",
                )
            out[name] = StoreAccess(DvcRemote(f"gs://{bucket}/dvc", {"projectname": self.project}), delta)
        return out

    def cloud_outputs(self) -> list[CloudOutput]:
        """The outputs only GCP has (the contract's come from the constructs)."""
        stack = self.stack
        out: list[CloudOutput] = []
        if stack.tracking is not None:
            out.append(CloudOutput("gcp_tracking_tensorboard", stack.tracking.tensorboard_id,
                                   "Vertex AI TensorBoard (aiplatform.init(experiment_tensorboard=...))"))
            out.append(CloudOutput("gcp_metadata_store_init", stack.tracking.metadata.init_command,
                                   "Phase 2, once before the first pipeline run or experiment: create the "
                                   "region's Vertex ML Metadata (lineage) store with the platform key"))
        if stack.training is not None:
            out.append(CloudOutput("gcp_training_cluster", stack.training.cluster.ref("name"),
                                   "GKE training cluster (get-credentials, then submit Kubernetes Jobs to the pools)"))
        for name, regional in stack.endpoints.items():
            out.append(CloudOutput(
                output_name("gcp_serving", name, "deploy"),
                {region: endpoint.deploy_command for region, endpoint in regional.items()},
                f"Phase 2: deploy an uploaded model (MODEL_ID) to {name}, per region" if stack.models is None
                else f"Phase 2 per region, one command per line: copy an approved model version (VERSION) "
                f"to the region's bucket where needed, upload it (IMAGE), deploy it (MODEL_ID) to {name}",
            ))
            if stack.models is not None:
                out.append(CloudOutput(
                    output_name("gcp_serving", name, "model_artifacts"),
                    {region: endpoint.model_artifacts_uri for region, endpoint in regional.items()},
                    f"Where Vertex AI in each region of {name} imports approved model versions from "
                    "(the model bucket, or its regional copy)",
                ))
        if stack.monitoring is not None and stack.monitoring.data_quality_commands:
            out.append(CloudOutput(
                "gcp_data_quality_commands",
                stack.monitoring.data_quality_commands,
                "Phase 2: create a Vertex AI model monitoring job per endpoint once a model is deployed",
            ))
        return out

    # --- helpers ----------------------------------------------------------------------------------

    def _common(self) -> dict[str, Any]:
        """What every build-side construct takes alike: placement, the spec's key settings, protection."""
        storage = self.spec.storage
        return {"encryption": storage.encryption, "deletion_protection": storage.deletion_protection, **self.where}

    def _regional_encryption(self) -> EncryptionProps:
        """The spec's key settings without a supplied key: run-side constructs have a key per region."""
        return self.spec.storage.encryption.model_copy(update={"key_id": None})

    def _failover(self, region: str) -> str | None:
        """The region an endpoint in ``region`` fails over to: the second spec region for the
        first, the first for the others; None with one region."""
        regions = self.spec.regions
        if len(regions) < 2:
            return None
        return regions[1] if region == regions[0] else regions[0]

    def _every_endpoint(self) -> list[Endpoint]:
        return [e for regional in self.stack.endpoints.values() for e in regional.values()]

    def _artifacts(self) -> DataStore:
        """The store for pipeline artifacts and DAGs: ``artifacts``, else the first store."""
        stores: dict[str, DataStore] = self.stack.stores
        if not stores:
            raise ConstructError(
                self.stack.node.path,
                "pipelines and airflow need a data store; add one under storage.stores "
                "(an 'artifacts' store is used for pipeline artifacts and DAGs)",
            )
        return stores.get("artifacts") or next(iter(stores.values()))
