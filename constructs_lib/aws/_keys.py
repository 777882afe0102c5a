"""Key helpers shared by the AWS constructs: "the user's key if given, else the construct's own".

Private module: kept apart from ``_iam`` because ``keys`` imports ``_iam``.
"""

from __future__ import annotations

from ..core import engine
from ..core.props import EncryptionProps, KeyProps
from .keys import Key

__all__ = ["key_arn_of", "own_key"]


def own_key(
    scope: engine.Construct,
    id: str,
    encryption: EncryptionProps,
    *,
    name: str,
    description: str,
    deletion_protection: bool,
    provider: engine.TerraformProvider | None,
) -> Key | None:
    """The construct's own customer-managed key, or ``None`` when ``encryption.key_id`` brings one.

    The own key is ``Key(scope, id, KeyProps.for_encryption(name, encryption, ...))``: alias
    ``alias/<name>``, rotation every ``encryption.rotation_days``, ``prevent_destroy`` with
    ``deletion_protection``. The same name and signature serve every AWS construct with a key.
    """
    if encryption.key_id is not None:
        return None
    return Key(
        scope,
        id,
        KeyProps.for_encryption(
            name,
            encryption,
            description=description,
            deletion_protection=deletion_protection,
        ),
        provider=provider,
    )


def key_arn_of(key: Key | None, encryption: EncryptionProps) -> str:
    """ARN (token) of the key that encrypts: ``key``'s, else the supplied ``encryption.key_id``."""
    if key is not None:
        return key.key_id
    assert encryption.key_id is not None, "own_key returns None only for a supplied key_id"
    return encryption.key_id
