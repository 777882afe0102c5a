"""The platform's contract: what every cloud's constructs expose, and the stack outputs built from it.

A :class:`~constructs_lib.platform.PlatformStack` holds one construct per spec section. Whatever the
cloud, each of them is the same *kind* of thing: the protocols below name the attributes the
platform plan, the outputs, the report and the cost command read. Every cloud's kit returns
constructs that satisfy them (checked by ``tests/test_contract.py``).

:func:`emit_outputs` is the one function that writes a platform stack's outputs. Each output has the
same name and the same value shape on every cloud for the same spec section (:data:`OUTPUTS`
documents them; the README's "Outputs" table is generated from it). An output only one cloud can
have carries the cloud's prefix (``aws_``, ``azure_``, ``gcp_``) and comes from the kit's
``cloud_outputs()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from . import engine
from .errors import ConstructError
from .recovery import Recovery

__all__ = [
    "AirflowLike",
    "BudgetLike",
    "CloudOutput",
    "ContainerRegistryLike",
    "DataStoreLike",
    "DeltaWriter",
    "DvcRemote",
    "EndpointLike",
    "FeatureStoreLike",
    "ModelRegistryLike",
    "MonitoringLike",
    "NetworkLike",
    "OUTPUTS",
    "PipelineLike",
    "RoutingLike",
    "StoreAccess",
    "TrackingLike",
    "TrainingLike",
    "emit_outputs",
    "output_name",
]


@runtime_checkable
class DataStoreLike(Protocol):
    """A versioned, encrypted store (S3 bucket / storage account / GCS bucket)."""

    store_name: str
    key_id: str
    recovery: Recovery


@runtime_checkable
class NetworkLike(Protocol):
    """The private network of the ML workloads (VPC / VNet / VPC network)."""

    network_id: str
    private_subnet_ids: list[str]


@runtime_checkable
class TrainingLike(Protocol):
    """Training pools and the identity jobs run as."""

    #: AWS execution role ARN / Azure principal (object) id / GCP service-account email.
    principal_id: str
    #: Pool name -> ``{"target": what jobs are submitted to, "fallback": on-demand fallback or None}``
    #: (AWS Batch job queue name / Azure ML compute cluster name / GKE node pool name).
    pool_targets: Mapping[str, Mapping[str, str | None]]


@runtime_checkable
class ContainerRegistryLike(Protocol):
    """Container images (ECR / ACR / Artifact Registry)."""

    #: Registry host images are pushed to (``<account>.dkr.ecr.<region>.amazonaws.com``, the ACR
    #: login server, ``<region>-docker.pkg.dev``).
    registry_url: str
    #: Repository name -> full image repository URL.
    repository_urls: Mapping[str, str]
    recovery: Recovery


@runtime_checkable
class ModelRegistryLike(Protocol):
    """Model versions with an approval gate."""

    #: SageMaker model package group name / Azure ML registry id / GCS model bucket name.
    registry_id: str
    #: Who may approve: approver role ARN / principal id / service-account email (None: no approver identity).
    approver_id: str | None
    recovery: Recovery


@runtime_checkable
class TrackingLike(Protocol):
    """Experiment tracking."""

    #: MLflow tracking URI (AWS server ARN, Azure workspace MLflow URI, GCP with ``tracking.mlflow``
    #: the MLflow server's Cloud Run URL) / GCP without it: the Vertex TensorBoard id.
    tracking_uri: str
    #: SaaS tracker -> secret id where its API key goes (empty secrets, filled by the user).
    secret_ids: Mapping[str, str]
    recovery: Recovery


@runtime_checkable
class FeatureStoreLike(Protocol):
    """Feature store."""

    store_id: str
    #: Feature group name -> the cloud's id of it.
    group_ids: Mapping[str, str]
    recovery: Recovery


@runtime_checkable
class EndpointLike(Protocol):
    """One serving endpoint in one region."""

    endpoint_id: str
    #: HTTPS URL that scores requests (SageMaker runtime invocations URL / Azure ML scoring URI /
    #: Vertex AI ``:predict`` URL); None (output null) where no URL exists before a model is
    #: deployed (a GCP private endpoint: its predict URL is an IP of the peered range).
    invoke_url: str | None
    #: Recovery objectives of serving when this endpoint's region is lost.
    recovery: Recovery


@runtime_checkable
class RoutingLike(Protocol):
    """Health-checked global routing in front of regional endpoints."""

    #: Endpoint name -> the global hostname callers use.
    hostnames: Mapping[str, str]
    name_servers: Any
    #: Recovery objectives of serving (failover of the routing in front of the endpoints).
    recovery: Recovery


@runtime_checkable
class MonitoringLike(Protocol):
    """Alarms, dashboards and the alert target."""

    #: Where alerts go: SNS topic ARN / action group id / notification channel ids.
    alert_targets: Sequence[str]


@runtime_checkable
class BudgetLike(Protocol):
    """Monthly budget."""

    budget_id: str


@runtime_checkable
class PipelineLike(Protocol):
    """One ML pipeline."""

    pipeline_id: str
    #: What starts a run: SageMaker pipeline ARN / None (Azure: schedules and triggers start jobs) /
    #: the Pub/Sub start topic.
    trigger_id: str | None


@runtime_checkable
class AirflowLike(Protocol):
    """Managed Airflow (AWS MWAA, GCP Cloud Composer)."""

    airflow_uri: str


@dataclass(frozen=True)
class CloudOutput:
    """An output only one cloud has: its name starts with the cloud's prefix."""

    name: str
    value: Any
    description: str


@dataclass(frozen=True)
class DvcRemote:
    """A ready DVC remote of a store: ``url`` in the DVC plugin's scheme (``s3://``, ``azure://``,
    ``gs://``) and the remote ``settings`` that plugin needs (option -> value); credentials always come
    from the environment (OIDC / workload or managed identity / ADC), never from the settings."""

    url: str
    settings: Mapping[str, Any]


@dataclass(frozen=True)
class DeltaWriter:
    """What a Delta Lake writer needs for a store: the table ``root``, the delta-rs
    ``storage_options`` (also valid as environment variables), in words what makes concurrent
    ``commit``s safe there, and the DynamoDB ``lock_table`` of writers that coordinate through one
    (AWS: Spark's S3DynamoDBLogStore; None where no writer needs one)."""

    root: str
    storage_options: Mapping[str, str]
    commit: str
    lock_table: str | None = None


@dataclass(frozen=True)
class StoreAccess:
    """How tools reach one store: its DVC remote, and its Delta Lake writer settings with ``storage.delta``."""

    dvc: DvcRemote
    delta: DeltaWriter | None = None


@dataclass(frozen=True)
class _Spec:
    name: str
    meaning: str
    shape: str
    clouds: str = "all"


#: The output contract, in the order the outputs are written (``<x>`` = a name from the spec).
OUTPUTS: tuple[_Spec, ...] = (
    _Spec("store_<store>_name", "bucket / storage account name of a store", "string"),
    _Spec("store_<store>_key", "customer-managed key of a store", "string"),
    _Spec("store_<store>_recovery", "recovery objectives of a store", "recovery"),
    _Spec("store_<store>_dvc", "DVC remote of a store (`cdktf-mlops dvc` prints it as `.dvc/config`)", "{url, settings: map option -> value}"),
    _Spec("store_<store>_delta", "with `storage.delta`: Delta Lake table root, writer storage options, what makes commits safe", "{root, storage_options: map option -> string, lock_table, commit}"),
    _Spec("network_id", "the workloads' network (VPC / VNet / VPC network)", "string"),
    _Spec("network_private_subnet_ids", "private subnets of the workloads", "list of strings"),
    _Spec("training_principal", "identity jobs run as (role ARN / principal id / service-account email)", "string"),
    _Spec("training_pools", "per pool: what jobs are submitted to and its on-demand fallback", "map pool -> {target, fallback}"),
    _Spec("container_registry", "registry host and repository URLs", "{url, repositories: map name -> URL}"),
    _Spec("model_registry", "model registry id and who may approve", "{id, approver}"),
    _Spec("tracking_uri", "MLflow tracking URI (GCP: the MLflow server's URL with tracking.mlflow, else the Vertex TensorBoard id)", "string"),
    _Spec("tracking_secrets", "where each SaaS tracker's API key goes", "map tracker -> secret id"),
    _Spec("feature_store", "feature store id and its groups", "{id, groups: map name -> id}"),
    _Spec("serving_<endpoint>", "the endpoint in each region", "map region -> {id, url}"),
    _Spec("routing_hostnames", "global hostname per endpoint", "map endpoint -> hostname"),
    _Spec("routing_name_servers", "name servers to delegate the routing domain to", "list of strings"),
    _Spec("alert_targets", "where alerts go", "list of strings"),
    _Spec("budget_id", "the monthly budget", "string"),
    _Spec("pipeline_<pipeline>", "pipeline id and what starts a run", "{id, trigger}"),
    _Spec("airflow_uri", "Airflow web UI", "string", "aws, gcp"),
    _Spec("recovery_<thing>", "recovery objectives of container_registry, model_registry, tracking, features, serving", "recovery"),
)

_PREFIXES = ("aws_", "azure_", "gcp_")


def output_name(*parts: str) -> str:
    """An output name from spec names: lowercase, ``-`` -> ``_`` (Terraform identifiers)."""
    return "_".join(p.replace("-", "_") for p in parts if p).lower()


def _null(value: Any) -> Any:
    return engine.Token.null_value() if value is None else value


def _out(stack: Any, name: str, value: Any, description: str) -> None:
    engine.TerraformOutput(stack, name, value=value, description=description)


def _recovery(stack: Any, name: str, thing: Any, what: str) -> None:
    rec: Recovery = thing.recovery
    _out(stack, name, rec.output_value(), f"Recovery objectives of {what} (minutes; null = no cross-region copy)")


def _access_outputs(stack: Any, name: str, access: StoreAccess | None) -> None:
    if access is None:
        return
    _out(stack, output_name("store", name, "dvc"), {"url": access.dvc.url, "settings": dict(sorted(access.dvc.settings.items()))},
         f"DVC remote of the {name} store: url and the DVC plugin's remote settings (credentials from the environment)")
    if access.delta is not None:
        delta = access.delta
        _out(stack, output_name("store", name, "delta"),
             {"root": delta.root, "storage_options": dict(sorted(delta.storage_options.items())),
              "lock_table": _null(delta.lock_table), "commit": delta.commit},
             f"Delta Lake writers of the {name} store: table root, storage options, what makes concurrent commits safe")


def _build_outputs(stack: Any, access: Mapping[str, StoreAccess]) -> None:
    for name, store in stack.stores.items():
        _out(stack, output_name("store", name, "name"), store.store_name, f"Name of the {name} store")
        _out(stack, output_name("store", name, "key"), store.key_id, f"Customer-managed key of the {name} store")
        _recovery(stack, output_name("store", name, "recovery"), store, f"the {name} store")
        _access_outputs(stack, name, access.get(name))
    if stack.network is not None:
        _out(stack, "network_id", stack.network.network_id, "Network of the ML workloads")
        _out(stack, "network_private_subnet_ids", stack.network.private_subnet_ids, "Private subnets of the ML workloads")
    if stack.training is not None:
        _out(stack, "training_principal", stack.training.principal_id, "Identity training jobs run as")
        pools = {k: {"target": v["target"], "fallback": _null(v.get("fallback"))} for k, v in sorted(stack.training.pool_targets.items())}
        _out(stack, "training_pools", pools, "Per training pool: what jobs are submitted to, and its on-demand fallback")
    if stack.containers is not None:
        value = {"url": stack.containers.registry_url, "repositories": dict(sorted(stack.containers.repository_urls.items()))}
        _out(stack, "container_registry", value, "Container registry host and repository URLs")
    if stack.models is not None:
        _out(stack, "model_registry", {"id": stack.models.registry_id, "approver": _null(stack.models.approver_id)},
             "Model registry and the identity that approves model versions")
    if stack.tracking is not None:
        _out(stack, "tracking_uri", stack.tracking.tracking_uri, "Experiment tracking URI")
        _out(stack, "tracking_secrets", dict(sorted(stack.tracking.secret_ids.items())),
             "Empty secret per SaaS tracker: put the tracker's API key there")
    if stack.features is not None:
        _out(stack, "feature_store", {"id": stack.features.store_id, "groups": dict(sorted(stack.features.group_ids.items()))},
             "Feature store and its feature groups")


def _run_outputs(stack: Any) -> None:
    for name, regions in stack.endpoints.items():
        value = {region: {"id": ep.endpoint_id, "url": _null(ep.invoke_url)} for region, ep in regions.items()}
        _out(stack, output_name("serving", name), value, f"Endpoint {name} per region: id and scoring URL")
    if stack.routing:
        hostnames: dict[str, str] = {}
        for routing in dict.fromkeys(stack.routing.values()):
            hostnames.update(routing.hostnames)
        _out(stack, "routing_hostnames", dict(sorted(hostnames.items())), "Global hostname per endpoint")
        first = next(iter(stack.routing.values()))
        _out(stack, "routing_name_servers", first.name_servers, "Delegate the routing domain to these name servers")
    if stack.monitoring is not None:
        _out(stack, "alert_targets", list(stack.monitoring.alert_targets), "Where alerts go")
    if stack.budget is not None:
        _out(stack, "budget_id", stack.budget.budget_id, "Monthly budget")
    for name, pipeline in stack.pipelines.items():
        _out(stack, output_name("pipeline", name), {"id": pipeline.pipeline_id, "trigger": _null(pipeline.trigger_id)},
             f"Pipeline {name}: id and what starts a run")
    if stack.airflow is not None:
        _out(stack, "airflow_uri", stack.airflow.airflow_uri, "Airflow web UI")


def _recovery_outputs(stack: Any) -> None:
    things = (("container_registry", stack.containers), ("model_registry", stack.models),
              ("tracking", stack.tracking), ("features", stack.features))
    for thing, construct in things:
        if construct is not None:
            _recovery(stack, f"recovery_{thing}", construct, thing.replace("_", " "))
    if stack.routing:
        _recovery(stack, "recovery_serving", next(iter(stack.routing.values())), "serving")
    elif stack.endpoints:
        first = next(iter(next(iter(stack.endpoints.values())).values()))
        _recovery(stack, "recovery_serving", first, "serving")


def emit_outputs(stack: Any, cloud_outputs: Sequence[CloudOutput] = (),
                 store_access: Mapping[str, StoreAccess] | None = None) -> None:
    """Write every output of a platform stack: the contract (:data:`OUTPUTS`) and the cloud's own.

    ``stack`` has the platform attributes (``stores``, ``network``, ``training``, ``containers``,
    ``models``, ``tracking``, ``features``, ``endpoints``, ``routing``, ``monitoring``, ``budget``,
    ``pipelines``, ``airflow``); ``cloud_outputs`` must each carry the cloud's prefix. The
    ``store_<store>_dvc`` / ``store_<store>_delta`` outputs come from ``store_access`` (store name ->
    :class:`StoreAccess`, the kit's ``store_access()``); a store without an entry gets neither.
    """
    _build_outputs(stack, store_access or {})
    _run_outputs(stack)
    _recovery_outputs(stack)
    for extra in cloud_outputs:
        if not extra.name.startswith(_PREFIXES):
            raise ConstructError(
                stack.node.path,
                f"output {extra.name!r} is not in the output contract; a cloud-only output must start "
                f"with one of {', '.join(_PREFIXES)}",
            )
        _out(stack, extra.name, extra.value, extra.description)
