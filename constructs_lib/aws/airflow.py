"""Managed Airflow: an Amazon MWAA environment, private and encrypted, with a least-privilege role.

What ``Airflow`` builds, with every default:

* an ``aws_mwaa_environment`` (the construct's ``resource``) named ``props.name``, Airflow
  ``airflow_version`` (default :data:`DEFAULT_AIRFLOW_VERSION`), class from ``size``
  (:data:`ENVIRONMENT_CLASSES`: small → ``mw1.small``, medium → ``mw1.medium``, large →
  ``mw1.large``), 1 to ``max_workers`` workers, DAGs read from ``s3://<dags store>/<dags_prefix>``
  (the store's bucket is the source bucket; no requirements, plugins or startup script);
* the web server reachable only from inside the VPC (``PRIVATE_ONLY``), endpoints managed by MWAA;
* encryption with a customer-managed key (new, rotated every ``encryption.rotation_days``, unless
  ``encryption.key_id``); the key policy lets CloudWatch Logs of this region use it for the
  environment's log groups only (``airflow-<name>-*``), as MWAA requires for a customer-managed key;
* logging of all five log types (DAG processing, scheduler, task, web server, worker) at ``INFO``;
* an execution role that only MWAA (``airflow.amazonaws.com`` and ``airflow-env.amazonaws.com``) of
  this account may assume, allowed exactly: reading the DAG store (its ``grant_read``: list, get
  objects, decrypt with its key through S3) plus ``s3:GetBucketPublicAccessBlock`` on it and
  ``s3:GetAccountPublicAccessBlock`` (MWAA checks the bucket is not public),
  ``airflow:PublishMetrics`` on this environment, CloudWatch Logs on ``airflow-<name>-*`` log groups
  (``logs:DescribeLogGroups`` cannot be scoped), ``cloudwatch:PutMetricData`` in the ``AmazonMWAA``
  namespace only, the Celery SQS queues MWAA creates in its own account
  (``arn:<partition>:sqs:<region>:*:airflow-celery-*``, as AWS documents) and the environment key
  through SQS and S3 only;
* networking: MWAA needs exactly two private subnets in different availability zones and a
  security group. Three placements, from most to least preferred:

  - ``network`` (a :class:`~.network.Network`, e.g. the platform's, which
    :func:`~.automation.build_automation` passes): its first two private subnets (one per zone, so
    two zones), its VPC id, CIDR and S3 prefix list are used directly (no data-source lookup). A
    network that creates its VPC must have an interface endpoint for every service of
    :data:`MWAA_INTERFACE_ENDPOINTS` (checked; the platform adds them to its network when the spec
    has ``airflow``); an existing network (``NetworkProps.existing``) is taken as is and must reach
    those services and S3 (VPC endpoints or a NAT path) from two subnets in different zones;
  - ``subnet_ids`` (the first two are used) of a VPC of your own: the VPC is looked up from the
    first subnet (``data.aws_subnet``, ``data.aws_vpc``); that network must reach the services in
    :data:`MWAA_INTERFACE_ENDPOINTS` and S3, and the two subnets must be in different zones;
  - neither: the construct creates its own minimal private network (a :class:`~.network.Network`
    of two zones in ``props.cidr``: no internet gateway or NAT, an S3 gateway endpoint, interface
    endpoints for :data:`MWAA_INTERFACE_ENDPOINTS`, flow logs).

  The environment's security group allows inbound traffic only from itself (self-referencing, what
  MWAA's own components need) and outbound only to itself, HTTPS to the VPC range (interface
  endpoints) and HTTPS to the S3 prefix list when it is known (a created or given network with an S3
  gateway endpoint).

Cost: an MWAA environment is billed per hour while it exists (mw1.small about USD 0.49/hour plus
workers). Its own network (neither ``network`` nor ``subnet_ids``) adds 9 interface endpoints in 2
zones, about USD 130 a month; in the platform network it adds only the 6 services that network
lacks (``airflow.api``, ``airflow.env``, ``airflow.ops``, ``kms``, ``monitoring``, ``sqs``), about
USD 7.3 each per zone and month (about USD 88 a month in 2 zones), and no second VPC.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ..core import engine
from ..core.automation_props import AirflowProps as CoreAirflowProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError, ConstructTypeError
from ..core.naming import bucket_name
from ..core.resource import DataSource, Resource
from . import _iam
from ._iam import allow, ref
from ._keys import key_arn_of, own_key
from .keys import Key
from .network import Network, NetworkProps
from .storage import DataStore

__all__ = [
    "DEFAULT_AIRFLOW_VERSION",
    "ENVIRONMENT_CLASSES",
    "LOG_TYPES",
    "MWAA_INTERFACE_ENDPOINTS",
    "Airflow",
    "AirflowProps",
]

#: Airflow version of new environments.
DEFAULT_AIRFLOW_VERSION = "2.10.3"
#: ``size`` -> MWAA environment class.
ENVIRONMENT_CLASSES: dict[str, str] = {"small": "mw1.small", "medium": "mw1.medium", "large": "mw1.large"}
#: The five MWAA log types (``logging_configuration`` blocks), all enabled at INFO.
LOG_TYPES: tuple[str, ...] = ("dag_processing_logs", "scheduler_logs", "task_logs", "webserver_logs", "worker_logs")
#: Interface endpoints an MWAA environment without internet access needs (plus the S3 gateway endpoint).
MWAA_INTERFACE_ENDPOINTS: tuple[str, ...] = (
    "airflow.api",
    "airflow.env",
    "airflow.ops",
    "ecr.api",
    "ecr.dkr",
    "kms",
    "logs",
    "monitoring",
    "sqs",
)


class AirflowProps(CoreAirflowProps):
    """Core :class:`~constructs_lib.core.automation_props.AirflowProps` plus AWS-only fields."""

    airflow_version: str = Field(
        default=DEFAULT_AIRFLOW_VERSION,
        pattern=r"^\d+\.\d+\.\d+$",
        description=f"Apache Airflow version MWAA runs. Defaults to {DEFAULT_AIRFLOW_VERSION}.",
    )
    cidr: str = Field(
        default="10.42.0.0/16",
        description=(
            "Address range of the network created when neither network nor subnet_ids is given. Defaults to "
            "10.42.0.0/16 (distinct from the platform network's default 10.40.0.0/16)."
        ),
    )
    zone_names: list[str] = Field(
        default_factory=list,
        description=(
            "Two availability zones (e.g. eu-west-1a, eu-west-1b) of the network created when neither "
            "network nor subnet_ids is given. Defaults to none: the first two available zones of the region "
            "(data.aws_availability_zones; checkov CKV_AWS_394 then asks to pin them)."
        ),
    )
    weekly_maintenance_window_start: str = Field(
        default="SUN:03:00",
        pattern=r"^(MON|TUE|WED|THU|FRI|SAT|SUN):([01]\d|2[0-3]):(00|30)$",
        description="Start of MWAA's weekly maintenance window (UTC, DAY:HH:MM). Defaults to SUN:03:00.",
    )
    log_level: Literal["INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Lowest level logged for every log type. Defaults to INFO."
    )


class Airflow(MlopsConstruct):
    """A private, KMS-encrypted Amazon MWAA environment reading DAGs from a data store.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`AirflowProps` (the core props are accepted too and get the AWS defaults).
        dags_store: the :class:`~.storage.DataStore` whose bucket holds the DAGs under ``dags_prefix``.
        subnet_ids: private subnets of a VPC of your own (at least two, in different zones; the
            first two are used; the VPC is looked up from the first). Defaults to None: see
            ``network``.
        network: the :class:`~.network.Network` to run in (its first two private subnets, VPC id,
            CIDR and S3 prefix list are used directly); not together with ``subnet_ids``. Defaults
            to None: without ``subnet_ids`` either, a minimal private network is created inside the
            construct (see the module docstring).
        provider: the ``aws`` provider. Defaults to the stack's default provider.

    Attributes:
        resource: the ``aws_mwaa_environment``.
        environment_arn: its ARN token.
        webserver_url: token of the (private) web server URL; ``airflow_uri`` the same (the
            platform's ``airflow_uri`` output).
        principal: the execution ``aws_iam_role``.
        security_group: the environment's ``aws_security_group``.
        network: the :class:`~.network.Network` the environment runs in (the given ``network`` or
            the one the construct created), or ``None`` with ``subnet_ids``.
        key: the created :class:`~.keys.Key`, or ``None`` when ``encryption.key_id`` was given.
        key_id: ARN of the environment key.
    """

    props_type = CoreAirflowProps
    props: CoreAirflowProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreAirflowProps,
        *,
        dags_store: DataStore,
        subnet_ids: list[str] | None = None,
        network: Network | None = None,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(props, AirflowProps):
            props = AirflowProps(**props.model_dump())
            self.props = props
        self._check_placement(subnet_ids, network)
        self._account = _iam.account_id(self, provider)
        self._partition = _iam.partition(self, provider)
        # The DAG bucket's region (the environment's own key ARN would make its key policy depend on itself).
        self._region = ref(dags_store.resource, "region")
        self._log_groups = f"arn:{self._partition}:logs:{self._region}:{self._account}:log-group:airflow-{props.name}-*"
        self._key(props)
        subnets, vpc_id, vpc_cidr, s3_prefix_list = self._network(props, subnet_ids, network)
        sg_id = self._security_group(props, vpc_id, vpc_cidr, s3_prefix_list)
        self._execution_role(props, dags_store)
        self._environment(props, dags_store, sg_id, subnets)

    # ------------------------------------------------------------------ steps (in build order)

    def _check_placement(self, subnet_ids: list[str] | None, network: Network | None) -> None:
        """Refuse both placements at once, fewer than two subnets, and a network MWAA cannot use."""
        if subnet_ids is not None and network is not None:
            raise ConstructError(
                self.node.path,
                "pass subnet_ids (a VPC of your own) or network (a Network construct), not both"
            )
        if subnet_ids is not None and len(subnet_ids) < 2:
            raise ConstructError(
                self.node.path,
                "MWAA needs two private subnets in different zones, got "
                f"{len(subnet_ids)}; pass two subnet ids or none (a network is then created)"
            )
        if network is not None:
            _check_network(self.node.path, network)

    def _key(self, props: AirflowProps) -> None:
        """The environment key; CloudWatch Logs of the region may use it for the environment's log groups."""
        name = props.name
        self.key: Key | None = own_key(
            self,
            "Key",
            props.encryption,
            name=f"{name}-mwaa",
            description=f"Encrypts MWAA environment {name} and its logs",
            deletion_protection=False,
            provider=self._provider,
        )
        self.key_id: str = key_arn_of(self.key, props.encryption)
        if self.key is not None:
            self.key.allow_cloudwatch_logs(
                "CloudWatchLogsOfThisEnvironment",
                region=self._region,
                log_group_arn=self._log_groups,
                actions=[
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:Encrypt",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                ],
            )

    def _network(
        self, props: AirflowProps, subnet_ids: list[str] | None, network: Network | None
    ) -> tuple[list[str], str, str, str | None]:
        """(two subnets, VPC id, VPC CIDR, S3 prefix list or None) of the placement; creates the
        minimal private network when neither ``network`` nor ``subnet_ids`` is given."""
        provider = self._provider
        if network is None and subnet_ids is None:
            network = Network(
                self,
                "Network",
                NetworkProps(
                    name=bucket_name(props.name, "mwaa", max_length=40),
                    cidr=props.cidr,
                    zones=2,
                    interface_endpoints=list(MWAA_INTERFACE_ENDPOINTS),
                    zone_names=list(props.zone_names),
                ),
                provider=provider,
            )
        self.network: Network | None = network
        if network is not None:
            # one private subnet per zone: the first two are in two different zones
            return list(network.private_subnet_ids[:2]), network.network_id, network.cidr_block, network.s3_prefix_list_id
        assert subnet_ids is not None
        subnets = list(subnet_ids[:2])
        first = DataSource(self, "Subnet", "aws_subnet", provider=provider, id=subnets[0])
        vpc_id = ref(first, "vpc_id")
        vpc = DataSource(self, "Vpc", "aws_vpc", provider=provider, id=vpc_id)
        return subnets, vpc_id, ref(vpc, "cidr_block"), None

    def _security_group(self, props: AirflowProps, vpc_id: str, vpc_cidr: str, s3_prefix_list: str | None) -> str:
        """The environment's security group: its own components, HTTPS to the VPC and to S3; returns its id."""
        provider, name = self._provider, props.name
        self.security_group: Resource = Resource(
            self,
            "SecurityGroup",
            "aws_security_group",
            provider=provider,
            name=f"{name}-mwaa",
            description=f"MWAA environment {name}: traffic between its own components only",
            vpc_id=vpc_id,
        )
        sg_id = ref(self.security_group, "id")
        Resource(
            self,
            "IngressFromItself",
            "aws_vpc_security_group_ingress_rule",
            provider=provider,
            security_group_id=sg_id,
            description="MWAA components (web server, scheduler, workers, database) talk to each other",
            ip_protocol="-1",
            referenced_security_group_id=sg_id,
        )
        Resource(
            self,
            "EgressToItself",
            "aws_vpc_security_group_egress_rule",
            provider=provider,
            security_group_id=sg_id,
            description="MWAA components talk to each other",
            ip_protocol="-1",
            referenced_security_group_id=sg_id,
        )
        https = {"provider": provider, "security_group_id": sg_id, "ip_protocol": "tcp", "from_port": 443, "to_port": 443}
        Resource(self, "EgressHttpsToVpc", "aws_vpc_security_group_egress_rule",
                 description="HTTPS to the VPC interface endpoints", cidr_ipv4=vpc_cidr, **https)
        if s3_prefix_list is not None:
            Resource(self, "EgressHttpsToS3", "aws_vpc_security_group_egress_rule",
                     description="HTTPS to S3 through the gateway endpoint", prefix_list_id=s3_prefix_list, **https)
        return sg_id

    def _execution_role(self, props: AirflowProps, dags_store: DataStore) -> None:
        """The execution role: read the DAGs, publish metrics and logs, the Celery queues, the key."""
        name, partition, region = props.name, self._partition, self._region
        self.principal: Resource = _iam.service_role(
            self,
            "Role",
            name=f"{name}-mwaa-execution"[:64],
            description=f"Execution role of MWAA environment {name}",
            services=["airflow-env.amazonaws.com", "airflow.amazonaws.com"],
            provider=self._provider,
        )
        dags_store.grant_read(self.principal)
        environment_arn = f"arn:{partition}:airflow:{region}:{self._account}:environment/{name}"
        log_groups = self._log_groups
        _iam.role_policy(
            self,
            "RolePolicy",
            name=f"{name}-mwaa-execution",
            principal=self.principal,
            statements=[
                allow("PublishMetricsOfThisEnvironment", ["airflow:PublishMetrics"], environment_arn),
                allow("DagBucketIsNotPublic", ["s3:GetBucketPublicAccessBlock"], dags_store.store_id),
                allow("AccountPublicAccessBlock", ["s3:GetAccountPublicAccessBlock"], "*"),
                allow(
                    "LogsOfThisEnvironment",
                    [
                        "logs:CreateLogGroup",
                        "logs:CreateLogStream",
                        "logs:GetLogEvents",
                        "logs:GetLogGroupFields",
                        "logs:GetLogRecord",
                        "logs:GetQueryResults",
                        "logs:PutLogEvents",
                    ],
                    [log_groups, f"{log_groups}:log-stream:*"],
                ),
                allow("DescribeLogGroups", ["logs:DescribeLogGroups"], "*"),
                allow(
                    "MwaaMetrics",
                    ["cloudwatch:PutMetricData"],
                    "*",
                    {"StringEquals": {"cloudwatch:namespace": "AmazonMWAA"}},
                ),
                allow(
                    "CeleryQueues",
                    [
                        "sqs:ChangeMessageVisibility",
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:GetQueueUrl",
                        "sqs:ReceiveMessage",
                        "sqs:SendMessage",
                    ],
                    f"arn:{partition}:sqs:{region}:*:airflow-celery-*",
                ),
                allow(
                    "EnvironmentKeyThroughSqsAndS3",
                    ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                    self.key_id,
                    {"StringLike": {"kms:ViaService": [f"s3.{region}.amazonaws.com", f"sqs.{region}.amazonaws.com"]}},
                ),
            ],
            provider=self._provider,
        )

    def _environment(self, props: AirflowProps, dags_store: DataStore, sg_id: str, subnets: list[str]) -> None:
        """The MWAA environment: private web server, the key, all five log types."""
        level = props.log_level
        self.resource: Resource = Resource(
            self,
            "Resource",
            "aws_mwaa_environment",
            provider=self._provider,
            name=props.name,
            airflow_version=props.airflow_version,
            environment_class=ENVIRONMENT_CLASSES[props.size],
            min_workers=1,
            max_workers=props.max_workers,
            execution_role_arn=ref(self.principal, "arn"),
            kms_key=self.key_id,
            source_bucket_arn=dags_store.store_id,
            dag_s3_path=props.dags_prefix.rstrip("/"),
            webserver_access_mode="PRIVATE_ONLY",
            endpoint_management="SERVICE",
            weekly_maintenance_window_start=props.weekly_maintenance_window_start,
            network_configuration={"security_group_ids": [sg_id], "subnet_ids": subnets},
            logging_configuration={t: {"enabled": True, "log_level": level} for t in LOG_TYPES},
        )
        self.environment_arn: str = ref(self.resource, "arn")
        self.webserver_url: str = ref(self.resource, "webserver_url")
        #: The Airflow web UI (private: reachable from inside the VPC).
        self.airflow_uri: str = self.webserver_url


def _check_network(path: str, network: Network) -> None:
    """Raise when ``network`` cannot host MWAA: fewer than two zones, or created without its endpoints."""
    if not isinstance(network, Network):
        raise ConstructTypeError(path, f"network must be a constructs_lib.aws.Network, got {type(network).__name__}")
    subnets = len(network.private_subnet_ids)
    if subnets < 2:
        change = (
            "set its zones to 2 or 3" if network.resource is not None
            else "name two or more subnets in different zones in its existing.subnet_ids"
        )
        raise ConstructError(
            path,
            "MWAA needs two private subnets in different availability zones, but network "
            f"{network.node.path} has {subnets}; {change}"
        )
    if network.resource is not None:  # created by the Network construct: its endpoints are known
        missing = [s for s in MWAA_INTERFACE_ENDPOINTS if s not in network.endpoints]
        if missing:
            raise ConstructError(
                path,
                f"network {network.node.path} has no interface endpoint for "
                f"{', '.join(missing)}, which MWAA needs without an internet path; add them to its "
                "NetworkProps.interface_endpoints (see MWAA_INTERFACE_ENDPOINTS)"
            )
