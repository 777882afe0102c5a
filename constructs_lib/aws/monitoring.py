"""Monitoring: an encrypted alert topic, alarms with documented thresholds, a dashboard, data quality.

What ``Monitoring`` builds, with every default:

* an **alert target** per region that has something to watch (CloudWatch alarms can only notify a
  topic of their own region): an ``aws_sns_topic`` ``<name>-alerts`` encrypted with a new
  customer-managed key of that region (rotation on), a topic policy that lets the account manage
  it and lets only CloudWatch, EventBridge and AWS Budgets *of this account* publish, and one
  ``email`` subscription per ``alert_emails`` address. Email subscriptions stay *pending* until
  each recipient clicks the confirmation link AWS sends (one per topic and address); Terraform
  cannot confirm them. :attr:`Monitoring.alert_target` is the primary region's topic ARN;
* alarms, created by the ``watch_*`` methods the platform calls (defaults in brackets; every alarm
  notifies the topic of its region on ALARM and OK; missing data is not breaching unless noted):

  ======================  ===============================================================================
  ``watch_endpoint``      p99 ``ModelLatency`` > ``latency_p99_ms`` (500 ms; the metric is in microseconds)
                          in 3 of 5 minutes; ``Invocation5XXErrors`` average (the error share) >
                          ``error_rate_percent`` (1 %) in 3 of 5 minutes; ``Invocations`` = 0 for three
                          5-minute periods, missing data breaching (only where traffic is expected: not on
                          a failover standby); ``CPUUtilization`` > ``cpu_percent`` (80) x vCPUs,
                          ``GPUUtilization`` > ``gpu_percent`` (90) x GPUs (GPU instances),
                          ``MemoryUtilization`` > ``memory_percent`` (85) for 15 minutes (instance
                          variants; CloudWatch sums CPU and GPU utilisation over cores)
  ``watch_training``      EventBridge rules: AWS Batch jobs of the training queues that end ``FAILED``
                          and SageMaker training jobs of the training role that end ``Failed`` -> topic
  ``watch_store``         S3 ``ReplicationLatency`` (maximum) > ``replication_lag_minutes`` (15) for
                          15 minutes, and ``OperationsFailedReplication`` > 0 (stores with a replica)
  ======================  ===============================================================================

* one CloudWatch dashboard ``<name>`` (primary region) with a row per watched endpoint and region
  (invocations and errors, p99 latency, utilisation) and per replicated store (replication latency);
* **log retention and encryption**: endpoint log groups are created by each ``Endpoint`` (before
  the endpoint, with its key and the retention the platform passes from ``log_retention_days``);
  the alert keys also encrypt nothing but the topics;
* **data quality** (``data_quality``, default on; endpoints that capture data): per endpoint and
  region an ``aws_sagemaker_data_quality_job_definition`` (the AWS Model Monitor analyzer image of
  the region, on ``data_quality_instance_type`` in the endpoint's private network with network
  isolation and inter-container encryption, volumes encrypted with the endpoint's key, reports to
  ``monitoring/<endpoint>/`` of the capture bucket encrypted with its key) and an hourly
  ``aws_sagemaker_monitoring_schedule``. Two-phase: without ``data_quality_baseline_uri`` the job
  computes statistics of the captured data only; once the training pipeline has written a baseline
  (``constraints.json`` and ``statistics.json`` from a suggest-baseline job) set
  ``data_quality_baseline_uri`` and the job also checks constraints and reports violations (the
  job definition's name carries a hash of the URI, so the schedule moves to the new definition
  in place). A shared ``<name>-data-quality`` role reads only the capture prefixes and writes only
  the report prefixes. The jobs are built by :mod:`.data_quality`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import Field, field_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructTypeError
from ..core.naming import short_hash
from ..core.props import KeyProps
from ..core.resource import Resource
from ..core.run_props import MonitoringProps as CoreMonitoringProps
from . import _iam
from ._iam import policy_document, ref
from .data_quality import DATA_QUALITY_SCHEDULE, MODEL_MONITOR_ACCOUNTS, add_data_quality, analyzer_image
from .keys import Key
from .serving import VARIANT_NAME, Endpoint
from .storage import REPLICATION_RULE_ID, DataStore
from .training import Training

__all__ = [
    "ALARM_PERIOD_SECONDS",
    "DATA_QUALITY_SCHEDULE",
    "MODEL_MONITOR_ACCOUNTS",
    "Monitoring",
    "MonitoringProps",
]

#: Period of endpoint alarms and how many of the last ``EVALUATION_PERIODS`` must breach.
ALARM_PERIOD_SECONDS = 60
EVALUATION_PERIODS = 5
DATAPOINTS_TO_ALARM = 3
#: Utilisation alarms look at 5-minute averages for 15 minutes.
UTILISATION_PERIOD_SECONDS = 300
UTILISATION_EVALUATION_PERIODS = 3
#: "Invocations dropped to zero": no invocation in three 5-minute periods.
ZERO_TRAFFIC_PERIOD_SECONDS = 300
ZERO_TRAFFIC_EVALUATION_PERIODS = 3
#: Replication alarms: 5-minute periods, 3 of them.
REPLICATION_PERIOD_SECONDS = 300
REPLICATION_EVALUATION_PERIODS = 3
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")


class MonitoringProps(CoreMonitoringProps):
    """Core :class:`~constructs_lib.core.run_props.MonitoringProps` plus AWS-only fields."""

    region: str | None = Field(
        default=None,
        pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$",
        description="Region of the construct's provider (the primary alert topic). Defaults to None: unnamed.",
    )
    data_quality_baseline_uri: str | None = Field(
        default=None,
        description=(
            "S3 prefix with the baseline constraints.json and statistics.json. Defaults to None: "
            "data-quality jobs compute statistics only until a baseline exists."
        ),
    )
    data_quality_instance_type: str = Field(
        default="ml.m5.xlarge", description="Instance type of data-quality jobs. Defaults to ml.m5.xlarge."
    )
    analyzer_images: dict[str, str] = Field(
        default_factory=dict,
        description="Region -> Model Monitor analyzer image. Defaults to none: MODEL_MONITOR_ACCOUNTS.",
    )

    @field_validator("data_quality_baseline_uri")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and not _S3_URI.match(value):
            raise ValueError(f"data_quality_baseline_uri {value!r} must be an S3 URI like s3://bucket/prefix")
        return value.rstrip("/") if value else value


class _Site:
    """The alert topic of one region."""

    def __init__(self, topic: Resource, key: Key, provider: engine.TerraformProvider | None) -> None:
        self.topic = topic
        self.key = key
        self.provider = provider
        self.arn: str = ref(topic, "arn")


class Monitoring(MlopsConstruct):
    """SNS alert topics, CloudWatch alarms, EventBridge failure rules, a dashboard, data quality.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`MonitoringProps` (or the core ``MonitoringProps``); see the module docstring.
        provider: the ``aws`` provider of the primary region. Defaults to the stack's default provider.

    Attributes:
        alert_target: ARN token of the primary region's alert topic (what budgets notify).
        alert_topics: region (``"primary"`` for the provider's region) -> topic ARN token.
        alert_targets: the topic ARN tokens, primary first (the platform's ``alert_targets``).
        topic: the primary ``aws_sns_topic``.
        alarms: alarm key (``<endpoint>/<region>/<what>``, ``<store>/replication-latency``...) ->
            ``aws_cloudwatch_metric_alarm``.
        rules: rule key -> ``aws_cloudwatch_event_rule`` (training failures).
        data_quality: ``<endpoint>/<region>`` -> ``aws_sagemaker_monitoring_schedule``.
        dashboard: the ``aws_cloudwatch_dashboard``.
    """

    props_type = CoreMonitoringProps
    props: CoreMonitoringProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreMonitoringProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self._region: str | None = getattr(props, "region", None)
        self._sites: dict[str, _Site] = {}
        self.alarms: dict[str, Resource] = {}
        self.rules: dict[str, Resource] = {}
        self.data_quality: dict[str, Resource] = {}
        self._widgets: list[dict[str, Any]] = []
        self._dq_role: Resource | None = None
        primary = self._site(self._region or "primary", provider)
        self.topic: Resource = primary.topic
        self.alert_target: str = primary.arn
        self.dashboard: Resource = Resource(
            self,
            "Dashboard",
            "aws_cloudwatch_dashboard",
            provider=provider,
            dashboard_name=props.name,
            dashboard_body=self._body(),
        )

    @property
    def alert_topics(self) -> dict[str, str]:
        """Region -> alert topic ARN token (one per region with watched resources)."""
        return {region: site.arn for region, site in self._sites.items()}

    @property
    def alert_targets(self) -> list[str]:
        """Where alerts go: every alert topic's ARN token, the primary region's first."""
        return [site.arn for site in self._sites.values()]

    # ------------------------------------------------------------------ alert topics

    def _site(self, region: str, provider: engine.TerraformProvider | None) -> _Site:
        """The alert topic of ``region`` (created on first use; the first one is the primary)."""
        if region in self._sites:
            return self._sites[region]
        props = self.props
        primary = not self._sites
        scope: engine.Construct = self if primary else engine.Construct(self, region)
        account = _iam.account_id(self, provider)
        partition = _iam.partition(self, provider)
        key = Key(
            scope,
            "AlertKey",
            KeyProps.for_encryption(
                f"{props.name}-alerts",
                props.encryption,
                description=f"Encrypts the alert topic of {props.name}",
            ),
            provider=provider,
        )
        key.add_to_resource_policy(
            {
                "Sid": "AlarmSourcesOfThisAccountPublishEncrypted",
                "Effect": "Allow",
                "Principal": {
                    "Service": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]
                },
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        )
        topic = Resource(
            scope,
            "Resource" if primary else "Topic",
            "aws_sns_topic",
            provider=provider,
            name=f"{props.name}-alerts",
            display_name=f"{props.name} alerts"[:100],
            kms_master_key_id=key.key_id,
        )
        arn = ref(topic, "arn")
        Resource(
            scope,
            "TopicPolicy",
            "aws_sns_topic_policy",
            provider=provider,
            arn=arn,
            policy=policy_document(
                [
                    {
                        "Sid": "ThisAccountManagesTheTopic",
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                        "Action": [
                            "sns:GetTopicAttributes",
                            "sns:ListSubscriptionsByTopic",
                            "sns:Publish",
                            "sns:SetTopicAttributes",
                            "sns:Subscribe",
                        ],
                        "Resource": arn,
                    },
                    {
                        "Sid": "AlarmSourcesOfThisAccountPublish",
                        "Effect": "Allow",
                        "Principal": {
                            "Service": ["budgets.amazonaws.com", "cloudwatch.amazonaws.com", "events.amazonaws.com"]
                        },
                        "Action": "sns:Publish",
                        "Resource": arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                    },
                ]
            ),
        )
        for email in props.alert_emails:
            Resource(
                scope,
                f"Email{short_hash(email, length=8)}",
                "aws_sns_topic_subscription",
                provider=provider,
                topic_arn=arn,
                protocol="email",
                endpoint=email,
            )
        site = _Site(topic, key, provider)
        self._sites[region] = site
        return site

    def _site_for(self, region: str, provider: engine.TerraformProvider | None) -> _Site:
        """The primary topic for resources of the primary region, else the topic of ``region``."""
        if region == self._region or (self._region is None and provider is self._provider):
            return next(iter(self._sites.values()))
        return self._site(region, provider)

    # ------------------------------------------------------------------ alarms

    def _alarm(
        self,
        key: str,
        scope: engine.Construct,
        cid: str,
        site: _Site,
        **args: Any,
    ) -> Resource:
        alarm = Resource(
            scope,
            cid,
            "aws_cloudwatch_metric_alarm",
            provider=site.provider,
            actions_enabled=True,
            alarm_actions=[site.arn],
            ok_actions=[site.arn],
            **args,
        )
        self.alarms[key] = alarm
        return alarm

    def watch_endpoint(self, endpoint: Endpoint, *, expect_traffic: bool = True) -> dict[str, Resource]:
        """Alarms (and data-quality monitoring) for one regional endpoint; returns its alarms by kind.

        ``expect_traffic=False`` (a failover standby) leaves out the zero-invocations alarm.
        """
        if not isinstance(endpoint, Endpoint):
            raise ConstructTypeError(self.node.path, "watch_endpoint takes a constructs_lib.aws.Endpoint")
        props = self.props
        region = endpoint.region
        site = self._site_for(region, endpoint._provider)
        ep = endpoint.props.name
        scope = engine.Construct(self, f"{ep}-{region}")
        dims = {"EndpointName": endpoint.endpoint_name, "VariantName": VARIANT_NAME}
        out: dict[str, Resource] = {}
        base = f"{ep}/{region}"

        def alarm(kind: str, **args: Any) -> None:
            out[kind] = self._alarm(f"{base}/{kind}", scope, kind.title().replace("-", ""), site,
                                    alarm_name=f"{ep}-{kind}", dimensions=dims, **args)

        alarm(
            "latency-p99",
            alarm_description=f"p99 model latency of {ep} in {region} above {props.latency_p99_ms} ms",
            namespace="AWS/SageMaker", metric_name="ModelLatency", extended_statistic="p99",
            period=ALARM_PERIOD_SECONDS, evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=DATAPOINTS_TO_ALARM,
            threshold=props.latency_p99_ms * 1000,  # ModelLatency is reported in microseconds
            comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
        )
        alarm(
            "error-rate",
            alarm_description=f"More than {props.error_rate_percent}% of invocations of {ep} in {region} fail (5xx)",
            namespace="AWS/SageMaker", metric_name="Invocation5XXErrors", statistic="Average",
            period=ALARM_PERIOD_SECONDS, evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=DATAPOINTS_TO_ALARM,
            threshold=props.error_rate_percent / 100,  # the average of a 0/1 per-request metric
            comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
        )
        if expect_traffic:
            alarm(
                "no-invocations",
                alarm_description=f"No invocations of {ep} in {region} for 15 minutes",
                namespace="AWS/SageMaker", metric_name="Invocations", statistic="Sum",
                period=ZERO_TRAFFIC_PERIOD_SECONDS, evaluation_periods=ZERO_TRAFFIC_EVALUATION_PERIODS,
                threshold=0, comparison_operator="LessThanOrEqualToThreshold", treat_missing_data="breaching",
            )
        if not endpoint.serverless:
            utilisation = [("cpu", "CPUUtilization", props.cpu_percent, endpoint.vcpus or 1),
                           ("memory", "MemoryUtilization", props.memory_percent, 1)]
            if endpoint.gpus:
                utilisation.append(("gpu", "GPUUtilization", props.gpu_percent, endpoint.gpus))
            for kind, metric, percent, cores in utilisation:
                alarm(
                    kind,
                    alarm_description=(
                        f"{metric} of {ep} in {region} above {percent}% "
                        f"({percent * cores} summed over {cores} core(s)) for 15 minutes"
                    ),
                    namespace="/aws/sagemaker/Endpoints", metric_name=metric, statistic="Average",
                    period=UTILISATION_PERIOD_SECONDS, evaluation_periods=UTILISATION_EVALUATION_PERIODS,
                    threshold=percent * cores, comparison_operator="GreaterThanThreshold",
                    treat_missing_data="notBreaching",
                )
        self._endpoint_widgets(endpoint)
        if props.data_quality and endpoint.capture_uri is not None:
            self._data_quality(endpoint, scope)
        return out

    def watch_training(self, training: Training) -> dict[str, Resource]:
        """EventBridge rules: failed Batch jobs of the training queues and failed SageMaker training jobs."""
        if not isinstance(training, Training):
            raise ConstructTypeError(self.node.path, "watch_training takes a constructs_lib.aws.Training")
        site = next(iter(self._sites.values()))
        scope = engine.Construct(self, f"training-{training.props.name}")
        patterns = {
            "batch-job-failed": (
                "AWS Batch jobs of the training pools that failed",
                {
                    "source": ["aws.batch"],
                    "detail-type": ["Batch Job State Change"],
                    "detail": {
                        "status": ["FAILED"],
                        "jobQueue": [ref(q, "arn") for q in training.pools.values()],
                    },
                },
                {"job": "$.detail.jobName", "queue": "$.detail.jobQueue", "reason": "$.detail.statusReason"},
                "Batch job <job> in <queue> FAILED: <reason>",
            ),
            "sagemaker-training-failed": (
                "SageMaker training jobs of the training role that failed",
                {
                    "source": ["aws.sagemaker"],
                    "detail-type": ["SageMaker Training Job State Change"],
                    "detail": {"TrainingJobStatus": ["Failed"], "RoleArn": [training.principal_arn]},
                },
                {"job": "$.detail.TrainingJobName", "reason": "$.detail.FailureReason"},
                "SageMaker training job <job> Failed: <reason>",
            ),
        }
        out: dict[str, Resource] = {}
        for kind, (description, pattern, paths, template) in patterns.items():
            if kind == "batch-job-failed" and not training.pools:
                continue
            rule = Resource(
                scope,
                kind.title().replace("-", ""),
                "aws_cloudwatch_event_rule",
                provider=site.provider,
                name=f"{training.props.name}-{kind}"[:64],
                description=description,
                event_pattern=json.dumps(pattern, separators=(",", ":")),
                state="ENABLED",
            )
            Resource(
                scope,
                kind.title().replace("-", "") + "Alert",
                "aws_cloudwatch_event_target",
                provider=site.provider,
                rule=ref(rule, "name"),
                target_id="alert-topic",
                arn=site.arn,
                input_transformer={"input_paths": paths, "input_template": json.dumps(template)},
            )
            self.rules[f"{training.props.name}/{kind}"] = rule
            out[kind] = rule
        return out

    def watch_store(self, store: DataStore) -> dict[str, Resource]:
        """Replication alarms of a store with a replica (nothing for a single-region store)."""
        if not isinstance(store, DataStore):
            raise ConstructTypeError(self.node.path, "watch_store takes a constructs_lib.aws.DataStore")
        if store.replica is None:
            return {}
        props = self.props
        site = self._site_for(self._region or "primary", store._provider)
        name = store.props.name
        scope = engine.Construct(self, f"store-{name}")
        dims = {
            "SourceBucket": store.store_name,
            "DestinationBucket": ref(store.replica, "id"),
            "RuleId": REPLICATION_RULE_ID,
        }
        out = {
            "replication-latency": self._alarm(
                f"{name}/replication-latency", scope, "ReplicationLatency", site,
                alarm_name=f"{name}-replication-latency",
                alarm_description=f"Replication of {name} lags more than {props.replication_lag_minutes} minutes",
                namespace="AWS/S3", metric_name="ReplicationLatency", statistic="Maximum", dimensions=dims,
                period=REPLICATION_PERIOD_SECONDS, evaluation_periods=REPLICATION_EVALUATION_PERIODS,
                threshold=props.replication_lag_minutes * 60, comparison_operator="GreaterThanThreshold",
                treat_missing_data="notBreaching",
            ),
            "replication-failures": self._alarm(
                f"{name}/replication-failures", scope, "ReplicationFailures", site,
                alarm_name=f"{name}-replication-failures",
                alarm_description=f"Objects of {name} failed to replicate",
                namespace="AWS/S3", metric_name="OperationsFailedReplication", statistic="Sum", dimensions=dims,
                period=REPLICATION_PERIOD_SECONDS, evaluation_periods=1,
                threshold=0, comparison_operator="GreaterThanThreshold", treat_missing_data="notBreaching",
            ),
        }
        self._widgets.append(
            self._widget(
                f"{name}: replication latency (s)",
                [["AWS/S3", "ReplicationLatency", "SourceBucket", dims["SourceBucket"],
                  "DestinationBucket", dims["DestinationBucket"], "RuleId", REPLICATION_RULE_ID,
                  {"stat": "Maximum"}]],
                self._region,
            )
        )
        self.dashboard.set(dashboard_body=self._body())
        return out

    # ------------------------------------------------------------------ data quality

    def _dq_principal(self) -> Resource:
        if self._dq_role is None:
            self._dq_role = _iam.service_role(
                self,
                "DataQualityRole",
                name=f"{self.props.name}-data-quality"[:64],
                description=f"SageMaker Model Monitor data-quality jobs of {self.props.name}",
                services=["sagemaker.amazonaws.com"],
                provider=self._provider,
            )
        return self._dq_role

    def _data_quality(self, endpoint: Endpoint, scope: engine.Construct) -> None:
        props = self.props
        image = analyzer_image(endpoint.region, dict(getattr(props, "analyzer_images", {})), path=self.node.path)
        self.data_quality[f"{endpoint.props.name}/{endpoint.region}"] = add_data_quality(
            scope,
            endpoint,
            role=self._dq_principal(),
            name=props.name,
            image=image,
            instance_type=getattr(props, "data_quality_instance_type", "ml.m5.xlarge"),
            baseline_uri=getattr(props, "data_quality_baseline_uri", None),
            policy_provider=self._provider,
        )

    # ------------------------------------------------------------------ dashboard

    @staticmethod
    def _widget(title: str, metrics: list[list[Any]], region: str | None) -> dict[str, Any]:
        properties: dict[str, Any] = {"title": title, "metrics": metrics, "view": "timeSeries", "period": 60}
        if region:
            properties["region"] = region
        return {"type": "metric", "width": 8, "height": 6, "properties": properties}

    def _endpoint_widgets(self, endpoint: Endpoint) -> None:
        ep, region, name = endpoint.props.name, endpoint.region, endpoint.endpoint_name
        dims = ["EndpointName", name, "VariantName", VARIANT_NAME]
        self._widgets += [
            self._widget(f"{ep} ({region}): invocations and 5xx",
                         [["AWS/SageMaker", "Invocations", *dims, {"stat": "Sum"}],
                          ["AWS/SageMaker", "Invocation5XXErrors", *dims, {"stat": "Sum"}]], region),
            self._widget(f"{ep} ({region}): p99 model latency (us)",
                         [["AWS/SageMaker", "ModelLatency", *dims, {"stat": "p99"}]], region),
        ]
        if not endpoint.serverless:
            metrics = [["/aws/sagemaker/Endpoints", m, *dims] for m in ("CPUUtilization", "MemoryUtilization")]
            if endpoint.gpus:
                metrics.append(["/aws/sagemaker/Endpoints", "GPUUtilization", *dims])
            self._widgets.append(self._widget(f"{ep} ({region}): utilisation (%)", metrics, region))
        self.dashboard.set(dashboard_body=self._body())

    def _body(self) -> str:
        widgets = self._widgets or [
            {"type": "text", "width": 24, "height": 2,
             "properties": {"markdown": f"# {self.props.name}\nNothing is watched yet."}}
        ]
        return json.dumps({"widgets": widgets}, separators=(",", ":"))
