"""The GCP platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: gcp``."""

from __future__ import annotations

from typing import Any

from ..core import engine
from ..core.providers import declare_provider
from ..core.spec import PlatformSpec
from ..core.tags import gcp_labels
from .features import FeatureStore, FeatureStoreProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .storage import DataStore, DataStoreProps
from .tracking import Tracking, TrackingProps
from .training import Training, TrainingProps

__all__ = ["build_platform"]


def build_platform(stack: Any, spec: PlatformSpec) -> None:
    """Declare ``google`` (stack tags as normalised ``default_labels``) and the platform's constructs.

    Builds the stores, then (when the spec has the section) the network, training, container and
    model registries, tracking and the feature store, and grants the training identity exactly:
    read ``data``, write ``artifacts``, pull images, publish models, use tracking and read its
    tracker secrets, read features. Constructs are reachable as ``stack.network``,
    ``stack.training``, ``stack.containers``, ``stack.models``, ``stack.tracking``,
    ``stack.features`` (None when absent).
    """
    assert spec.gcp is not None  # guaranteed by the spec validator
    project = spec.gcp.project
    region = spec.primary_region
    protect = spec.storage.deletion_protection
    declare_provider(
        stack,
        "google",
        project=project,
        region=region,
        default_labels=gcp_labels(spec.all_tags),
    )
    for store in spec.storage.stores:
        props = DataStoreProps(
            name=spec.resource_name(store),
            project=project,
            location=region,
            **spec.store_settings(),
        )
        stack.stores[store] = DataStore(stack, store, props)

    where = {"project": project, "location": region}
    network = training = containers = models = tracking = features = None
    settings = spec.network_settings
    if settings is not None:
        network = Network(stack, "network", NetworkProps(name=spec.resource_name("net"), **where, **settings.model_dump()))
    if spec.training is not None:
        assert network is not None  # network_settings is set whenever training is
        training = Training(
            stack,
            "training",
            TrainingProps(
                name=spec.resource_name("training"),
                pools=spec.training.pools,
                encryption=spec.storage.encryption,
                deletion_protection=protect,
                **where,
            ),
            network=network,
        )
    if spec.registry is not None:
        c = spec.registry.containers
        containers = ContainerRegistry(
            stack,
            "containers",
            ContainerRegistryProps(
                name=spec.resource_name("images"),
                **c.model_dump(),
                encryption=spec.storage.encryption,
                deletion_protection=protect,
                **where,
            ),
        )
        m = spec.registry.models
        models = ModelRegistry(
            stack,
            "models",
            ModelRegistryProps(
                name=spec.resource_name("models"),
                **m.model_dump(),
                encryption=spec.storage.encryption,
                deletion_protection=protect,
                access_logging=spec.storage.access_logging,
                replication_region=spec.replica_region,
                **where,
            ),
        )
    if spec.tracking is not None:
        tracking = Tracking(
            stack,
            "tracking",
            TrackingProps(
                name=spec.resource_name("tracking"),
                **spec.tracking.model_dump(),
                encryption=spec.storage.encryption,
                deletion_protection=protect,
                **where,
            ),
        )
    if spec.features is not None:
        features = FeatureStore(
            stack,
            "features",
            FeatureStoreProps(
                name=spec.resource_name("features"),
                **spec.features.model_dump(),
                encryption=spec.storage.encryption,
                deletion_protection=protect,
                **where,
            ),
        )
    stack.network, stack.training, stack.containers = network, training, containers
    stack.models, stack.tracking, stack.features = models, tracking, features

    if training is None:
        return
    # --- least privilege for the training identity --------------------------------------------
    who = training.principal
    if "data" in stack.stores:
        stack.stores["data"].grant_read(who, id="Training")
    if "artifacts" in stack.stores:
        stack.stores["artifacts"].grant_write(who, id="Training")
    if containers is not None:
        containers.grant_pull(who, id="Training")
        containers.grant_pull(training.node_principal, id="TrainingNodes")  # kubelet pulls images
    if models is not None:
        models.grant_write(who, id="Training")
    if tracking is not None:
        tracking.grant_access(who, id="Training")
        tracking.grant_secret_read(who, id="Training")
    if features is not None:
        features.grant_read(who, id="Training")

    _outputs(stack, training, containers, models, tracking, features)


def _outputs(stack: Any, training: Training, containers: Any, models: Any, tracking: Any, features: Any) -> None:
    out = engine.TerraformOutput
    out(stack, "training_principal", value=training.service_account_email,
        description="E-mail of the training service account (annotate the Kubernetes service account with it)")
    out(stack, "training_cluster", value=training.cluster.ref("name"), description="GKE training cluster")
    if containers is not None:
        out(stack, "container_registry_urls", value=containers.repository_urls,
            description="Docker repository URLs (docker push URL/IMAGE:TAG)")
    if models is not None:
        out(stack, "model_registry_bucket", value=models.artifact_uri,
            description="Model artifacts bucket: training writes candidates/, the approver approved/")
        out(stack, "model_registry_approver", value=models.approver.ref("email"),
            description="Service account that approves model versions")
    if tracking is not None:
        out(stack, "tracking_tensorboard", value=tracking.tensorboard_id,
            description="Vertex AI TensorBoard for aiplatform.init(experiment_tensorboard=...)")
        if tracking.secret_ids:
            out(stack, "tracking_secrets", value=tracking.secret_ids,
                description="Secret Manager ids to fill with the SaaS tracker API keys (gcloud secrets versions add)")
    if features is not None:
        out(stack, "feature_dataset", value=features.dataset_id, description="BigQuery dataset of the offline feature store")
