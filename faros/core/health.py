"""The health of a Kubernetes object - is it working, not just applied - by kstatus's rules.

The rules are those of kstatus (``sigs.k8s.io/cli-utils/pkg/kstatus/status``, read at
cli-utils 5895ad6), in its order (``status.go`` ``Compute``):

1. no object: NotFound; ``metadata.deletionTimestamp`` set: Terminating;
2. ``status.observedGeneration`` present and not ``metadata.generation``: InProgress;
3. a ``Reconciling`` condition True: InProgress; a ``Stalled`` condition True: Failed;
4. the rule of the object's kind, if it has one (:mod:`faros.core.kindhealth`);
5. else a ``Ready`` condition: True is Current, False or Unknown InProgress;
6. else Current (kstatus takes an object without known conditions to be current).

A status that cannot be read (``status`` or a condition of the wrong shape, an unknown
Pod phase) is Unknown, as kstatus's callers report its errors. A ``Health``'s message
does not name the object: the caller's label does (see :func:`summary`).
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from faros.core import kindhealth, observed


class Status(enum.StrEnum):
    """kstatus's statuses, with its strings."""

    CURRENT = "Current"
    IN_PROGRESS = "InProgress"
    FAILED = "Failed"
    TERMINATING = "Terminating"
    NOT_FOUND = "NotFound"
    UNKNOWN = "Unknown"


class Reason(enum.StrEnum):
    """Reasons of the generic rules (the per-kind ones are ``kindhealth.Reason``).

    A rule passes on an object's own condition reason when it has one.
    """

    NOT_FOUND = "NotFound"
    TERMINATING = "Terminating"
    INVALID_STATUS = "InvalidStatus"
    LATEST_GENERATION_NOT_OBSERVED = "LatestGenerationNotObserved"
    RECONCILING = "Reconciling"
    STALLED = "Stalled"
    NOT_READY = "NotReady"
    READY = "Ready"
    CURRENT = "Current"


@dataclasses.dataclass(frozen=True, slots=True)
class Health:
    """Whether an object is working: a status, a CamelCase reason and a sentence for users."""

    status: Status
    reason: str
    message: str


def assess(obj: Mapping[str, Any] | None, *, now: datetime.datetime | None = None) -> Health:
    """Return the health of ``obj``, a live object as the API server returns it.

    ``now`` (timezone-aware) is needed only to tell an unschedulable Pod from one still
    in kstatus's 15 s scheduling window; without it such a Pod stays InProgress.
    """
    if obj is None:
        return Health(Status.NOT_FOUND, Reason.NOT_FOUND, "Resource not found")
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping) and metadata.get("deletionTimestamp"):
        return Health(Status.TERMINATING, Reason.TERMINATING, "Resource scheduled for deletion")
    try:
        seen = observed.observe(obj, now=now)
    except ValueError as problem:
        return Health(Status.UNKNOWN, Reason.INVALID_STATUS, str(problem))
    generic = _generation(seen) or _abnormal(seen)
    if generic is not None:
        return generic
    verdict = kindhealth.assess(seen)
    if verdict is not None:
        return Health(Status(verdict.status), verdict.reason, verdict.message)
    return _ready(seen) or Health(Status.CURRENT, Reason.CURRENT, "Resource is current")


def _generation(seen: observed.Observed) -> Health | None:
    """kstatus ``checkGeneration``: skipped unless both generations are set."""
    generation = seen.number("metadata.generation", -1)
    observed = seen.number("status.observedGeneration", -1)
    if -1 in {generation, observed} or generation == observed:
        return None
    kind = seen.text("kind") or "Resource"
    message = f"{kind} generation is {generation}, but latest observed generation is {observed}"
    return Health(Status.IN_PROGRESS, Reason.LATEST_GENERATION_NOT_OBSERVED, message)


def _abnormal(seen: observed.Observed) -> Health | None:
    """kstatus ``checkGenericProperties``: the first True Reconciling or Stalled condition."""
    for c in seen.conditions:
        if c.status != "True":
            continue
        if c.type == "Reconciling":
            message = c.message or "Resource is reconciling"
            return Health(Status.IN_PROGRESS, c.reason or Reason.RECONCILING, message)
        if c.type == "Stalled":
            message = c.message or "Resource is stalled"
            return Health(Status.FAILED, c.reason or Reason.STALLED, message)
    return None


def _ready(seen: observed.Observed) -> Health | None:
    """kstatus ``checkReadyCondition``: the first Ready condition True, False or Unknown."""
    for c in seen.conditions:
        if c.type != "Ready" or c.status not in {"True", "False", "Unknown"}:
            continue
        if c.status == "True":
            return Health(Status.CURRENT, Reason.READY, "Resource is Ready")
        message = c.message or f"Ready condition is {c.status}"
        return Health(Status.IN_PROGRESS, c.reason or Reason.NOT_READY, message)
    return None


_RANK: Mapping[Status, int] = {
    Status.FAILED: 0,
    Status.TERMINATING: 1,
    Status.NOT_FOUND: 1,
    Status.UNKNOWN: 1,
    Status.IN_PROGRESS: 2,
}
_SHORT_MESSAGE = 160
"""A child's message is shown after its reason when at most this long."""
_MAX_PART = 400
_MAX_CHARS = 1000
_TAIL_ROOM = len("; and 999999 more not ready")


def summary(children: Sequence[tuple[str, Health]], *, limit: int = 3) -> tuple[bool, str]:
    """Return whether every child is Current and, if not, a message naming the others.

    ``children`` are (label, health) pairs, the label naming the object
    (``Deployment ns/web``). The message names up to ``limit`` children that are not
    Current - Failed first, then Terminating, NotFound and Unknown, then InProgress; by
    label within - as ``<label>: <reason>``, followed by ``: <message>`` when that is
    short, then ``and N more not ready``. It stays under 1000 characters: children that
    would not fit are counted in the N.

    Raises:
        ValueError: ``limit`` is less than 1.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    unhealthy = sorted(
        (pair for pair in children if pair[1].status != Status.CURRENT),
        key=lambda pair: (_RANK[pair[1].status], pair[0], pair[1].reason, pair[1].message),
    )
    if not unhealthy:
        return True, ""
    parts: list[str] = []
    for label, health in unhealthy[:limit]:
        part = _clip(_describe(label=label, health=health), _MAX_PART)
        if parts and len("; ".join([*parts, part])) > _MAX_CHARS - _TAIL_ROOM:
            break
        parts.append(part)
    if len(unhealthy) > len(parts):
        parts.append(f"and {len(unhealthy) - len(parts)} more not ready")
    return False, "; ".join(parts)


def _describe(*, label: str, health: Health) -> str:
    """Return ``<label>: <reason>``, with ``: <message>`` when the message is short."""
    message = " ".join(health.message.split()).rstrip(".")
    if message and message != health.reason and len(message) <= _SHORT_MESSAGE:
        return f"{label}: {health.reason}: {message}"
    return f"{label}: {health.reason}"


def _clip(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."
