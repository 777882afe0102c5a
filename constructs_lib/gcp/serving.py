"""Model serving on GCP: a Vertex AI endpoint with an autoscaled deployment resource pool, in one region.

``Endpoint`` is the GCP member of the ``Endpoint`` family (same class name and public attributes
on AWS and Azure). The platform creates one per region of the spec, all with the same endpoint id,
so global routing (:class:`~constructs_lib.gcp.routing.Routing`) can put them behind one name. On
GCP one ``google`` provider serves every region: each resource names its region, so no aliased
provider is needed (``provider`` is still accepted, e.g. for another project's credentials).

From one :class:`EndpointProps` it emits:

* ``google_vertex_ai_endpoint`` (child ``Resource``): CMEK (``encryption_spec``) with the
  endpoint's own key in its region (Vertex AI needs the key in the endpoint's region), request and
  response logging of ``data_capture_percent`` of the traffic to BigQuery
  (``predict_request_response_logging_config``), and either a **dedicated public endpoint**
  (``dedicated_endpoint_enabled``: its own DNS name, IAM-authenticated only — every call needs an
  OAuth token with ``aiplatform.endpoints.predict``) or, with ``network``, a **private endpoint**
  reachable only from that VPC through VPC peering (``network``; private services access is set
  up once per network, see :func:`private_services_access`). ``lifecycle.ignore_changes =
  [traffic_split]``: the pipeline owns which model version serves (see *Two phases* below);
* ``google_vertex_ai_deployment_resource_pool`` (child ``Pool``): the autoscaled replicas models
  are deployed onto — ``min_replica_count = min_instances``, ``max_replica_count =
  max_instances``, autoscaling on ``aiplatform.googleapis.com/prediction/online/request_count``
  with target ``target_invocations_per_instance`` (requests per replica per minute), machine type
  (default n2-standard-4, g2-standard-8 = one NVIDIA L4 with ``gpu``) and accelerators;
* a BigQuery dataset (child ``Capture``) for the captured requests and responses: in the capture
  store's location and encrypted with the capture store's key when that key's location covers the
  endpoint's region (a dual-region US store: dataset location ``US``, key in ``us``), otherwise
  in the endpoint's region with the endpoint's key. Writes are granted to the Vertex AI service
  agent (``roles/bigquery.dataEditor`` on this dataset), the key to the BigQuery encryption
  service agent;
* a :class:`~constructs_lib.gcp.keys.Key` (child ``Key``) unless ``encryption.key_id`` is given,
  with encrypt/decrypt for the Vertex AI and BigQuery service agents.

**Cooldowns.** Vertex AI does not expose scale-in / scale-out cooldowns (neither the API nor
Terraform): it scales out as soon as the target is exceeded and scales in after its own
stabilisation window (several minutes). ``scale_in_cooldown_seconds`` and
``scale_out_cooldown_seconds`` are accepted for parity, kept in ``autoscaling`` and not enforced.

**Two phases (deployable before the first model).** No Terraform resource deploys a model to a
Vertex AI endpoint. Phase 1 (``terraform apply``): the endpoint, its pool, key and capture dataset
exist and serve nothing (predict calls get an error: no deployed model). Phase 2 (the pipeline,
after a model version is approved): ``gcloud ai models upload`` then ``gcloud ai endpoints
deploy-model ... --shared-resources=<pool>`` (``deploy_command`` has the exact commands) deploys it
onto the pool with 100 % of the traffic and undeploys the previous version. That changes the
endpoint's ``traffic_split``; Terraform ignores it, so a later ``apply`` never takes traffic away
from the model the pipeline deployed.

**Model artifacts per region.** Vertex AI models are regional, and a model is imported only from
a bucket in the region it is uploaded to. With ``model_registry``, ``model_artifacts_uri`` is the
``approved/`` prefix of the bucket this region imports from: the model bucket when it is a
regional bucket in this region, else the region's serving copy
(:meth:`~constructs_lib.gcp.registry.ModelRegistry.serving_copy`). ``deploy_command`` then starts
with the copy of the approved version into that bucket (``gcloud storage rsync``, only for a
serving copy) and its upload in this region, one command per line.

Recovery: serving holds no data (RPO n/a, ``None``). RTO is the time global routing needs to
notice a regional failure and callers to follow: :data:`DETECTION_SECONDS` (uptime checks every
60 s, 3 consecutive failures) plus the record TTL (:data:`RECORD_TTL_SECONDS`) = 4 minutes. On GCP
the switch itself is an operator (or automation) step on the alert: Cloud DNS can health-check only
IP targets, and Vertex AI endpoints have none (``docs/gcp-run.md``). That RTO holds for an
endpoint given a ``failover_region`` (another region serving the same endpoint); a single-region
endpoint has none (``None``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import Field

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError, ConstructTypeError
from ..core.recovery import Recovery
from ..core.resource import Resource
from ..core.run_props import EndpointProps as CoreEndpointProps
from ..core.tags import gcp_labels
from ._common import (
    PROJECT_PATTERN,
    REGION_PATTERN,
    own_key,
    project_number,
    require_services,
    service_agent,
    underscored,
    use_key,
)
from .keys import ENCRYPTER_DECRYPTER_ROLE
from .network import Network
from .registry import ModelRegistry
from .storage import DataStore, multi_region_of
from .training import DEFAULT_CPU_MACHINE, DEFAULT_GPU_MACHINE, accelerator_for

__all__ = [
    "AUTOSCALING_METRIC",
    "CAPTURE_TABLE",
    "DETECTION_SECONDS",
    "RECORD_TTL_SECONDS",
    "Endpoint",
    "EndpointProps",
    "machine_memory_gib",
    "private_services_access",
]

AUTOSCALING_METRIC = "aiplatform.googleapis.com/prediction/online/request_count"
"""Vertex AI autoscaling metric of the pool: requests per replica (per minute)."""
CAPTURE_TABLE = "request_response_logging"
"""BigQuery table Vertex AI writes captured requests and responses to (created by Vertex AI)."""
UPTIME_PERIOD_SECONDS = 60
"""Cloud Monitoring's shortest uptime-check period (routing health checks)."""
FAILURE_THRESHOLD = 3
"""Consecutive failed uptime periods before a region counts as down."""
DETECTION_SECONDS = UPTIME_PERIOD_SECONDS * FAILURE_THRESHOLD
"""Time for routing's health checks to declare a region down."""
RECORD_TTL_SECONDS = 60
"""TTL of the routing records: callers follow a change within this."""

_GIB_PER_VCPU = {"standard": 4.0, "highmem": 8.0, "highcpu": 1.0}
_N1_GIB_PER_VCPU = {"standard": 3.75, "highmem": 6.5, "highcpu": 0.9}
_PEERING_PREFIX = 20


def machine_memory_gib(machine_type: str) -> float | None:
    """Memory of a predefined machine type in GiB (E2/N1/N2/N2D/C2/C2D/C3/N4/G2 standard, highmem,
    highcpu; A2 high-GPU), or None when unknown (then no memory alarm is derived from it)."""
    m = re.match(r"^(e2|n1|n2|n2d|c2|c2d|c3|n4|g2)-(standard|highmem|highcpu)-(\d+)$", machine_type)
    if m:
        table = _N1_GIB_PER_VCPU if m[1] == "n1" else _GIB_PER_VCPU
        return table[m[2]] * int(m[3])
    m = re.match(r"^a2-highgpu-(\d+)g$", machine_type)
    if m:
        return 85.0 * int(m[1])
    return None


def _covers(kms_location: str, region: str) -> bool:
    """Whether a key in ``kms_location`` can encrypt a BigQuery dataset serving ``region``: the
    same region, or the lowercase multi-region holding it (BigQuery ``US``/``EU`` datasets)."""
    return kms_location == region or (multi_region_of(region) or "").lower() == kms_location


class EndpointProps(CoreEndpointProps):
    """GCP endpoint props: the shared :class:`~constructs_lib.core.run_props.EndpointProps` plus
    project and region. ``name`` is the Vertex AI endpoint id, the same in every region."""

    project: str = Field(pattern=PROJECT_PATTERN, description="Project ID that holds the endpoint.")
    location: str = Field(pattern=REGION_PATTERN, description="Region of this endpoint (one per region), e.g. 'us-central1'.")
    dns_label: str | None = Field(
        default=None,
        pattern=r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$",
        description="Host label of the endpoint under the routing domain. Defaults to None: `name`.",
    )
    deletion_protection: bool = Field(
        default=True,
        description=(
            "Protect the endpoint's key (Cloud KMS never deletes keys; destroying versions makes "
            "captured data unreadable) and keep the capture dataset's tables on destroy. Defaults to True."
        ),
    )

    @property
    def resolved_machine_type(self) -> str:
        """``machine_type``, or the default: n2-standard-4, g2-standard-8 (one L4) with ``gpu``."""
        return self.machine_type or (DEFAULT_GPU_MACHINE if self.gpu else DEFAULT_CPU_MACHINE)


def private_services_access(network: Network, *, provider: Any = None) -> list[Resource]:
    """Private services access of ``network`` (VPC peering with Google's service producers), once
    per network: a reserved /20 (``google_compute_global_address``, purpose ``VPC_PEERING``) and the
    ``google_service_networking_connection``. Returns ``[]`` for an ``existing`` network (set it
    up where the network is managed)."""
    if network.resource is None:
        return []
    done: list[Resource] | None = network.__dict__.get("_mlops_psa")
    if done is not None:
        return done
    holder = engine.Construct(network, "PrivateServicesAccess")
    deps = require_services(network, network.project, ["servicenetworking.googleapis.com"], provider=provider)
    name = f"{network.props.name}-psa"[:63]
    address = Resource(
        holder,
        "Range",
        "google_compute_global_address",
        provider=provider,
        project=network.project,
        name=name,
        purpose="VPC_PEERING",
        address_type="INTERNAL",
        prefix_length=_PEERING_PREFIX,
        network=network.network_id,
        description="Private services access range (Vertex AI private endpoints, cdktf-mlops)",
    )
    connection = Resource(
        holder,
        "Connection",
        "google_service_networking_connection",
        provider=provider,
        depends_on=deps,
        network=network.network_id,
        service="servicenetworking.googleapis.com",
        reserved_peering_ranges=[address.ref("name")],
    )
    network.__dict__["_mlops_psa"] = [address, connection]
    return [address, connection]


class Endpoint(MlopsConstruct):
    """A Vertex AI endpoint in one region with an autoscaled pool, CMEK and request capture.

    Defaults (from :class:`EndpointProps`): 1 to 4 n2-standard-4 replicas scaling at 100 requests
    per replica per minute; 10 % of requests and responses captured to BigQuery; a new key rotated
    every 90 days; a dedicated public (IAM-authenticated) endpoint, private with ``network``.

    Public attributes (same names on every cloud):

    * ``resource`` — the ``google_vertex_ai_endpoint`` :class:`Resource`;
    * ``endpoint_name`` — the endpoint id (the literal ``name``, the same in every region);
    * ``endpoint_id`` — token of the full id (``projects/P/locations/R/endpoints/NAME``);
    * ``region`` — the endpoint's region;
    * ``health_target`` — the URL routing health-checks (the predict URL on the endpoint's
      dedicated host; with ``network``, the private host is not reachable by public checks and
      this is ``None``);
    * ``invoke_url`` — the HTTPS ``:predict`` URL callers score with (the same as
      ``health_target``); ``None`` for a private endpoint, whose predict URL (an IP in the peered
      range) exists only once a model is deployed (``gcloud ai endpoints describe``,
      ``deployedModels[].privateEndpoints.predictHttpUri``);
    * ``recovery`` — :class:`Recovery` when this region is lost: RPO ``None`` (no data); with
      ``failover_region`` (the region callers move to) the RTO of the module docstring and that
      region, without one RTO ``None`` (nothing to fail over to);

    and GCP extras: ``pool`` (the deployment resource pool), ``pool_name``, ``host`` (token of the
    dedicated DNS name, ``None`` when private), ``health_path`` (path part of ``health_target``), ``dns_label`` (host label under the
    routing domain), ``capture`` (BigQuery dataset or ``None``),
    ``capture_table`` (``bq://`` URI or ``None``), ``key`` / ``key_id``, ``autoscaling`` (the
    effective settings), ``deploy_command`` (phase 2: one command per line; placeholders
    ``VERSION`` = the approved version's path under ``approved/``, e.g. ``churn/v7``, ``IMAGE`` =
    the serving container image, ``MODEL_ID`` = the model the upload created), ``machine_type``,
    ``gpu``, ``private``; with ``model_registry``: ``model_artifacts_uri`` (``gs://BUCKET/approved/``
    of the bucket Vertex AI in this region imports models from; ``None`` without a registry) and
    ``model_store`` (the region's serving copy, ``None`` when the model bucket serves the region
    or without a registry).
    """

    props_type = EndpointProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: EndpointProps,
        *,
        capture_store: DataStore | None = None,
        network: Network | None = None,
        failover_region: str | None = None,
        model_registry: ModelRegistry | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if capture_store is not None and not isinstance(capture_store, DataStore):
            raise ConstructTypeError(self.node.path, "capture_store must be a constructs_lib.gcp.DataStore")
        if model_registry is not None and not isinstance(model_registry, ModelRegistry):
            raise ConstructTypeError(self.node.path, "model_registry must be a constructs_lib.gcp.ModelRegistry")
        if network is not None and not isinstance(network, Network):
            raise ConstructTypeError(self.node.path, "network must be a constructs_lib.gcp.Network")
        project, region = props.project, props.location
        self.region = region
        self.endpoint_name = props.name
        self.dns_label = props.dns_label or props.name
        self.machine_type = props.resolved_machine_type
        self.gpu = props.gpu
        self.private = network is not None
        apis = ["aiplatform.googleapis.com"]
        if props.data_capture_percent > 0:
            apis.append("bigquery.googleapis.com")
        self._deps = require_services(self, project, apis, provider=provider)
        self._vertex_agent = service_agent(self, project, "aiplatform", provider=provider)
        self._bq_agent = service_agent(self, project, "bigquery", provider=provider)
        store_covers = capture_store is not None and _covers(capture_store.kms_location, region)
        key_grants = self._key(capture_bigquery=props.data_capture_percent > 0 and not store_covers)
        logging_config, key_grants = self._capture(capture_store if store_covers else None, key_grants)
        network_name, key_grants = self._private_network(network, key_grants)
        self._endpoint(network_name, logging_config, key_grants)
        self._pool()
        self.deploy_command = "\n".join([
            *self._model_artifacts(model_registry),
            f"gcloud ai endpoints deploy-model {props.name} --project={project} --region={region} "
            f"--model=MODEL_ID --display-name={props.name} "
            f"--shared-resources=projects/{project}/locations/{region}/deploymentResourcePools/{self.pool_name} "
            "--traffic-split=0=100",
        ])
        failover_minutes = math.ceil((DETECTION_SECONDS + RECORD_TTL_SECONDS) / 60)
        self.recovery = Recovery(
            rpo_minutes=None,
            rto_minutes=failover_minutes if failover_region is not None else None,
            replica_region=failover_region,
        )

    # --- steps of the constructor, in order -------------------------------------------------------

    def _key(self, *, capture_bigquery: bool) -> list[Resource]:
        """The endpoint's key (Vertex AI needs it in the endpoint's region), for the Vertex AI agent
        and, when captured data is encrypted with it, the BigQuery agent; returns the key grants."""
        props: EndpointProps = self.props
        agents = [("VertexAgentKey", self._vertex_agent)]
        if capture_bigquery:
            agents.append(("BigQueryAgentKey", self._bq_agent))
        self.key = own_key(
            self,
            "Key",
            props.encryption,
            name=f"{props.name}-serving",
            project=props.project,
            location=props.location,
            deletion_protection=props.deletion_protection,
            provider=self._provider,
        )
        self.key_id, key_grants = use_key(self, self.key, props.encryption, agents, provider=self._provider)
        return key_grants

    def _capture(
        self, store: DataStore | None, key_grants: list[Resource]
    ) -> tuple[dict[str, Any] | None, list[Resource]]:
        """The capture dataset (``capture``, ``capture_table``) under ``store``'s key when it covers
        the region (else the endpoint's) and the Vertex AI agent's write on it; returns the
        endpoint's logging block and what the endpoint must depend on."""
        props: EndpointProps = self.props
        project, region = props.project, props.location
        self.capture: Resource | None = None
        self.capture_table: str | None = None
        if props.data_capture_percent <= 0:
            return None, key_grants
        if store is not None:
            location, capture_key = store.kms_location, store.key_id
            location = location if location == region else location.upper()
            capture_grants = self._store_key_grant(store, self._bq_agent)
        else:
            location, capture_key, capture_grants = region, self.key_id, key_grants
        dataset_id = underscored(f"{props.name}_{region}_capture")
        self.capture = Resource(
            self,
            "Capture",
            "google_bigquery_dataset",
            provider=self._provider,
            depends_on=[*self._deps, *capture_grants],
            prevent_destroy=props.deletion_protection,
            project=project,
            dataset_id=dataset_id,
            location=location,
            friendly_name=f"{props.name} capture ({region})",
            description=(
                f"Requests and responses captured from endpoint {props.name} in {region} "
                f"({props.data_capture_percent}% sample, cdktf-mlops)"
            ),
            delete_contents_on_destroy=not props.deletion_protection,
            default_encryption_configuration={"kms_key_name": capture_key},
        )
        writer = Resource(
            self,
            "CaptureWriter",
            "google_bigquery_dataset_iam_member",
            provider=self._provider,
            project=project,
            dataset_id=self.capture.ref("dataset_id"),
            role="roles/bigquery.dataEditor",
            member=self._vertex_agent,
        )
        self.capture_table = f"bq://{project}.{dataset_id}.{CAPTURE_TABLE}"
        logging_config = {
            "enabled": True,
            "sampling_rate": props.data_capture_percent / 100,
            "bigquery_destination": {"output_uri": self.capture_table},
        }
        return logging_config, [*key_grants, writer]

    def _private_network(
        self, network: Network | None, key_grants: list[Resource]
    ) -> tuple[str | None, list[Resource]]:
        """With ``network``: its private services access and full name (what a private endpoint
        takes); returns that name (None without a network) and what the endpoint must depend on."""
        if network is None:
            return None, key_grants
        project = self.props.project
        key_grants = [*key_grants, *private_services_access(network, provider=self._provider)]
        net = network.resource.ref("name") if network.resource is not None else network.network_id.rsplit("/", 1)[-1]
        return f"projects/{project_number(self, project, provider=self._provider)}/global/networks/{net}", key_grants

    def _endpoint(
        self, network_name: str | None, logging_config: dict[str, Any] | None, depends_on: list[Resource]
    ) -> None:
        """The Vertex AI endpoint (``resource``), ``endpoint_id``, and the public dedicated host,
        ``health_target`` and ``invoke_url`` (None for a private endpoint)."""
        props: EndpointProps = self.props
        project, region = props.project, props.location
        labels = gcp_labels({"component": "serving", "endpoint": props.name, **props.tags})
        self.resource = Resource(
            self,
            "Resource",
            "google_vertex_ai_endpoint",
            provider=self._provider,
            depends_on=[*self._deps, *depends_on],
            ignore_changes=["traffic_split"],
            project=project,
            location=region,
            region=region,
            name=props.name,
            display_name=props.name,
            description=f"{props.name} in {region} (cdktf-mlops); models are deployed by the pipeline",
            labels=labels,
            encryption_spec={"kms_key_name": self.key_id},
            dedicated_endpoint_enabled=True if network_name is None else None,
            network=network_name,
            predict_request_response_logging_config=logging_config,
        )
        self.endpoint_id: str = self.resource.ref("id")
        if network_name is not None:
            self.host: str | None = None
            self.health_path: str | None = None
            self.health_target: str | None = None
            self.invoke_url: str | None = None
            return
        Acknowledge.of(self.resource).add(
            "CKV2_GCP_33",
            reason=(
                "A public dedicated endpoint, chosen because global routing sends callers to "
                "the healthy region by DNS and Cloud Monitoring's uptime checks must reach it; "
                "every call is still IAM-authenticated (OAuth token with "
                "aiplatform.endpoints.predict), there is no anonymous access. Pass network= "
                "(the platform does without routing) for a VPC-only endpoint."
            ),
        )
        # The dedicated DNS name (documented without a scheme; trimmed in case one is returned).
        self.host = engine.Fn.trimprefix(self.resource.ref("dedicated_endpoint_dns"), "https://")
        self.health_path = f"/v1/projects/{project}/locations/{region}/endpoints/{props.name}:predict"
        self.health_target = f"https://{self.host}{self.health_path}"
        self.invoke_url = self.health_target

    def _pool(self) -> None:
        """The autoscaled deployment resource pool (``pool``, ``pool_name``, ``autoscaling``)."""
        props: EndpointProps = self.props
        self.pool_name = f"{props.name}-pool"[:63]
        machine_spec: dict[str, Any] = {"machine_type": self.machine_type}
        if props.gpu:
            acc = accelerator_for(self.machine_type)
            if acc is None:
                raise ConstructError(
                    self.node.path,
                    f"machine type {self.machine_type!r} has no built-in GPU; use a "
                    "G2 (L4), A2 (A100) or A3 (H100) machine type for gpu endpoints"
                )
            machine_spec["accelerator_type"] = acc.type.upper().replace("-", "_")
            machine_spec["accelerator_count"] = acc.count
        self.autoscaling = {
            "min_replica_count": props.min_instances,
            "max_replica_count": props.max_instances,
            "metric": AUTOSCALING_METRIC,
            "target": props.target_invocations_per_instance,
            "scale_in_cooldown_seconds": props.scale_in_cooldown_seconds,  # not settable on Vertex AI
            "scale_out_cooldown_seconds": props.scale_out_cooldown_seconds,  # not settable on Vertex AI
        }
        self.pool = Resource(
            self,
            "Pool",
            "google_vertex_ai_deployment_resource_pool",
            provider=self._provider,
            depends_on=self._deps,
            project=props.project,
            region=props.location,
            name=self.pool_name,
            dedicated_resources={
                "machine_spec": machine_spec,
                "min_replica_count": props.min_instances,
                "max_replica_count": props.max_instances,
                "autoscaling_metric_specs": [
                    {"metric_name": AUTOSCALING_METRIC, "target": props.target_invocations_per_instance}
                ],
            },
        )

    def _model_artifacts(self, registry: ModelRegistry | None) -> list[str]:
        """Where this region imports approved model versions from (``model_artifacts_uri``,
        ``model_store``); returns the phase-2 steps before the deployment: the copy into the
        region's serving copy (when the model bucket does not serve this region) and the upload."""
        self.model_artifacts_uri: str | None = None
        self.model_store: DataStore | None = None
        if registry is None:
            return []
        props: EndpointProps = self.props
        self.model_store = registry.serving_copy(props.location)
        self.model_artifacts_uri = registry.artifacts_uri(props.location)
        steps = []
        if self.model_store is not None:
            steps.append(
                f"gcloud storage rsync --recursive {registry.approved_uri}VERSION {self.model_artifacts_uri}VERSION"
            )
        steps.append(
            f"gcloud ai models upload --project={props.project} --region={props.location} "
            f"--display-name={props.name} --artifact-uri={self.model_artifacts_uri}VERSION "
            "--container-image-uri=IMAGE"
        )
        return steps

    def _store_key_grant(self, store: DataStore, bq_agent: str) -> list[Resource]:
        """Encrypt/decrypt on the capture store's key for the BigQuery encryption service agent."""
        if store.key is not None:
            return store.key.grant_encrypt_decrypt(bq_agent, id="BigQueryAgent")
        return [Resource(
            self,
            "CaptureStoreKey",
            "google_kms_crypto_key_iam_member",
            provider=self._provider,
            crypto_key_id=store.key_id,
            role=ENCRYPTER_DECRYPTER_ROLE,
            member=bq_agent,
        )]

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Endpoint({self.node.path!r}, region={self.region!r})"
