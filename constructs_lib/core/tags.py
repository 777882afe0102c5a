"""Tags (AWS, Azure) and labels (GCP) for every taggable resource.

``Tags.of(scope).add("team", "ml")`` tags every resource in ``scope``'s subtree. At synthesis, each
resource created through ``core.resource.Resource`` whose type has a ``tags`` (AWS, Azure) or
``labels`` (GCP) argument in the bundled schema gets the merged tags; values the resource sets
itself win, nearer scopes win over farther ones. An ``azapi_resource`` gets them where the Azure REST
definition of its type keeps tags (the ``tags`` argument, or ``body.properties.tags`` for Azure ML
assets and schedules; none for types without tags or outside the bundled definitions, see
:mod:`.azapi_schema`). Stacks also set provider ``default_tags`` (AWS) and ``default_labels``
(GCP); this pass is the backstop for Azure, which has no provider default.
GCP labels are normalised to label rules (see :func:`gcp_labels`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .engine import IConstruct
from .errors import ConstructError

__all__ = ["Tags", "gcp_label_value", "gcp_labels"]

_ATTR = "_mlops_tags"


class Tags:
    """Tags attached to one construct and inherited by its subtree."""

    def __init__(self, scope: IConstruct) -> None:
        self._scope = scope

    @classmethod
    def of(cls, scope: IConstruct) -> "Tags":
        """Tags attached to ``scope``."""
        return cls(scope)

    def add(self, key: str, value: str) -> None:
        """Tag every taggable resource under the construct with ``key=value``."""
        if not key:
            raise ConstructError(self._scope.node.path, "a tag key cannot be empty")
        tags: dict[str, str] = getattr(self._scope, _ATTR, None) or {}
        tags[key] = str(value)
        setattr(self._scope, _ATTR, tags)

    def add_all(self, tags: Mapping[str, str]) -> None:
        """Add several tags at once."""
        for key, value in tags.items():
            self.add(key, value)

    def effective(self) -> dict[str, str]:
        """Tags of this construct merged with its ancestors' (nearest wins), sorted by key."""
        merged: dict[str, str] = {}
        for scope in self._scope.node.scopes:
            merged.update(getattr(scope, _ATTR, None) or {})
        return dict(sorted(merged.items()))


_LABEL_BAD = re.compile(r"[^a-z0-9_-]")


def gcp_label_value(value: str) -> str:
    """Normalise a string to a GCP label value: lowercase, ``[a-z0-9_-]``, at most 63 characters."""
    return _LABEL_BAD.sub("_", value.lower())[:63]


def gcp_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """Normalise tags to GCP labels (keys must start with a letter); sorted by key.

    Two tags that normalise to the same key are an error rather than a silent overwrite.
    """
    out: dict[str, str] = {}
    origin: dict[str, str] = {}
    for key, value in tags.items():
        k = gcp_label_value(key)
        if not k or not k[0].isalpha():
            k = ("l_" + k)[:63]
        if k in out:
            raise ConstructError(
                None,
                f"tags {origin[k]!r} and {key!r} both become the same GCP label key {k!r}; rename one"
            )
        origin[k] = key
        out[k] = gcp_label_value(value)
    return dict(sorted(out.items()))
