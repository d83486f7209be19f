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
from collections.abc import Mapping
from typing import Any

from faros.core import delivery, identity

_SCALE = 2**64


class Need(enum.StrEnum):
    """Why a GitTrackObject needs an apply."""

    NOT_APPLIED = "not-applied"
    """Its status is not ObjectInSync=True for its current generation."""
    MISSING = "missing"
    """Its child does not exist."""
    MOVED = "moved"
    """Its child changed since an apply last left it in sync (or that is not known)."""


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


def status_need(gto: Mapping[str, Any]) -> Need | None:
    """What the status alone tells (when no watch holds the child to compare with)."""
    return None if delivery.is_generation_applied(gto) else Need.NOT_APPLIED


def need(
    gto: Mapping[str, Any], child: Mapping[str, Any] | None, *, noted: str | None
) -> Need | None:
    """Whether the GitTrackObject ``gto`` needs an apply, given its child's metadata as the
    watch holds it (None: absent) and the child's resourceVersion noted by the last apply
    that left it in sync (None: not known)."""
    if not delivery.is_generation_applied(gto):
        return Need.NOT_APPLIED
    if child is None:
        return Need.MISSING
    version = str((child.get("metadata") or {}).get("resourceVersion", ""))
    return None if version and version == noted else Need.MOVED
