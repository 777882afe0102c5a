"""Container registry (ECR) and model registry (SageMaker Model Registry) with an approval gate.

``ContainerRegistry`` builds, with every default:

* one ``aws_ecr_repository`` per entry of ``props.repositories``, named ``<name>/<repository>``:
  scan on push (``props.scan_on_push``, default on), immutable tags (``props.immutable_tags``,
  default on), encrypted with a customer-managed KMS key (new, rotated every
  ``encryption.rotation_days``, unless ``encryption.key_id``), ``force_delete = false`` and, with
  ``deletion_protection`` (default), ``prevent_destroy``;
* an ``aws_ecr_lifecycle_policy`` per repository expiring untagged images
  ``props.untagged_expiry_days`` (default 14) days after their push.

``grant_pull`` / ``grant_push`` give an IAM role the exact ECR actions on these repositories, plus
``ecr:GetAuthorizationToken`` (a registry-wide call that has no resource to scope to).

``ModelRegistry`` builds an ``aws_sagemaker_model_package_group`` (``props.name``). The approval
gate: with ``approval: manual`` (default) the write grant allows registering versions
(``sagemaker:CreateModelPackage``) only with the status ``PendingManualApproval`` (an explicit deny
of any other status) and never ``sagemaker:UpdateModelPackage``: a version becomes ``Approved``
only when a person with :meth:`ModelRegistry.grant_approve` (for example the created
``approver_principal`` role, assumable by IAM principals of this account with MFA) approves it::

    aws sagemaker update-model-package --model-package-arn <arn> --model-approval-status Approved

With ``approval: automatic`` writers may register versions as ``Approved`` and update their status.
With ``promotion_targets`` (AWS account ids) an ``aws_sagemaker_model_package_group_policy`` lets
those accounts describe and list the group's model versions (cross-account promotion). The model
artifacts themselves (``model.tar.gz``) live in the artifacts store under
:data:`MODEL_ARTIFACTS_PREFIX`: the platform opens that prefix to the same accounts with
:meth:`~.storage.DataStore.grant_account_read` (bucket policy + key policy, read only); a stack of
your own calls it for the store holding the artifacts.

``ModelRegistryProps.encryption`` is not used on AWS: a model package group stores metadata only
(no KMS argument); model artifacts live in the artifacts store, encrypted with its key.
"""

from __future__ import annotations

import json
import re

from pydantic import Field

from ..core import engine
from ..core.build_props import ContainerRegistryProps as CoreContainerRegistryProps
from ..core.build_props import ModelRegistryProps as CoreModelRegistryProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.recovery import Recovery
from ..core.resource import Resource
from . import _iam
from ._iam import Principal, allow, grant_id, policy_document, ref
from ._keys import key_arn_of, own_key
from .keys import Key

__all__ = [
    "MODEL_ARTIFACTS_PREFIX",
    "ContainerRegistry",
    "ContainerRegistryProps",
    "ModelRegistry",
    "ModelRegistryProps",
]

#: Key prefix of model artifacts (``model.tar.gz`` of registered versions) in the artifacts store:
#: what endpoints read and what ``promotion_targets`` accounts may read.
MODEL_ARTIFACTS_PREFIX = "models/"

_ACCOUNT = re.compile(r"^\d{12}$")
_PULL = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
_PUSH = (
    *_PULL,
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)


class ContainerRegistryProps(CoreContainerRegistryProps):
    """Core ``ContainerRegistryProps`` plus AWS-only fields."""

    deletion_protection: bool = Field(
        default=True,
        description="prevent_destroy on repositories and their key. Defaults to True.",
    )


class ModelRegistryProps(CoreModelRegistryProps):
    """Core ``ModelRegistryProps`` plus AWS-only fields."""

    create_approver: bool = Field(
        default=True,
        description=(
            "With manual approval, create an approver role (assumable by IAM principals of this "
            "account with MFA) that may approve or reject versions. Defaults to True."
        ),
    )


class ContainerRegistry(MlopsConstruct):
    """Private ECR repositories: scanned on push, immutable tags, KMS-encrypted, untagged cleanup.

    Attributes:
        repositories: repository name -> ``aws_ecr_repository``.
        repository_urls: repository name -> repository URL token (``<registry>/<name>/<repo>``).
        registry_url: the registry host ``<account>.dkr.ecr.<region>.amazonaws.com`` (token: the
            host part of the first repository's URL), what ``docker login`` takes.
        recovery: :class:`~constructs_lib.core.recovery.Recovery`, all ``None``: ECR repositories
            are regional and not replicated; rebuild images from source after a regional loss.
        key: the created :class:`~.keys.Key`, or ``None`` for a supplied ``encryption.key_id``.
        key_id: ARN of the key that encrypts the images.
    """

    props_type = CoreContainerRegistryProps
    props: CoreContainerRegistryProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreContainerRegistryProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        protect = bool(getattr(props, "deletion_protection", True))
        self.key: Key | None = own_key(
            self,
            "Key",
            props.encryption,
            name=f"{props.name}-images",
            description=f"Encrypts the container images of {props.name}",
            deletion_protection=protect,
            provider=provider,
        )
        self.key_id: str = key_arn_of(self.key, props.encryption)
        key_arn = self.key_id
        lifecycle = json.dumps(
            {
                "rules": [
                    {
                        "rulePriority": 1,
                        "description": f"Expire untagged images {props.untagged_expiry_days} days after push",
                        "selection": {
                            "tagStatus": "untagged",
                            "countType": "sinceImagePushed",
                            "countUnit": "days",
                            "countNumber": props.untagged_expiry_days,
                        },
                        "action": {"type": "expire"},
                    }
                ]
            },
            separators=(",", ":"),
        )
        self.repositories: dict[str, Resource] = {}
        self.repository_urls: dict[str, str] = {}
        for repo in props.repositories:
            scope_ = engine.Construct(self, repo)
            res = Resource(
                scope_,
                "Resource",
                "aws_ecr_repository",
                provider=provider,
                prevent_destroy=protect,
                name=f"{props.name}/{repo}",
                image_tag_mutability="IMMUTABLE" if props.immutable_tags else "MUTABLE",
                image_scanning_configuration={"scan_on_push": props.scan_on_push},
                encryption_configuration=[{"encryption_type": "KMS", "kms_key": key_arn}],
                force_delete=False,
            )
            Resource(
                scope_,
                "Lifecycle",
                "aws_ecr_lifecycle_policy",
                provider=provider,
                repository=ref(res, "name"),
                policy=lifecycle,
            )
            self.repositories[repo] = res
            self.repository_urls[repo] = ref(res, "repository_url")
        first_url = next(iter(self.repository_urls.values()))
        self.registry_url: str = engine.Token.as_string(engine.Fn.element(engine.Fn.split("/", first_url), 0))
        self.recovery: Recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)

    def _grant(self, kind: str, principal: Principal, actions: tuple[str, ...]) -> list[Resource]:
        cid = grant_id(f"Grant{kind}", principal)
        return [self._once(
            cid,
            lambda: _iam.role_policy(
                self,
                cid,
                name=f"{self.props.name.replace('/', '-')}-{kind.lower()}-{cid[len('Grant' + kind):]}",
                principal=principal,
                statements=[
                    allow("RegistryLogin", ["ecr:GetAuthorizationToken"], "*"),
                    allow(
                        f"{kind}Images",
                        actions,
                        [ref(r, "arn") for r in self.repositories.values()],
                    ),
                ],
                provider=self._provider,
            ),
        )]

    def grant_pull(self, principal: Principal) -> list[Resource]:
        """Let an IAM role pull images from every repository of this registry.

        One ``aws_iam_role_policy`` (returned as a one-item list): ``ecr:BatchCheckLayerAvailability``,
        ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer`` on the repositories,
        ``ecr:GetAuthorizationToken`` (registry login, not scopable). ECR decrypts with the key for
        the caller: no KMS permission needed.
        """
        return self._grant("Pull", principal, _PULL)

    def grant_push(self, principal: Principal) -> list[Resource]:
        """Let an IAM role push (and pull) images: the pull actions plus layer upload and ``ecr:PutImage``."""
        return self._grant("Push", principal, _PUSH)


class ModelRegistry(MlopsConstruct):
    """A SageMaker model package group with a manual approval gate and cross-account promotion.

    Attributes:
        resource: the ``aws_sagemaker_model_package_group``.
        group_name: its name token.
        group_arn: its ARN token.
        model_packages_arn: ARN pattern token of its versions (``.../model-package/<group>/*``).
        policy: the ``aws_sagemaker_model_package_group_policy``, or ``None`` without promotion targets.
        approver_principal: the approver ``aws_iam_role`` (manual approval with
            ``create_approver``), else ``None``.
        registry_id: the group name token (where versions are registered); approver_id: the
            approver role's ARN token, else ``None``.
        recovery: :class:`~constructs_lib.core.recovery.Recovery`, all ``None``: the model package
            group is regional metadata; model artifacts follow the artifacts store's replication.
    """

    props_type = CoreModelRegistryProps
    props: CoreModelRegistryProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreModelRegistryProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        for target in props.promotion_targets:
            if not _ACCOUNT.match(target):
                raise ConstructError(
                    self.node.path,
                    f"promotion target {target!r} must be a 12-digit AWS account id"
                )
        self.resource = Resource(
            self,
            "Resource",
            "aws_sagemaker_model_package_group",
            provider=provider,
            model_package_group_name=props.name,
            model_package_group_description=(
                f"Model versions of {props.name}; approval: {props.approval}"
            ),
        )
        self.group_name: str = ref(self.resource, "model_package_group_name")
        self.registry_id: str = self.group_name
        self.recovery: Recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)
        self.group_arn: str = ref(self.resource, "arn")
        region = _iam.region_of_arn(self, "GroupArn", self.group_arn)
        self.model_packages_arn: str = (
            f"arn:{_iam.partition(self, provider)}:sagemaker:{region}:{_iam.account_id(self, provider)}"
            f":model-package/{props.name}/*"
        )
        self.policy: Resource | None = None
        if props.promotion_targets:
            partition = _iam.partition(self, provider)
            self.policy = Resource(
                self,
                "PromotionPolicy",
                "aws_sagemaker_model_package_group_policy",
                provider=provider,
                model_package_group_name=self.group_name,
                resource_policy=policy_document(
                    [
                        {
                            "Sid": "LaterEnvironmentsReadVersions",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": sorted(f"arn:{partition}:iam::{a}:root" for a in props.promotion_targets)
                            },
                            "Action": [
                                "sagemaker:DescribeModelPackage",
                                "sagemaker:DescribeModelPackageGroup",
                                "sagemaker:ListModelPackages",
                            ],
                            "Resource": [self.group_arn, self.model_packages_arn],
                        }
                    ]
                ),
            )
        self.approver_principal: Resource | None = None
        if props.approval == "manual" and getattr(props, "create_approver", True):
            account = _iam.account_id(self, provider)
            partition = _iam.partition(self, provider)
            self.approver_principal = Resource(
                self,
                "ApproverRole",
                "aws_iam_role",
                provider=provider,
                name=f"{props.name}-approver",
                description=f"Approves or rejects model versions of {props.name}",
                max_session_duration=3600,
                assume_role_policy=policy_document(
                    [
                        {
                            "Sid": "PeopleOfThisAccountWithMfa",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
                        }
                    ]
                ),
            )
            self.grant_approve(self.approver_principal)
        self.approver_id: str | None = (
            ref(self.approver_principal, "arn") if self.approver_principal is not None else None
        )

    def _grant(self, kind: str, principal: Principal, statements: list[dict]) -> list[Resource]:
        cid = grant_id(f"Grant{kind}", principal)
        return [self._once(
            cid,
            lambda: _iam.role_policy(
                self,
                cid,
                name=f"{self.props.name}-{kind.lower()}-{cid[len('Grant' + kind):]}",
                principal=principal,
                statements=statements,
                provider=self._provider,
            ),
        )]

    def _read_statement(self) -> dict:
        return allow(
            "ReadVersions",
            ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"],
            [self.group_arn, self.model_packages_arn],
        )

    def grant_read(self, principal: Principal) -> list[Resource]:
        """Let an IAM role describe the group and list and describe its versions (one policy, as a list)."""
        return self._grant("Read", principal, [self._read_statement()])

    def grant_write(self, principal: Principal) -> list[Resource]:
        """Let an IAM role register new versions (and read the group).

        Manual approval: ``sagemaker:CreateModelPackage`` only with status ``PendingManualApproval``
        (a deny statement refuses any other status), no ``sagemaker:UpdateModelPackage``.
        Automatic approval: ``CreateModelPackage`` with any status and ``UpdateModelPackage``.
        """
        statements = [self._read_statement()]
        if self.props.approval == "manual":
            statements += [
                allow(
                    "RegisterVersionsPendingApproval",
                    ["sagemaker:AddTags", "sagemaker:CreateModelPackage"],
                    [self.group_arn, self.model_packages_arn],
                ),
                {
                    "Sid": "RegisterOnlyAsPendingManualApproval",
                    "Effect": "Deny",
                    "Action": "sagemaker:CreateModelPackage",
                    "Resource": [self.group_arn, self.model_packages_arn],
                    "Condition": {
                        "StringNotEqualsIfExists": {"sagemaker:ModelApprovalStatus": "PendingManualApproval"}
                    },
                },
            ]
        else:
            statements.append(
                allow(
                    "RegisterAndApproveVersions",
                    ["sagemaker:AddTags", "sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage"],
                    [self.group_arn, self.model_packages_arn],
                )
            )
        return self._grant("Write", principal, statements)

    def grant_approve(self, principal: Principal) -> list[Resource]:
        """Let an IAM role approve or reject versions (``sagemaker:UpdateModelPackage``) and read them."""
        return self._grant(
            "Approve",
            principal,
            [
                self._read_statement(),
                allow(
                    "ApproveOrRejectVersions",
                    ["sagemaker:UpdateModelPackage"],
                    self.model_packages_arn,
                    {"StringEquals": {"sagemaker:ModelApprovalStatus": ["Approved", "Rejected"]}},
                ),
            ],
        )
