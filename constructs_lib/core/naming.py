"""Cloud resource names derived from logical names, deterministic and within each cloud's rules."""

from __future__ import annotations

import hashlib
import re

from .errors import ConstructError

__all__ = ["bucket_name", "compact_name", "short_hash"]


def short_hash(*parts: str, length: int = 6) -> str:
    """A stable lowercase hex digest of ``parts`` (same input, same output, on every machine)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def bucket_name(*parts: str, max_length: int = 63) -> str:
    """An S3 / GCS bucket name from ``parts`` joined with hyphens.

    Lowercase letters, digits and hyphens, 3-63 characters; a name that would be too long is
    shortened and given a hash suffix so that different inputs stay different.
    """
    raw = "-".join(p for p in parts if p)
    name = re.sub(r"[^a-z0-9-]+", "-", raw.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if len(name) > max_length:
        suffix = short_hash(raw)
        name = name[: max_length - len(suffix) - 1].rstrip("-") + "-" + suffix
    if len(name) < 3:
        raise ConstructError(None, f"bucket name {name!r} from {parts!r} is shorter than 3 characters")
    return name


def compact_name(*parts: str, max_length: int = 24) -> str:
    """An Azure storage-account style name: lowercase letters and digits only, 3-24 characters.

    Too-long names are shortened with a hash suffix, so two environments never collide.
    """
    raw = "".join(p for p in parts if p)
    name = re.sub(r"[^a-z0-9]+", "", raw.lower())
    if len(name) > max_length:
        suffix = short_hash(raw)
        name = name[: max_length - len(suffix)] + suffix
    if len(name) < 3:
        raise ConstructError(None, f"name {name!r} from {parts!r} is shorter than 3 characters")
    return name
