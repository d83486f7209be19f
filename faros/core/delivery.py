"""What one apply means for the delivery metrics: drift reverts and commit-to-applied latency.

Pure. The sync stamps every GitTrackObject whose data it writes with the moment it ran
(``names.SYNCED_AT_ANNOTATION``, Faros's own clock, so no committer clock is involved); the apply
task asks here whether its write was a drift revert and how long the new data took to reach
the child.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from faros.api import conditions, names


def synced_at(now: datetime.datetime) -> str:
    """Return the ``names.SYNCED_AT_ANNOTATION`` value for a sync running at ``now`` (UTC, ms).

    Raises:
        ValueError: ``now`` has no time zone.
    """
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    text = now.astimezone(datetime.UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def is_generation_applied(gto: Mapping[str, Any]) -> bool:
    """True when the last apply already made the child match this generation of the GTO.

    That is: ``status.observedGeneration`` equals ``metadata.generation`` and ObjectInSync is
    True. The GitTrackObject's spec (the child's desired state from Git) has then not changed
    since a successful apply.
    """
    status = gto.get("status") or {}
    generation = (gto.get("metadata") or {}).get("generation")
    if generation is None or status.get("observedGeneration") != generation:
        return False
    for condition in status.get("conditions") or []:
        if condition.get("type") == conditions.GitTrackObjectConditionType.OBJECT_IN_SYNC:
            return bool(condition.get("status") == conditions.ConditionStatus.TRUE)
    return False


def is_drift_revert(gto: Mapping[str, Any], *, written: bool) -> bool:
    """True when an apply that wrote the child (created, patched or recreated it) put back
    a state it had already applied: its desired state had not changed since, so someone
    else changed or deleted the live child.

    ``gto`` is the GitTrackObject as the apply read it, before it reported its own status.
    """
    return written and is_generation_applied(gto)


def applied_latency(gto: Mapping[str, Any], *, now: datetime.datetime) -> float | None:
    """Seconds from the sync that wrote the GTO's data to ``now``, the end of the first
    successful apply of that data; None when this generation was applied before, or the
    GTO carries no (valid) ``names.SYNCED_AT_ANNOTATION`` (written by hand or an older Faros).
    """
    if is_generation_applied(gto):
        return None
    seen = _synced_at(gto)
    return None if seen is None else max(0.0, (now - seen).total_seconds())


def healthy_latency(gto: Mapping[str, Any], *, now: datetime.datetime) -> float | None:
    """Seconds from the sync that wrote the GTO's data to ``now``, when its child has just
    become healthy for the first time since that data (``gto`` as read before the apply
    that found it healthy); None when it was healthy already, when its health last changed
    after the data did (a recovery, not a delivery), or without a synced-at stamp."""
    seen = _synced_at(gto)
    if seen is None:
        return None
    for condition in (gto.get("status") or {}).get("conditions") or []:
        if condition.get("type") != conditions.HEALTHY:
            continue
        if condition.get("status") == conditions.ConditionStatus.TRUE:
            return None
        changed = parse_time(str(condition.get("lastTransitionTime", "")))
        if changed is not None and changed > seen:
            return None
    return max(0.0, (now - seen).total_seconds())


def _synced_at(gto: Mapping[str, Any]) -> datetime.datetime | None:
    annotations = (gto.get("metadata") or {}).get("annotations") or {}
    return parse_time(str(annotations.get(names.SYNCED_AT_ANNOTATION) or ""))


def parse_time(text: str) -> datetime.datetime | None:
    """An RFC 3339 time with a zone (``2026-12-04T18:00:00Z``); None when it is not one."""
    if not text:
        return None
    try:
        found = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return found if found.tzinfo is not None else None
