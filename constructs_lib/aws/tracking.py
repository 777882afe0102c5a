"""Experiment tracking: a SageMaker managed MLflow tracking server and empty SaaS tracker secrets.

What ``Tracking`` builds, with every default:

* an ``aws_sagemaker_mlflow_tracking_server`` named ``props.name``, size ``Small`` / ``Medium`` /
  ``Large`` from ``props.server_size`` (default small, the cheapest: billed per hour while it
  exists), automatic model registration off (versions go to the model registry through its write
  grant), artifacts under ``s3://<artifact store>/mlflow``;
* the server's role: assumable by SageMaker of this account only, with read and write on the
  artifact store (the store's own grants: bucket objects + its key through S3) and nothing else;
* a customer-managed key (new, rotated every ``encryption.rotation_days``, unless
  ``encryption.key_id``) for the tracker secrets;
* per entry of ``props.saas_trackers``: an ``aws_secretsmanager_secret`` ``<name>/<tracker>-api-key``
  encrypted with that key and **created empty**: no ``aws_secretsmanager_secret_version`` is
  emitted, so no secret value ever enters Terraform configuration or state. Fill it out of band::

      aws secretsmanager put-secret-value --secret-id <name>/wandb-api-key \\
          --secret-string "$WANDB_API_KEY"

  Deleted secrets are recoverable for ``secret_recovery_window_days`` (default 30).

Grants: :meth:`Tracking.grant_access` (log experiments and runs, open the MLflow UI) and
:meth:`Tracking.grant_secret_read` (``secretsmanager:GetSecretValue`` on these secrets and
``kms:Decrypt`` through Secrets Manager only). Only principals granted so can read the secrets.

The MLflow server runs in a SageMaker-managed VPC (no Terraform argument places it in yours);
clients in the private network reach it through the ``sagemaker.api`` and
``sagemaker.experiments`` interface endpoints of :class:`~.network.Network`.
"""

from __future__ import annotations

from pydantic import Field

from ..core import engine
from ..core.acknowledge import Acknowledge
from ..core.build_props import TrackingProps as CoreTrackingProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructTypeError
from ..core.recovery import Recovery
from ..core.resource import Resource
from . import _iam
from ._iam import Principal, allow, grant_id, kms_statement, ref
from ._keys import key_arn_of, own_key
from .keys import Key
from .storage import DataStore

__all__ = ["MLFLOW_ARTIFACT_PREFIX", "SERVER_SIZES", "Tracking", "TrackingProps"]

#: Key prefix of MLflow artifacts in the artifact store.
MLFLOW_ARTIFACT_PREFIX = "mlflow"
#: ``server_size`` -> SageMaker ``TrackingServerSize``.
SERVER_SIZES = {"small": "Small", "medium": "Medium", "large": "Large"}
_MLFLOW_ACTIONS = (
    "sagemaker-mlflow:AccessUI",
    "sagemaker-mlflow:CreateExperiment",
    "sagemaker-mlflow:CreateRun",
    "sagemaker-mlflow:GetExperiment",
    "sagemaker-mlflow:GetExperimentByName",
    "sagemaker-mlflow:GetMetricHistory",
    "sagemaker-mlflow:GetRun",
    "sagemaker-mlflow:ListArtifacts",
    "sagemaker-mlflow:LogBatch",
    "sagemaker-mlflow:LogInputs",
    "sagemaker-mlflow:LogMetric",
    "sagemaker-mlflow:LogModel",
    "sagemaker-mlflow:LogParam",
    "sagemaker-mlflow:SearchExperiments",
    "sagemaker-mlflow:SearchRuns",
    "sagemaker-mlflow:SetExperimentTag",
    "sagemaker-mlflow:SetTag",
    "sagemaker-mlflow:UpdateRun",
)


class TrackingProps(CoreTrackingProps):
    """Core ``TrackingProps`` plus AWS-only fields."""

    secret_recovery_window_days: int = Field(
        default=30,
        ge=7,
        le=30,
        description="Days a deleted tracker secret stays recoverable. Defaults to 30 (the maximum).",
    )
    deletion_protection: bool = Field(
        default=True, description="prevent_destroy on the secrets' key. Defaults to True."
    )


class Tracking(MlopsConstruct):
    """SageMaker managed MLflow plus empty, KMS-encrypted secrets for SaaS trackers.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`TrackingProps` (or the core ``TrackingProps``).
        artifact_store: the :class:`~.storage.DataStore` that holds MLflow artifacts (the
            platform's ``artifacts`` store).
        provider: the ``aws`` provider. Defaults to the stack's default provider.

    Attributes:
        resource: the ``aws_sagemaker_mlflow_tracking_server``.
        tracking_uri: its ARN token: what ``mlflow.set_tracking_uri`` takes with the
            ``sagemaker-mlflow`` plugin.
        tracking_url: its URL token (the UI, through a presigned URL).
        role: the server's ``aws_iam_role``.
        secrets: tracker -> ``aws_secretsmanager_secret`` (empty); ``secret_ids``: tracker -> its
            ARN token (where the API key goes).
        recovery: :class:`~constructs_lib.core.recovery.Recovery`, all ``None``: the MLflow server's
            metadata is regional; its artifacts follow the artifact store's replication.
        key: the secrets' :class:`~.keys.Key`, or ``None`` for a supplied ``encryption.key_id``.
        key_id: ARN of that key.
    """

    props_type = CoreTrackingProps
    props: CoreTrackingProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreTrackingProps,
        *,
        artifact_store: DataStore,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not isinstance(artifact_store, DataStore):
            raise ConstructTypeError(
                self.node.path,
                "artifact_store must be a constructs_lib.aws.DataStore, "
                f"got {type(artifact_store).__name__}"
            )
        name = props.name
        self.role: Resource = _iam.service_role(
            self,
            "ServerRole",
            name=f"{name}-mlflow",
            description=f"MLflow tracking server {name}: its artifact store only",
            services=["sagemaker.amazonaws.com"],
            provider=provider,
        )
        artifact_store.grant_read(self.role)
        artifact_store.grant_write(self.role)
        self.resource: Resource = Resource(
            self,
            "Resource",
            "aws_sagemaker_mlflow_tracking_server",
            provider=provider,
            tracking_server_name=name,
            tracking_server_size=SERVER_SIZES[props.server_size],
            artifact_store_uri=f"s3://{artifact_store.store_name}/{MLFLOW_ARTIFACT_PREFIX}",
            role_arn=ref(self.role, "arn"),
            automatic_model_registration=False,
        )
        self.tracking_uri: str = ref(self.resource, "arn")
        self.tracking_url: str = ref(self.resource, "tracking_server_url")

        self.secrets: dict[str, Resource] = {}
        self.key: Key | None = None
        key_arn = props.encryption.key_id
        if props.saas_trackers:
            self.key = own_key(
                self,
                "Key",
                props.encryption,
                name=f"{name}-secrets",
                description=f"Encrypts the tracker secrets of {name}",
                deletion_protection=bool(getattr(props, "deletion_protection", True)),
                provider=provider,
            )
            key_arn = key_arn_of(self.key, props.encryption)
        self.key_id: str | None = key_arn
        window = int(getattr(props, "secret_recovery_window_days", 30))
        for tracker in props.saas_trackers:
            secret = Resource(
                self,
                f"Secret{tracker.capitalize()}",
                "aws_secretsmanager_secret",
                provider=provider,
                name=f"{name}/{tracker}-api-key",
                description=(
                    f"{tracker} API key for training jobs of {name}. Created empty: set it with "
                    f"`aws secretsmanager put-secret-value --secret-id {name}/{tracker}-api-key "
                    "--secret-string <key>`"
                ),
                kms_key_id=key_arn,
                recovery_window_in_days=window,
            )
            Acknowledge.of(secret).add(
                "CKV2_AWS_57",
                reason=(
                    "A SaaS tracker API key is issued by the SaaS vendor and cannot be rotated by a "
                    "Secrets Manager rotation function; it is rotated in the vendor's console and "
                    "written with put-secret-value. The secret is KMS-encrypted and readable only by "
                    "principals granted with grant_secret_read."
                ),
            )
            self.secrets[tracker] = secret
        self.secret_ids: dict[str, str] = {k: ref(v, "arn") for k, v in self.secrets.items()}
        self.recovery: Recovery = Recovery(rpo_minutes=None, rto_minutes=None, replica_region=None)

    def grant_access(self, principal: Principal) -> list[Resource]:
        """Let an IAM role log experiments and runs and open the UI of this tracking server.

        One ``aws_iam_role_policy`` (returned as a one-item list): the listed ``sagemaker-mlflow:*`` run/experiment actions (no
        deletes, no model-registry writes) and ``sagemaker:CreatePresignedMlflowTrackingServerUrl``
        / ``sagemaker:DescribeMlflowTrackingServer``, all on this server's ARN.
        """
        cid = grant_id("GrantAccess", principal)
        return [self._once(
            cid,
            lambda: _iam.role_policy(
                self,
                cid,
                name=f"{self.props.name}-access-{cid[len('GrantAccess'):]}",
                principal=principal,
                statements=[
                    allow("LogExperiments", _MLFLOW_ACTIONS, self.tracking_uri),
                    allow(
                        "OpenTrackingServer",
                        ["sagemaker:CreatePresignedMlflowTrackingServerUrl", "sagemaker:DescribeMlflowTrackingServer"],
                        self.tracking_uri,
                    ),
                ],
                provider=self._provider,
            ),
        )]

    def grant_secret_read(self, principal: Principal) -> list[Resource]:
        """Let an IAM role read the tracker secrets: ``GetSecretValue`` + ``DescribeSecret`` on them,
        ``kms:Decrypt`` on their key through Secrets Manager only (one policy, as a one-item list).
        An empty list when there are no secrets."""
        if not self.secrets:
            return []
        cid = grant_id("GrantSecretRead", principal)
        statements = [
            allow(
                "ReadTrackerSecrets",
                ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
                [ref(s, "arn") for s in self.secrets.values()],
            )
        ]
        if self.key_id is not None:
            statements.append(kms_statement("DecryptTrackerSecrets", self.key_id, ["kms:Decrypt"], via_service="secretsmanager"))
        return [self._once(
            cid,
            lambda: _iam.role_policy(
                self,
                cid,
                name=f"{self.props.name}-secrets-{cid[len('GrantSecretRead'):]}",
                principal=principal,
                statements=statements,
                provider=self._provider,
            ),
        )]
