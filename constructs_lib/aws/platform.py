"""The AWS platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: aws``.

Build side wiring (each part only when its spec section is present):

* ``network`` from ``spec.network_settings`` (created when training, tracking or features need it),
  also set as ``stack.network``. When the spec has ``airflow`` a created network also gets the
  interface endpoints MWAA needs (:data:`~.airflow.MWAA_INTERFACE_ENDPOINTS`, added to
  :data:`~.network.DEFAULT_INTERFACE_ENDPOINTS`) and must have two or more zones:
  :func:`~.automation.build_automation` places MWAA in its first two private subnets (two zones)
  instead of a second VPC. An existing network is used as is and must reach those services itself;
* ``training`` (Batch pools + the execution role) in the network's private subnets;
* ``containers`` / ``models`` from ``spec.registry``; ``tracking``; ``features``;
* grants of the training execution role, and nothing else: read the ``data`` store, write the
  ``artifacts`` store, pull images, register model versions (pending approval), use tracking and
  read its tracker secrets, read the feature store;
* with ``registry.models.promotion_targets``: besides the model package group policy, read of the
  model artifacts (:data:`~.registry.MODEL_ARTIFACTS_PREFIX` of the ``artifacts`` store, else
  ``data``, else the first store: where endpoints read models) for those accounts, through
  :meth:`~.storage.DataStore.grant_account_read` (bucket policy + the store key's policy).

Run side wiring (see :func:`_run_side`; each part only when its spec section is present):

* ``serving``: one :class:`~.serving.Endpoint` per endpoint *and region* of the spec (construct id
  ``endpoint-<name>-<region>``). Regions get providers: the default one (primary), the ``replica``
  alias (second region, also declared for serving when storage does not replicate) and ``r<i>``
  aliases beyond. Each region's endpoint runs in a private network of its region: the platform's
  network in the primary region, else a serving network (``serving-network-<region>``: private
  subnets, S3 gateway endpoint, flow logs, no interface endpoints; CIDR ``10.<60+i>.0.0/16``).
  Captured data and the placeholder artifact go to the ``data`` / ``artifacts`` stores' bucket of
  that region (their replica in the replica region); a region without a replica gets a
  ``serving-store-<region>`` store of its own, which receives a copy of the model artifacts
  (``models/`` of the artifacts store) by S3 replication — SageMaker reads model data only from a
  bucket of the endpoint's region. ``serving_<endpoint>`` names each region's
  ``model_artifacts_uri``: the pipeline registers a model version there, per region;
* ``routing``: one :class:`~.routing.Routing` per endpoint over its regional endpoints (one zone,
  created by the first; query logs and the DNSSEC key in us-east-1, through a ``us_east_1``
  provider alias when no region of the spec is us-east-1);
* ``monitoring``: one :class:`~.monitoring.Monitoring` watching every endpoint (not the
  zero-traffic alarm of a failover standby), the training compute and every replicated store;
  endpoint log groups keep ``monitoring.log_retention_days``;
* ``budget``: a :class:`~.budget.Budget` notifying the monitoring alert topic;
* outputs ``serving_<endpoint>`` (region -> endpoint name, bootstrap configuration, role ARN),
  ``routing_<endpoint>_fqdn``, ``routing_name_servers``, ``alert_topic_arn``, ``budget_name``, and
  ``recovery_<thing>`` (``rpo_minutes``, ``rto_minutes``, ``replica_region``) for serving, the
  container and model registries and tracking.
"""

from __future__ import annotations

from typing import Any

from ..core import engine
from ..core.providers import declare_provider
from ..core.build_props import NetworkSettings
from ..core.construct import grant_training
from ..core.recovery import Recovery, recovery_output
from ..core.run_props import BudgetProps
from ..core.spec import PlatformSpec
from .airflow import MWAA_INTERFACE_ENDPOINTS
from .budget import Budget
from .features import FeatureStore, FeatureStoreProps
from .monitoring import Monitoring, MonitoringProps
from .routing import Routing, RoutingProps
from .serving import Endpoint, EndpointProps
from .network import DEFAULT_INTERFACE_ENDPOINTS, Network, NetworkProps
from .registry import (
    MODEL_ARTIFACTS_PREFIX,
    ContainerRegistry,
    ContainerRegistryProps,
    ModelRegistry,
    ModelRegistryProps,
)
from .storage import DataStore, DataStoreProps
from .tracking import Tracking, TrackingProps
from .training import Training, TrainingProps

__all__ = ["BOOTSTRAP_IMAGE_TAG", "build_platform"]

#: Image tag the pools' base job definitions run (push a first training image with this tag).
BOOTSTRAP_IMAGE_TAG = "bootstrap"


def _output(stack: Any, id: str, value: Any, description: str) -> None:
    engine.TerraformOutput(stack, id, value=value, description=description)


def build_platform(stack: Any, spec: PlatformSpec) -> None:
    """Declare the AWS providers (stack tags as ``default_tags``) and the platform's constructs."""
    common: dict[str, Any] = {"default_tags": {"tags": spec.all_tags}}
    if spec.aws and spec.aws.account_id:
        common["allowed_account_ids"] = [spec.aws.account_id]
    declare_provider(stack, "aws", region=spec.primary_region, **common)
    replica = None
    if spec.replica_region:
        replica = declare_provider(stack, "aws", alias="replica", region=spec.replica_region, **common)
    for store in spec.storage.stores:
        props = DataStoreProps(name=spec.resource_name(store), **spec.store_settings())
        stack.stores[store] = DataStore(stack, store, props, replica_provider=replica)
    _build_side(stack, spec)
    _run_side(stack, spec, common, replica)


def _interface_endpoints(spec: PlatformSpec, settings: NetworkSettings) -> list[str]:
    """The platform network's interface endpoints: the defaults, plus MWAA's when the spec has airflow.

    With ``airflow`` MWAA runs in this network (see :mod:`.automation`), so a created network gets
    the union of :data:`~.network.DEFAULT_INTERFACE_ENDPOINTS` and
    :data:`~.airflow.MWAA_INTERFACE_ENDPOINTS` (sorted, each once); the spec makes sure it spans
    two zones. An existing network keeps the defaults: it must reach the MWAA services itself.
    """
    services = set(DEFAULT_INTERFACE_ENDPOINTS)
    if spec.airflow is not None and settings.existing is None:
        services |= set(MWAA_INTERFACE_ENDPOINTS)
    return sorted(services)


def _model_store(stack: Any) -> DataStore | None:
    """The store of model artifacts, as serving reads them: ``artifacts``, else ``data``, else the first."""
    stores: dict[str, DataStore] = stack.stores
    return stores.get("artifacts") or stores.get("data") or next(iter(stores.values()), None)


def _store(stack: Any, preferred: str) -> DataStore | None:
    stores: dict[str, DataStore] = stack.stores
    return stores.get(preferred) or next(iter(stores.values()), None)


def _build_side(stack: Any, spec: PlatformSpec) -> None:
    """Build-side constructs, set as the stack's attributes (the run side reads them there)."""
    protect = spec.storage.deletion_protection
    data, artifacts = stack.stores.get("data"), stack.stores.get("artifacts")

    network = None
    settings = spec.network_settings
    if settings is not None:
        zone_names = [f"{spec.primary_region}{letter}" for letter in "abc"[: settings.zones]]
        if settings.existing is not None:
            zone_names = []
        network = Network(
            stack,
            "network",
            NetworkProps(
                name=spec.resource_name("net"),
                zone_names=zone_names,
                interface_endpoints=_interface_endpoints(spec, settings),
                **settings.model_dump(),
            ),
        )
        _output(stack, "network_id", network.network_id, "VPC of the ML workloads")
        _output(stack, "network_private_subnet_ids", network.private_subnet_ids, "Private subnets of the ML workloads")

    containers = models = None
    if spec.registry is not None:
        containers = ContainerRegistry(
            stack,
            "containers",
            ContainerRegistryProps(
                name=spec.resource_name("images"),
                deletion_protection=protect,
                **spec.registry.containers.model_dump(),
            ),
        )
        models = ModelRegistry(
            stack, "models", ModelRegistryProps(name=spec.resource_name("models"), **spec.registry.models.model_dump())
        )
        _output(stack, "container_repository_urls", containers.repository_urls, "ECR repository URL per repository")
        _output(stack, "model_package_group", models.group_name, "SageMaker model package group (model registry)")
        targets = spec.registry.models.promotion_targets
        model_store = _model_store(stack)
        if targets and model_store is not None:
            model_store.grant_account_read(targets, prefix=MODEL_ARTIFACTS_PREFIX)

    training = tracking = features = None
    if spec.training is not None:
        assert network is not None  # spec.network_settings is set whenever training is
        image = None
        if containers is not None and "training" in containers.repository_urls:
            image = f"{containers.repository_urls['training']}:{BOOTSTRAP_IMAGE_TAG}"
        training = Training(
            stack,
            "training",
            TrainingProps(name=spec.resource_name("training"), job_image=image, **spec.training.model_dump()),
            network=network,
        )
        _output(stack, "training_principal_arn", training.principal_arn, "Execution role of SageMaker and Batch jobs")
        _output(stack, "training_job_queues", {k: v.ref("name") for k, v in training.pools.items()},
                "Batch job queue per training pool")
        _output(stack, "training_vpc_config", training.vpc_config, "VpcConfig for SageMaker training jobs")

    if spec.tracking is not None:
        store = artifacts or _store(stack, "artifacts")
        if store is not None:
            tracking = Tracking(
                stack,
                "tracking",
                TrackingProps(
                    name=spec.resource_name("mlflow"), deletion_protection=protect, **spec.tracking.model_dump()
                ),
                artifact_store=store,
            )
            _output(stack, "tracking_uri", tracking.tracking_uri, "MLflow tracking URI (SageMaker MLflow server ARN)")
            if tracking.secrets:
                _output(stack, "tracking_secret_arns", {k: v.ref("arn") for k, v in tracking.secrets.items()},
                        "Empty tracker secrets: fill with `aws secretsmanager put-secret-value`")

    if spec.features is not None:
        store = data or _store(stack, "data")
        if store is not None:
            features = FeatureStore(
                stack,
                "features",
                FeatureStoreProps(
                    name=spec.resource_name("features"), deletion_protection=protect, **spec.features.model_dump()
                ),
                offline_store=store,
            )
            _output(stack, "feature_groups", {k: v.ref("feature_group_name") for k, v in features.groups.items()},
                    "SageMaker feature group per feature group of the spec")
    if training is not None:
        grant_training(training.principal, data=data, artifacts=artifacts, containers=containers,
                       models=models, tracking=tracking, features=features)
    stack.network, stack.training, stack.containers, stack.models = network, training, containers, models
    stack.tracking, stack.features = tracking, features


def _recovery_output(stack: Any, thing: str, rec: Recovery, description: str) -> None:
    recovery_output(stack, f"recovery_{thing}", rec, description)


def _run_side(stack: Any, spec: PlatformSpec, common: dict[str, Any], replica: Any) -> None:
    """Serving in every region, routing, monitoring, budget and the recovery outputs."""
    no_copy = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)
    if stack.containers is not None:
        _recovery_output(stack, "container_registry", no_copy,
                         "ECR repositories are regional and not replicated: rebuild images from source after a regional loss")
        _recovery_output(stack, "model_registry", no_copy,
                         "The SageMaker model package group is regional metadata; model artifacts follow the artifacts store")
    if stack.tracking is not None:
        _recovery_output(stack, "tracking", no_copy,
                         "SageMaker MLflow metadata is regional; its artifacts follow the artifacts store")
    if stack.features is not None:
        _recovery_output(stack, "features", no_copy,
                         "SageMaker feature groups (and the online store) are regional; the offline store "
                         "follows the data store's replication")

    endpoints: dict[str, list[Endpoint]] = {}
    if spec.serving is not None:
        endpoints = _serving(stack, spec, common, replica)

    first_zone = None
    routings: dict[str, Routing] = {}
    if spec.routing is not None and endpoints:
        us_east_1 = None
        if spec.primary_region != "us-east-1":
            us_east_1 = stack.region_providers.get("us-east-1") or declare_provider(
                stack, "aws", alias="us_east_1", region="us-east-1", **common
            )
        for name, regional in endpoints.items():
            routing = Routing(
                stack,
                f"routing-{name}",
                RoutingProps(name=name, **spec.routing.model_dump()),
                endpoints=regional,
                us_east_1=us_east_1,
                zone=first_zone,
            )
            first_zone = first_zone or routing.zone
            routings[name] = routing
            _output(stack, f"routing_{name}_fqdn", routing.fqdn, f"DNS name of endpoint {name} (CNAME to the chosen region's SageMaker runtime)")
        stack.routing = routings
        _output(stack, "routing_name_servers", first_zone.ref_list("name_servers"),
                f"Name servers of {spec.routing.domain}: delegate to them from the parent zone")
    for name, regional in endpoints.items():
        rec = routings[name].recovery if name in routings else no_copy
        _recovery_output(stack, f"serving_{name}", rec,
                         f"Endpoint {name}: no data to lose (RPO null); RTO = health-checked DNS failover (null without routing)")

    if spec.monitoring is not None:
        monitoring = Monitoring(
            stack,
            "monitoring",
            MonitoringProps(name=spec.resource_name("monitoring"), region=spec.primary_region,
                            **spec.monitoring.model_dump()),
        )
        _output(stack, "alert_topic_arn", monitoring.alert_target, "SNS alert topic (confirm the email subscriptions)")
        failover = spec.routing is not None and spec.routing.policy == "failover"
        for regional in endpoints.values():
            for endpoint in regional:
                standby = failover and endpoint.region != spec.primary_region
                monitoring.watch_endpoint(endpoint, expect_traffic=not standby)
        if stack.training is not None:
            monitoring.watch_training(stack.training)
        for store in stack.stores.values():
            monitoring.watch_store(store)
        stack.monitoring = monitoring
        if spec.budget is not None:
            budget = Budget(
                stack,
                "budget",
                BudgetProps(name=spec.resource_name("budget"), **spec.budget.model_dump()),
                alert_target_id=monitoring.alert_target,
            )
            _output(stack, "budget_name", budget.budget_name, "AWS Budget of the platform")
            stack.budget = budget


def _region_providers(stack: Any, spec: PlatformSpec, common: dict[str, Any], replica: Any) -> dict[str, Any]:
    """Region -> its ``aws`` provider: None (the default) for the primary, the ``replica`` alias for
    the replica region (and for the second region when the stores do not replicate), ``r<i>`` for
    the i-th spec region otherwise."""
    providers: dict[str, Any] = {spec.primary_region: None}
    if spec.replica_region:
        providers[spec.replica_region] = replica
    for i, region in enumerate(spec.regions[1:], start=1):
        if region in providers:
            continue
        alias = "replica" if i == 1 and replica is None else f"r{i}"
        providers[region] = declare_provider(stack, "aws", alias=alias, region=region, **common)
    return providers


def _serving(stack: Any, spec: PlatformSpec, common: dict[str, Any], replica: Any) -> dict[str, list[Endpoint]]:
    """One endpoint per spec endpoint and region; returns endpoint name -> regional endpoints (primary first).

    A serving region other than the primary and the replica region gets a serving store of its
    own (captured data, the placeholder artifact) that receives a copy of the model artifacts
    (``models/`` of the artifacts store) by S3 replication: SageMaker reads model data only from
    a bucket of the endpoint's region.
    """
    assert spec.serving is not None
    providers = _region_providers(stack, spec, common, replica)
    stack.region_providers = providers

    data = stack.stores.get("data") or next(iter(stack.stores.values()))
    artifacts = _model_store(stack) or data
    retention = spec.monitoring.log_retention_days if spec.monitoring is not None else 365
    protect = spec.storage.deletion_protection
    out: dict[str, list[Endpoint]] = {e.name: [] for e in spec.serving.endpoints}
    for i, region in enumerate(spec.regions):
        provider = providers[region]
        network = stack.network if i == 0 else None
        if network is None:
            network = Network(
                stack,
                f"serving-network-{region}",
                NetworkProps(
                    name=spec.resource_name("serving-net", region),
                    zone_names=[f"{region}{z}" for z in "ab"],
                    interface_endpoints=[],
                    **NetworkSettings(cidr=f"10.{60 + i}.0.0/16", zones=2).model_dump(),
                ),
                provider=provider,
            )
        capture_store, artifact_store = data, artifacts
        if i > 0 and region != spec.replica_region:
            store = DataStore(
                stack,
                f"serving-store-{region}",
                DataStoreProps(
                    name=spec.resource_name("serving", region),
                    versioning=spec.storage.versioning,
                    lifecycle=spec.storage.lifecycle,
                    encryption=spec.storage.encryption,
                    deletion_protection=protect,
                    access_logging=spec.storage.access_logging,
                ),
                provider=provider,
            )
            artifacts.replicate_prefix(MODEL_ARTIFACTS_PREFIX, store, region=region)
            capture_store = artifact_store = store
        for settings in spec.serving.endpoints:
            endpoint = Endpoint(
                stack,
                f"endpoint-{settings.name}-{region}",
                EndpointProps(
                    **{**settings.model_dump(), "name": spec.resource_name(settings.name, max_length=32)},
                    region=region,
                    log_retention_days=retention,
                ),
                capture_store=capture_store,
                artifact_store=artifact_store,
                network=network,
                provider=provider,
                images=stack.containers,
            )
            out[settings.name].append(endpoint)
    for name, regional in out.items():
        _output(
            stack,
            f"serving_{name}",
            {
                e.region: {
                    "endpoint_name": e.endpoint_name,
                    "bootstrap_config": e.bootstrap_config_name,
                    "role_arn": e.principal_arn,
                    "capture_uri": e.capture_uri,
                    "model_artifacts_uri": e.model_artifacts_uri,
                }
                for e in regional
            },
            f"Endpoint {name} per region: the pipeline deploys models with role_arn and a copy of bootstrap_config",
        )
    stack.endpoints = {name: {e.region: e for e in regional} for name, regional in out.items()}
    return out
