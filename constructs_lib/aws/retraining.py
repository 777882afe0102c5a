"""Retraining triggers that start a SageMaker pipeline: a schedule, new data, a drift alarm.

What ``Retraining`` builds, per trigger of the props (any combination, at least one):

* ``schedule`` (5-field cron, UTC): an ``aws_scheduler_schedule`` (EventBridge Scheduler) in the
  ``default`` group with the expression converted by :func:`to_schedule_expression`
  (``"0 3 * * 1"`` → ``cron(0 3 ? * MON *)``), time zone ``UTC``, flexible time window ``OFF``,
  state ``ENABLED``, a retry policy (3 attempts within an hour), encrypted with the retraining key,
  targeting the SageMaker pipeline through Scheduler's templated SageMaker target
  (``sagemaker_pipeline_parameters`` with the pipeline's parameters). Its role may be assumed only by
  EventBridge Scheduler for this schedule (``aws:SourceArn``) and can start the pipeline and decrypt
  this schedule's payload with the key (``kms:EncryptionContext:aws:scheduler:schedule:arn``), as
  Scheduler requires for a customer-managed key — nothing else.
* ``on_new_data``: an ``aws_cloudwatch_event_rule`` on the default event bus matching S3
  ``Object Created`` events of the named store's bucket with ``object.key`` under the prefix (the
  AWS ``DataStore`` always turns EventBridge notifications on for its bucket), and an
  ``aws_cloudwatch_event_target`` with a ``sagemaker_pipeline_target``.
* ``on_drift``: an ``aws_cloudwatch_metric_alarm`` on the custom metric ``on_drift.metric`` in
  namespace ``cdktf-mlops/<platform>`` (the stack's name unless ``metric_namespace`` is set),
  statistic ``Maximum``, ``GreaterThanOrEqualToThreshold`` ``on_drift.threshold``, one period of
  ``on_drift.evaluation_minutes``, missing data not breaching; and an ``aws_cloudwatch_event_rule``
  matching ``CloudWatch Alarm State Change`` of that alarm into ``ALARM``, with the same kind of
  pipeline target. CloudWatch alarms have no "start a SageMaker pipeline" action: EventBridge bridges
  the state change to the pipeline.

Each rule target has its own role, assumable only by EventBridge for that rule, that can only start
the pipeline (:meth:`~.pipelines.Pipeline.grant_start`). Deliveries that fail after the retry policy
(3 attempts within an hour) go to a dead-letter ``aws_sqs_queue`` (14 days retention, encrypted
with the retraining key) whose policy lets only EventBridge, for these rules, send to it.

The retraining key: a new customer-managed key (rotation every ``encryption.rotation_days``) unless
``encryption.key_id`` names one. Its policy lets EventBridge use it for the dead-letter queue only
(encryption context ``aws:sqs:arn``). A supplied key must allow the same; this construct cannot edit
its policy.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field

from ..core import engine
from ..core.automation_props import RetrainingProps as CoreRetrainingProps
from ..core.automation_props import check_retraining_inputs, cron_fields
from ..core.cron import FIELDS, WEEKDAYS, Cron, parse_cron
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.props import EncryptionProps
from ..core.resource import Resource
from . import _iam
from ._iam import allow, policy_document, ref, region_of_arn
from ._keys import key_arn_of, own_key
from .keys import Key
from .pipelines import Pipeline
from .storage import DataStore

__all__ = [
    "DEAD_LETTER_RETENTION_SECONDS",
    "Retraining",
    "RetrainingProps",
    "to_schedule_expression",
]

#: How long undeliverable trigger events stay in the dead-letter queue (the SQS maximum, 14 days).
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
#: Retry policy of every target: attempts, and the age after which an event is given up.
RETRY_ATTEMPTS = 3
RETRY_MAX_AGE_SECONDS = 3600

_DAYS = WEEKDAYS


class RetrainingProps(CoreRetrainingProps):
    """Core :class:`~constructs_lib.core.automation_props.RetrainingProps` plus AWS-only fields."""

    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps,
        description=(
            "Key for the schedule's payload and the dead-letter queue. Defaults to a new "
            "customer-managed key, rotated every 90 days."
        ),
    )
    metric_namespace: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9._/#:-]{1,255}$",
        description=(
            "CloudWatch namespace of the drift metric. Defaults to None: `cdktf-mlops/<stack name>` "
            "(the platform name for platform stacks)."
        ),
    )


# --------------------------------------------------------------------------- cron conversion


def _aws_field(cron: Cron, n: int) -> str:
    """Field ``n`` (minute, hour, day-of-month, month) in EventBridge syntax: the items as written
    (upper case), ``*/s`` as ``<lowest>/s`` (EventBridge documents start/step increments)."""
    if not cron.restricted(n):
        return "*"
    parts = []
    for part in cron_fields(cron.expression)[n].split(","):
        if part.startswith("*/"):
            part = f"{FIELDS[n].low}/{part[2:]}"
        parts.append(part.upper())
    return ",".join(parts)


def _aws_weekdays(days: set[int]) -> str:
    """Weekdays (0-6, Sunday 0) as EventBridge names, ordered SUN..SAT, runs of 3+ as ranges."""
    ordered = sorted(days)
    runs: list[list[int]] = []
    for d in ordered:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{_DAYS[run[0]]}-{_DAYS[run[-1]]}")
        else:
            parts.extend(_DAYS[d] for d in run)
    return ",".join(parts)


def to_schedule_expression(cron: str) -> str:
    """A 5-field cron expression (UTC) as an EventBridge Scheduler ``cron(...)`` expression.

    EventBridge cron has six fields (minute hour day-of-month month day-of-week year), numbers its
    weekdays 1-7 from Sunday (names are used here: ``SUN``-``SAT``) and needs ``?`` in exactly one
    of day-of-month and day-of-week. So ``"0 3 * * 1"`` becomes ``cron(0 3 ? * MON *)``,
    ``"30 2 1 * *"`` becomes ``cron(30 2 1 * ? *)`` and ``"*/15 * * * *"`` becomes
    ``cron(0/15 * * * ? *)``. Standard cron runs when *either* day field matches if both are
    restricted; EventBridge cannot express that, so such an expression is an error. The expression
    is parsed and checked by :func:`~constructs_lib.core.cron.parse_cron`, as on every cloud.
    """
    parsed = parse_cron(cron)
    minute, hour, dom, month = (_aws_field(parsed, n) for n in range(4))
    days = {d % 7 for d in parsed.values(4)}
    dom_restricted = parsed.restricted(2)
    dow_restricted = len(days) < 7
    if dom_restricted and dow_restricted:
        raise ConstructError(
            None,
            f"cron {cron!r}: restricts both day-of-month and day-of-week (standard cron runs when either "
            "matches); EventBridge allows only one: set one of them to '*' or use two schedules"
        )
    if dow_restricted:
        return f"cron({minute} {hour} ? {month} {_aws_weekdays(days)} *)"
    return f"cron({minute} {hour} {dom} {month} ? *)"


# --------------------------------------------------------------------------- construct


class Retraining(MlopsConstruct):
    """Schedule, new-data and drift triggers that start one SageMaker pipeline.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`RetrainingProps` (the core props are accepted too and get the AWS defaults).
        pipeline: the :class:`~.pipelines.Pipeline` the triggers start.
        stores: store name -> :class:`~.storage.DataStore`; ``on_new_data.store`` must be one of them.
        provider: the ``aws`` provider. Defaults to the stack's default provider.

    Attributes:
        triggers: trigger kind (``schedule``, ``on_new_data``, ``on_drift``) -> its primary resource
            (``aws_scheduler_schedule``, ``aws_cloudwatch_event_rule``, ``aws_cloudwatch_metric_alarm``).
        roles: trigger kind -> the ``aws_iam_role`` that starts the pipeline for it.
        rules: trigger kind -> ``aws_cloudwatch_event_rule`` (``on_new_data``, ``on_drift``).
        schedule_expression: the EventBridge expression of the schedule, or ``None``.
        dead_letter_queue: the ``aws_sqs_queue`` for undeliverable rule events, or ``None`` without rules.
        key: the created :class:`~.keys.Key`, or ``None`` when ``encryption.key_id`` was given.
        key_id: ARN of the key in use.
    """

    props_type = CoreRetrainingProps
    props: CoreRetrainingProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreRetrainingProps,
        *,
        pipeline: Pipeline,
        stores: dict[str, DataStore],
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(props, RetrainingProps):
            props = RetrainingProps(**props.model_dump())
            self.props = props
        check_retraining_inputs(self.node.path, props, pipeline=pipeline, pipeline_type=Pipeline, stores=stores)
        data = props.on_new_data
        self.schedule_expression: str | None = None
        if props.schedule is not None:
            try:
                self.schedule_expression = to_schedule_expression(props.schedule)
            except ValueError as err:
                raise ConstructError(self.node.path, f"schedule: {err}") from None

        self._pipeline = pipeline
        self.triggers: dict[str, Resource] = {}
        self.roles: dict[str, Resource] = {}
        self.rules: dict[str, Resource] = {}
        self._account = _iam.account_id(self, provider)
        self._partition = _iam.partition(self, provider)
        self._region = region_of_arn(self, "PipelineArn", pipeline.pipeline_arn)

        self.key: Key | None = own_key(
            self,
            "Key",
            props.encryption,
            name=props.name,
            description=f"Encrypts the retraining schedule and dead-letter queue of {props.name}",
            deletion_protection=False,
            provider=provider,
        )
        self.key_id: str = key_arn_of(self.key, props.encryption)

        self.dead_letter_queue: Resource | None = None
        if data is not None or props.on_drift is not None:
            self.dead_letter_queue = Resource(
                self,
                "DeadLetterQueue",
                "aws_sqs_queue",
                provider=provider,
                name=f"{props.name}-dlq",
                message_retention_seconds=DEAD_LETTER_RETENTION_SECONDS,
                kms_master_key_id=self.key_id,
                kms_data_key_reuse_period_seconds=300,
            )
        if self.schedule_expression is not None:
            self._schedule(self.schedule_expression)
        if data is not None:
            self._new_data(stores[data.store], data.prefix)
        if props.on_drift is not None:
            self._drift()
        if self.dead_letter_queue is not None:
            self._dead_letter_access()

    # ------------------------------------------------------------------ parts

    def _trigger_role(self, kind: str, service: str, source_arn: str) -> Resource:
        """A role only ``service`` may assume, for ``source_arn`` of this account, that can start the pipeline."""
        role = Resource(
            self,
            "".join(w.capitalize() for w in kind.split("_")) + "Role",
            "aws_iam_role",
            provider=self._provider,
            name=f"{self.props.name}-{kind.replace('_', '-')}"[:64],
            description=f"Lets {service} start pipeline {self._pipeline.props.name} ({kind} trigger of {self.props.name})",
            max_session_duration=3600,
            assume_role_policy=policy_document(
                [
                    {
                        "Sid": "ThisTriggerOnly",
                        "Effect": "Allow",
                        "Principal": {"Service": service},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": self._account},
                            "ArnEquals": {"aws:SourceArn": source_arn},
                        },
                    }
                ]
            ),
        )
        self._pipeline.grant_start(role)
        self.roles[kind] = role
        return role

    def _parameters(self) -> list[dict[str, str]]:
        return [{"name": k, "value": v} for k, v in sorted(self._pipeline.props.parameters.items())]

    def _schedule(self, expression: str) -> None:
        name = f"{self.props.name}-schedule"[:64]
        schedule_arn = (
            f"arn:{self._partition}:scheduler:{self._region}:{self._account}:schedule/default/{name}"
        )
        role = self._trigger_role("schedule", "scheduler.amazonaws.com", schedule_arn)
        _iam.role_policy(
            self,
            "ScheduleDecrypt",
            name=f"{self.props.name}-schedule-decrypt",
            principal=role,
            statements=[
                allow(
                    "DecryptThisSchedulePayload",
                    ["kms:Decrypt"],
                    self.key_id,
                    {"StringEquals": {"kms:EncryptionContext:aws:scheduler:schedule:arn": schedule_arn}},
                )
            ],
            provider=self._provider,
        )
        params = self._parameters()
        self.triggers["schedule"] = Resource(
            self,
            "Schedule",
            "aws_scheduler_schedule",
            provider=self._provider,
            name=name,
            group_name="default",
            description=f"Starts pipeline {self._pipeline.props.name}: {self.props.schedule} (UTC)",
            schedule_expression=expression,
            schedule_expression_timezone="UTC",
            state="ENABLED",
            kms_key_arn=self.key_id,
            flexible_time_window={"mode": "OFF"},
            target={
                "arn": self._pipeline.pipeline_arn,
                "role_arn": ref(role, "arn"),
                "retry_policy": {
                    "maximum_retry_attempts": RETRY_ATTEMPTS,
                    "maximum_event_age_in_seconds": RETRY_MAX_AGE_SECONDS,
                },
                "sagemaker_pipeline_parameters": {"pipeline_parameter": params} if params else None,
            },
        )

    def _rule(self, kind: str, description: str, pattern: dict[str, Any]) -> Resource:
        cid = "".join(w.capitalize() for w in kind.split("_"))
        rule = Resource(
            self,
            f"{cid}Rule",
            "aws_cloudwatch_event_rule",
            provider=self._provider,
            name=f"{self.props.name}-{kind.replace('_', '-')}"[:64],
            description=description,
            event_pattern=json.dumps(pattern, separators=(",", ":")),
            state="ENABLED",
        )
        role = self._trigger_role(kind, "events.amazonaws.com", ref(rule, "arn"))
        params = self._parameters()
        assert self.dead_letter_queue is not None
        Resource(
            self,
            f"{cid}Target",
            "aws_cloudwatch_event_target",
            provider=self._provider,
            rule=ref(rule, "name"),
            target_id="start-pipeline",
            arn=self._pipeline.pipeline_arn,
            role_arn=ref(role, "arn"),
            retry_policy={
                "maximum_retry_attempts": RETRY_ATTEMPTS,
                "maximum_event_age_in_seconds": RETRY_MAX_AGE_SECONDS,
            },
            dead_letter_config={"arn": ref(self.dead_letter_queue, "arn")},
            sagemaker_pipeline_target={"pipeline_parameter_list": params} if params else None,
        )
        self.rules[kind] = rule
        return rule

    def _new_data(self, store: DataStore, prefix: str) -> None:
        detail: dict[str, Any] = {"bucket": {"name": [store.store_name]}}
        if prefix:
            detail["object"] = {"key": [{"prefix": prefix}]}
        self.triggers["on_new_data"] = self._rule(
            "on_new_data",
            f"New objects under {prefix or '/'} of store {store.props.name} start pipeline {self._pipeline.props.name}",
            {"source": ["aws.s3"], "detail-type": ["Object Created"], "detail": detail},
        )

    def _drift(self) -> None:
        drift = self.props.on_drift
        assert drift is not None
        namespace = getattr(self.props, "metric_namespace", None) or (
            f"cdktf-mlops/{engine.TerraformStack.of(self).node.id}"
        )
        alarm = Resource(
            self,
            "DriftAlarm",
            "aws_cloudwatch_metric_alarm",
            provider=self._provider,
            alarm_name=f"{self.props.name}-drift",
            alarm_description=(
                f"{drift.metric} >= {drift.threshold} over {drift.evaluation_minutes} min: "
                f"starts pipeline {self._pipeline.props.name} (through EventBridge)"
            ),
            namespace=namespace,
            metric_name=drift.metric,
            statistic="Maximum",
            period=drift.evaluation_minutes * 60,
            evaluation_periods=1,
            datapoints_to_alarm=1,
            threshold=drift.threshold,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            actions_enabled=True,
        )
        self.drift_alarm: Resource = alarm
        self.triggers["on_drift"] = alarm
        self._rule(
            "on_drift",
            f"Drift alarm {self.props.name}-drift entering ALARM starts pipeline {self._pipeline.props.name}",
            {
                "source": ["aws.cloudwatch"],
                "detail-type": ["CloudWatch Alarm State Change"],
                "resources": [ref(alarm, "arn")],
                "detail": {"state": {"value": ["ALARM"]}},
            },
        )

    def _dead_letter_access(self) -> None:
        """Only EventBridge, for these rules, may send to the dead-letter queue and use its key for it."""
        queue = self.dead_letter_queue
        assert queue is not None
        queue_arn = ref(queue, "arn")
        # The key policy names the queue by a built ARN: the queue's own ``arn`` would make the key
        # depend on the queue, which depends on the key (a cycle).
        built_queue_arn = f"arn:{self._partition}:sqs:{self._region}:{self._account}:{queue.get('name')}"
        rule_arns = [ref(r, "arn") for r in self.rules.values()]
        Resource(
            self,
            "DeadLetterQueuePolicy",
            "aws_sqs_queue_policy",
            provider=self._provider,
            queue_url=ref(queue, "id"),
            policy=policy_document(
                [
                    {
                        "Sid": "EventBridgeRulesOfThisRetraining",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": queue_arn,
                        "Condition": {"ArnEquals": {"aws:SourceArn": rule_arns}},
                    }
                ]
            ),
        )
        if self.key is not None:
            self.key.add_to_resource_policy(
                {
                    "Sid": "EventBridgeDeadLetterQueueOnly",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"kms:EncryptionContext:aws:sqs:arn": built_queue_arn},
                    },
                }
            )
