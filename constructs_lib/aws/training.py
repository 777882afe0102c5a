"""Training compute: AWS Batch pools (spot first, scale to zero) and one execution identity.

What ``Training`` builds, with every default:

* **one execution role** (the construct's ``principal``): an ``aws_iam_role`` that SageMaker
  (training jobs, pipelines) and ECS tasks (the Batch job containers) of this account may assume.
  It can, by itself, only do what running in the private network needs: create and delete the
  network interfaces of SageMaker jobs in this VPC's subnets and security group, describe the
  network, write CloudWatch Logs of SageMaker training/processing jobs and Batch jobs, and put
  metrics in the ``/aws/sagemaker/*`` namespaces. Everything else (data, artifacts, images,
  registry, tracking, secrets, features) comes from the other constructs' ``grant_*`` methods;
* a security group with **no ingress** and egress HTTPS only to the VPC (its interface endpoints)
  and to S3 through the gateway endpoint's prefix list (to anywhere on 443 in an existing network
  without a gateway endpoint, whose routing the network's owner controls);
* a customer-managed key for node disks (new, rotated every ``encryption.rotation_days``, unless
  ``encryption.key_id``); besides the account's IAM policies, its policy lets exactly the
  service-linked roles that launch the nodes use it for EBS volumes through EC2: EC2 Auto Scaling
  and Batch (plus EC2 Spot with spot pools), named by ARN in an ``aws:PrincipalArn`` condition
  because they may not exist before the first pool (see docs/aws.md, "Permissions"). It is not
  protected from destruction: it encrypts only disks that are deleted with their nodes;
* an ECS instance role and instance profile for Batch hosts with the AWS managed *service-role*
  policy ``AmazonEC2ContainerServiceforEC2Role`` (register with ECS, pull images, ship logs; not a
  FullAccess policy);
* per pool of ``props.pools``:

  - a launch template: encrypted gp3 root volume of ``disk_size_gib`` with the training key,
    deleted with the instance, IMDSv2 required with a hop limit of 1 (containers in bridge mode
    cannot reach the host's instance-role credentials; jobs get the execution role from the ECS
    agent instead), no public IP;
  - with ``spot`` (default): a SPOT compute environment (``SPOT_CAPACITY_OPTIMIZED``, paying at most
    the on-demand price); with ``on_demand_fallback`` (default) or without ``spot``: an on-demand
    EC2 compute environment (``BEST_FIT_PROGRESSIVE``). Each has ``min_vcpus = min_nodes x vCPUs``
    (0 by default: scale to zero), ``max_vcpus = max_nodes x vCPUs``, the machine type, the private
    subnets and the security group, the Amazon Linux 2023 ECS image (NVIDIA variant for GPU pools),
    and uses the Batch service-linked role (no service role is created);
  - a job queue ordering the spot environment first, then the on-demand one;
  - a container job definition for one node of the pool (all its vCPUs and GPUs, 90% of its
    memory), running as the execution role, not privileged, retried up to 3 times when the host
    was reclaimed (spot interruption) and not retried for application errors.

Limits, documented rather than hidden:

* ``max_nodes`` caps the spot compute environment and ``on_demand_max_nodes`` (default
  ``max_nodes``) the on-demand fallback: Batch has no cap across compute environments, so a queue
  can hold both at once when spot is full rather than unavailable. Set ``on_demand_max_nodes``
  lower for a tighter cost cap.
* Batch has no idle timer: a compute environment scales to ``min_vcpus`` within minutes when its
  queue is empty. ``idle_minutes`` becomes :attr:`Training.keep_alive_seconds` (capped at 3600) for
  SageMaker managed warm pools, and the ``idle-minutes`` tag of the pool's resources.
* vCPUs, memory and GPUs of a machine type come from :data:`MACHINE_SPECS`; other types need an
  entry in ``TrainingProps.machine_specs``.
* The job definition's image is ``job_image`` (the platform passes the training repository's
  ``:bootstrap`` tag). Batch cannot override an image at submit time: register a new revision of
  the job definition for each image (``aws batch register-job-definition``), or use SageMaker
  training jobs with :attr:`Training.vpc_config`.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from ..core import engine
from ..core.build_props import TrainingPoolSettings
from ..core.build_props import TrainingProps as CoreTrainingProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError, ConstructTypeError
from ..core.props import Model
from ..core.resource import Resource
from . import _iam
from ._iam import allow, describe_network, ref
from ._keys import key_arn_of, own_key
from .keys import Key
from .network import Network

__all__ = [
    "DEFAULT_CPU_MACHINE_TYPE",
    "DEFAULT_GPU_MACHINE_TYPE",
    "MACHINE_SPECS",
    "MachineSpec",
    "Training",
    "TrainingProps",
]

DEFAULT_GPU_MACHINE_TYPE = "g5.xlarge"
DEFAULT_CPU_MACHINE_TYPE = "m6i.xlarge"
#: Batch retries a job whose host went away (spot reclaim) this many times in all.
RETRY_ATTEMPTS = 3
#: Service-linked roles (path/name under ``role/aws-service-role/``) that launch on-demand nodes
#: and so use the disk key: EC2 Auto Scaling (Batch's groups) and Batch itself.
ON_DEMAND_LAUNCHER_ROLES = (
    "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
    "batch.amazonaws.com/AWSServiceRoleForBatch",
)
#: With spot pools, also EC2's Spot role (launches and restarts Spot Instances).
SPOT_LAUNCHER_ROLES = (*ON_DEMAND_LAUNCHER_ROLES, "spot.amazonaws.com/AWSServiceRoleForEC2Spot")


class MachineSpec(Model):
    """What one node of a machine type offers a job."""

    vcpus: int = Field(ge=1, description="vCPUs of the machine type.")
    memory_mib: int = Field(ge=512, description="Memory of the machine type, MiB.")
    gpus: int = Field(default=0, ge=0, description="GPUs of the machine type. Defaults to 0.")


def _m(vcpus: int, memory_gib: int, gpus: int = 0) -> MachineSpec:
    return MachineSpec(vcpus=vcpus, memory_mib=memory_gib * 1024, gpus=gpus)


#: Known machine types (EC2 instance type -> vCPUs, memory, GPUs).
MACHINE_SPECS: dict[str, MachineSpec] = {
    "m6i.large": _m(2, 8),
    "m6i.xlarge": _m(4, 16),
    "m6i.2xlarge": _m(8, 32),
    "m6i.4xlarge": _m(16, 64),
    "m6i.8xlarge": _m(32, 128),
    "m7i.xlarge": _m(4, 16),
    "m7i.2xlarge": _m(8, 32),
    "c6i.xlarge": _m(4, 8),
    "c6i.2xlarge": _m(8, 16),
    "c6i.4xlarge": _m(16, 32),
    "r6i.xlarge": _m(4, 32),
    "r6i.2xlarge": _m(8, 64),
    "g4dn.xlarge": _m(4, 16, 1),
    "g4dn.2xlarge": _m(8, 32, 1),
    "g4dn.12xlarge": _m(48, 192, 4),
    "g5.xlarge": _m(4, 16, 1),
    "g5.2xlarge": _m(8, 32, 1),
    "g5.4xlarge": _m(16, 64, 1),
    "g5.8xlarge": _m(32, 128, 1),
    "g5.12xlarge": _m(48, 192, 4),
    "g5.48xlarge": _m(192, 768, 8),
    "g6.xlarge": _m(4, 16, 1),
    "g6.2xlarge": _m(8, 32, 1),
    "g6.12xlarge": _m(48, 192, 4),
    "p3.2xlarge": _m(8, 61, 1),
    "p3.8xlarge": _m(32, 244, 4),
    "p4d.24xlarge": _m(96, 1152, 8),
    "p5.48xlarge": _m(192, 2048, 8),
}


class TrainingProps(CoreTrainingProps):
    """Core :class:`~constructs_lib.core.build_props.TrainingProps` plus AWS-only fields."""

    machine_specs: dict[str, MachineSpec] = Field(
        default_factory=dict,
        description=(
            "vCPUs/memory/GPUs of machine types missing from MACHINE_SPECS (they size max_vcpus and "
            "job definitions). Defaults to none."
        ),
    )
    job_image: str | None = Field(
        default=None,
        description=(
            "Container image of the pools' base job definitions. Defaults to None: no job "
            "definition (the platform passes the training repository's `:bootstrap` tag)."
        ),
    )

    @field_validator("job_image")
    @classmethod
    def _image(cls, value: str | None) -> str | None:
        if value is not None and (not value or any(c.isspace() for c in value)):
            raise ValueError(f"job_image {value!r} must be an image reference like <repo-url>:<tag>")
        return value


def machine_type_of(pool: TrainingPoolSettings) -> str:
    """The pool's machine type, or the default for GPU / CPU pools."""
    return pool.machine_type or (DEFAULT_GPU_MACHINE_TYPE if pool.gpu else DEFAULT_CPU_MACHINE_TYPE)


class Training(MlopsConstruct):
    """AWS Batch pools in private subnets plus the SageMaker / Batch execution role.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`TrainingProps` (or the core ``TrainingProps``); see the module docstring.
        network: the :class:`~.network.Network` whose private subnets the nodes use.
        provider: the ``aws`` provider. Defaults to the stack's default provider.

    Attributes:
        principal: the execution ``aws_iam_role`` (pass it to ``grant_*`` methods).
        principal_arn: its ARN token (SageMaker ``RoleArn``, Batch ``jobRoleArn``); ``principal_id``
            the same (the platform's ``training_principal`` output).
        pools: pool name -> its ``aws_batch_job_queue`` (where jobs are submitted).
        compute_environments: pool name -> its ``aws_batch_compute_environment`` list, spot first.
        job_definitions: pool name -> ``aws_batch_job_definition`` (empty without ``job_image``).
        launch_templates: pool name -> ``aws_launch_template``.
        security_group: the nodes' ``aws_security_group`` (also for SageMaker jobs).
        security_group_id: its id token.
        subnet_ids: the private subnet ids the nodes and SageMaker jobs use.
        vpc_config: ``{"Subnets": [...], "SecurityGroupIds": [...]}`` for SageMaker training jobs.
        keep_alive_seconds: pool name -> SageMaker warm-pool keep-alive from ``idle_minutes``.
        pool_targets: pool name -> ``{"target": job queue name, "fallback": ARN of the on-demand
            compute environment the queue falls back to (spot pools with ``on_demand_fallback``),
            else None}``: jobs are submitted to the queue, which orders spot before on-demand.
        key: the disk :class:`~.keys.Key`, or ``None`` for a supplied ``encryption.key_id``.
        key_id: ARN of the disk key.
    """

    props_type = CoreTrainingProps
    props: CoreTrainingProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreTrainingProps,
        *,
        network: Network,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(network, Network):
            raise ConstructTypeError(self.node.path, f"network must be a constructs_lib.aws.Network, got {type(network).__name__}")
        specs = {**MACHINE_SPECS, **getattr(props, "machine_specs", {})}
        for n, pool in enumerate(props.pools):
            mt = machine_type_of(pool)
            if mt not in specs:
                raise ConstructError(
                    self.node.path,
                    f"pool {pool.name!r}: machine type {mt!r} is not in MACHINE_SPECS; use a known type "
                    "or add it to TrainingProps.machine_specs (vcpus, memory_mib, gpus)",
                    prop=f"pools[{n}].machine_type",
                )
            if pool.gpu and specs[mt].gpus == 0:
                raise ConstructError(self.node.path, f"pool {pool.name!r} is a GPU pool but {mt!r} has no GPU",
                                     prop=f"pools[{n}].machine_type")
        account = _iam.account_id(self, provider)
        partition = _iam.partition(self, provider)
        name = props.name

        # ---- key for node disks
        self.key: Key | None = own_key(
            self,
            "Key",
            props.encryption,
            name=f"{name}-disks",
            description=f"Encrypts the node disks of training compute {name}",
            deletion_protection=False,
            provider=provider,
        )
        if self.key is not None:
            self._allow_launchers(self.key, account, partition, spot=any(p.spot for p in props.pools))
        self.key_id: str = key_arn_of(self.key, props.encryption)

        # ---- the one execution identity
        self.principal: Resource = _iam.service_role(
            self,
            "ExecutionRole",
            name=f"{name}-execution",
            description=f"Execution role of SageMaker jobs and Batch jobs of {name}",
            services=["ecs-tasks.amazonaws.com", "sagemaker.amazonaws.com"],
            provider=provider,
        )
        self.principal_arn: str = ref(self.principal, "arn")
        self.principal_id: str = self.principal_arn

        # ---- network placement
        self.subnet_ids: list[str] = list(network.private_subnet_ids)
        sg = Resource(
            self,
            "SecurityGroup",
            "aws_security_group",
            provider=provider,
            name=f"{name}-nodes",
            description=f"Training nodes and jobs of {name}: no ingress, HTTPS egress to endpoints only",
            vpc_id=network.network_id,
        )
        self.security_group: Resource = sg
        self.security_group_id: str = ref(sg, "id")
        targets = network.security_group_egress_targets()
        if network.s3_prefix_list_id is None:
            targets = [{"cidr_ipv4": "0.0.0.0/0"}]
        for n, target in enumerate(targets):
            Resource(
                self,
                f"HttpsEgress{n + 1}",
                "aws_vpc_security_group_egress_rule",
                provider=provider,
                security_group_id=self.security_group_id,
                description="HTTPS to VPC endpoints" if "cidr_ipv4" in target else "HTTPS to S3 (gateway endpoint)",
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                **target,
            )
        self.vpc_config: dict[str, list[str]] = {
            "Subnets": self.subnet_ids,
            "SecurityGroupIds": [self.security_group_id],
        }
        self._execution_policy(account, partition, network)

        # ---- Batch hosts
        instance_role = _iam.service_role(
            self,
            "InstanceRole",
            name=f"{name}-batch-instance",
            description=f"ECS container instances of the Batch pools of {name}",
            services=["ec2.amazonaws.com"],
            provider=provider,
        )
        # EC2 does not send aws:SourceAccount when it assumes an instance role: trust EC2 plainly.
        instance_role.set(
            assume_role_policy=_iam.policy_document(
                [
                    {
                        "Sid": "Ec2InstancesOfThisRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ]
            )
        )
        Resource(
            self,
            "InstanceRoleEcs",
            "aws_iam_role_policy_attachment",
            provider=provider,
            role=ref(instance_role, "name"),
            policy_arn=f"arn:{partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
        )
        profile = Resource(
            self,
            "InstanceProfile",
            "aws_iam_instance_profile",
            provider=provider,
            name=f"{name}-batch-instance",
            role=ref(instance_role, "name"),
        )

        self.pools: dict[str, Resource] = {}
        self.pool_targets: dict[str, dict[str, str | None]] = {}
        self.compute_environments: dict[str, list[Resource]] = {}
        self.job_definitions: dict[str, Resource] = {}
        self.launch_templates: dict[str, Resource] = {}
        self.keep_alive_seconds: dict[str, int] = {}
        image = getattr(props, "job_image", None)
        for pool in props.pools:
            self._pool(pool, specs[machine_type_of(pool)], ref(profile, "arn"), image)

    # ------------------------------------------------------------------ parts

    @staticmethod
    def _allow_launchers(key: Key, account: str, partition: str, *, spot: bool) -> None:
        """Let the service-linked roles that launch the pools' nodes use the disk key, through EC2 only.

        Batch runs its EC2 and SPOT compute environments (``BEST_FIT_PROGRESSIVE``,
        ``SPOT_CAPACITY_OPTIMIZED``) as EC2 Auto Scaling groups and may launch instances itself;
        EC2 launches Spot Instances with its Spot role. Their managed policies cannot grant a
        customer-managed key: only the key policy can. The roles are named by ARN in an
        ``aws:PrincipalArn`` condition, not in ``Principal``: KMS rejects a key policy whose
        ``Principal`` names a role that does not exist yet, and these roles are created by the
        services on first use, after this key.
        """
        roles = [
            f"arn:{partition}:iam::{account}:role/aws-service-role/{path}"
            for path in (SPOT_LAUNCHER_ROLES if spot else ON_DEMAND_LAUNCHER_ROLES)
        ]
        scoped = {
            "ArnEquals": {"aws:PrincipalArn": roles},
            "StringEquals": {"kms:CallerAccount": account},
            "StringLike": {"kms:ViaService": "ec2.*.amazonaws.com"},
        }
        key.add_to_resource_policy(
            {
                "Sid": "EbsVolumesOfTheNodeLaunchers",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": [
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                ],
                "Resource": "*",
                "Condition": scoped,
            }
        )
        key.add_to_resource_policy(
            {
                "Sid": "EbsVolumeGrantsOfTheNodeLaunchers",
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {**scoped, "Bool": {"kms:GrantIsForAWSResource": "true"}},
            }
        )

    def _execution_policy(self, account: str, partition: str, network: Network) -> None:
        arn = f"arn:{partition}"
        logs = f"{arn}:logs:*:{account}:log-group"
        statements = [
            describe_network(),
            allow(
                "JobNetworkInterfacesInThisNetwork",
                [
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                [
                    f"{arn}:ec2:*:{account}:network-interface/*",
                    *(f"{arn}:ec2:*:{account}:subnet/{s}" for s in self.subnet_ids),
                    f"{arn}:ec2:*:{account}:security-group/{self.security_group_id}",
                ],
            ),
            allow(
                "JobLogs",
                ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                [
                    f"{logs}:/aws/sagemaker/TrainingJobs",
                    f"{logs}:/aws/sagemaker/TrainingJobs:*",
                    f"{logs}:/aws/sagemaker/ProcessingJobs",
                    f"{logs}:/aws/sagemaker/ProcessingJobs:*",
                    f"{logs}:/aws/batch/job",
                    f"{logs}:/aws/batch/job:*",
                ],
            ),
            allow(
                "JobMetrics",
                ["cloudwatch:PutMetricData"],
                "*",
                {"StringLike": {"cloudwatch:namespace": "/aws/sagemaker/*"}},
            ),
        ]
        _iam.role_policy(
            self,
            "ExecutionPolicy",
            name=f"{self.props.name}-execution-base",
            principal=self.principal,
            statements=statements,
            provider=self._provider,
        )

    def _pool(self, pool: TrainingPoolSettings, spec: MachineSpec, profile_arn: str, image: str | None) -> None:
        provider = self._provider
        name = f"{self.props.name}-{pool.name}"
        scope = engine.Construct(self, pool.name)
        tags = {"Name": name, "pool": pool.name, "idle-minutes": str(pool.idle_minutes)}
        template = Resource(
            scope,
            "LaunchTemplate",
            "aws_launch_template",
            provider=provider,
            name=name,
            description=f"Nodes of training pool {name}",
            update_default_version=True,
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": pool.disk_size_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "kms_key_id": self.key_id,
                        "delete_on_termination": "true",
                    },
                }
            ],
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
                "instance_metadata_tags": "disabled",
            },
            monitoring={"enabled": True},
        )
        self.launch_templates[pool.name] = template
        machine = machine_type_of(pool)
        kinds: list[str] = []
        if pool.spot:
            kinds.append("SPOT")
        if not pool.spot or pool.on_demand_fallback:
            kinds.append("EC2")
        envs: list[Resource] = []
        for kind in kinds:
            compute: dict[str, Any] = {
                "type": kind,
                "allocation_strategy": "SPOT_CAPACITY_OPTIMIZED" if kind == "SPOT" else "BEST_FIT_PROGRESSIVE",
                "bid_percentage": 100 if kind == "SPOT" else None,
                "min_vcpus": pool.min_nodes * spec.vcpus,
                "max_vcpus": (pool.fallback_max_nodes if kind == "EC2" and pool.spot else pool.max_nodes) * spec.vcpus,
                "instance_type": [machine],
                "instance_role": profile_arn,
                "subnets": self.subnet_ids,
                "security_group_ids": [self.security_group_id],
                "launch_template": {
                    "launch_template_id": ref(template, "id"),
                    "version": ref(template, "latest_version"),
                },
                "ec2_configuration": [{"image_type": "ECS_AL2023_NVIDIA" if spec.gpus else "ECS_AL2023"}],
                "tags": {**tags, "capacity": kind.lower()},
            }
            envs.append(
                Resource(
                    scope,
                    "Spot" if kind == "SPOT" else "OnDemand",
                    "aws_batch_compute_environment",
                    provider=provider,
                    ignore_changes=["compute_resources[0].desired_vcpus"],
                    type="MANAGED",
                    state="ENABLED",
                    compute_resources=compute,
                    tags=tags,
                )
            )
        self.compute_environments[pool.name] = envs
        self.pools[pool.name] = Resource(
            scope,
            "Resource",
            "aws_batch_job_queue",
            provider=provider,
            name=name,
            state="ENABLED",
            priority=1,
            compute_environment_order=[
                {"order": n + 1, "compute_environment": ref(env, "arn")} for n, env in enumerate(envs)
            ],
            tags=tags,
        )
        fallback = envs[1] if len(envs) > 1 else None
        self.pool_targets[pool.name] = {
            "target": ref(self.pools[pool.name], "name"),
            "fallback": ref(fallback, "arn") if fallback is not None else None,
        }
        self.keep_alive_seconds[pool.name] = min(pool.idle_minutes * 60, 3600)
        if image is None:
            return
        requirements = [
            {"type": "VCPU", "value": str(spec.vcpus)},
            {"type": "MEMORY", "value": str(int(spec.memory_mib * 0.9))},
        ]
        if spec.gpus:
            requirements.append({"type": "GPU", "value": str(spec.gpus)})
        container = {
            "image": image,
            "jobRoleArn": self.principal_arn,
            "resourceRequirements": requirements,
            "privileged": False,
            "readonlyRootFilesystem": False,
            "logConfiguration": {"logDriver": "awslogs"},
        }
        self.job_definitions[pool.name] = Resource(
            scope,
            "JobDefinition",
            "aws_batch_job_definition",
            provider=provider,
            name=name,
            type="container",
            platform_capabilities=["EC2"],
            propagate_tags=True,
            container_properties=json.dumps(container, separators=(",", ":")),
            retry_strategy={
                "attempts": RETRY_ATTEMPTS,
                "evaluate_on_exit": [
                    {"action": "RETRY", "on_status_reason": "Host EC2*"},
                    {"action": "EXIT", "on_reason": "*"},
                ],
            },
            tags=tags,
        )
