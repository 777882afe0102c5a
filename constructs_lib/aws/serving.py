"""Serving: one SageMaker endpoint in one region, deployable before the first model exists.

What ``Endpoint`` builds in the region of its ``provider`` (``props.region`` must name that
region), with every default:

* a customer-managed KMS key (new, rotated every ``encryption.rotation_days``, unless
  ``encryption.key_id``) for the endpoint's ML storage volumes and its log group;
* the log group ``/aws/sagemaker/Endpoints/<name>`` created *before* the endpoint (SageMaker would
  otherwise create it unencrypted and without retention), KMS-encrypted, kept
  ``log_retention_days`` (365) days;
* an execution role that only SageMaker of this account may assume, with exactly: read of
  ``serving/<name>/*`` and ``models/*`` in the artifact store's bucket *of this region* (the replica
  bucket in the replica region) and ``kms:Decrypt`` of its key through S3; write of
  ``data-capture/<name>/*`` in the capture store's bucket of this region with its key through S3;
  pulling the placeholder image's repository (and, with ``images``, the platform's repositories);
  network interfaces in this network's subnets and security group; its own log group; metrics in
  ``/aws/sagemaker/*`` namespaces;
* with ``network`` (default on the platform): a security group without ingress and with HTTPS
  egress to the VPC (interface endpoints) and S3 (gateway endpoint) only; the model runs in the
  network's private subnets (``vpc_config``) with ``enable_network_isolation`` (the container makes
  no network calls at all; SageMaker downloads the model artifact for it);
* **the two-phase path.** Phase 1 (``terraform apply``, before any training): a *placeholder
  model* — the AWS-provided SageMaker scikit-learn inference image
  (:data:`PLACEHOLDER_FRAMEWORK_VERSION`, from the AWS account that hosts it in the region, see
  :data:`SKLEARN_INFERENCE_ACCOUNTS`) with a 400-byte model artifact written by Terraform
  (``aws_s3_object``, KMS-encrypted) to ``serving/<name>/placeholder/<region>/model.tar.gz`` whose
  ``placeholder.py`` answers every request with ``{"placeholder": true, ...}``. The endpoint
  becomes ``InService`` and routing, alarms and autoscaling are live. Phase 2 (the pipeline, per
  approved model version): create a model and an endpoint configuration of its own (copy this
  *bootstrap* configuration, :attr:`Endpoint.bootstrap_config_name`, and replace only
  ``ModelName``; keep the variant name :data:`VARIANT_NAME`) and call ``UpdateEndpoint``. The
  endpoint's ``endpoint_config_name`` is in ``lifecycle.ignore_changes``: the pipeline owns the
  deployed version and Terraform never rolls it back. ``props.placeholder_image`` replaces the
  placeholder with an image of your own that starts without model data (no artifact is written);
* the bootstrap endpoint configuration: one variant :data:`VARIANT_NAME` with ``min_instances``
  instances of ``machine_type`` (default ``ml.m5.large``, ``ml.g5.xlarge`` with ``gpu``) or a
  serverless variant (``serverless``: memory and concurrency, no instances); ``kms_key_arn`` = the
  key (not for serverless variants and not for instance types with local NVMe instance storage,
  which SageMaker refuses a volume key for: their storage is hardware-encrypted by AWS); data
  capture of ``data_capture_percent`` % of requests *and* responses to
  ``s3://<capture bucket of this region>/data-capture/<name>/`` encrypted with that bucket's key
  (off for 0 and for serverless variants);
* the endpoint, and for instance variants Application Auto Scaling: a scalable target
  ``endpoint/<name>/variant/AllTraffic`` (``DesiredInstanceCount`` between ``min_instances`` and
  ``max_instances``) and a target-tracking policy on ``SageMakerVariantInvocationsPerInstance`` =
  ``target_invocations_per_instance`` per minute with the scale-in/out cooldowns;
* the **health alarm** routing checks (:attr:`Endpoint.health_target`): the average of
  ``Invocation5XXErrors`` (the share of failed invocations) at or above
  ``health_error_percent`` (25 %) in 2 of 3 one-minute periods; no traffic is healthy.

Recovery: an endpoint holds no data (RPO ``None``) and does not fail over by itself
(:attr:`Endpoint.recovery` is all ``None``: serving in its region is back when the region is). With
global routing in front (:class:`~.routing.Routing`), the RTO is the time routing needs to move
clients to another region, :func:`failover_rto_minutes`: alarm detection
(:data:`HEALTH_PERIOD_SECONDS` x :data:`HEALTH_EVALUATION_PERIODS`), Route 53 noticing the alarm
state (health-check interval x :data:`HEALTH_CHECK_FAILURE_THRESHOLD`) and the record TTL
(:data:`DNS_TTL_SECONDS`), rounded up to minutes.

The constructor runs named steps in this order: region checks, key and log group, execution role
(with the placeholder image), model artifacts, data capture, network placement, the execution
policy, placeholder model, bootstrap configuration, endpoint, autoscaling, health alarm.
"""

from __future__ import annotations

import base64
import gzip
import io
import math
import tarfile
from typing import Any

from pydantic import Field, field_validator

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError, ConstructTypeError
from ..core.recovery import Recovery
from ..core.resource import Resource
from ..core.run_props import EndpointProps as CoreEndpointProps
from . import _iam
from ._iam import allow, describe_network, kms_statement, ref
from ._keys import key_arn_of, own_key
from .keys import Key
from .network import Network
from .registry import MODEL_ARTIFACTS_PREFIX, ContainerRegistry
from .storage import DataStore

__all__ = [
    "CAPTURE_PREFIX",
    "DEFAULT_CPU_INSTANCE_TYPE",
    "DEFAULT_GPU_INSTANCE_TYPE",
    "DNS_TTL_SECONDS",
    "Endpoint",
    "EndpointProps",
    "HEALTH_CHECK_FAILURE_THRESHOLD",
    "HEALTH_EVALUATION_PERIODS",
    "HEALTH_PERIOD_SECONDS",
    "INSTANCE_CORES",
    "PLACEHOLDER_FRAMEWORK_VERSION",
    "SKLEARN_INFERENCE_ACCOUNTS",
    "VARIANT_NAME",
    "failover_rto_minutes",
    "placeholder_artifact",
]

DEFAULT_CPU_INSTANCE_TYPE = "ml.m5.large"
DEFAULT_GPU_INSTANCE_TYPE = "ml.g5.xlarge"
#: The one production variant of every configuration (autoscaling and alarms name it).
VARIANT_NAME = "AllTraffic"
#: Key prefix of captured requests/responses in the capture bucket (``<prefix>/<endpoint>/``).
CAPTURE_PREFIX = "data-capture"
#: SageMaker scikit-learn inference image version of the placeholder model.
PLACEHOLDER_FRAMEWORK_VERSION = "1.2-1"
#: Accounts hosting the SageMaker scikit-learn images per region (published by AWS with the
#: SageMaker Python SDK's image URI configuration). Other regions: set ``placeholder_image``.
SKLEARN_INFERENCE_ACCOUNTS: dict[str, str] = {
    "af-south-1": "510948584623",
    "ap-east-1": "651117190479",
    "ap-northeast-1": "354813040037",
    "ap-northeast-2": "366743142698",
    "ap-northeast-3": "867004704886",
    "ap-south-1": "720646828776",
    "ap-southeast-1": "121021644041",
    "ap-southeast-2": "783357654285",
    "ca-central-1": "341280168497",
    "eu-central-1": "492215442770",
    "eu-central-2": "680994064768",
    "eu-north-1": "662702820516",
    "eu-south-1": "978288397137",
    "eu-west-1": "141502667606",
    "eu-west-2": "764974769150",
    "eu-west-3": "659782779980",
    "me-south-1": "801668240914",
    "sa-east-1": "737474898029",
    "us-east-1": "683313688378",
    "us-east-2": "257758044811",
    "us-west-1": "746614075791",
    "us-west-2": "246618743249",
}
#: Period and evaluation of the health alarm (2 of 3 one-minute periods must breach).
HEALTH_PERIOD_SECONDS = 60
HEALTH_EVALUATION_PERIODS = 3
HEALTH_DATAPOINTS_TO_ALARM = 2
#: Route 53 declares a target unhealthy after this many failed observations.
HEALTH_CHECK_FAILURE_THRESHOLD = 3
#: TTL of the routing records (clients re-resolve within this time after a failover).
DNS_TTL_SECONDS = 60
#: Default health-check interval of the routing (RoutingSettings default).
DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS = 30

#: vCPUs and GPUs of common SageMaker instance types: CloudWatch reports CPU and GPU utilisation
#: summed over cores (up to 100 x cores %), so alarms scale their thresholds by these.
INSTANCE_CORES: dict[str, tuple[int, int]] = {
    "ml.t2.medium": (2, 0),
    "ml.m5.large": (2, 0),
    "ml.m5.xlarge": (4, 0),
    "ml.m5.2xlarge": (8, 0),
    "ml.m5.4xlarge": (16, 0),
    "ml.m6i.large": (2, 0),
    "ml.m6i.xlarge": (4, 0),
    "ml.m6i.2xlarge": (8, 0),
    "ml.c5.large": (2, 0),
    "ml.c5.xlarge": (4, 0),
    "ml.c5.2xlarge": (8, 0),
    "ml.c6i.xlarge": (4, 0),
    "ml.r5.large": (2, 0),
    "ml.r5.xlarge": (4, 0),
    "ml.g4dn.xlarge": (4, 1),
    "ml.g4dn.2xlarge": (8, 1),
    "ml.g4dn.12xlarge": (48, 4),
    "ml.g5.xlarge": (4, 1),
    "ml.g5.2xlarge": (8, 1),
    "ml.g5.4xlarge": (16, 1),
    "ml.g5.12xlarge": (48, 4),
    "ml.g6.xlarge": (4, 1),
    "ml.g6.2xlarge": (8, 1),
    "ml.p3.2xlarge": (8, 1),
    "ml.p4d.24xlarge": (96, 8),
}

# Families whose instances come with local NVMe instance storage: SageMaker rejects a volume KMS
# key for them (the storage is encrypted by the hardware with an AWS-managed key).
_INSTANCE_STORAGE_FAMILIES = ("g4dn", "g5", "g6", "g6e", "p3dn", "p4d", "p4de", "p5", "inf2", "trn1")

_PLACEHOLDER_SCRIPT = '''"""Placeholder model written by cdktf-mlops: answers until the first trained model is deployed."""
import json


def model_fn(model_dir):
    return None


def input_fn(request_body, content_type):
    return request_body


def predict_fn(data, model):
    return {"placeholder": True, "message": "no trained model is deployed on this endpoint yet"}


def output_fn(prediction, accept):
    return json.dumps(prediction), "application/json"
'''


def placeholder_artifact() -> bytes:
    """The placeholder ``model.tar.gz`` (``code/placeholder.py``), byte-identical on every run."""
    data = _PLACEHOLDER_SCRIPT.encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("code/placeholder.py")
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def failover_rto_minutes(health_check_interval_seconds: int = DEFAULT_HEALTH_CHECK_INTERVAL_SECONDS) -> int:
    """Minutes until routing sends clients elsewhere after a regional endpoint fails."""
    seconds = (
        HEALTH_PERIOD_SECONDS * HEALTH_EVALUATION_PERIODS
        + health_check_interval_seconds * HEALTH_CHECK_FAILURE_THRESHOLD
        + DNS_TTL_SECONDS
    )
    return math.ceil(seconds / 60)


def has_instance_storage(instance_type: str) -> bool:
    """True for SageMaker instance types with local NVMe storage (no volume KMS key allowed)."""
    parts = instance_type.split(".")
    family = parts[1] if len(parts) == 3 else ""
    return family in _INSTANCE_STORAGE_FAMILIES or (family[-1:] == "d" and family[:1] in "cmr")


class EndpointProps(CoreEndpointProps):
    """Core :class:`~constructs_lib.core.run_props.EndpointProps` plus AWS-only fields."""

    region: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$",
        description=(
            "Region of the construct's provider (the endpoint's region). Required: it picks the "
            "placeholder image and names the regional SageMaker runtime host."
        ),
    )
    placeholder_image: str | None = Field(
        default=None,
        description=(
            "Image of the phase-1 model, one that starts without model data. Defaults to None: the "
            "AWS SageMaker scikit-learn inference image of the region with the placeholder artifact."
        ),
    )
    network_isolation: bool = Field(
        default=True,
        description="Run the model container without any network access. Defaults to True.",
    )
    log_retention_days: int = Field(
        default=365, ge=1, le=3653, description="Retention of the endpoint's log group. Defaults to 365 days."
    )
    health_error_percent: float = Field(
        default=25.0, gt=0, le=100,
        description="Share of 5xx invocations that makes the region unhealthy for routing. Defaults to 25%.",
    )
    vcpus: int | None = Field(
        default=None, ge=1,
        description="vCPUs of machine_type, for utilisation alarms. Defaults to None: INSTANCE_CORES.",
    )
    gpus: int | None = Field(
        default=None, ge=0,
        description="GPUs of machine_type, for utilisation alarms. Defaults to None: INSTANCE_CORES.",
    )

    @field_validator("placeholder_image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() for c in value)):
            raise ValueError(f"placeholder_image {value!r} must be an image reference like <registry>/<repo>:<tag>")
        return value


def regional_bucket(store: DataStore, region: str) -> tuple[str, str, str]:
    """(bucket name, bucket ARN, key ARN) of ``store`` in ``region``: its replica there, else the primary."""
    replication = getattr(store.props, "replication", None)
    if replication is not None and replication.region == region and store.replica is not None:
        assert store.replica_key is not None
        return ref(store.replica, "id"), ref(store.replica, "arn"), store.replica_key.key_id
    return store.store_name, store.store_id, store.key_id


class Endpoint(MlopsConstruct):
    """A SageMaker endpoint in one region: placeholder model first, autoscaling, capture, health alarm.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`EndpointProps` with ``region`` (see the module docstring for every default).
        capture_store: the store that receives captured data; its replica bucket is used when
            ``props.region`` is the store's replication region. Defaults to None: ``artifact_store``,
            and no capture when neither is given.
        network: the :class:`~.network.Network` *of this region* whose private subnets the model
            uses. Defaults to None: SageMaker's managed network (still with network isolation).
        provider: the ``aws`` provider of ``props.region``. Defaults to the stack's default provider.
        artifact_store: the store holding model artifacts and the placeholder (bucket of this
            region as for ``capture_store``). Defaults to None: ``capture_store``.
        images: the platform's :class:`~.registry.ContainerRegistry`, whose repositories the
            execution role may pull from. Defaults to None.

    Attributes:
        resource: the ``aws_sagemaker_endpoint``.
        endpoint_name / endpoint_id: name and ARN tokens of the endpoint.
        invoke_url: ``https://runtime.sagemaker.<region>.amazonaws.com/endpoints/<name>/invocations``
            (requests are SigV4-signed for the region).
        region: ``props.region``.
        runtime_host: ``runtime.sagemaker.<region>.amazonaws.com`` (what routing records point to).
        health_target: the health ``aws_cloudwatch_metric_alarm``; ``health_alarm_name`` its name.
        recovery: :class:`~constructs_lib.core.recovery.Recovery`, all ``None`` (no data, no
            failover without routing; :attr:`~.routing.Routing.recovery` has the failover RTO).
        principal / principal_arn: the execution ``aws_iam_role`` and its ARN (pipelines deploy
            their models with it).
        model / config: the placeholder ``aws_sagemaker_model`` and the bootstrap
            ``aws_sagemaker_endpoint_configuration``; ``bootstrap_config_name`` the config's name.
        scaling_target / scaling_policy: Application Auto Scaling resources (``None`` for serverless).
        capture_uri: S3 URI of captured data, or ``None`` without capture.
        model_artifacts_uri: ``s3://<artifact bucket of this region>/models/`` (SageMaker reads
            model data only from its own region: the platform keeps a copy of ``models/`` there),
            or ``None`` without an artifact store.
        log_group, security_group (``None`` without network), key, key_id.
        vcpus / gpus: cores of the instance type (``None`` when unknown or serverless).
        serverless: True for a serverless variant.
    """

    props_type = CoreEndpointProps
    props: CoreEndpointProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreEndpointProps,
        *,
        capture_store: DataStore | None = None,
        network: Network | None = None,
        provider: engine.TerraformProvider | None = None,
        artifact_store: DataStore | None = None,
        images: ContainerRegistry | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        artifact_store = artifact_store or capture_store
        capture_store = capture_store or artifact_store
        self._describe(props, self._region_of(props, artifact_store))
        self._key_and_log_group(props)
        self._execution_role()
        artifact_object = self._artifacts(artifact_store)
        capture = self._capture(capture_store, props)
        vpc_config = self._network(network)
        grants = self._execution_policy(images)
        self._placeholder_model(props, artifact_object, vpc_config, grants)
        self._bootstrap_config(props, capture)
        self._endpoint(grants)
        self._autoscaling(props)
        self._health_alarm(props)
        #: An endpoint alone does not fail over: serving in its region is back when the region is
        #: (RTO ``None``); the :class:`~.routing.Routing` in front of endpoints has the failover RTO.
        self.recovery: Recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)

    # ------------------------------------------------------------------ steps (in build order)

    def _region_of(self, props: CoreEndpointProps, artifact_store: DataStore | None) -> str:
        """``props.region``, refusing what the placeholder model cannot be built without."""
        region = getattr(props, "region", None)
        if region is None:
            raise ConstructError(
                self.node.path,
                "the endpoint's region is unknown; use constructs_lib.aws.EndpointProps "
                "with region=<the region of the provider>"
            )
        if getattr(props, "placeholder_image", None) is None:
            if region not in SKLEARN_INFERENCE_ACCOUNTS:
                raise ConstructError(
                    self.node.path,
                    f"no AWS scikit-learn inference image is known for {region}; set "
                    "EndpointProps.placeholder_image to an image that starts without model data",
                    prop="placeholder_image",
                )
            if artifact_store is None:
                raise ConstructError(
                    self.node.path,
                    "the placeholder model needs a store for its artifact; pass "
                    "artifact_store= (or capture_store=), or set EndpointProps.placeholder_image"
                )
        return str(region)

    def _describe(self, props: CoreEndpointProps, region: str) -> None:
        """The endpoint's region, machine, cores and runtime host (attributes other constructs read)."""
        self.region: str = region
        self.serverless: bool = props.serverless is not None
        self._name = props.name
        self._account = _iam.account_id(self, self._provider)
        self._partition = _iam.partition(self, self._provider)
        machine = props.machine_type or (DEFAULT_GPU_INSTANCE_TYPE if props.gpu else DEFAULT_CPU_INSTANCE_TYPE)
        self._machine = machine
        self.machine_type: str | None = None if self.serverless else machine
        cores = INSTANCE_CORES.get(machine, (None, None))
        self.vcpus: int | None = None if self.serverless else (getattr(props, "vcpus", None) or cores[0])
        gpus = getattr(props, "gpus", None)
        self.gpus: int | None = None if self.serverless else (gpus if gpus is not None else cores[1])
        self.runtime_host: str = f"runtime.sagemaker.{region}.amazonaws.com"
        self.variant_name: str = VARIANT_NAME
        self._statements: list[dict[str, Any]] = []

    def _key_and_log_group(self, props: CoreEndpointProps) -> None:
        """The endpoint key (volumes and logs) and the log group, created before the endpoint."""
        name, region = self._name, self.region
        log_group_name = f"/aws/sagemaker/Endpoints/{name}"
        self._log_group_arn = f"arn:{self._partition}:logs:{region}:{self._account}:log-group:{log_group_name}"
        self.key: Key | None = own_key(
            self,
            "Key",
            props.encryption,
            name=f"{name}-endpoint",
            description=f"Encrypts the volumes and logs of endpoint {name} in {region}",
            deletion_protection=False,
            provider=self._provider,
        )
        if self.key is not None:
            self.key.allow_cloudwatch_logs(
                "CloudWatchLogsOfThisEndpointOnly", region=region, log_group_arn=self._log_group_arn
            )
        self.key_id: str = key_arn_of(self.key, props.encryption)
        self.log_group: Resource = Resource(
            self,
            "LogGroup",
            "aws_cloudwatch_log_group",
            provider=self._provider,
            name=log_group_name,
            retention_in_days=getattr(props, "log_retention_days", 365),
            kms_key_id=self.key_id,
        )

    def _execution_role(self) -> None:
        """The execution role, its log and metric permissions, and the placeholder image it pulls."""
        name, region, partition = self._name, self.region, self._partition
        self.principal: Resource = _iam.service_role(
            self,
            "ExecutionRole",
            name=f"{name}-{region}-serving"[:64],
            description=f"Execution role of SageMaker endpoint {name} in {region}",
            services=["sagemaker.amazonaws.com"],
            provider=self._provider,
        )
        self.principal_arn: str = ref(self.principal, "arn")
        self._statements += [
            allow(
                "EndpointLogs",
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                [self._log_group_arn, f"{self._log_group_arn}:*"],
            ),
            allow(
                "EndpointMetrics",
                ["cloudwatch:PutMetricData"],
                "*",
                {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
        ]
        placeholder_image = getattr(self.props, "placeholder_image", None)
        self._own_image = placeholder_image is None
        if placeholder_image is None:
            acct = SKLEARN_INFERENCE_ACCOUNTS[region]
            image = f"{acct}.dkr.ecr.{region}.amazonaws.com/sagemaker-scikit-learn:{PLACEHOLDER_FRAMEWORK_VERSION}-cpu-py3"
            self._statements += [
                allow("RegistryLogin", ["ecr:GetAuthorizationToken"], "*"),
                allow(
                    "PullPlaceholderImage",
                    ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    f"arn:{partition}:ecr:{region}:{acct}:repository/sagemaker-scikit-learn",
                ),
            ]
        else:
            image = placeholder_image
        self.placeholder_image: str = image

    def _artifacts(self, artifact_store: DataStore | None) -> Resource | None:
        """Read of the model artifacts of this region's bucket, and the placeholder artifact object."""
        self.placeholder_uri: str | None = None
        #: ``s3://<bucket of this region>/models/``: where this region's model versions are read from.
        self.model_artifacts_uri: str | None = None
        if artifact_store is None:
            return None
        name, region = self._name, self.region
        bucket, bucket_arn, bucket_key = regional_bucket(artifact_store, region)
        self.model_artifacts_uri = f"s3://{bucket}/{MODEL_ARTIFACTS_PREFIX}"
        self._statements += [
            allow(
                "ReadModelArtifacts",
                ["s3:GetObject", "s3:GetObjectVersion"],
                [f"{bucket_arn}/serving/{name}/*", f"{bucket_arn}/{MODEL_ARTIFACTS_PREFIX}*"],
            ),
            kms_statement("DecryptModelArtifacts", bucket_key, ["kms:Decrypt"], via_service="s3"),
        ]
        if not self._own_image:
            return None
        key = f"serving/{name}/placeholder/{region}/model.tar.gz"
        self.placeholder_uri = f"s3://{bucket}/{key}"
        return Resource(
            self,
            "PlaceholderArtifact",
            "aws_s3_object",
            provider=self._provider,
            bucket=bucket,
            key=key,
            content_base64=base64.b64encode(placeholder_artifact()).decode(),
            content_type="application/gzip",
            server_side_encryption="aws:kms",
            kms_key_id=bucket_key,
            bucket_key_enabled=True,
        )

    def _capture(self, capture_store: DataStore | None, props: CoreEndpointProps) -> dict[str, Any] | None:
        """The data capture configuration (requests and responses) and the role's write of it."""
        self.capture_uri: str | None = None
        if capture_store is None or props.data_capture_percent <= 0 or self.serverless:
            return None
        bucket, bucket_arn, bucket_key = regional_bucket(capture_store, self.region)
        self.capture_uri = f"s3://{bucket}/{CAPTURE_PREFIX}/{self._name}"
        self.capture_bucket_arn: str = bucket_arn
        self.capture_key_id: str = bucket_key
        self._statements += [
            allow("WriteCapturedData", ["s3:PutObject"], f"{bucket_arn}/{CAPTURE_PREFIX}/{self._name}/*"),
            kms_statement(
                "EncryptCapturedData", bucket_key, ["kms:Decrypt", "kms:GenerateDataKey"], via_service="s3"
            ),
        ]
        return {
            "enable_capture": True,
            "initial_sampling_percentage": props.data_capture_percent,
            "destination_s3_uri": self.capture_uri,
            "kms_key_id": bucket_key,
            "capture_options": [{"capture_mode": "Input"}, {"capture_mode": "Output"}],
            "capture_content_type_header": {
                "csv_content_types": ["text/csv"],
                "json_content_types": ["application/json"],
            },
        }

    def _network(self, network: Network | None) -> dict[str, Any] | None:
        """The security group (no ingress, HTTPS egress) and the model's ``vpc_config``, with a network."""
        self.security_group: Resource | None = None
        if network is None or self.serverless:
            return None
        if not isinstance(network, Network):
            raise ConstructTypeError(
                self.node.path,
                f"network must be a constructs_lib.aws.Network, got {type(network).__name__}"
            )
        name, provider = self._name, self._provider
        self.security_group = Resource(
            self,
            "SecurityGroup",
            "aws_security_group",
            provider=provider,
            name=f"{name}-endpoint",
            description=f"Endpoint {name}: no ingress, HTTPS egress to VPC endpoints and S3 only",
            vpc_id=network.network_id,
        )
        Acknowledge.of(self.security_group).add(
            "CKV2_AWS_5",
            reason=(
                "The security group is attached to the endpoint's model through "
                "aws_sagemaker_model.vpc_config, a resource type checkov's attachment check does not follow."
            ),
        )
        sg_id = ref(self.security_group, "id")
        for n, target in enumerate(network.security_group_egress_targets()):
            Resource(
                self,
                f"HttpsEgress{n + 1}",
                "aws_vpc_security_group_egress_rule",
                provider=provider,
                security_group_id=sg_id,
                description="HTTPS to VPC endpoints" if "cidr_ipv4" in target else "HTTPS to S3 (gateway endpoint)",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                **target,
            )
        subnets = list(network.private_subnet_ids)
        self._statements += self._network_statements(subnets, sg_id)
        return {"subnets": subnets, "security_group_ids": [sg_id]}

    def _network_statements(self, subnets: list[str], sg_id: str) -> list[dict[str, Any]]:
        arn = f"arn:{self._partition}:ec2:{self.region}:{self._account}"
        return [
            describe_network(),
            allow(
                "EndpointNetworkInterfacesInThisNetwork",
                [
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                [
                    f"{arn}:network-interface/*",
                    *(f"{arn}:subnet/{s}" for s in subnets),
                    f"{arn}:security-group/{sg_id}",
                ],
            ),
        ]

    def _execution_policy(self, images: ContainerRegistry | None) -> list[Resource]:
        """The execution role's policy (every statement of the steps above) and image pull grant."""
        policy = _iam.role_policy(
            self,
            "ExecutionPolicy",
            name=f"{self._name}-{self.region}-serving",
            principal=self.principal,
            statements=self._statements,
            provider=self._provider,
        )
        grants: list[Resource] = [policy]
        if images is not None:
            grants += images.grant_pull(self.principal)
        return grants

    def _placeholder_model(
        self,
        props: CoreEndpointProps,
        artifact_object: Resource | None,
        vpc_config: dict[str, Any] | None,
        grants: list[Resource],
    ) -> None:
        """Phase 1: the placeholder model (the image, and the placeholder artifact when it is ours)."""
        container: dict[str, Any] = {"image": self.placeholder_image}
        if artifact_object is not None:
            container["model_data_url"] = self.placeholder_uri
            container["environment"] = {
                "SAGEMAKER_PROGRAM": "placeholder.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
                "SAGEMAKER_REGION": self.region,
            }
        isolation = bool(getattr(props, "network_isolation", True)) and not self.serverless
        self.model: Resource = Resource(
            self,
            "PlaceholderModel",
            "aws_sagemaker_model",
            provider=self._provider,
            depends_on=[*grants, *([artifact_object] if artifact_object is not None else [])],
            name=f"{self._name}-placeholder",
            execution_role_arn=self.principal_arn,
            primary_container=container,
            vpc_config=vpc_config,
            enable_network_isolation=isolation,
        )
        if self.serverless:
            Acknowledge.of(self.model).add(
                "CKV_AWS_370",
                reason=(
                    "Serverless inference does not support network isolation or VPC configuration; "
                    "the serverless variant was chosen in the spec (serving.endpoints[].serverless)."
                ),
            )

    def _bootstrap_config(self, props: CoreEndpointProps, capture: dict[str, Any] | None) -> None:
        """The bootstrap endpoint configuration: one variant, the volume key, data capture."""
        machine = self._machine
        variant: dict[str, Any] = {
            "variant_name": VARIANT_NAME,
            "model_name": ref(self.model, "name"),
            "initial_variant_weight": 1,
        }
        volume_key: str | None = self.key_id
        if props.serverless is not None:
            variant["serverless_config"] = {
                "max_concurrency": props.serverless.max_concurrency,
                "memory_size_in_mb": props.serverless.memory_gib * 1024,
            }
            volume_key = None
        else:
            variant["instance_type"] = machine
            variant["initial_instance_count"] = props.min_instances
            if has_instance_storage(machine):
                volume_key = None
        self.config: Resource = Resource(
            self,
            "BootstrapConfig",
            "aws_sagemaker_endpoint_configuration",
            provider=self._provider,
            name=f"{self._name}-bootstrap",
            kms_key_arn=volume_key,
            production_variants=[variant],
            data_capture_config=capture,
        )
        if volume_key is None:
            why = (
                "serverless variants have no ML storage volume to encrypt"
                if self.serverless
                else f"{machine} has local NVMe instance storage, for which SageMaker refuses a volume KMS key; "
                "that storage is encrypted by the instance hardware"
            )
            Acknowledge.of(self.config).add("CKV_AWS_98", reason=f"No volume key: {why}.")
        self.bootstrap_config_name: str = ref(self.config, "name")

    def _endpoint(self, grants: list[Resource]) -> None:
        """The endpoint on the bootstrap configuration; the pipeline owns later configurations."""
        self.resource: Resource = Resource(
            self,
            "Resource",
            "aws_sagemaker_endpoint",
            provider=self._provider,
            depends_on=[self.log_group, *grants],
            # The pipeline deploys each approved model version with its own endpoint configuration
            # (UpdateEndpoint); Terraform must not roll the endpoint back to the bootstrap one.
            ignore_changes=["endpoint_config_name"],
            name=self._name,
            endpoint_config_name=self.bootstrap_config_name,
        )
        self.endpoint_name: str = ref(self.resource, "name")
        self.endpoint_id: str = ref(self.resource, "arn")
        #: What scores requests: the regional SageMaker runtime's invocations URL (SigV4-signed).
        self.invoke_url: str = f"https://{self.runtime_host}/endpoints/{self.endpoint_name}/invocations"

    def _autoscaling(self, props: CoreEndpointProps) -> None:
        """Instance variants: a scalable target and target tracking on invocations per instance."""
        self.scaling_target: Resource | None = None
        self.scaling_policy: Resource | None = None
        if self.serverless:
            return
        provider = self._provider
        self.scaling_target = Resource(
            self,
            "ScalingTarget",
            "aws_appautoscaling_target",
            provider=provider,
            service_namespace="sagemaker",
            scalable_dimension="sagemaker:variant:DesiredInstanceCount",
            resource_id=f"endpoint/{self.endpoint_name}/variant/{VARIANT_NAME}",
            min_capacity=props.min_instances,
            max_capacity=props.max_instances,
        )
        self.scaling_policy = Resource(
            self,
            "ScalingPolicy",
            "aws_appautoscaling_policy",
            provider=provider,
            name=f"{self._name}-invocations-per-instance",
            policy_type="TargetTrackingScaling",
            service_namespace=ref(self.scaling_target, "service_namespace"),
            scalable_dimension=ref(self.scaling_target, "scalable_dimension"),
            resource_id=ref(self.scaling_target, "resource_id"),
            target_tracking_scaling_policy_configuration={
                "target_value": props.target_invocations_per_instance,
                "scale_in_cooldown": props.scale_in_cooldown_seconds,
                "scale_out_cooldown": props.scale_out_cooldown_seconds,
                "predefined_metric_specification": {
                    "predefined_metric_type": "SageMakerVariantInvocationsPerInstance"
                },
            },
        )

    def _health_alarm(self, props: CoreEndpointProps) -> None:
        """The health alarm routing checks: the share of 5xx invocations."""
        name, region = self._name, self.region
        percent = getattr(props, "health_error_percent", 25.0)
        self.health_alarm_name: str = f"{name}-health"
        self.health_target: Resource = Resource(
            self,
            "HealthAlarm",
            "aws_cloudwatch_metric_alarm",
            provider=self._provider,
            alarm_name=self.health_alarm_name,
            alarm_description=(
                f"Endpoint {name} in {region} fails {percent}% or more "
                "of invocations (5xx); Route 53 routes around the region while this alarm is on"
            ),
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions={"EndpointName": self.endpoint_name, "VariantName": VARIANT_NAME},
            statistic="Average",
            period=HEALTH_PERIOD_SECONDS,
            evaluation_periods=HEALTH_EVALUATION_PERIODS,
            datapoints_to_alarm=HEALTH_DATAPOINTS_TO_ALARM,
            threshold=percent / 100,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            actions_enabled=True,
        )
