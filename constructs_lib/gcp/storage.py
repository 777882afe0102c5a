"""A versioned, CMEK-encrypted, lifecycle-managed data store on Google Cloud Storage.

``DataStore`` is the GCP member of the ``DataStore`` family (same class name, props field names
and public attributes on AWS and Azure). From one :class:`DataStoreProps` it emits:

* ``google_storage_bucket`` (child ``Resource``): versioning, uniform bucket-level access,
  ``public_access_prevention = "enforced"``, default CMEK (``encryption.default_kms_key_name``)
  with Google-managed and customer-supplied keys refused for new objects, lifecycle tiering
  (STANDARD → NEARLINE → COLDLINE), noncurrent-version expiry, abort of incomplete multipart
  uploads, soft delete, usage logging to a dedicated log bucket, ``force_destroy = false``;
* a :class:`~constructs_lib.gcp.keys.Key` (child ``Key``) unless ``encryption.key_id`` is given,
  and ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on that key for the project's Cloud Storage
  service agent (data source ``google_storage_project_service_account``, child ``ServiceAgent``);
* a log bucket (child ``LogBucket``, hardened the same way) and the write grant Cloud Storage's
  log writer (``group:cloud-storage-analytics@google.com``) needs on it (child ``LogWriter``);
* ``google_storage_bucket_iam_member`` grants from :meth:`DataStore.grant_read` /
  :meth:`DataStore.grant_write`.

GCP specifics worth knowing:

* **TLS-only is inherent**: Cloud Storage APIs only accept HTTPS (TLS), so there is no policy to
  write, unlike the S3 ``aws:SecureTransport`` deny.
* **Replication** is a *dual-region* bucket: the bucket's location is the multi-region that holds
  both regions (``US``, ``EU``, ``ASIA``) with ``custom_placement_config.data_locations`` =
  ``[PRIMARY, SECOND]`` and turbo replication (``rpo = "ASYNC_TURBO"``, 15-minute RPO); both
  regions must be in that multi-region (:data:`~constructs_lib.core.regions.GCS_MULTI_REGIONS`:
  London, Zurich, Hong Kong, Jakarta and the regions outside US/EU/ASIA have no dual-region
  partner, hence no cross-region copy). It is one
  bucket, one name, readable and writable in both regions, with automatic failover, so no replica
  bucket, no replication job and no ``replica_provider`` are needed.
* **Key location** must match the bucket location: the region for a regional bucket, the
  lowercase multi-region (``us``, ``eu``, ``asia``) for a dual-region bucket.
* **Deletion protection**: Terraform ``prevent_destroy`` plus the provider's own
  ``deletion_policy = "PREVENT"``; soft delete keeps deleted objects restorable for
  ``soft_delete_days``. GCS has no bucket-level lock besides retention policies, which would stop
  lifecycle expiry of noncurrent versions and are therefore not used.
"""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core import props as core_props
from ..core.acknowledge import Acknowledge
from ..core.naming import bucket_name
from ..core.recovery import Recovery
from ..core.regions import gcs_multi_region, replica_candidates
from ..core.resource import DataSource, Resource
from ._common import grant_suffix, own_key
from .keys import ENCRYPTER_DECRYPTER_ROLE, Key

__all__ = [
    "DEFAULT_LOG_RETENTION_DAYS",
    "DEFAULT_SOFT_DELETE_DAYS",
    "LOG_WRITER_MEMBER",
    "READ_ROLES",
    "TURBO_RPO_MINUTES",
    "WRITE_ROLES",
    "DataStore",
    "DataStoreProps",
    "Recovery",
    "multi_region_of",
]

DEFAULT_SOFT_DELETE_DAYS = 7
"""Days deleted or overwritten objects stay restorable (soft delete) by default."""

DEFAULT_LOG_RETENTION_DAYS = 365
"""Days usage-log objects are kept in the log bucket by default."""

LOG_WRITER_MEMBER = "group:cloud-storage-analytics@google.com"
"""The Google group Cloud Storage writes usage logs as; it needs objectCreator on the log bucket."""

READ_ROLES: tuple[str, ...] = ("roles/storage.objectViewer",)
"""Roles of :meth:`DataStore.grant_read`: get and list objects (no bucket metadata, no writes)."""

WRITE_ROLES: tuple[str, ...] = ("roles/storage.objectCreator", "roles/storage.objectViewer")
"""Roles of :meth:`DataStore.grant_write`: create new objects, get and list them. No delete,
no overwrite of existing names, no bucket or IAM administration."""

TURBO_RPO_MINUTES = 15
"""Recovery point objective guaranteed by turbo replication (``rpo = "ASYNC_TURBO"``)."""

_DEFAULT_RPO_MINUTES = 720
"""Default dual-region replication: 99.9 % of new objects within 1 hour, 100 % within 12 hours."""

_SECONDS_PER_DAY = 86_400
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_KEY_ID = re.compile(
    r"^projects/[^/]+/locations/(?P<location>[^/]+)/keyRings/[^/]+/cryptoKeys/[^/]+$"
)



def multi_region_of(region: str) -> str | None:
    """The Cloud Storage multi-region (``US``, ``EU``, ``ASIA``) holding ``region``, or None (the
    table of :mod:`constructs_lib.core.regions`, which names its source)."""
    return gcs_multi_region(region)


class DataStoreProps(core_props.DataStoreProps):
    """GCP data store props: the shared :class:`~constructs_lib.core.props.DataStoreProps` plus
    the project and region, and a few GCS settings with secure defaults."""

    project: str = Field(
        min_length=6,
        max_length=30,
        pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$",
        description="Project ID that holds the bucket, its log bucket and its key.",
    )
    location: str = Field(
        description=(
            "Primary region of the store, lowercase (e.g. 'us-central1'). Without replication the "
            "bucket is regional there; with `replication` it is a dual-region bucket over this "
            "region and `replication.region`."
        ),
    )
    soft_delete_days: int = Field(
        default=DEFAULT_SOFT_DELETE_DAYS,
        ge=0,
        le=90,
        description=(
            "Days deleted or overwritten objects stay restorable (bucket soft-delete policy). "
            "Defaults to 7, the Cloud Storage default; 0 turns soft delete off, otherwise 7-90."
        ),
    )
    log_retention_days: int = Field(
        default=DEFAULT_LOG_RETENTION_DAYS,
        ge=1,
        description=(
            "Days usage-log objects are kept in the log bucket (with `access_logging`). "
            "Defaults to 365."
        ),
    )
    enforce_cmek_only: bool = Field(
        default=True,
        description=(
            "Refuse new objects encrypted with Google-managed or customer-supplied keys (bucket "
            "encryption enforcement), so every object uses the customer-managed key. Defaults to True."
        ),
    )
    grant_key_to_service_agent: bool = Field(
        default=True,
        description=(
            "Grant the project's Cloud Storage service agent encrypt/decrypt on the key, which the "
            "bucket needs before it can be created. Defaults to True. For a supplied "
            "`encryption.key_id` whose IAM is managed elsewhere, set False and grant it there."
        ),
    )

    @model_validator(mode="after")
    def _gcp_rules(self) -> "DataStoreProps":
        # Order matters: locations first, then replication, then the key (which needs both).
        if not _REGION.match(self.location):
            raise ValueError(
                f"location {self.location!r} is not a lowercase GCP region such as 'us-central1': "
                "give the primary region (use `replication` for a dual-region store)"
            )
        if 0 < self.soft_delete_days < 7:
            raise ValueError(
                f"soft_delete_days ({self.soft_delete_days}) must be 0 (off) or between 7 and 90: "
                "Cloud Storage accepts no shorter soft-delete period"
            )
        if self.replication is not None:
            second = self.replication.region
            if not _REGION.match(second):
                raise ValueError(
                    f"replication.region {second!r} is not a lowercase GCP region such as 'us-east1'"
                )
            if second == self.location:
                raise ValueError(
                    f"replication.region ({second}) must differ from location ({self.location}): "
                    "a dual-region bucket needs two regions"
                )
            primary_mr, second_mr = multi_region_of(self.location), multi_region_of(second)
            if primary_mr is None or primary_mr != second_mr:
                raise ValueError(
                    f"location {self.location!r} and replication.region {second!r} are not in the "
                    f"same Cloud Storage multi-region: replication.region can be "
                    f"{replica_candidates('gcp', self.location)}"
                )
        key_id = self.encryption.key_id
        if key_id is not None and not key_id.startswith("${"):
            match = _KEY_ID.match(key_id)
            if match is None:
                raise ValueError(
                    f"encryption.key_id {key_id!r} is not a Cloud KMS crypto key id: use "
                    "'projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY'"
                )
            if match["location"] != self.kms_location:
                raise ValueError(
                    f"encryption.key_id is in location {match['location']!r} but this store needs "
                    f"a key in {self.kms_location!r}: Cloud Storage only uses a key in the bucket's "
                    "own location (the region, or the lowercase multi-region of a dual-region bucket)"
                )
        return self

    @property
    def kms_location(self) -> str:
        """Cloud KMS location the store's key must be in: the region, or for a dual-region store
        the lowercase multi-region (``us``, ``eu``, ``asia``)."""
        if self.replication is None:
            return self.location
        return (multi_region_of(self.location) or self.location).lower()


class DataStore(MlopsConstruct):
    """A versioned, CMEK-encrypted Cloud Storage bucket with lifecycle tiering and access logs.

    Defaults (each from :class:`DataStoreProps`): versioning on; NEARLINE after 30 days, COLDLINE
    after 180; noncurrent versions deleted after 90 days; incomplete multipart uploads aborted
    after 7 days; a new Cloud KMS key rotated every 90 days; public access prevented; uniform
    bucket-level access; usage logs to a dedicated log bucket kept 365 days; 7-day soft delete;
    deletion protection on; regional (no replication). TLS is always on for Cloud Storage.

    Public attributes (same names on every cloud):

    * ``resource`` — the ``google_storage_bucket`` :class:`Resource`;
    * ``key`` — the created :class:`Key`, or ``None`` when ``encryption.key_id`` is supplied;
    * ``key_id`` — token (or the supplied string) of the Cloud KMS crypto key id;
    * ``store_name`` — token of the bucket name;
    * ``store_id`` — token of the bucket self link (``https://www.googleapis.com/storage/v1/b/NAME``);
    * ``replica`` — with replication, the dual-region bucket itself (it holds the second copy);
      ``None`` otherwise;
    * ``recovery`` — :class:`Recovery` (RPO/RTO in minutes);

    and GCP extras: ``store_url`` (``gs://NAME`` token), ``log_bucket`` (Resource or None),
    ``location`` (bucket location: region or multi-region, upper case), ``kms_location``.

    ``provider`` selects a non-default ``google`` provider (another project or credentials).
    ``replica_provider`` is accepted for interface parity with AWS and ignored: a dual-region
    bucket is one resource managed through one provider.
    """

    props_type = DataStoreProps
    props_hint = "project and location"

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: DataStoreProps,
        *,
        provider: engine.TerraformProvider | None = None,
        replica_provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self._replica_provider = replica_provider  # unused on GCP, see the class docstring
        self._bucket_name = bucket_name(props.project, props.name)
        placement, rpo = self._placement()
        depends_on = self._key()
        logging = self._access_logs(depends_on)
        self._bucket(placement, rpo, depends_on, logging)
        self.store_name: str = self.resource.ref("name")
        self.store_id: str = self.resource.ref("self_link")
        self.store_url: str = self.resource.ref("url")
        self.replica: Resource | None = self.resource if props.replication is not None else None

    # --- steps of the constructor, in order -------------------------------------------------------

    def _placement(self) -> tuple[dict[str, list[str]] | None, str | None]:
        """Where the data lives: ``location``, ``kms_location`` and ``recovery``; returns the
        dual-region placement and replication RPO setting (None, None for a regional bucket)."""
        props: DataStoreProps = self.props
        replication = props.replication
        self.kms_location = props.kms_location
        if replication is None:
            self.location = props.location.upper()
            self.recovery = Recovery(rpo_minutes=None, rto_minutes=None)
            return None, None
        multi_region = multi_region_of(props.location)
        assert multi_region is not None  # checked by DataStoreProps
        self.location = multi_region
        turbo = replication.rpo_minutes < _DEFAULT_RPO_MINUTES
        self.recovery = Recovery(
            rpo_minutes=TURBO_RPO_MINUTES if turbo else _DEFAULT_RPO_MINUTES,
            rto_minutes=0,
            replica_region=replication.region,
        )
        placement = {"data_locations": [props.location.upper(), replication.region.upper()]}
        return placement, "ASYNC_TURBO" if turbo else "DEFAULT"

    def _key(self) -> list[Resource] | None:
        """The customer-managed key (own or supplied) and the Cloud Storage service agent's use of
        it; returns what the buckets must depend on."""
        props: DataStoreProps = self.props
        provider = self._provider
        self.service_agent = DataSource(
            self,
            "ServiceAgent",
            "google_storage_project_service_account",
            provider=provider,
            project=props.project,
        )
        agent = self.service_agent.ref("member")
        key_grant: Resource | None = None
        self.key: Key | None = own_key(
            self,
            "Key",
            props.encryption,
            name=self._bucket_name,
            project=props.project,
            location=self.kms_location,
            deletion_protection=props.deletion_protection,
            provider=provider,
        )
        if self.key is not None:
            self.key_id: str = self.key.key_id
            (key_grant,) = self.key.grant_encrypt_decrypt(agent, id="StorageServiceAgent")
        else:
            assert props.encryption.key_id is not None
            self.key_id = props.encryption.key_id
            if props.grant_key_to_service_agent:
                key_grant = Resource(
                    self,
                    "KeyServiceAgent",
                    "google_kms_crypto_key_iam_member",
                    provider=provider,
                    crypto_key_id=self.key_id,
                    role=ENCRYPTER_DECRYPTER_ROLE,
                    member=agent,
                )
        return [key_grant] if key_grant is not None else None

    def _access_logs(self, depends_on: list[Resource] | None) -> dict[str, str] | None:
        """The usage-log bucket and its log writer (with ``access_logging``); returns the bucket's
        ``logging`` block (None without access logging)."""
        props: DataStoreProps = self.props
        self.log_bucket: Resource | None = None
        self.log_writer: Resource | None = None
        if not props.access_logging:
            return None
        protect = props.deletion_protection
        self.log_bucket = Resource(
            self,
            "LogBucket",
            "google_storage_bucket",
            provider=self._provider,
            depends_on=depends_on,
            prevent_destroy=protect,
            name=bucket_name(props.project, props.name, "logs"),
            project=props.project,
            location=self.location,
            storage_class="STANDARD",
            force_destroy=False,
            deletion_policy="PREVENT" if protect else None,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": True},
            encryption=self._encryption(),
            soft_delete_policy=self._soft_delete(),
            lifecycle_rule=[
                _rule("Delete", age=props.log_retention_days),
                _noncurrent_expiry(props.lifecycle.noncurrent_version_expiry_days),
                _rule(
                    "AbortIncompleteMultipartUpload",
                    age=props.lifecycle.abort_incomplete_upload_days,
                ),
            ],
        )
        Acknowledge.of(self.log_bucket).add(
            "CKV_GCP_62",
            reason=(
                "This is the dedicated usage-log bucket of the data store: logging it to "
                "itself would loop and a further log bucket would only move the finding. "
                "Access to it is recorded by Cloud Audit Logs (admin activity always on)."
            ),
        )
        self.log_writer = Resource(
            self,
            "LogWriter",
            "google_storage_bucket_iam_member",
            provider=self._provider,
            bucket=self.log_bucket.ref("name"),
            role="roles/storage.objectCreator",
            member=LOG_WRITER_MEMBER,
        )
        return {"log_bucket": self.log_bucket.ref("name"), "log_object_prefix": self._bucket_name}

    def _bucket(
        self,
        placement: dict[str, list[str]] | None,
        rpo: str | None,
        depends_on: list[Resource] | None,
        logging: dict[str, str] | None,
    ) -> None:
        """The bucket itself (``resource``) and the acknowledgements of settings the props turned off."""
        props: DataStoreProps = self.props
        protect = props.deletion_protection
        self.resource = Resource(
            self,
            "Resource",
            "google_storage_bucket",
            provider=self._provider,
            depends_on=depends_on,
            prevent_destroy=protect,
            name=self._bucket_name,
            project=props.project,
            location=self.location,
            custom_placement_config=placement,
            rpo=rpo,
            storage_class="STANDARD",
            force_destroy=False,
            deletion_policy="PREVENT" if protect else None,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": props.versioning},
            encryption=self._encryption(),
            logging=logging,
            soft_delete_policy=self._soft_delete(),
            lifecycle_rule=self._lifecycle_rules(),
        )
        if not props.versioning:
            Acknowledge.of(self.resource).add(
                "CKV_GCP_78",
                reason=(
                    "versioning=false was chosen explicitly in the props for data that is "
                    "reproducible from its source; soft delete still keeps deleted objects "
                    f"restorable for {props.soft_delete_days} days."
                ),
            )
        if not props.access_logging:
            Acknowledge.of(self.resource).add(
                "CKV_GCP_62",
                reason=(
                    "access_logging=false was chosen explicitly in the props; Cloud Audit Logs "
                    "still record admin activity on the bucket, and data-access audit logs can be "
                    "enabled for the project instead of usage logs."
                ),
            )

    # --- grants -----------------------------------------------------------------------------------

    def grant_read(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` read (get and list) objects: ``roles/storage.objectViewer``.

        ``principal`` is an IAM member string: ``serviceAccount:NAME@PROJECT.iam.gserviceaccount.com``,
        ``group:EMAIL``, ``user:EMAIL``, or a workload-identity ``principal://`` /
        ``principalSet://`` URI. Public members (``allUsers``, ``allAuthenticatedUsers``) and
        whole domains are refused. No key role is granted or needed: the Cloud Storage service
        agent decrypts with the CMEK on the reader's behalf. Emits non-authoritative
        ``google_storage_bucket_iam_member`` resources on this bucket only; granting the same
        role to the same principal twice reuses the first grant. ``id`` names the grants'
        constructs and is required when ``principal`` contains a token.
        """
        return self._grant(principal, READ_ROLES, id)

    def grant_write(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` create new objects and read them back: ``roles/storage.objectCreator``
        and ``roles/storage.objectViewer``.

        Writers cannot delete objects or overwrite an existing object name (both need
        ``storage.objects.delete``), nor change the bucket or its IAM: write new, versioned names
        (e.g. ``runs/<run-id>/model.pt``). Encryption uses the bucket's CMEK through the service
        agent, so no key role is needed. ``principal`` and ``id`` as in :meth:`grant_read`.
        """
        return self._grant(principal, WRITE_ROLES, id)

    @property
    def grants(self) -> tuple[Resource, ...]:
        """The bucket IAM grants emitted so far, in creation order."""
        return tuple(self._grants.values())

    def _grant(self, principal: str, roles: tuple[str, ...], id: str | None) -> list[Resource]:
        suffix = grant_suffix(self.node.path, principal, id)
        out: list[Resource] = []
        for role in roles:
            key = (role, principal)
            if key not in self._grants:
                self._grants[key] = Resource(
                    self,
                    f"{_role_label(role)}{suffix}",
                    "google_storage_bucket_iam_member",
                    provider=self._provider,
                    bucket=self.resource.ref("name"),
                    role=role,
                    member=principal,
                )
            out.append(self._grants[key])
        return out

    # --- building blocks ------------------------------------------------------------------------

    def _encryption(self) -> dict[str, object]:
        encryption: dict[str, object] = {"default_kms_key_name": self.key_id}
        if self.props.enforce_cmek_only:
            encryption["google_managed_encryption_enforcement_config"] = {
                "restriction_mode": "FullyRestricted"
            }
            encryption["customer_supplied_encryption_enforcement_config"] = {
                "restriction_mode": "FullyRestricted"
            }
        return encryption

    def _soft_delete(self) -> dict[str, int]:
        return {"retention_duration_seconds": self.props.soft_delete_days * _SECONDS_PER_DAY}

    def _lifecycle_rules(self) -> list[dict[str, object]]:
        lc = self.props.lifecycle
        rules: list[dict[str, object]] = []
        if lc.infrequent_access_after_days is not None:
            rules.append(
                _rule(
                    "SetStorageClass",
                    storage_class="NEARLINE",
                    age=lc.infrequent_access_after_days,
                    matches_storage_class=["STANDARD"],
                )
            )
        if lc.archive_after_days is not None:
            rules.append(
                _rule(
                    "SetStorageClass",
                    storage_class="COLDLINE",
                    age=lc.archive_after_days,
                    matches_storage_class=["STANDARD", "NEARLINE"],
                )
            )
        rules.append(_noncurrent_expiry(lc.noncurrent_version_expiry_days))
        rules.append(_rule("AbortIncompleteMultipartUpload", age=lc.abort_incomplete_upload_days))
        return rules

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"DataStore({self.node.path!r}, location={self.location!r})"


def _rule(action: str, *, storage_class: str | None = None, **condition: object) -> dict[str, object]:
    return {
        "action": {"type": action, "storage_class": storage_class},
        "condition": condition,
    }


def _noncurrent_expiry(days: int) -> dict[str, object]:
    # No ``age`` here: send_age_if_zero=false keeps the provider from adding ``age = 0``.
    return _rule(
        "Delete",
        days_since_noncurrent_time=days,
        with_state="ARCHIVED",
        send_age_if_zero=False,
    )


def _role_label(role: str) -> str:
    """``roles/storage.objectViewer`` -> ``ObjectViewer`` (for construct ids)."""
    last = role.rsplit(".", 1)[-1]
    return last[:1].upper() + last[1:]
