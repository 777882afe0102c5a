"""The AWS platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: aws``.

Build side wiring (each part only when its spec section is present):

* ``network`` from ``spec.network_settings`` (created when training, tracking or features need it);
* ``training`` (Batch pools + the execution role) in the network's private subnets;
* ``containers`` / ``models`` from ``spec.registry``; ``tracking``; ``features``;
* grants of the training execution role, and nothing else: read the ``data`` store, write the
  ``artifacts`` store, pull images, register model versions (pending approval), use tracking and
  read its tracker secrets, read the feature store.
"""

from __future__ import annotations

from typing import Any

from ..core import engine
from ..core.providers import declare_provider
from ..core.spec import PlatformSpec
from .features import FeatureStore, FeatureStoreProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
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


def _store(stack: Any, preferred: str) -> DataStore | None:
    stores: dict[str, DataStore] = stack.stores
    return stores.get(preferred) or next(iter(stores.values()), None)


def _build_side(stack: Any, spec: PlatformSpec) -> None:
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
            NetworkProps(name=spec.resource_name("net"), zone_names=zone_names, **settings.model_dump()),
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

    training = None
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
        principal = training.principal
        _output(stack, "training_principal_arn", training.principal_arn, "Execution role of SageMaker and Batch jobs")
        _output(stack, "training_job_queues", {k: v.ref("name") for k, v in training.pools.items()},
                "Batch job queue per training pool")
        _output(stack, "training_vpc_config", training.vpc_config, "VpcConfig for SageMaker training jobs")
        if data is not None:
            data.grant_read(principal)
        if artifacts is not None:
            artifacts.grant_write(principal)
        if containers is not None:
            containers.grant_pull(principal)
        if models is not None:
            models.grant_write(principal)

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
            if training is not None:
                tracking.grant_access(training.principal)
                tracking.grant_secret_read(training.principal)

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
                features.grant_read(training.principal)
