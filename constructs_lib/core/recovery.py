"""Disaster-recovery objectives, the same type on every cloud (stacks expose them as outputs)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Recovery"]


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
