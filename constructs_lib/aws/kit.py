"""The AWS kit: one factory per step of the platform plan (:mod:`constructs_lib.platform`).

``Kit(stack, spec)`` builds a :class:`~constructs_lib.core.spec.PlatformSpec` with ``cloud: aws``
into ``stack``, one spec section per factory, in the plan's order. Each factory runs only when its
spec section is present. What is AWS's own (kept on the kit, not on the stack):

* **providers** (:meth:`Kit.providers`): the default ``aws`` provider of the primary region (stack
  tags as ``default_tags``, ``allowed_account_ids`` from ``aws.account_id``); the ``replica`` alias
  for the stores' replica region; with ``serving``, one provider per serving region
  (:attr:`Kit.region_providers`): the default one for the primary, ``replica`` for the replica
  region (and for the second region when the stores do not replicate), ``r<i>`` for the i-th
  region otherwise; with ``routing``, a ``us_east_1`` alias for query logs and the DNSSEC key when
  no region of the spec is us-east-1;
* **network**: created when ``network`` (or training, tracking or features) needs it. With
  ``airflow`` a created network also gets the interface endpoints MWAA needs
  (:data:`~.airflow.MWAA_INTERFACE_ENDPOINTS`, added to :data:`~.network.DEFAULT_INTERFACE_ENDPOINTS`)
  and must have two or more zones: MWAA runs in its first two private subnets instead of a second
  VPC. An existing network is used as is and must reach those services itself;
* **training** (Batch pools + the execution role) in the network's private subnets; the pools'
  base job definitions run the training repository's :data:`BOOTSTRAP_IMAGE_TAG` image, so with a
  ``registry`` section the registries are built before the pools;
* **registries**: with ``registry.models.promotion_targets``, besides the model package group
  policy, read of the model artifacts (:data:`~.registry.MODEL_ARTIFACTS_PREFIX` of the
  ``artifacts`` store, else ``data``, else the first store: where endpoints read models) for those
  accounts, through :meth:`~.storage.DataStore.grant_account_read`;
* **stores**: with ``storage.delta``, a :class:`~.delta.DeltaLockTable` per store (child
  ``DeltaLock`` of the store, table ``<platform>-<env>-<store>-delta-log``, the store's key);
* **grants** of the training execution role, and nothing else: read the ``data`` store, write the
  ``artifacts`` store, pull images, register model versions (pending approval), use tracking and
  read its tracker secrets, read the feature store; besides, read the ``artifacts`` store (as on
  Azure and GCP, where writing includes reading): ``dvc push`` and Delta Lake writers list and
  read what is there before they write; with ``storage.delta``, commit through the artifacts
  store's lock table;
* **serving**: one :class:`~.serving.Endpoint` per endpoint *and region* (construct id
  ``endpoint-<name>-<region>``), each in a private network of its region: the platform's network
  in the primary region, else a serving network (:attr:`Kit.serving_networks`,
  ``serving-network-<region>``: private subnets, S3 gateway endpoint, flow logs, no interface
  endpoints; CIDR ``10.<60+i>.0.0/16``). Captured data and the placeholder artifact go to the
  ``data`` / ``artifacts`` stores' bucket of that region (their replica in the replica region); a
  region without a replica gets a ``serving-store-<region>`` store of its own, which receives a copy
  of the model artifacts (``models/`` of the artifacts store) by S3 replication: SageMaker reads
  model data only from a bucket of the endpoint's region;
* **routing**: one :class:`~.routing.Routing` per endpoint over its regional endpoints (one hosted
  zone, created by the first);
* **monitoring** watches every endpoint (not the zero-traffic alarm of a failover standby), the
  training compute and every platform store; endpoint log groups keep
  ``monitoring.log_retention_days``; the **budget** notifies the primary alert topic;
* **automation**: one :class:`~.pipelines.Pipeline` per ``pipelines`` entry (``pipeline-<name>``)
  on the ``artifacts`` store (else the first store), :class:`~.retraining.Retraining` starting one
  of them, and :class:`~.airflow.Airflow` with DAGs in that store, placed in ``stack.network``
  when it can host MWAA (see :meth:`Kit.airflow`). With ``storage.delta`` each pipeline's
  execution role may commit through the artifacts store's lock table (it reads and writes that
  store already).

Data versioning (:meth:`Kit.store_access`, the ``store_<store>_dvc`` and ``store_<store>_delta``
outputs): DVC remote ``s3://<bucket>/dvc`` with ``region`` and SSE-KMS with the store's key
(``sse: aws:kms``, ``sse_kms_key_id``: the bucket policy refuses uploads naming another key); Delta
tables under ``s3://<bucket>/delta/``: see :data:`~.delta.DELTA_COMMIT` for which writer commits how.

Outputs only AWS has (:meth:`Kit.cloud_outputs`): ``aws_training_vpc_config`` (the ``VpcConfig``
of SageMaker training jobs) and ``aws_serving_<endpoint>`` (region -> ``endpoint_name``,
``bootstrap_config``, ``role_arn``, ``capture_uri``, ``model_artifacts_uri``: what the pipeline
needs to deploy a model version in each region).
"""

from __future__ import annotations

from typing import Any

from ..core.automation_props import PipelineProps
from ..core.build_props import NetworkSettings
from ..core.construct import grant_training
from ..core.contract import CloudOutput, DeltaWriter, DvcRemote, StoreAccess, output_name
from ..core.errors import ConstructError
from ..core.providers import declare_provider
from ..core.run_props import BudgetProps
from ..core.spec import PlatformSpec
from .airflow import MWAA_INTERFACE_ENDPOINTS, Airflow, AirflowProps
from .budget import Budget
from .delta import DELTA_COMMIT, DeltaLockTable, DeltaLockTableProps
from .features import FeatureStore, FeatureStoreProps
from .monitoring import Monitoring, MonitoringProps
from .network import DEFAULT_INTERFACE_ENDPOINTS, Network, NetworkProps
from .pipelines import Pipeline
from .registry import (
    MODEL_ARTIFACTS_PREFIX,
    ContainerRegistry,
    ContainerRegistryProps,
    ModelRegistry,
    ModelRegistryProps,
)
from .retraining import Retraining, RetrainingProps
from .routing import Routing, RoutingProps
from .serving import Endpoint, EndpointProps
from .storage import DataStore, DataStoreProps
from .tracking import Tracking, TrackingProps
from .training import Training, TrainingProps

__all__ = ["BOOTSTRAP_IMAGE_TAG", "Kit"]

#: Image tag the pools' base job definitions run (push a first training image with this tag).
BOOTSTRAP_IMAGE_TAG = "bootstrap"
_ENDPOINT_NAME_MAX = 32  # SageMaker endpoint names of the platform stay short enough for derived names
_PIPELINE_NAME_MAX = 32


class Kit:
    """AWS factories of the platform plan. ``stack`` is the :class:`~constructs_lib.platform.PlatformStack`.

    Each factory builds one spec section into the stack and returns its construct(s); the plan sets
    them as stack attributes, which later factories read (``stack.stores``, ``stack.network``, ...).

    Attributes:
        region_providers: region -> its ``aws`` provider (``None``: the default provider), for the
            serving regions (empty without ``serving``).
        serving_networks: region -> the serving :class:`~.network.Network` of a region that does
            not run in the platform network.
        serving_stores: region -> the ``serving-store-<region>`` of a serving region without a
            replica of the stores.
    """

    def __init__(self, stack: Any, spec: PlatformSpec) -> None:
        self.stack = stack
        self.spec = spec
        self._common: dict[str, Any] = {"default_tags": {"tags": spec.all_tags}}
        if spec.aws and spec.aws.account_id:
            self._common["allowed_account_ids"] = [spec.aws.account_id]
        self._replica: Any = None
        self._us_east_1: Any = None
        self._registries: tuple[ContainerRegistry, ModelRegistry] | None = None
        self.region_providers: dict[str, Any] = {}
        self.serving_networks: dict[str, Network] = {}
        self.serving_stores: dict[str, DataStore] = {}
        #: store name -> its Delta Lake commit lock table (``storage.delta``; empty otherwise).
        self.delta_locks: dict[str, DeltaLockTable] = {}

    # --- providers and build side ------------------------------------------------------------------

    def providers(self) -> None:
        """The default provider, the ``replica`` alias, and the serving and us-east-1 aliases."""
        spec, stack = self.spec, self.stack
        declare_provider(stack, "aws", region=spec.primary_region, **self._common)
        if spec.replica_region:
            self._replica = declare_provider(stack, "aws", alias="replica", region=spec.replica_region, **self._common)
        if spec.serving is None:
            return
        self.region_providers = {spec.primary_region: None}
        if spec.replica_region:
            self.region_providers[spec.replica_region] = self._replica
        for i, region in enumerate(spec.regions[1:], start=1):
            if region in self.region_providers:
                continue
            alias = "replica" if i == 1 and self._replica is None else f"r{i}"
            self.region_providers[region] = declare_provider(stack, "aws", alias=alias, region=region, **self._common)
        if spec.routing is not None and spec.primary_region != "us-east-1":
            self._us_east_1 = self.region_providers.get("us-east-1") or declare_provider(
                stack, "aws", alias="us_east_1", region="us-east-1", **self._common
            )

    def stores(self) -> dict[str, DataStore]:
        """One :class:`DataStore` per ``storage.stores`` entry, replicated through the ``replica`` alias,
        with its Delta Lake lock table when ``storage.delta`` is on."""
        spec = self.spec
        stores = {
            store: DataStore(
                self.stack,
                store,
                DataStoreProps(name=spec.resource_name(store), **spec.store_settings()),
                replica_provider=self._replica,
            )
            for store in spec.storage.stores
        }
        if spec.storage.delta:
            for name, store in stores.items():
                props = DeltaLockTableProps(
                    name=spec.resource_name(name, "delta-log", max_length=255), key_id=store.key_id,
                    deletion_protection=spec.storage.deletion_protection,
                )
                self.delta_locks[name] = DeltaLockTable(store, "DeltaLock", props)
        return stores

    def network(self) -> Network:
        """The platform network (``network``), with MWAA's interface endpoints when the spec has ``airflow``."""
        spec = self.spec
        settings = spec.network_settings
        assert settings is not None  # the plan calls this only then
        zone_names = [] if settings.existing is not None else [f"{spec.primary_region}{z}" for z in "abc"[: settings.zones]]
        services = set(DEFAULT_INTERFACE_ENDPOINTS)
        if spec.airflow is not None and settings.existing is None:
            services |= set(MWAA_INTERFACE_ENDPOINTS)
        return Network(
            self.stack,
            "network",
            NetworkProps(
                name=spec.resource_name("net"),
                zone_names=zone_names,
                interface_endpoints=sorted(services),
                **settings.model_dump(),
            ),
        )

    def training(self) -> Training:
        """Batch pools and the execution role, in the platform network's private subnets."""
        spec = self.spec
        assert spec.training is not None and self.stack.network is not None  # a network comes with training
        image = None
        if spec.registry is not None:
            containers, _ = self._build_registries()
            if "training" in containers.repository_urls:
                image = f"{containers.repository_urls['training']}:{BOOTSTRAP_IMAGE_TAG}"
        return Training(
            self.stack,
            "training",
            TrainingProps(name=spec.resource_name("training"), job_image=image, **spec.training.model_dump()),
            network=self.stack.network,
        )

    def registries(self) -> tuple[ContainerRegistry, ModelRegistry]:
        """ECR repositories and the SageMaker model package group (built once; see :meth:`training`)."""
        return self._build_registries()

    def _build_registries(self) -> tuple[ContainerRegistry, ModelRegistry]:
        if self._registries is not None:
            return self._registries
        spec, stack = self.spec, self.stack
        assert spec.registry is not None
        containers = ContainerRegistry(
            stack,
            "containers",
            ContainerRegistryProps(
                name=spec.resource_name("images"),
                deletion_protection=spec.storage.deletion_protection,
                **spec.registry.containers.model_dump(),
            ),
        )
        models = ModelRegistry(
            stack, "models", ModelRegistryProps(name=spec.resource_name("models"), **spec.registry.models.model_dump())
        )
        targets = spec.registry.models.promotion_targets
        model_store = self._model_store()
        if targets and model_store is not None:
            model_store.grant_account_read(targets, prefix=MODEL_ARTIFACTS_PREFIX)
        self._registries = (containers, models)
        return self._registries

    def tracking(self) -> Tracking | None:
        """The MLflow server on the ``artifacts`` store (else the first store; none without stores)."""
        spec = self.spec
        assert spec.tracking is not None
        store = self._store("artifacts")
        if store is None:
            return None
        props = TrackingProps(
            name=spec.resource_name("mlflow"), deletion_protection=spec.storage.deletion_protection,
            **spec.tracking.model_dump(),
        )
        return Tracking(self.stack, "tracking", props, artifact_store=store)

    def features(self) -> FeatureStore | None:
        """Feature groups with the offline store on the ``data`` store (else the first store)."""
        spec = self.spec
        assert spec.features is not None
        store = self._store("data")
        if store is None:
            return None
        props = FeatureStoreProps(
            name=spec.resource_name("features"), deletion_protection=spec.storage.deletion_protection,
            **spec.features.model_dump(),
        )
        return FeatureStore(self.stack, "features", props, offline_store=store)

    def grants(self) -> None:
        """What the training execution role may use (:func:`~constructs_lib.core.construct.grant_training`)."""
        stack = self.stack
        if stack.training is None:
            return
        grant_training(
            stack.training.principal,
            data=stack.stores.get("data"),
            artifacts=stack.stores.get("artifacts"),
            containers=stack.containers,
            models=stack.models,
            tracking=stack.tracking,
            features=stack.features,
        )
        artifacts = stack.stores.get("artifacts")
        if artifacts is not None:
            artifacts.grant_read(stack.training.principal)  # dvc push / Delta writes list before they write
            lock = self._lock_of(artifacts)
            if lock is not None:
                lock.grant_commit(stack.training.principal)

    # --- run side ---------------------------------------------------------------------------------

    def serving(self) -> dict[str, dict[str, Endpoint]]:
        """One endpoint per spec endpoint and region: endpoint name -> region -> :class:`Endpoint`."""
        spec, stack = self.spec, self.stack
        assert spec.serving is not None
        data = stack.stores.get("data") or next(iter(stack.stores.values()))
        artifacts = self._model_store() or data
        retention = spec.monitoring.log_retention_days if spec.monitoring is not None else 365
        out: dict[str, dict[str, Endpoint]] = {e.name: {} for e in spec.serving.endpoints}
        for i, region in enumerate(spec.regions):
            provider = self.region_providers[region]
            network = self._serving_network(i, region, provider)
            capture_store, artifact_store = data, artifacts
            if i > 0 and region != spec.replica_region:
                capture_store = artifact_store = self._serving_store(region, provider, artifacts)
            for settings in spec.serving.endpoints:
                out[settings.name][region] = Endpoint(
                    stack,
                    f"endpoint-{settings.name}-{region}",
                    EndpointProps(
                        **{**settings.model_dump(), "name": spec.resource_name(settings.name, max_length=_ENDPOINT_NAME_MAX)},
                        region=region,
                        log_retention_days=retention,
                    ),
                    capture_store=capture_store,
                    artifact_store=artifact_store,
                    network=network,
                    provider=provider,
                    images=stack.containers,
                )
        return out

    def _serving_network(self, i: int, region: str, provider: Any) -> Network:
        """The platform network in the primary region, else a serving network of the region."""
        if i == 0 and self.stack.network is not None:
            return self.stack.network
        network = Network(
            self.stack,
            f"serving-network-{region}",
            NetworkProps(
                name=self.spec.resource_name("serving-net", region),
                zone_names=[f"{region}{z}" for z in "ab"],
                interface_endpoints=[],
                **NetworkSettings(cidr=f"10.{60 + i}.0.0/16", zones=2).model_dump(),
            ),
            provider=provider,
        )
        self.serving_networks[region] = network
        return network

    def _serving_store(self, region: str, provider: Any, artifacts: DataStore) -> DataStore:
        """A store of ``region`` for captured data and a copy of the model artifacts (S3 replication)."""
        storage = self.spec.storage
        store = DataStore(
            self.stack,
            f"serving-store-{region}",
            DataStoreProps(
                name=self.spec.resource_name("serving", region),
                versioning=storage.versioning,
                lifecycle=storage.lifecycle,
                encryption=storage.encryption,
                deletion_protection=storage.deletion_protection,
                access_logging=storage.access_logging,
            ),
            provider=provider,
        )
        artifacts.replicate_prefix(MODEL_ARTIFACTS_PREFIX, store, region=region)
        self.serving_stores[region] = store
        return store

    def routing(self) -> dict[str, Routing]:
        """One :class:`Routing` per endpoint over its regions (primary first), all in one hosted zone."""
        spec, stack = self.spec, self.stack
        assert spec.routing is not None
        zone = None
        out: dict[str, Routing] = {}
        for name, regional in stack.endpoints.items():
            routing = Routing(
                stack,
                f"routing-{name}",
                RoutingProps(name=name, **spec.routing.model_dump()),
                endpoints=list(regional.values()),
                us_east_1=self._us_east_1,
                zone=zone,
            )
            zone = zone or routing.zone
            out[name] = routing
        return out

    def monitoring(self) -> Monitoring:
        """Alert topics and alarms watching every endpoint, the training compute and every store."""
        spec, stack = self.spec, self.stack
        assert spec.monitoring is not None
        monitoring = Monitoring(
            stack,
            "monitoring",
            MonitoringProps(name=spec.resource_name("monitoring"), region=spec.primary_region,
                            **spec.monitoring.model_dump()),
        )
        failover = spec.routing is not None and spec.routing.policy == "failover"
        for regional in stack.endpoints.values():
            for endpoint in regional.values():
                standby = failover and endpoint.region != spec.primary_region
                monitoring.watch_endpoint(endpoint, expect_traffic=not standby)
        if stack.training is not None:
            monitoring.watch_training(stack.training)
        for store in stack.stores.values():
            monitoring.watch_store(store)
        return monitoring

    def budget(self) -> Budget:
        """The monthly AWS Budget, notifying the primary alert topic (the spec requires ``monitoring``)."""
        spec = self.spec
        assert spec.budget is not None and self.stack.monitoring is not None
        return Budget(
            self.stack,
            "budget",
            BudgetProps(name=spec.resource_name("budget"), **spec.budget.model_dump()),
            alert_target_id=self.stack.monitoring.alert_target,
        )

    # --- automation -------------------------------------------------------------------------------

    def pipelines(self) -> dict[str, Pipeline]:
        """One SageMaker pipeline per ``pipelines`` entry, reading and writing the artifacts store."""
        spec, artifacts = self.spec, self._artifacts()
        pipelines = {
            settings.name: Pipeline(
                self.stack,
                f"pipeline-{settings.name}",
                PipelineProps(
                    name=spec.resource_name(settings.name, max_length=_PIPELINE_NAME_MAX),
                    definition=settings.definition,
                    parameters=settings.parameters,
                ),
                artifacts_store=artifacts,
            )
            for settings in spec.pipelines
        }
        lock = self._lock_of(artifacts)
        if lock is not None:
            for pipeline in pipelines.values():
                lock.grant_commit(pipeline.principal)
        return pipelines

    def retraining(self) -> Retraining:
        """Triggers that start the ``retraining.pipeline`` (drift namespace ``cdktf-mlops/<platform>``)."""
        spec, stack = self.spec, self.stack
        assert spec.retraining is not None
        self._artifacts()
        return Retraining(
            stack,
            "retraining",
            RetrainingProps(
                name=spec.resource_name("retrain"),
                metric_namespace=f"cdktf-mlops/{spec.name}",
                **spec.retraining.model_dump(),
            ),
            pipeline=stack.pipelines[spec.retraining.pipeline],
            stores=dict(stack.stores),
        )

    def airflow(self) -> Airflow:
        """MWAA with DAGs in the artifacts store, placed by :meth:`_airflow_placement`."""
        spec = self.spec
        assert spec.airflow is not None
        return Airflow(
            self.stack,
            "airflow",
            AirflowProps(
                name=spec.resource_name("airflow"),
                zone_names=[f"{spec.primary_region}{letter}" for letter in "ab"],
                **spec.airflow.model_dump(),
            ),
            dags_store=self._artifacts(),
            **self._airflow_placement(),
        )

    def _airflow_placement(self) -> dict[str, Any]:
        """``network=`` the platform network when it can host MWAA, else ``subnet_ids=`` or nothing.

        A network the platform created is always used (with fewer than two zones :class:`Airflow`
        raises an error naming the zones setting rather than building a second VPC); an existing
        one with two or more subnets too; in the first two private subnets of any other network
        with two or more; otherwise MWAA gets the minimal private network the construct creates.
        """
        network = self.stack.network
        subnet_ids = list(getattr(network, "private_subnet_ids", None) or [])
        if isinstance(network, Network) and (network.resource is not None or len(subnet_ids) >= 2):
            return {"network": network}
        return {"subnet_ids": subnet_ids[:2]} if len(subnet_ids) >= 2 else {}

    # --- outputs ----------------------------------------------------------------------------------

    def cloud_outputs(self) -> list[CloudOutput]:
        """``aws_training_vpc_config`` and ``aws_serving_<endpoint>`` (see the module docstring)."""
        stack = self.stack
        out: list[CloudOutput] = []
        if stack.training is not None:
            out.append(CloudOutput("aws_training_vpc_config", stack.training.vpc_config,
                                   "VpcConfig for SageMaker training jobs"))
        for name, regional in stack.endpoints.items():
            value = {
                region: {
                    "endpoint_name": e.endpoint_name,
                    "bootstrap_config": e.bootstrap_config_name,
                    "role_arn": e.principal_arn,
                    "capture_uri": e.capture_uri,
                    "model_artifacts_uri": e.model_artifacts_uri,
                }
                for region, e in regional.items()
            }
            out.append(CloudOutput(
                output_name("aws", "serving", name), value,
                f"Endpoint {name} per region: the pipeline deploys models with role_arn and a copy of bootstrap_config",
            ))
        return out

    def store_access(self) -> dict[str, StoreAccess]:
        """Per store: its DVC remote and, with ``storage.delta``, its Delta Lake writer settings."""
        region = self.spec.primary_region
        out: dict[str, StoreAccess] = {}
        for name, store in self.stack.stores.items():
            bucket = store.store_name
            dvc = DvcRemote(f"s3://{bucket}/dvc", {"region": region, "sse": "aws:kms", "sse_kms_key_id": store.key_id})
            delta = None
            lock = self.delta_locks.get(name)
            if lock is not None:
                delta = DeltaWriter(
                    f"s3://{bucket}/delta/", {"AWS_REGION": region}, DELTA_COMMIT, lock_table=lock.table_name,
                )
            out[name] = StoreAccess(dvc, delta)
        return out

    # --- helpers ----------------------------------------------------------------------------------

    def _store(self, preferred: str) -> DataStore | None:
        stores: dict[str, DataStore] = self.stack.stores
        return stores.get(preferred) or next(iter(stores.values()), None)

    def _lock_of(self, store: DataStore) -> DeltaLockTable | None:
        """The Delta Lake lock table of ``store`` (``storage.delta``), else None."""
        return next((self.delta_locks.get(n) for n, s in self.stack.stores.items() if s is store), None)

    def _model_store(self) -> DataStore | None:
        """The store of model artifacts, as serving reads them: ``artifacts``, else ``data``, else the first."""
        stores: dict[str, DataStore] = self.stack.stores
        return stores.get("artifacts") or stores.get("data") or next(iter(stores.values()), None)

    def _artifacts(self) -> DataStore:
        """The store of pipeline artifacts and DAGs: ``artifacts``, else the first store."""
        store = self._store("artifacts")
        if store is None:
            raise ConstructError(
                self.stack.node.path,
                "pipelines and airflow need a data store for artifacts; "
                "add one under storage.stores (e.g. artifacts)"
            )
        return store
