"""Disaster-recovery objectives, the same type on every cloud (stacks expose them as outputs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import engine

__all__ = ["Recovery", "recovery_output"]


@dataclass(frozen=True)
class Recovery:
    """Recovery objectives of a stateful construct against the loss of its primary region.

    ``rpo_minutes``: at most this much recent data can be lost. ``rto_minutes``: time until the
    data is usable again from ``replica_region``. ``None`` for both means there is no cross-region
    copy: a regional outage makes the data unavailable until the region recovers. Each cloud's
    construct documents how its numbers come about (replication guarantees, failover steps).
    """

    rpo_minutes: int | None
    rto_minutes: int | None
    replica_region: str | None = None

    def output_value(self) -> dict[str, Any]:
        """``{rpo_minutes, rto_minutes, replica_region}`` with explicit nulls, for a stack output.

        Every ``recovery_*`` / ``store_*_recovery`` output of every cloud has these three keys, so a
        report can read them without knowing the cloud (``null`` = not applicable / no copy).
        """
        value = {"rpo_minutes": self.rpo_minutes, "rto_minutes": self.rto_minutes,
                 "replica_region": self.replica_region}
        return {k: engine.Token.null_value() if v is None else v for k, v in value.items()}


def recovery_output(scope: engine.Construct, id: str, recovery: Recovery, description: str) -> Any:
    """A stack output ``id`` with the objectives of ``recovery`` (see :meth:`Recovery.output_value`)."""
    return engine.TerraformOutput(scope, id, value=recovery.output_value(), description=description)
