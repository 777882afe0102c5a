"""Customer-managed encryption keys on GCP: a Cloud KMS key ring and a symmetric crypto key.

``Key`` is the GCP member of the ``Key`` family (same class name on AWS and Azure). It emits

* ``google_kms_key_ring`` (child ``Ring``) in ``props.location``, and
* ``google_kms_crypto_key`` (child ``Resource``, the primary child) with purpose
  ``ENCRYPT_DECRYPT``, automatic rotation every ``rotation_days`` and a destroy-scheduled
  duration of ``deletion_window_days``.

Cloud KMS never deletes key rings or crypto keys: ``terraform destroy`` only destroys the key
versions, which makes every object encrypted with them unreadable for good. Deletion protection
is therefore on by default (``lifecycle.prevent_destroy`` and the provider's own
``deletion_policy = "PREVENT"``).

Use of the key is granted with :meth:`Key.grant_encrypt_decrypt` (a non-authoritative
``google_kms_crypto_key_iam_member`` with ``roles/cloudkms.cryptoKeyEncrypterDecrypter`` on this
key only, never on the key ring or project).
"""

from __future__ import annotations

from pydantic import Field

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.acknowledge import Acknowledge
from ..core.errors import ConstructError
from ..core.naming import short_hash
from ..core.props import KeyProps as CoreKeyProps
from ..core.resource import Resource

__all__ = [
    "ENCRYPTER_DECRYPTER_ROLE",
    "Key",
    "KeyProps",
]

ENCRYPTER_DECRYPTER_ROLE = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
"""The only role this module grants on a key: encrypt and decrypt, no key administration."""

_SECONDS_PER_DAY = 86_400
_CHECKOV_MAX_ROTATION_DAYS = 90  # CKV_GCP_43: rotation period at most 90 days (7776000s)


class KeyProps(CoreKeyProps):
    """A Cloud KMS symmetric key (and its key ring) for customer-managed encryption: the core key
    fields plus the project and location of the key ring.

    ``name`` names both the key ring and the crypto key. Cloud KMS never deletes key rings or keys,
    so a name cannot be reused in the same project and location. ``tags`` become labels of the
    crypto key (key rings have no labels); ``deletion_protection`` also sets
    ``deletion_policy = PREVENT``.
    """

    project: str = Field(
        min_length=6,
        max_length=30,
        pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$",
        description="Project ID that holds the key ring.",
    )
    location: str = Field(
        pattern=r"^[a-z][a-z0-9-]*[a-z0-9]$",
        description=(
            "Cloud KMS location of the key ring. It must match the location of the data it "
            "encrypts: a region (``us-central1``) for a regional bucket, the lowercase multi-region "
            "(``us``, ``eu``, ``asia``) for a multi- or dual-region bucket."
        ),
    )


class Key(MlopsConstruct):
    """A Cloud KMS key ring and a symmetric ``ENCRYPT_DECRYPT`` crypto key with rotation.

    Public attributes:

    * ``resource`` — the ``google_kms_crypto_key`` :class:`Resource`;
    * ``key_ring`` — the ``google_kms_key_ring`` :class:`Resource`;
    * ``key_id`` — token of the crypto key id
      (``projects/P/locations/L/keyRings/R/cryptoKeys/K``), what ``default_kms_key_name`` and
      other CMEK arguments take;
    * ``location`` — the key ring location.

    ``provider`` selects a non-default ``google`` provider (another project or credentials).
    """

    props_type = KeyProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: KeyProps,
        *,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        self.location = props.location

        protect = props.deletion_protection
        self.key_ring = Resource(
            self,
            "Ring",
            "google_kms_key_ring",
            provider=provider,
            prevent_destroy=protect,
            name=props.name,
            project=props.project,
            location=props.location,
        )
        self.resource = Resource(
            self,
            "Resource",
            "google_kms_crypto_key",
            provider=provider,
            prevent_destroy=protect,
            name=props.name,
            key_ring=self.key_ring.ref("id"),
            purpose="ENCRYPT_DECRYPT",
            rotation_period=f"{props.rotation_days * _SECONDS_PER_DAY}s",
            destroy_scheduled_duration=f"{props.deletion_window_days * _SECONDS_PER_DAY}s",
            deletion_policy="PREVENT" if protect else None,
        )
        self.key_id: str = self.resource.ref("id")

        if props.rotation_days > _CHECKOV_MAX_ROTATION_DAYS:
            Acknowledge.of(self.resource).add(
                "CKV_GCP_43",
                reason=(
                    f"Automatic rotation is on with the period chosen in the props "
                    f"(rotation_days={props.rotation_days}, the platform-wide key policy, as for "
                    "AWS KMS yearly rotation); Cloud KMS keeps every older version enabled, so a "
                    "shorter period adds versions without re-encrypting data. Set "
                    "encryption.rotation_days=90 to meet the 90-day CIS benchmark."
                ),
            )
        if not protect:
            Acknowledge.of(self.resource).add(
                "CKV_GCP_82",
                reason=(
                    "deletion_protection=false was chosen explicitly in the props for a throwaway "
                    "environment; destroy still waits deletion_window_days before key versions "
                    "are really destroyed."
                ),
            )

    def grant_encrypt_decrypt(self, principal: str, *, id: str | None = None) -> list[Resource]:
        """Let ``principal`` encrypt and decrypt with this key (and nothing else).

        ``principal`` is an IAM member string such as ``serviceAccount:x@p.iam.gserviceaccount.com``
        or a token (e.g. a service agent's ``member`` attribute). Emits a non-authoritative
        ``google_kms_crypto_key_iam_member`` with ``roles/cloudkms.cryptoKeyEncrypterDecrypter``
        on this crypto key only, and returns it as a one-element list (the shape every
        ``grant_*`` method returns). Granting the same principal twice returns the first grant.

        ``id`` names the grant's construct. It defaults to ``EncryptDecrypt<hash of principal>``
        and is required when ``principal`` is a token (a token's text depends on creation order,
        so hashing it would not give a stable Terraform address).
        """
        if principal in self._grants:
            return [self._grants[principal]]
        if id is None:
            if engine.Token.is_unresolved(principal):
                raise ConstructError(
                    self.node.path,
                    "grant_encrypt_decrypt needs an explicit id when the member "
                    "is a token (its text is not stable across programs)"
                )
            id = f"EncryptDecrypt{short_hash(principal, length=8)}"
        grant = Resource(
            self,
            id,
            "google_kms_crypto_key_iam_member",
            provider=self._provider,
            crypto_key_id=self.key_id,
            role=ENCRYPTER_DECRYPTER_ROLE,
            member=principal,
        )
        self._grants[principal] = grant
        return [grant]

    @property
    def grants(self) -> tuple[Resource, ...]:
        """The key grants emitted so far, in creation order."""
        return tuple(self._grants.values())

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"Key({self.node.path!r}, location={self.location!r})"
