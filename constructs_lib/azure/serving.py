"""Model serving on Azure: an Azure Machine Learning managed online endpoint in ONE region, with one
deployment that autoscales, captures a share of its traffic into a CMK-encrypted store, and can be
deployed before the first trained model exists.

azurerm has no resource for online endpoints, so they are bridged with ``azapi_resource``
(``Microsoft.MachineLearningServices/workspaces/onlineEndpoints@2025-12-01`` and
``.../onlineEndpoints/deployments``, GA API). The platform creates one :class:`Endpoint` per region
of the spec; each region has its own Azure ML workspace (workspaces are regional).

Two-phase model deployment
--------------------------

Phase 1 (``terraform apply``, no model yet): the endpoint, its deployment ``main`` running a
**placeholder container** (a bring-your-own-container environment, :data:`PLACEHOLDER_IMAGE`, whose
liveness and readiness routes are ``GET /healthz`` and whose scoring route is ``/score``: a path
must hold a letter, digit or underscore, so ``/`` is not accepted), autoscaling, data capture,
alerts and routing all exist. Scoring requests reach the placeholder, not a model.

Phase 2 (the training pipeline, every release): the pipeline registers the model and updates the
deployment in place — ``az ml online-deployment update`` (or a ``PUT`` of the deployment) with the
new ``model``, ``environmentId`` and ``codeConfiguration``. Terraform ignores exactly those three
properties (``lifecycle.ignore_changes``): the pipeline owns the model version, Terraform owns
everything else (instance type, scale, network, data capture). Traffic stays 100% on ``main``
(set by an ``azapi_update_resource`` [Traffic] once the deployment exists); Azure ML rolls the
instances of ``main`` over to the new model. Blue/green with a second deployment is the
pipeline's business and would need ``traffic`` ignored too (not done here).

What is created (construct ids in brackets), in the order the constructor builds it:

1. ``azapi_resource`` ``onlineEndpoints`` [Resource]: Entra ID auth (``AADToken``: no keys),
   ``publicNetworkAccess`` Disabled unless ``public_network_access`` (global routing needs a
   public endpoint: Traffic Manager probes and clients come from the internet; auth still needs
   an Entra token), a system-assigned identity (Azure ML gives it AcrPull and blob read on the
   workspace's registry and storage itself; a user-assigned one would need those granted here).
2. ``azapi_resource`` ``environments`` + ``environments/versions`` [PlaceholderEnv,
   PlaceholderEnvVersion]: the placeholder container.
3. with a ``capture_store`` (and ``data_capture_percent`` > 0): ``azapi_resource`` ``data`` +
   ``data/versions`` [Capture-request, Capture-response] — uri_folder data assets pointing at
   ``capture/<endpoint>/request|response`` in the store's ``data`` container — and "Storage Blob
   Data Contributor" on that container for the endpoint's identity
   (``capture_store.grant_write``). The store is CMK-encrypted.
4. ``azapi_resource`` ``onlineEndpoints/deployments`` [Deployment]: managed compute of
   ``machine_type``, ``egressPublicNetworkAccess`` Disabled (outbound only to the workspace's
   private resources), ``scaleSettings`` Default (Azure Monitor autoscale below), Application
   Insights on, and — with capture — a ``dataCollector`` that writes ``data_capture_percent`` of
   requests and responses (payload logging, no scoring-code change needed) to the capture store.
5. ``azapi_update_resource`` [Traffic]: 100% of the endpoint's traffic to ``main``.
6. ``azurerm_monitor_autoscale_setting`` [Autoscale] on the deployment: ``min_instances`` ..
   ``max_instances`` (default = min), scale out by 1 when requests per minute per instance exceed
   ``target_invocations_per_instance`` (5-minute average), scale in by 1 below half of it, with
   the cooldowns rounded up to whole minutes (Azure's unit, at least 1).

Encryption: managed online endpoints take no key of their own; the deployment runs in the
workspace, which is high business impact (encrypted scratch disks) and CMK-encrypted, and captured
data lands in the CMK-encrypted capture store. ``encryption.key_id`` is therefore rejected.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.props import EncryptionProps
from ..core.recovery import Recovery
from ..core.resource import Resource
from ..core.run_props import EndpointProps as _CoreEndpointProps
from ._common import ML_API_VERSION, attr

if TYPE_CHECKING:
    from ._common import PrivateEndpoints
    from .storage import DataStore

__all__ = [
    "DEFAULT_CPU_INSTANCE_TYPE",
    "DEFAULT_GPU_INSTANCE_TYPE",
    "DEPLOYMENT_NAME",
    "ENDPOINT_API_VERSION",
    "PIPELINE_OWNED_PROPERTIES",
    "PLACEHOLDER_HEALTH_PATH",
    "PLACEHOLDER_IMAGE",
    "PLACEHOLDER_PORT",
    "SCORING_PATH",
    "Endpoint",
    "EndpointProps",
    "cooldown",
    "scoring_host",
]

#: GA API version of online endpoints, deployments, environments and data assets.
ENDPOINT_API_VERSION = ML_API_VERSION
#: Instance type of a CPU endpoint without ``machine_type``: 4 vCPU, 14 GiB.
DEFAULT_CPU_INSTANCE_TYPE = "Standard_DS3_v2"
#: Instance type of a GPU endpoint without ``machine_type``: 4 vCPU, 1x T4.
DEFAULT_GPU_INSTANCE_TYPE = "Standard_NC4as_T4_v3"
#: The one deployment of every endpoint; the pipeline updates its model in place.
DEPLOYMENT_NAME = "main"
#: Phase-1 container: Microsoft's public ASP.NET Core sample (dotnet/dotnet-docker
#: ``samples/aspnetapp``), which listens on port 8080 and answers its health check on ``/healthz``.
PLACEHOLDER_IMAGE = "mcr.microsoft.com/dotnet/samples:aspnetapp"
PLACEHOLDER_PORT = 8080
#: Liveness and readiness route of the placeholder (the sample's ASP.NET Core health check).
PLACEHOLDER_HEALTH_PATH = "/healthz"
#: Scoring route of the deployment: ``https://<host>/score`` reaches it.
SCORING_PATH = "/score"
#: Deployment properties the pipeline changes and Terraform ignores (``lifecycle.ignore_changes``).
PIPELINE_OWNED_PROPERTIES = (
    "body.properties.codeConfiguration",
    "body.properties.environmentId",
    "body.properties.model",
)
_ML = "Microsoft.MachineLearningServices/workspaces"


def scoring_host(endpoint_name: str, location: str) -> str:
    """Host name Azure gives a managed online endpoint: ``<name>.<region>.inference.ml.azure.com``."""
    return f"{endpoint_name}.{location.replace(' ', '').lower()}.inference.ml.azure.com"


def cooldown(seconds: int) -> str:
    """An autoscale cooldown as ISO 8601 whole minutes (Azure's granularity), at least ``PT1M``."""
    return f"PT{max(1, math.ceil(seconds / 60))}M"


class EndpointProps(_CoreEndpointProps):
    """The shared endpoint props plus where the endpoint lives and the Azure-only knobs."""

    resource_group_name: str = Field(description="Resource group of the autoscale setting.")
    location: str = Field(description="Azure region of the endpoint; must be the workspace's region.")
    workspace_id: str = Field(description="Resource Manager id of the Azure ML workspace (in `location`) that owns the endpoint.")
    endpoint_name: str | None = Field(
        default=None,
        pattern=r"^[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]$",
        description=(
            "Endpoint name, unique per Azure region across all customers (it is the host name). "
            "Defaults to None: `name`."
        ),
    )
    public_network_access: bool = Field(
        default=False,
        description=(
            "Accept scoring requests from the internet (Entra ID token still required). Defaults to "
            "False: scoring only through the workspace's private endpoint. Global routing "
            "(Traffic Manager) needs True."
        ),
    )
    placeholder_image: str = Field(
        default=PLACEHOLDER_IMAGE,
        description=(
            "Container served before the first model (phase 1); it must answer GET "
            "`placeholder_health_path` on `placeholder_port` with 200. Defaults to Microsoft's public "
            "ASP.NET Core sample image (port 8080, health check on /healthz)."
        ),
    )
    placeholder_port: int = Field(default=PLACEHOLDER_PORT, ge=1, le=65535, description="Port of the placeholder. Defaults to 8080.")
    placeholder_health_path: str = Field(
        default=PLACEHOLDER_HEALTH_PATH,
        pattern=r"^/.*[A-Za-z0-9_]",
        description=(
            "Liveness and readiness route of the placeholder (Azure ML needs a path with a letter, "
            "digit or underscore; `/` is rejected). Defaults to /healthz."
        ),
    )

    @field_validator("encryption")
    @classmethod
    def _no_key(cls, value: EncryptionProps) -> EncryptionProps:
        if value.key_id is not None:
            raise ValueError(
                "Azure online endpoints take no key of their own: deployments are encrypted with the "
                "workspace's key (WorkspaceProps.encryption) and captured data with the capture "
                "store's key; remove encryption.key_id"
            )
        return value

    @field_validator("resource_group_name", "location", "workspace_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value


class Endpoint(MlopsConstruct):
    """One Azure ML managed online endpoint in one region (see the module docstring).

    ``capture_store``: the :class:`~constructs_lib.azure.storage.DataStore` that receives captured
    requests/responses (in the endpoint's region: an RA-GZRS replica is read-only, so the platform
    passes the ``data`` store in the primary region and the region's serving store elsewhere).
    ``network`` is accepted for the uniform interface: private inbound access goes through the
    workspace's private endpoint (made by :class:`~constructs_lib.azure.tracking.Workspace`), and
    outbound traffic is closed by ``egressPublicNetworkAccess`` Disabled.

    Attributes:
        resource: the endpoint ``azapi_resource``; ``endpoint_name``, ``endpoint_id`` (tokens/str).
        deployment: the deployment ``azapi_resource``; ``deployment_id``.
        autoscale: the ``azurerm_monitor_autoscale_setting``.
        principal: Entra object id of the endpoint's system-assigned identity (token).
        region: the endpoint's region. ``scoring_uri`` / ``invoke_url``: ``https://<host>/score``.
        health_target: what routing probes: ``https://<host>/`` (see :mod:`.routing`).
        capture_assets: "request"/"response" -> data asset version ``azapi_resource`` (or empty).
        capture_grants: the capture store's grants to the endpoint's identity (or empty).
        recovery: :class:`Recovery` — RPO n/a (None: serving holds no data); RTO None until a
            :class:`~constructs_lib.azure.routing.Routing` covers the endpoint and sets it.
    """

    props_type = EndpointProps
    props_hint = "resource_group_name, location and workspace_id"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: EndpointProps,
        *,
        capture_store: "DataStore | None" = None,
        network: "PrivateEndpoints | None" = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if props.data_capture_percent > 0 and capture_store is None:
            raise ConstructError(
                self.node.path,
                f"data_capture_percent is {props.data_capture_percent} but no "
                "capture_store was given; pass capture_store= or set data_capture_percent: 0"
            )
        self._network = network
        self._names(props)
        self._endpoint(props)
        environment_id = self._placeholder(props)
        data_collector = self._capture(props, capture_store)
        self._deployment(props, environment_id, data_collector)
        self._traffic()
        self.autoscale = self._autoscale(props, self._provider)
        self.recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)

    # -- steps ----------------------------------------------------------------------------------

    def _names(self, props: EndpointProps) -> None:
        """The endpoint's name, region, host, scoring URL and instance type."""
        self.region: str = props.location
        self.endpoint_name: str = props.endpoint_name or props.name
        self.host: str = scoring_host(self.endpoint_name, props.location)
        self.scoring_uri: str = f"https://{self.host}/score"
        self.invoke_url: str = self.scoring_uri
        self.health_target: str = f"https://{self.host}/"
        self.instance_type: str = props.machine_type or (
            DEFAULT_GPU_INSTANCE_TYPE if props.gpu else DEFAULT_CPU_INSTANCE_TYPE
        )

    def _endpoint(self, props: EndpointProps) -> None:
        """1. The online endpoint (Entra ID auth, system-assigned identity)."""
        self.resource = Resource(
            self,
            "Resource",
            "azapi_resource",
            provider=self._provider,
            type=f"{_ML}/onlineEndpoints@{ENDPOINT_API_VERSION}",
            name=self.endpoint_name,
            parent_id=props.workspace_id,
            location=props.location,
            identity=[{"type": "SystemAssigned"}],
            body={
                "properties": {
                    "authMode": "AADToken",
                    "publicNetworkAccess": "Enabled" if props.public_network_access else "Disabled",
                    "description": f"cdktf-mlops endpoint {props.name} ({props.location})",
                }
            },
        )
        self.endpoint_id: str = attr(self.resource, "id")
        self.principal: str = attr(self.resource, "identity.0.principal_id")

    def _placeholder(self, props: EndpointProps) -> str:
        """2. Phase 1: a bring-your-own-container environment that answers the probes; returns
        the id of its version."""
        env = Resource(
            self,
            "PlaceholderEnv",
            "azapi_resource",
            provider=self._provider,
            type=f"{_ML}/environments@{ENDPOINT_API_VERSION}",
            name=f"{self.endpoint_name}-placeholder",
            parent_id=props.workspace_id,
            body={"properties": {"description": "Served until the pipeline deploys the first model (cdktf-mlops)"}},
        )
        health = {"path": props.placeholder_health_path, "port": props.placeholder_port}
        scoring = {"path": SCORING_PATH, "port": props.placeholder_port}
        version = Resource(
            self,
            "PlaceholderEnvVersion",
            "azapi_resource",
            provider=self._provider,
            type=f"{_ML}/environments/versions@{ENDPOINT_API_VERSION}",
            name="1",
            parent_id=attr(env, "id"),
            body={
                "properties": {
                    "image": props.placeholder_image,
                    "osType": "Linux",
                    "inferenceConfig": {"livenessRoute": health, "readinessRoute": health, "scoringRoute": scoring},
                }
            },
        )
        return attr(version, "id")

    def _capture(self, props: EndpointProps, capture_store: "DataStore | None") -> dict[str, Any] | None:
        """3. Data assets for captured requests and responses in ``capture_store`` and the
        endpoint identity's write access there; returns the deployment's ``dataCollector``
        (None without capture)."""
        self.capture_assets: dict[str, Resource] = {}
        self.capture_grants: list[Resource] = []
        if capture_store is None or props.data_capture_percent == 0:
            return None
        name = self.endpoint_name
        blob = capture_store.resource.ref("primary_blob_endpoint")  # https://<account>.blob.core.windows.net/
        collections: dict[str, Any] = {}
        for kind in ("request", "response"):
            asset = Resource(
                self,
                f"Capture-{kind}-Asset",
                "azapi_resource",
                provider=self._provider,
                type=f"{_ML}/data@{ENDPOINT_API_VERSION}",
                name=f"{name}-{kind}",
                parent_id=props.workspace_id,
                body={"properties": {"dataType": "uri_folder", "description": f"Captured {kind}s of {name}"}},
            )
            version = Resource(
                self,
                f"Capture-{kind}",
                "azapi_resource",
                provider=self._provider,
                type=f"{_ML}/data/versions@{ENDPOINT_API_VERSION}",
                name="1",
                parent_id=attr(asset, "id"),
                body={"properties": {"dataType": "uri_folder", "dataUri": f"{blob}data/capture/{name}/{kind}/"}},
            )
            self.capture_assets[kind] = version
            collections[kind] = {
                "dataCollectionMode": "Enabled",
                "samplingRate": props.data_capture_percent / 100,
                "dataId": attr(version, "id"),
            }
        self.capture_grants = capture_store.grant_write(self.principal, principal_type="ServicePrincipal")
        return {"collections": collections, "rollingRate": "Hour"}

    def _deployment(self, props: EndpointProps, environment_id: str, data_collector: dict[str, Any] | None) -> None:
        """4. The deployment ``main``: the placeholder now, the pipeline's model later."""
        self.deployment = Resource(
            self,
            "Deployment",
            "azapi_resource",
            provider=self._provider,
            ignore_changes=list(PIPELINE_OWNED_PROPERTIES),
            depends_on=list(self.capture_grants) or None,
            type=f"{_ML}/onlineEndpoints/deployments@{ENDPOINT_API_VERSION}",
            name=DEPLOYMENT_NAME,
            parent_id=self.endpoint_id,
            location=props.location,
            body={
                "sku": {"name": "Default", "capacity": props.min_instances},
                "properties": {
                    "endpointComputeType": "Managed",
                    "instanceType": self.instance_type,
                    "environmentId": environment_id,
                    "egressPublicNetworkAccess": "Disabled",
                    "appInsightsEnabled": True,
                    "scaleSettings": {"scaleType": "Default"},
                    "dataCollector": data_collector,
                    "description": "Placeholder until the pipeline deploys a model; the pipeline owns model, environment and code.",
                },
            },
        )
        self.deployment_id: str = attr(self.deployment, "id")

    def _traffic(self) -> None:
        """5. All of the endpoint's traffic to ``main`` once it exists."""
        self.traffic = Resource(
            self,
            "Traffic",
            "azapi_update_resource",
            provider=self._provider,
            type=f"{_ML}/onlineEndpoints@{ENDPOINT_API_VERSION}",
            resource_id=self.endpoint_id,
            body={"properties": {"traffic": {DEPLOYMENT_NAME: 100}}},
            depends_on=[self.deployment],
        )

    def _autoscale(self, props: EndpointProps, provider: engine.TerraformProvider | None) -> Resource:
        """6. Scale on requests per minute per instance."""
        target = props.target_invocations_per_instance

        def rule(direction: str, operator: str, threshold: int, cool: int) -> dict[str, Any]:
            return {
                "metric_trigger": {
                    "metric_name": "RequestsPerMinute",
                    "metric_namespace": f"{_ML}/onlineEndpoints",
                    "metric_resource_id": self.endpoint_id,
                    "dimensions": [{"name": "deployment", "operator": "Equals", "values": [DEPLOYMENT_NAME]}],
                    "divide_by_instance_count": True,
                    "operator": operator,
                    "statistic": "Average",
                    "threshold": threshold,
                    "time_aggregation": "Average",
                    "time_grain": "PT1M",
                    "time_window": "PT5M",
                },
                "scale_action": {"direction": direction, "type": "ChangeCount", "value": 1, "cooldown": cooldown(cool)},
            }

        return Resource(
            self,
            "Autoscale",
            "azurerm_monitor_autoscale_setting",
            provider=provider,
            name=f"autoscale-{self.endpoint_name}",
            resource_group_name=props.resource_group_name,
            location=props.location,
            target_resource_id=self.deployment_id,
            enabled=True,
            profile=[
                {
                    "name": "requests-per-instance",
                    "capacity": {
                        "minimum": props.min_instances,
                        "maximum": props.max_instances,
                        "default": props.min_instances,
                    },
                    "rule": [
                        rule("Increase", "GreaterThan", target, props.scale_out_cooldown_seconds),
                        rule("Decrease", "LessThan", max(1, target // 2), props.scale_in_cooldown_seconds),
                    ],
                }
            ],
        )
