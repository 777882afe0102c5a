"""Props shared by every cloud: the same field names with the same meaning on AWS, Azure and GCP.

Every model is frozen and rejects unknown fields. Each field's description says what the default
*does*. Cloud packages subclass these models only to add what a cloud needs (an Azure resource
group, a GCP project), never to rename a field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import PropsError

__all__ = [
    "DataStoreProps",
    "EncryptionProps",
    "KeyProps",
    "LifecycleProps",
    "Model",
    "ReplicationProps",
]


class _ModelMeta(type(BaseModel)):  # type: ignore[misc]
    """Turns a failed ``SomeProps(...)`` call into the library's :class:`PropsError`.

    Only direct calls pass here: models validated as part of another model (a spec section, nested
    props given as dicts) keep pydantic's error, so the outer model reports every field path.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except PropsError:
            raise
        except ValidationError as err:
            raise PropsError.of(cls, err) from None


class Model(BaseModel, metaclass=_ModelMeta):
    """Base of all props and spec models: frozen, unknown fields rejected, validated defaults.

    Building one in Python with invalid values raises :class:`~.errors.PropsError` (a pydantic
    ``ValidationError`` too), one line per problem: ``DataStoreProps.name: <what is wrong>``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class EncryptionProps(Model):
    """Customer-managed key encryption, the same interface on every construct."""

    key_id: str | None = Field(
        default=None,
        description=(
            "Existing customer-managed key to use (AWS KMS key ARN, Azure Key Vault key id, GCP "
            "crypto key id). Defaults to None: a new key is created for the construct, with "
            "automatic rotation every `rotation_days`."
        ),
    )
    rotation_days: int = Field(
        default=90,
        ge=90,
        le=2560,
        description=(
            "Rotation period of a created key, in days. Defaults to 90 (the CIS benchmark period; "
            "older key versions stay usable, so rotation re-encrypts nothing). AWS KMS accepts "
            "90-2560; Azure and GCP use the same period. Ignored for a supplied `key_id`."
        ),
    )
    deletion_window_days: int = Field(
        default=30,
        ge=7,
        le=30,
        description=(
            "Waiting period before a created key is really deleted (AWS KMS pending window, Azure "
            "soft-delete retention, GCP destroy-scheduled duration). Defaults to 30 days, the maximum."
        ),
    )


class KeyProps(Model):
    """A customer-managed encryption key, the same fields on every cloud.

    Cloud packages subclass it to add where the key lives (Azure resource group and location,
    GCP project and location) and cloud-only options; they never rename these fields.
    """

    name: str = Field(
        min_length=1,
        max_length=63,
        pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$",
        description=(
            "Logical name of the key (AWS alias `alias/<name>`, Azure key and vault name, GCP key "
            "ring and key name): letters, digits, '_' and '-'."
        ),
    )
    description: str | None = Field(
        default=None,
        description="What the key protects, shown where the cloud keeps a description. Defaults to none.",
    )
    rotation_days: int = Field(
        default=90,
        ge=90,
        le=2560,
        description=(
            "Automatic rotation period in days. Defaults to 90; older key versions stay usable, so "
            "rotation re-encrypts nothing."
        ),
    )
    deletion_window_days: int = Field(
        default=30,
        ge=7,
        le=30,
        description=(
            "Waiting period before a deleted key is really gone (AWS pending window, Azure vault "
            "soft-delete retention, GCP destroy-scheduled duration). Defaults to 30."
        ),
    )
    deletion_protection: bool = Field(
        default=True,
        description=(
            "Refuse to destroy the key (Terraform prevent_destroy, plus the cloud's own protection "
            "where it exists): data encrypted with a destroyed key is lost. Defaults to True."
        ),
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags (labels on GCP) added to the key's resources. Defaults to none.",
    )

    @classmethod
    def for_encryption(cls, name: str, encryption: "EncryptionProps", **extra: object) -> "KeyProps":
        """Key props for a construct's own key from its ``encryption`` settings."""
        return cls(
            name=name,
            rotation_days=encryption.rotation_days,
            deletion_window_days=encryption.deletion_window_days,
            **extra,  # type: ignore[arg-type]
        )


class LifecycleProps(Model):
    """Storage tiering and expiry of old object versions."""

    infrequent_access_after_days: int | None = Field(
        default=30,
        ge=1,
        description=(
            "Move current objects to the infrequent-access tier (S3 STANDARD_IA, Azure Cool, GCS "
            "NEARLINE) after this many days. Defaults to 30; None keeps everything in the hot tier."
        ),
    )
    archive_after_days: int | None = Field(
        default=180,
        ge=1,
        description=(
            "Move current objects to the archive tier (S3 GLACIER_IR, Azure Cold, GCS COLDLINE) after "
            "this many days. Defaults to 180; None disables archiving. Must be later than "
            "`infrequent_access_after_days`."
        ),
    )
    noncurrent_version_expiry_days: int = Field(
        default=90,
        ge=1,
        description=(
            "Delete noncurrent (overwritten or deleted) object versions this many days after they "
            "stop being current. Defaults to 90."
        ),
    )
    abort_incomplete_upload_days: int = Field(
        default=7,
        ge=1,
        description="Abort incomplete multipart uploads after this many days. Defaults to 7.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "LifecycleProps":
        ia, ar = self.infrequent_access_after_days, self.archive_after_days
        if ia is not None and ar is not None and ar <= ia:
            raise ValueError(
                f"archive_after_days ({ar}) must be greater than infrequent_access_after_days ({ia}): "
                "objects are tiered to infrequent access first, then archived"
            )
        if ia is not None and ia < 30:
            # S3 refuses STANDARD_IA transitions before 30 days; keep one rule for all clouds.
            raise ValueError(
                f"infrequent_access_after_days ({ia}) must be at least 30: S3 rejects earlier "
                "STANDARD_IA transitions; use 30 or more, or None to keep the hot tier"
            )
        return self


class ReplicationProps(Model):
    """Cross-region copy of a data store for disaster recovery."""

    region: str = Field(
        description=(
            "Second region that receives a replica (AWS: a replica bucket with its own key; Azure: "
            "the paired region through RA-GZRS; GCP: the dual-region bucket's second region)."
        ),
    )
    rpo_minutes: int = Field(
        default=15,
        ge=15,
        description=(
            "Recovery point objective in minutes. Defaults to 15: S3 Replication Time Control and "
            "GCS turbo replication both guarantee 15 minutes."
        ),
    )


class DataStoreProps(Model):
    """A versioned, encrypted, lifecycle-managed data or artifact store."""

    name: str = Field(
        min_length=3,
        max_length=40,
        pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$",
        description=(
            "Logical name: lowercase letters, digits and hyphens. The cloud resource name is derived "
            "from it (S3/GCS bucket name, Azure storage account name with hyphens removed)."
        ),
    )
    versioning: bool = Field(
        default=True,
        description="Keep every object version. Defaults to True; datasets and models are versioned.",
    )
    lifecycle: LifecycleProps = Field(
        default_factory=LifecycleProps,
        description="Tiering and noncurrent-version expiry. Defaults to IA at 30 days, archive at 180, noncurrent expiry at 90.",
    )
    encryption: EncryptionProps = Field(
        default_factory=EncryptionProps,
        description="Customer-managed key. Defaults to a new key for this store, rotated every 90 days.",
    )
    deletion_protection: bool = Field(
        default=True,
        description=(
            "Protect the store from deletion (Terraform prevent_destroy on the bucket/account; Azure "
            "also gets a CanNotDelete lock). Defaults to True. Turn off only for throwaway environments."
        ),
    )
    access_logging: bool = Field(
        default=True,
        description=(
            "Record data access (AWS: server access logs to a dedicated log bucket; Azure: blob "
            "diagnostic logs to Log Analytics; GCP: usage logs to a log bucket). Defaults to True."
        ),
    )
    replication: ReplicationProps | None = Field(
        default=None,
        description="Cross-region replica for disaster recovery. Defaults to None (single region).",
    )
    tags: dict[str, str] = Field(
        default_factory=dict,
        description="Tags (AWS/Azure) or labels (GCP, normalised to label rules) added to every resource of the store.",
    )

    @model_validator(mode="after")
    def _replication_needs_versioning(self) -> "DataStoreProps":
        if self.replication is not None and not self.versioning:
            raise ValueError(
                "replication needs versioning: set versioning: true, or remove replication"
            )
        return self
