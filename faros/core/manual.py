"""A sync requested by hand (``faros sync``, or the annotation itself), acknowledged in status.

Setting the annotation ``faros.pusher.com/requested-at`` on a GitTrack to a new value (any
string; ``faros sync`` writes the time) queues a full sync at once, even when nothing
changed, and that sync records the value in ``status.lastHandledRequestedAt``: whoever asked
can tell when the request was served.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REQUESTED_ANNOTATION = "faros.pusher.com/requested-at"
HANDLED = "lastHandledRequestedAt"


def requested(gittrack: Mapping[str, Any]) -> str:
    """The annotation's value ("" when absent)."""
    annotations = (gittrack.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(REQUESTED_ANNOTATION) if isinstance(annotations, Mapping) else None
    return value if isinstance(value, str) else ""


def pending(gittrack: Mapping[str, Any]) -> str:
    """The request not served yet ("" when none): the annotation differs from the status."""
    value = requested(gittrack)
    handled = str((gittrack.get("status") or {}).get(HANDLED) or "")
    return value if value and value != handled else ""
