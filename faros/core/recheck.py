"""The level-based re-check: when to look at a GitTrackObject again, and whether it drifted.

Events make Faros fast; this makes it correct. Every GitTrackObject is looked at once per
sync period, at a fixed offset inside the period derived from its key (so the work is
spread evenly and two watcher replicas agree), from what the watchers already hold: the
GitTrackObject and the live child from their watch caches, never a GET. It needs an apply
when the status does not say it is in sync for its current spec, when the child is missing,
or when the apply would change the child (the same plan as the apply task's). An apply that
finds nothing to do writes nothing, so a false alarm costs reads, never writes.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Mapping
from typing import Any

from faros.core import applyplan, delivery, identity, patchmeta

_SCALE = 2**64


class Need(enum.StrEnum):
    """Why a GitTrackObject needs an apply."""

    NOT_APPLIED = "not-applied"
    """Its status is not ObjectInSync=True for its current generation."""
    MISSING = "missing"
    """Its child does not exist."""
    DRIFTED = "drifted"
    """Its child differs from what it holds."""


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
    gto: Mapping[str, Any],
    live: Mapping[str, Any] | None,
    *,
    namespaced: bool,
    meta: patchmeta.Schema | None,
    server_side: bool,
) -> Need | None:
    """Whether the GitTrackObject ``gto`` needs an apply, given its ``live`` child (None:
    absent). ``namespaced`` and ``meta`` describe the child's kind (discovery, OpenAPI)."""
    if not delivery.is_generation_applied(gto):
        return Need.NOT_APPLIED
    if live is None:
        return Need.MISSING
    try:
        child = applyplan.decode(gto)
        child = applyplan.place(
            child, gto_namespace=str(gto["metadata"].get("namespace", "")), namespaced=namespaced
        )
        if server_side:
            return None if contains(live, child.desired) else Need.DRIFTED
        step = applyplan.plan(child=child, live=live, meta=meta)
    except applyplan.ApplyError:
        return Need.NOT_APPLIED  # the apply reports why
    return None if step.action is applyplan.Action.NOTHING else Need.DRIFTED


def contains(live: Any, desired: Any) -> bool:
    """True when every field ``desired`` sets has the same value in ``live`` (lists: same
    length, item by item). The shape of a server-side apply that would change nothing."""
    if isinstance(desired, Mapping):
        return isinstance(live, Mapping) and all(
            key in live and contains(live[key], value) for key, value in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(live, list)
            and len(live) == len(desired)
            and all(contains(have, want) for have, want in zip(live, desired, strict=True))
        )
    return bool(live == desired)
