"""Key helper shared by the AWS constructs: "the user's key if given, else our own".

Private module: kept apart from ``_iam`` because ``keys`` imports ``_iam``.
"""

from __future__ import annotations

from ..core import engine
from ..core.props import EncryptionProps, KeyProps
from .keys import Key

__all__ = ["own_key"]


def own_key(
    scope: engine.Construct,
    encryption: EncryptionProps,
    name: str,
    description: str,
    *,
    deletion_protection: bool,
    provider: engine.TerraformProvider | None,
    id: str = "Key",
) -> tuple[Key | None, str]:
    """``(None, encryption.key_id)`` when the user brought a key, else ``(key, key.key_id)``.

    The own key is ``Key(scope, id, KeyProps.for_encryption(name, encryption, ...))``.
    """
    if encryption.key_id is not None:
        return None, encryption.key_id
    key = Key(
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
    return key, key.key_id
