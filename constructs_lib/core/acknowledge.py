"""checkov acknowledgements attached to constructs, the cdk-nag way.

``Acknowledge.of(construct).add("CKV_AWS_144", reason="...")`` acknowledges a check for every
resource in ``construct``'s subtree. Synthesis writes them next to each stack's JSON
(``acknowledgements.json``, by resource address); the scan wrapper drops acknowledged findings and
fails on any acknowledgement without a reason. There is no global skip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .engine import IConstruct
from .errors import ConstructError

__all__ = ["Acknowledge", "Acknowledgement"]

_CHECK_ID = re.compile(r"^CKV2?_[A-Z0-9]+_\d+$")
_ATTR = "_mlops_acknowledgements"


@dataclass(frozen=True, order=True)
class Acknowledgement:
    """One acknowledged checkov check with the reason a reviewer accepted."""

    check_id: str
    reason: str


class Acknowledge:
    """Acknowledgements of one construct (and, through inheritance, its children)."""

    def __init__(self, scope: IConstruct) -> None:
        self._scope = scope

    @classmethod
    def of(cls, scope: IConstruct) -> "Acknowledge":
        """Acknowledgements attached to ``scope``."""
        return cls(scope)

    def add(self, check_id: str, *, reason: str) -> None:
        """Acknowledge ``check_id`` for every resource under the construct.

        ``reason`` must say why the finding is acceptable; an empty reason is an error here and in
        the scan.
        """
        if not _CHECK_ID.match(check_id):
            raise ConstructError(
                self._scope.node.path,
                f"{check_id!r} is not a checkov check id (like CKV_AWS_144)"
            )
        if not reason or not reason.strip():
            raise ConstructError(
                self._scope.node.path,
                f"acknowledgement of {check_id} needs a reason a security "
                "reviewer would accept"
            )
        acks: dict[str, str] = getattr(self._scope, _ATTR, None) or {}
        acks[check_id] = reason.strip()
        setattr(self._scope, _ATTR, acks)

    @property
    def own(self) -> tuple[Acknowledgement, ...]:
        """Acknowledgements added directly on this construct, sorted by check id."""
        acks: dict[str, str] = getattr(self._scope, _ATTR, None) or {}
        return tuple(sorted(Acknowledgement(k, v) for k, v in acks.items()))

    def effective(self) -> tuple[Acknowledgement, ...]:
        """Acknowledgements of this construct and all its ancestors (nearest wins)."""
        merged: dict[str, str] = {}
        for scope in self._scope.node.scopes:  # root first, self last
            merged.update(getattr(scope, _ATTR, None) or {})
        return tuple(sorted(Acknowledgement(k, v) for k, v in merged.items()))
