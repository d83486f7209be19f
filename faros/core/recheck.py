"""The level-based re-check: when to look at a GitTrackObject again, and whether it drifted.

Events make Faros fast; this makes it correct. Every GitTrackObject is looked at once per
sync period, at a fixed offset inside the period derived from its key (so the work is
spread evenly and two watcher replicas agree), from what the watchers already hold: the
GitTrackObject, and the child's metadata from a metadata-only watch, never a GET. It needs
an apply when the status does not say it is in sync for its current spec, when the child is
missing, or when the child's resourceVersion moved since the apply that last left it in sync
noted it: only then is the child read and compared. An apply that finds nothing to do
writes nothing, so a change that is no drift (a status update) costs one read.
"""

from __future__ import annotations

import enum
import hashlib
import math
from collections.abc import Hashable, Mapping
from typing import Any, Generic, TypeVar

from faros.core import delivery, identity, prune

_SCALE = 2**64

K = TypeVar("K", bound=Hashable)


class Need(enum.StrEnum):
    """Why a GitTrackObject needs an apply."""

    NOT_APPLIED = "not-applied"
    """Its status is not ObjectInSync=True for its current generation."""
    MISSING = "missing"
    """Its child does not exist."""
    MOVED = "moved"
    """Its child changed since an apply last left it in sync (or that is not known)."""
    RELEASE = "release"
    """It is being deleted, prune-protected: its child must be released first."""


def overrides_pending(need: Need) -> bool:
    """Whether the re-check queues an apply for ``need`` even while one is pending.

    A GitTrackObject not applied yet had its apply queued by its own watch event: a pending
    one is trusted until its de-duplication key expires (then the next re-check queues it),
    so a backlog of new objects is not queued twice. A child that moved or went missing, or
    one to release, may have had its only event lost with its message: queued regardless.
    """
    return need is not Need.NOT_APPLIED


def offset(key: identity.ObjectKey, *, period: float) -> float:
    """Seconds into each period at which ``key`` is re-checked (stable, evenly spread)."""
    digest = hashlib.sha256("/".join(key.identity).encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE * period


def is_due(slot: float, *, since: float, until: float, period: float) -> bool:
    """True when the offset ``slot`` lies in the window (``since``, ``until``] of wall time.

    Times are seconds (any epoch); a window as long as the period or longer covers every
    slot.
    """
    if until - since >= period:
        return True
    start, end = since % period, until % period
    if start <= end:
        return start < slot <= end
    return slot > start or slot <= end


class Slots(Generic[K]):
    """Keys grouped by the whole second of the period their offset falls in.

    A re-check tick reads only the seconds its window spans, so its cost follows the keys
    due in it, not all keys held (at 10,000 GitTrackObjects and a 60-s period, about 170 a
    second instead of 10,000).
    """

    def __init__(self, period: float) -> None:
        self.period = period
        self._slot: dict[K, float] = {}
        self._seconds: list[set[K]] = [set() for _ in range(max(1, math.ceil(period)))]

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, key: object) -> bool:
        return key in self._slot

    def add(self, key: K, slot: float) -> None:
        """Hold ``key`` at offset ``slot`` (seconds into the period); again is a no-op."""
        if key in self._slot:
            return
        self._slot[key] = slot
        self._seconds[self._second(slot)].add(key)

    def discard(self, key: K) -> None:
        slot = self._slot.pop(key, None)
        if slot is not None:
            self._seconds[self._second(slot)].discard(key)

    def due(self, *, since: float, until: float) -> list[K]:
        """The keys whose offset lies in the window (``since``, ``until``], as ``is_due``."""
        period = self.period
        if until - since >= period:
            return list(self._slot)
        start, end = self._second(since % period), self._second(until % period)
        if start <= end:
            seconds = [*range(start, end + 1)]
        else:
            seconds = [*range(start, len(self._seconds)), *range(end + 1)]
        return [key for second in seconds for key in self._seconds[second]
                if is_due(self._slot[key], since=since, until=until, period=period)]  # fmt: skip

    def _second(self, offset: float) -> int:
        return min(int(offset), len(self._seconds) - 1)


def _deleting(gto: Mapping[str, Any]) -> bool:
    return bool((gto.get("metadata") or {}).get("deletionTimestamp"))


def status_need(gto: Mapping[str, Any]) -> Need | None:
    """What the status alone tells (when no watch holds the child to compare with). One being
    deleted needs nothing, unless its child must be released first."""
    if _deleting(gto):
        return Need.RELEASE if prune.needs_release(gto) else None
    return None if delivery.is_generation_applied(gto) else Need.NOT_APPLIED


def event_needs_apply(gto: Mapping[str, Any], *, old_generation: int | None) -> bool:
    """Whether a GitTrackObject's watch event queues its apply: its spec changed, or it is new
    to this process (``old_generation`` None) and its status does not say it was applied as it
    is (a watcher starting beside 10,000 objects in sync queues nothing; their children's watch
    events and the re-check look after them). One being deleted needs one only when its child
    must be released first."""
    if _deleting(gto):
        return prune.needs_release(gto)
    if old_generation is not None:
        return old_generation != int((gto.get("metadata") or {}).get("generation") or 0)
    return status_need(gto) is not None


def need(
    gto: Mapping[str, Any], child: Mapping[str, Any] | None, *, noted: str | None
) -> Need | None:
    """Whether the GitTrackObject ``gto`` needs an apply, given its child's metadata as the
    watch holds it (None: absent) and the child's resourceVersion noted by the last apply
    that left it in sync (None: not known)."""
    if _deleting(gto):
        return status_need(gto)
    if not delivery.is_generation_applied(gto):
        return Need.NOT_APPLIED
    if child is None:
        return Need.MISSING
    version = str((child.get("metadata") or {}).get("resourceVersion", ""))
    return None if version and version == noted else Need.MOVED


WRITING = "writing"
"""Noted in place of the child's resourceVersion while an apply writes it: the watch event of
that write may arrive before the apply can note the version the write produced."""
SETTLE_WAIT = 10.0
"""Seconds a child event waits at most for the apply writing that child to note its version
(an apply that died mid-write never does: its event is then treated as a change)."""


class Verdict(enum.Enum):
    """What a watch event of a child (not a deletion), or of a GitTrackObject a sync applies
    in place, calls for."""

    OWN = "own"
    """Its version is the one an apply noted: Faros's own write (or one it found in sync)."""
    SETTLE = "settle"
    """An apply is writing the child now: decide once it has noted what it wrote."""
    APPLY = "apply"
    """Someone else changed the child: queue an apply."""


def child_event(version: str, *, noted: str | None, waited: float = 0.0) -> Verdict:
    """What the event of a child at ``version`` calls for, given the version noted for its
    GitTrackObject (``WRITING`` during an apply's write) and how long it waited already."""
    if version and version == noted:
        return Verdict.OWN
    if noted == WRITING and waited < SETTLE_WAIT:
        return Verdict.SETTLE
    return Verdict.APPLY


IN_PLACE = "in-place"
"""Noted under a GitTrackObject's ``identity.in_place_key`` by a sync about to write it and
apply its child in the same task: the watch event of that write waits for the status instead
of queuing an apply. Any other value (a failed apply in place notes "") queues one."""


def in_place_event(noted: str | None, *, applied: bool, waited: float) -> Verdict:
    """What the watch event of a GitTrackObject that needs an apply calls for, given the mark
    under its ``in_place_key`` (``IN_PLACE`` while a sync applies it in place), whether its
    status says it was applied as it is now, and how long the event waited already. A sync
    that died mid-way leaves the mark: after ``SETTLE_WAIT`` the apply is queued anyway."""
    if applied:
        return Verdict.OWN
    if noted == IN_PLACE and waited < SETTLE_WAIT:
        return Verdict.SETTLE
    return Verdict.APPLY
