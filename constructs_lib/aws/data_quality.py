"""Data quality: a SageMaker Model Monitor job per endpoint and region, on the captured data.

:class:`~.monitoring.Monitoring` calls :func:`add_data_quality` for every watched endpoint that
captures data (``data_quality``, default on). It builds, in the endpoint's region (its provider):

* an ``aws_sagemaker_data_quality_job_definition`` ``<endpoint>-dq-<hash>``: the AWS Model Monitor
  analyzer image of the region (:data:`MODEL_MONITOR_ACCOUNTS`, or ``analyzer_images``), one
  ``instance_type`` instance with a 20 GiB volume encrypted with the endpoint's key, network
  isolation and inter-container encryption, in the endpoint's private subnets and security group
  when it has them; input: the endpoint; output: ``s3://<capture bucket>/monitoring/<endpoint>/reports``
  encrypted with that bucket's key; at most 30 minutes per run;
* an hourly ``aws_sagemaker_monitoring_schedule`` ``<endpoint>-data-quality``
  (:data:`DATA_QUALITY_SCHEDULE`);
* the policy ``<monitoring>-dq-<endpoint>-<region>`` of the shared data-quality role: list the
  capture and report prefixes, read only ``data-capture/<endpoint>/*``, write only
  ``monitoring/<endpoint>/*``, the capture key through S3, the endpoint's volume key through
  SageMaker, processing-job logs, metrics in ``aws/sagemaker/Endpoints/*``, describe the endpoint,
  pull the analyzer image, and network interfaces in the endpoint's network.

Two-phase: without a baseline the job computes statistics of the captured data only; with
``baseline_uri`` (an S3 prefix holding ``constraints.json`` and ``statistics.json`` from a
suggest-baseline job) it also checks constraints and reports violations. The job definition's name
carries a hash of the URI, so the schedule moves to a new definition in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core import engine
from ..core.errors import ConstructError
from ..core.naming import short_hash
from ..core.resource import Resource
from . import _iam
from ._iam import allow, describe_network, kms_statement, ref
from .serving import CAPTURE_PREFIX, Endpoint

__all__ = ["DATA_QUALITY_SCHEDULE", "MODEL_MONITOR_ACCOUNTS", "add_data_quality", "analyzer_image"]

#: Hourly data-quality runs (SageMaker Model Monitor's most frequent schedule).
DATA_QUALITY_SCHEDULE = "cron(0 * ? * * *)"
#: Accounts hosting the SageMaker Model Monitor analyzer image per region (published by AWS with the
#: SageMaker Python SDK). Other regions: ``MonitoringProps.analyzer_images``.
MODEL_MONITOR_ACCOUNTS: dict[str, str] = {
    "ap-east-1": "001633400207",
    "ap-northeast-1": "574779866223",
    "ap-northeast-2": "709848358524",
    "ap-south-1": "126357580389",
    "ap-southeast-1": "245545462676",
    "ap-southeast-2": "563025443158",
    "ca-central-1": "536280801234",
    "eu-central-1": "048819808253",
    "eu-north-1": "895015795356",
    "eu-west-1": "468650794304",
    "eu-west-2": "749857270468",
    "eu-west-3": "680080141114",
    "me-south-1": "607024016150",
    "sa-east-1": "539772159869",
    "us-east-1": "156813124566",
    "us-east-2": "777275614652",
    "us-west-1": "890145073186",
    "us-west-2": "159807026194",
}


def analyzer_image(region: str, images: Mapping[str, str], *, path: str) -> str:
    """The Model Monitor analyzer image of ``region``: ``images[region]``, else AWS's image there.

    Raises a :class:`~constructs_lib.core.errors.ConstructError` naming ``path`` for a region
    without a known image.
    """
    image = images.get(region)
    if image is not None:
        return image
    if region not in MODEL_MONITOR_ACCOUNTS:
        raise ConstructError(
            path,
            f"no Model Monitor analyzer image is known for {region}; set "
            "MonitoringProps.analyzer_images or data_quality: false",
            prop="data_quality",
        )
    return f"{MODEL_MONITOR_ACCOUNTS[region]}.dkr.ecr.{region}.amazonaws.com/sagemaker-model-monitor-analyzer"


def add_data_quality(
    scope: engine.Construct,
    endpoint: Endpoint,
    *,
    role: Resource,
    name: str,
    image: str,
    instance_type: str,
    baseline_uri: str | None,
    policy_provider: engine.TerraformProvider | None,
) -> Resource:
    """Data-quality monitoring of ``endpoint`` (which captures data) under ``scope``; returns its schedule.

    ``role`` is the shared data-quality role (of ``policy_provider``), which gets a policy
    ``<name>-dq-<endpoint>-<region>``; ``image`` the analyzer image (:func:`analyzer_image`).
    """
    provider = endpoint._provider
    statements = _statements(scope, endpoint, image, baseline_uri)
    network: dict[str, Any] = {"enable_network_isolation": True, "enable_inter_container_traffic_encryption": True}
    if endpoint.security_group is not None:
        subnets = list(endpoint.model.get("vpc_config")["subnets"])  # type: ignore[index]
        sg_id = ref(endpoint.security_group, "id")
        network["vpc_config"] = {"subnets": subnets, "security_group_ids": [sg_id]}
        statements += _network_statements(scope, endpoint, subnets, sg_id)
    if baseline_uri:
        base_bucket = baseline_uri.split("/")[2]
        base_prefix = "/".join(baseline_uri.split("/")[3:])
        partition = _iam.partition(scope, provider)
        statements.append(allow("ReadBaseline", ["s3:GetObject"],
                                f"arn:{partition}:s3:::{base_bucket}/{base_prefix + '/' if base_prefix else ''}*"))
    policy = _iam.role_policy(
        scope, "DataQualityPolicy", name=f"{name}-dq-{endpoint.props.name}-{endpoint.region}",
        principal=role, statements=statements, provider=policy_provider,
    )
    definition = _job_definition(endpoint, role, image, instance_type, baseline_uri, network)
    job = Resource(scope, "DataQualityJob", "aws_sagemaker_data_quality_job_definition",
                   provider=provider, depends_on=[policy], **definition)
    return Resource(
        scope,
        "DataQualitySchedule",
        "aws_sagemaker_monitoring_schedule",
        provider=provider,
        name=f"{endpoint.props.name}-data-quality",
        monitoring_schedule_config={
            "monitoring_job_definition_name": ref(job, "name"),
            "monitoring_type": "DataQuality",
            "schedule_config": {"schedule_expression": DATA_QUALITY_SCHEDULE},
        },
    )


def _statements(scope: engine.Construct, endpoint: Endpoint, image: str, baseline_uri: str | None) -> list[dict[str, Any]]:
    """The job's data, key, log, metric, endpoint and image permissions."""
    provider = endpoint._provider
    account = _iam.account_id(scope, provider)
    partition = _iam.partition(scope, provider)
    region, ep = endpoint.region, endpoint.props.name
    bucket_arn = endpoint.capture_bucket_arn
    capture_key = endpoint.capture_key_id
    logs = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/sagemaker/ProcessingJobs"
    return [
        allow("ListCapturedData", ["s3:ListBucket"], bucket_arn,
              {"StringLike": {"s3:prefix": [f"{CAPTURE_PREFIX}/{ep}/*", f"monitoring/{ep}/*"]}}),
        allow("ReadCapturedData", ["s3:GetObject"], f"{bucket_arn}/{CAPTURE_PREFIX}/{ep}/*"),
        allow("WriteReports", ["s3:GetObject", "s3:PutObject"], f"{bucket_arn}/monitoring/{ep}/*"),
        kms_statement("CaptureKeyThroughS3", capture_key, ["kms:Decrypt", "kms:GenerateDataKey"], via_service="s3"),
        kms_statement("VolumeKeyThroughSageMaker", endpoint.key_id,
                      ["kms:CreateGrant", "kms:Decrypt", "kms:GenerateDataKey"], via_service="sagemaker"),
        allow(
            "ProcessingJobLogs",
            ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            [logs, f"{logs}:*"],
        ),
        allow("DataQualityMetrics", ["cloudwatch:PutMetricData"], "*",
              {"StringLike": {"cloudwatch:namespace": "aws/sagemaker/Endpoints/*"}}),
        allow("DescribeMonitoredEndpoint", ["sagemaker:DescribeEndpoint"], endpoint.endpoint_id),
        allow("PullAnalyzerImage", ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
              f"arn:{partition}:ecr:{region}:{image.split('.')[0]}:repository/{image.split('/', 1)[1].split(':')[0]}"),
        allow("RegistryLogin", ["ecr:GetAuthorizationToken"], "*"),
    ]


def _network_statements(scope: engine.Construct, endpoint: Endpoint, subnets: list[str], sg_id: str) -> list[dict[str, Any]]:
    """Network interfaces of the job in the endpoint's subnets and security group."""
    provider = endpoint._provider
    account = _iam.account_id(scope, provider)
    partition = _iam.partition(scope, provider)
    region = endpoint.region
    return [
        describe_network(),
        allow(
            "JobNetworkInterfacesInThisNetwork",
            ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
             "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"],
            [
                f"arn:{partition}:ec2:{region}:{account}:network-interface/*",
                *(f"arn:{partition}:ec2:{region}:{account}:subnet/{s}" for s in subnets),
                f"arn:{partition}:ec2:{region}:{account}:security-group/{sg_id}",
            ],
        ),
    ]


def _job_definition(
    endpoint: Endpoint,
    role: Resource,
    image: str,
    instance_type: str,
    baseline_uri: str | None,
    network: dict[str, Any],
) -> dict[str, Any]:
    """Arguments of the ``aws_sagemaker_data_quality_job_definition``."""
    ep = endpoint.props.name
    bucket = endpoint.capture_uri.split("/")[2]  # type: ignore[union-attr]
    definition: dict[str, Any] = dict(
        name=f"{ep}-dq-{short_hash(baseline_uri or 'statistics-only', length=6)}",
        role_arn=ref(role, "arn"),
        data_quality_app_specification={"image_uri": image},
        data_quality_job_input={
            "endpoint_input": {
                "endpoint_name": endpoint.endpoint_name,
                "local_path": "/opt/ml/processing/input/endpoint",
                "s3_input_mode": "File",
                "s3_data_distribution_type": "FullyReplicated",
            }
        },
        data_quality_job_output_config={
            "kms_key_id": endpoint.capture_key_id,
            "monitoring_outputs": {
                "s3_output": {
                    "s3_uri": f"s3://{bucket}/monitoring/{ep}/reports",
                    "local_path": "/opt/ml/processing/output",
                    "s3_upload_mode": "EndOfJob",
                }
            },
        },
        job_resources={
            "cluster_config": {
                "instance_count": 1,
                "instance_type": instance_type,
                "volume_size_in_gb": 20,
                "volume_kms_key_id": endpoint.key_id,
            }
        },
        network_config=network,
        stopping_condition={"max_runtime_in_seconds": 1800},
    )
    if baseline_uri:
        definition["data_quality_baseline_config"] = {
            "constraints_resource": {"s3_uri": f"{baseline_uri}/constraints.json"},
            "statistics_resource": {"s3_uri": f"{baseline_uri}/statistics.json"},
        }
    return definition
