"""The ``faros.pusher.com/pushed-at`` annotation: when the receiver took the push that queued a
sync, carried from the GitTrack to the GitTrackObjects the sync rewrites, and the
push-to-applied latency the apply observes from it.

The receiver writes it on the GitTrack with :func:`merge_patch` before it queues the sync.
A sync reads it (:func:`pending`), writes it with every GitTrackObject whose data it changes
("" when no push is pending, which clears an older push's time), then removes it from the
GitTrack with :func:`consume_patch` (a JSON patch whose ``test`` fails when a newer push came
meanwhile: that one is left for the next sync). The apply then observes
:func:`latency` once per new generation, as it does ``faros_commit_to_applied_seconds``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from faros.api import names
from faros.core import delivery

ANNOTATION = names.PUSHED_AT_ANNOTATION
_POINTER = "/metadata/annotations/" + ANNOTATION.replace("~", "~0").replace("/", "~1")


def value(now: datetime.datetime) -> str:
    """The annotation's value for a push taken at ``now`` (UTC, milliseconds, ``Z``).

    Raises:
        ValueError: ``now`` has no time zone.
    """
    return delivery.synced_at(now)


def merge_patch(stamp: str) -> dict[str, Any]:
    """The merge patch the receiver sends to a GitTrack it queues a sync for."""
    return {"metadata": {"annotations": {ANNOTATION: stamp}}}


def pending(gittrack: Mapping[str, Any]) -> str:
    """The push time a GitTrack carries ("" when none): what its sync stamps and consumes."""
    annotations = (gittrack.get("metadata") or {}).get("annotations") or {}
    stamp = annotations.get(ANNOTATION)
    return stamp if isinstance(stamp, str) and _parse(stamp) is not None else ""


def consume_patch(stamp: str) -> list[dict[str, Any]]:
    """The JSON patch removing ``stamp`` from the GitTrack, unless a newer push replaced it."""
    return [{"op": "test", "path": _POINTER, "value": stamp}, {"op": "remove", "path": _POINTER}]


def latency(gto: Mapping[str, Any], *, now: datetime.datetime) -> float | None:
    """Seconds from the push a GitTrackObject's data came with to ``now``, the end of its first
    successful apply; None when this generation was applied before or no push is stamped."""
    if delivery.is_generation_applied(gto):
        return None
    annotations = (gto.get("metadata") or {}).get("annotations") or {}
    pushed = _parse(str(annotations.get(ANNOTATION) or ""))
    return None if pushed is None else max(0.0, (now - pushed).total_seconds())


def _parse(stamp: str) -> datetime.datetime | None:
    try:
        parsed = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
