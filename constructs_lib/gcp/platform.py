"""The GCP platform: providers and constructs for one :class:`PlatformSpec` with ``cloud: gcp``."""

from __future__ import annotations

from typing import Any

from ..core import engine
from ..core.construct import grant_training
from ..core.providers import declare_provider
from ..core.recovery import Recovery, recovery_output
from ..core.spec import PlatformSpec
from ..core.tags import gcp_labels
from .budget import Budget, BudgetProps
from .features import FeatureStore, FeatureStoreProps
from .monitoring import Monitoring, MonitoringProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .routing import Routing, RoutingProps
from .serving import Endpoint, EndpointProps
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

    The run side (see :func:`build_run_side`) follows: endpoints, routing, monitoring, budget and
    the ``recovery_*`` outputs.
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
    # What every build-side construct takes alike: placement, the spec's key settings, protection.
    common = {"encryption": spec.storage.encryption, "deletion_protection": protect, **where}
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
                **common,
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
                **common,
            ),
        )
        m = spec.registry.models
        models = ModelRegistry(
            stack,
            "models",
            ModelRegistryProps(
                name=spec.resource_name("models"),
                **m.model_dump(),
                access_logging=spec.storage.access_logging,
                replication_region=spec.replica_region,
                **common,
            ),
        )
    if spec.tracking is not None:
        tracking = Tracking(
            stack,
            "tracking",
            TrackingProps(
                name=spec.resource_name("tracking"),
                **spec.tracking.model_dump(),
                **common,
            ),
        )
    if spec.features is not None:
        features = FeatureStore(
            stack,
            "features",
            FeatureStoreProps(
                name=spec.resource_name("features"),
                **spec.features.model_dump(),
                **common,
            ),
        )
    stack.network, stack.training, stack.containers = network, training, containers
    stack.models, stack.tracking, stack.features = models, tracking, features

    if training is not None:
        _grant_training(stack, training, containers, models, tracking, features)
    build_run_side(stack, spec)


def _grant_training(stack: Any, training: Training, containers: Any, models: Any, tracking: Any, features: Any) -> None:
    # --- least privilege for the training identity --------------------------------------------
    grant_training(training.principal, data=stack.stores.get("data"), artifacts=stack.stores.get("artifacts"),
                   containers=containers, models=models, tracking=tracking, features=features, id="Training")
    if containers is not None:
        containers.grant_pull(training.node_principal, id="TrainingNodes")  # kubelet pulls images

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


# ----------------------------------------------------------------------------------- run side


def build_run_side(stack: Any, spec: PlatformSpec) -> None:
    """Serving, routing, monitoring and budget from the spec's sections (each optional).

    * ``serving``: per endpoint and per region of the spec an :class:`Endpoint` (construct id
      ``serving-<name>-<region>``, endpoint id ``<platform>-<env>-<name>``, the same in every
      region). One ``google`` provider serves all regions (every resource names its region), so no
      aliased provider is declared. Captured requests go to BigQuery under the ``data`` store's key
      (the first store's without ``data``). Endpoints are private (VPC peering to
      ``stack.network``) when the platform has a network and no ``routing``; public dedicated
      endpoints (IAM-authenticated) when ``routing`` needs to reach them;
    * ``routing``: one :class:`Routing` over every regional endpoint;
    * ``monitoring``: one :class:`Monitoring` watching every endpoint, the training cluster,
      every replicated store and the routing health checks;
    * ``budget``: a :class:`Budget` when the spec names a billing account
      (``gcp.billing_account``); otherwise the output ``budget_status`` says it was skipped.

    Outputs: ``serving_<name>_endpoints`` / ``serving_<name>_deploy`` (region -> endpoint id /
    phase-2 deploy command), ``routing_name_servers``, ``routing_hostnames``,
    ``data_quality_commands``, ``budget_status``, and ``recovery_serving``,
    ``recovery_model_registry``, ``recovery_container_registry``, ``recovery_tracking``,
    ``recovery_features`` ({rpo_minutes, rto_minutes, replica_region}; null = no cross-region copy).
    Constructs: ``stack.endpoints`` (endpoint name -> region -> Endpoint), ``stack.routing``,
    ``stack.monitoring``, ``stack.budget`` (None when absent).
    """
    assert spec.gcp is not None
    project = spec.gcp.project
    out = engine.TerraformOutput
    encryption = spec.storage.encryption.model_copy(update={"key_id": None})  # regional keys per construct
    protect = spec.storage.deletion_protection

    endpoints: dict[str, dict[str, Endpoint]] = {}
    if spec.serving is not None:
        stores = stack.stores
        capture = stores.get("data") or next(iter(stores.values()), None)
        private_net = stack.network if spec.routing is None else None
        for settings in spec.serving.endpoints:
            regional: dict[str, Endpoint] = {}
            for region in spec.regions:
                regional[region] = Endpoint(
                    stack,
                    f"serving-{settings.name}-{region}",
                    EndpointProps(
                        **{**settings.model_dump(), "name": spec.resource_name(settings.name, max_length=32)},
                        dns_label=settings.name,
                        encryption=encryption,
                        deletion_protection=protect,
                        project=project,
                        location=region,
                    ),
                    capture_store=capture,
                    network=private_net,
                )
            endpoints[settings.name] = regional
            label = settings.name.replace("-", "_")
            out(stack, f"serving_{label}_endpoints", value={r: e.endpoint_id for r, e in regional.items()},
                description=f"Vertex AI endpoint ids of {settings.name} by region")
            out(stack, f"serving_{label}_deploy", value={r: e.deploy_command for r, e in regional.items()},
                description=f"Phase 2: deploy an uploaded model (MODEL_ID) to {settings.name}, per region")
    stack.endpoints = endpoints
    every = [e for regional in endpoints.values() for e in regional.values()]

    routing = None
    if spec.routing is not None:
        routing = Routing(
            stack,
            "routing",
            RoutingProps(**spec.routing.model_dump(), name=spec.resource_name("dns"), project=project),
            endpoints=every,
        )
        out(stack, "routing_name_servers", value=routing.name_servers,
            description="Delegate the routing domain to these name servers (and add the DS record at the parent)")
        out(stack, "routing_hostnames", value=routing.hostnames, description="Global name of each endpoint")
    stack.routing = routing

    monitoring = None
    if spec.monitoring is not None:
        monitoring = Monitoring(
            stack,
            "monitoring",
            MonitoringProps(
                **spec.monitoring.model_dump(),
                name=spec.resource_name("mon"),
                encryption=encryption,
                deletion_protection=protect,
                project=project,
                location=spec.primary_region,
            ),
        )
        for e in every:
            monitoring.watch_endpoint(e)
        if stack.training is not None:
            monitoring.watch_training(stack.training)
        for store in stack.stores.values():
            monitoring.watch_store(store)
        if stack.models is not None:
            monitoring.watch_store(stack.models.store)
        if routing is not None:
            monitoring.watch_routing(routing)
        if monitoring.data_quality_commands:
            out(stack, "data_quality_commands", value=monitoring.data_quality_commands,
                description="Phase 2: create a Vertex AI model monitoring job per endpoint once a model is deployed")
    stack.monitoring = monitoring

    budget = None
    if spec.budget is not None:
        billing_account = getattr(spec.gcp, "billing_account", None)
        if billing_account is None:
            out(stack, "budget_status", value="skipped: set gcp.billing_account",
                description="GCP budgets are created on a billing account, which the spec does not name")
        else:
            assert monitoring is not None  # the spec validator requires monitoring with a budget
            budget = Budget(
                stack,
                "budget",
                BudgetProps(**spec.budget.model_dump(), name=spec.resource_name("budget"),
                            billing_account=billing_account, project=project),
                alert_target_id=monitoring.alert_target,
            )
            out(stack, "budget_status", value="created", description="Monthly budget on the billing account")
    stack.budget = budget
    _recovery_outputs(stack, spec, endpoints)


def _recovery_outputs(stack: Any, spec: PlatformSpec, endpoints: dict[str, dict[str, Endpoint]]) -> None:
    def emit(thing: str, rec: Recovery, what: str) -> None:
        recovery_output(stack, f"recovery_{thing}", rec,
                        f"Recovery objectives of {what} (minutes; null = no cross-region copy / not applicable)")

    none = Recovery(rpo_minutes=None, rto_minutes=None)
    if endpoints:
        first = next(iter(next(iter(endpoints.values())).values()))
        failover = spec.regions[1] if len(spec.regions) > 1 else None
        rec = first.recovery if failover else none
        emit("serving", Recovery(rec.rpo_minutes, rec.rto_minutes, failover), "serving (RPO n/a: no data)")
    if stack.models is not None:
        emit("model_registry", stack.models.store.recovery, "the model registry bucket")
    if stack.containers is not None:
        emit("container_registry", none, "the container registry (regional Artifact Registry)")
    if stack.tracking is not None:
        emit("tracking", none, "experiment tracking (regional Vertex AI TensorBoard)")
    if stack.features is not None:
        emit("features", none, "the feature store (regional BigQuery dataset and online store)")
