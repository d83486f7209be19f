"""Whether a GitTrack is Ready: its revision applied and every child healthy (kstatus style).

A GitTrack carries kstatus's three conditions beside the original four, so that
``kubectl wait --for=condition=Ready`` and kstatus-based tools see the right state:

- ``Ready`` True only when the last sync had no problem (all four original conditions True),
  the GitTrack's generation was observed, every object it applies has a GitTrackObject that
  says ``ObjectInSync=True`` for its current generation, and every child is ``Healthy``;
  when False, the message names the first children that are not, and why
  (``Deployment web: ProgressDeadlineExceeded: ...``);
- ``Stalled`` True when progress needs someone to act: a sync condition False (a Git or
  parse error, a failed write), an apply that failed on bad input, or a child whose health
  is Failed;
- ``Reconciling`` True while Faros is still getting there: an apply pending or retrying, a
  child still in progress, a sync waiting for a Namespace, a CRD or a dependency.

Pure: reads GitTrackObject bodies and the status the sync wrote; the counters
``objectsInSync`` and ``objectsHealthy`` come out of the same pass.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from faros.api import conditions
from faros.core import delivery, health, redact, transitions

Reason = conditions.ReadinessReason
TRUE, FALSE = conditions.ConditionStatus.TRUE, conditions.ConditionStatus.FALSE
RETRYING = " (a transient error: retrying)"
"""Ends an ``ObjectInSync`` message while a transient failure is being retried."""

_SYNC_CONDITIONS = tuple(conditions.GitTrackConditionType)

Setting = tuple[conditions.ConditionStatus, str, str]
"""A condition's (status, reason, message)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Child:
    """What readiness needs of one GitTrackObject."""

    label: str
    """``<Kind> <name>`` or ``<Kind> <namespace>/<name>``, as messages name it."""
    applied: bool
    """ObjectInSync=True for the GitTrackObject's current generation."""
    failure: str = ""
    """The ObjectInSync message of an apply that failed on bad input ("" otherwise)."""
    health: health.Health | None = None
    """From the Healthy condition; None until an apply assessed the child."""


@dataclasses.dataclass(frozen=True, slots=True)
class Readiness:
    """The three conditions and the two counters derived from the children."""

    ready: Setting
    reconciling: Setting
    stalled: Setting
    in_sync: int | None
    healthy: int | None
    """None when the children were not read (the sync stopped at a Git error)."""

    def settings(self) -> dict[conditions.ReadinessConditionType, Setting]:
        """The conditions by type, to set on the status."""
        kinds = conditions.ReadinessConditionType
        return {kinds.READY: self.ready, kinds.RECONCILING: self.reconciling,
                kinds.STALLED: self.stalled}  # fmt: skip


def child(gto: Mapping[str, Any]) -> Child:
    """Read one GitTrackObject's ObjectInSync and Healthy conditions."""
    spec = gto.get("spec") or {}
    meta = gto.get("metadata") or {}
    where = f"{meta['namespace']}/{spec.get('name', '')}" if meta.get("namespace") else ""
    label = f"{spec.get('kind', '')} {where or spec.get('name', '')}"
    found = {c.get("type"): c for c in (gto.get("status") or {}).get("conditions", [])}
    in_sync = found.get(conditions.GitTrackObjectConditionType.OBJECT_IN_SYNC) or {}
    failure = ""
    if in_sync.get("status") == FALSE and not str(in_sync.get("message", "")).endswith(RETRYING):
        failure = f"{in_sync.get('reason', '')}: {in_sync.get('message', '')}"
    return Child(label, delivery.is_generation_applied(gto), failure, _health(found))


def _health(found: Mapping[Any, Mapping[str, Any]]) -> health.Health | None:
    healthy = found.get(conditions.HEALTHY)
    if not healthy:
        return None
    status = {str(TRUE): health.Status.CURRENT, str(FALSE): health.Status.FAILED}.get(
        str(healthy.get("status")), health.Status.IN_PROGRESS
    )
    return health.Health(status, str(healthy.get("reason", "")), str(healthy.get("message", "")))


def healthy_condition(state: health.Health) -> Setting:
    """The Healthy condition of a GitTrackObject whose child has health ``state``: True when
    Current, False when Failed, Unknown while it is getting there (or cannot be told)."""
    status = {health.Status.CURRENT: TRUE, health.Status.FAILED: FALSE}.get(
        state.status, conditions.ConditionStatus.UNKNOWN
    )
    return (status, state.reason, "" if status is TRUE else state.message)


def assess(
    *,
    status: Mapping[str, Any],
    generation: int,
    children: Sequence[Child] | None,
    waiting: str = "",
) -> Readiness:
    """Readiness of a GitTrack whose status (after its last sync) is ``status``.

    ``children`` are its GitTrackObjects (None when they could not be read: only the sync's
    own conditions then count); ``waiting`` says why the sync holds objects back (a Namespace,
    a CRD or a dependency not ready yet), "" when it does not.
    """
    known = children is not None
    children = children or []
    in_sync = sum(1 for each in children if each.applied)
    healthy = sum(1 for each in children if each.applied and _current(each))
    problem = _sync_problem(status)
    failed = [each for each in children if each.failure or _failed(each)]
    pending = [each for each in children if not each.failure and not _done(each)]
    missing = int(status.get("objectsApplied") or 0) - len(children) if known else 0
    if status.get("observedGeneration") != generation:
        waiting = waiting or "the latest change of the GitTrack is not synced yet"
    stalled: Setting = (FALSE, Reason.SUCCEEDED, "")
    if problem:
        stalled = (TRUE, Reason.SYNC_FAILED, problem)
    elif failed:
        stalled = (TRUE, Reason.CHILDREN_FAILED, _describe(failed, pending=[]))
    progressing = bool(pending or missing > 0 or waiting)
    reconciling: Setting = (FALSE, Reason.SUCCEEDED, "")
    if progressing:
        why = waiting or (f"{missing} objects not written yet" if missing > 0 else "")
        reconciling = (TRUE, Reason.WAITING if waiting else Reason.PROGRESSING,
                       why or _describe([], pending=pending))  # fmt: skip
    ready: Setting = (TRUE, Reason.SUCCEEDED, "")
    if stalled[0] is TRUE:
        ready = (FALSE, stalled[1], stalled[2])
    elif progressing:
        reason = Reason.WAITING if waiting else Reason.CHILDREN_NOT_READY
        ready = (FALSE, reason, reconciling[2])
    if not known:
        return Readiness(ready, reconciling, stalled, None, None)
    return Readiness(ready, reconciling, stalled, in_sync, healthy)


def pending(gto: Mapping[str, Any]) -> Child:
    """A GitTrackObject just written (created or changed): its apply is still to come."""
    found = child(gto)
    return dataclasses.replace(found, applied=False, failure="", health=None)


def with_readiness(
    status: Mapping[str, Any], state: Readiness, *, now: datetime.datetime
) -> dict[str, Any]:
    """``status`` with the three conditions, ``objectsHealthy`` and ``objectsInSync`` of
    ``state`` set when known (the conditions keep their transition times when they say the
    same; see ``transitions``). ``objectsInSync`` never exceeds ``objectsApplied``."""
    result = dict(status)
    current = list(result.get("conditions", []))
    for condition_type, (value, reason, message) in state.settings().items():
        current = transitions.set_condition(
            current, condition_type=condition_type, status=value, reason=reason,
            message=redact.message(message), now=now,
        )  # fmt: skip
    result["conditions"] = current
    if state.healthy is not None:
        result["objectsHealthy"] = state.healthy
    if state.in_sync is not None:
        result["objectsInSync"] = min(state.in_sync, int(result.get("objectsApplied") or 0))
    return result


def waiting_of(status: Mapping[str, Any]) -> str:
    """Why the last sync held objects back, as it wrote it in ``Reconciling`` ("" if not)."""
    for condition in status.get("conditions", []):
        if (condition.get("type") == conditions.ReadinessConditionType.RECONCILING
                and condition.get("reason") == Reason.WAITING):  # fmt: skip
            return str(condition.get("message", ""))
    return ""


def _sync_problem(status: Mapping[str, Any]) -> str:
    """The first of the original conditions that is False, as ``<Type>: <message>``."""
    found = {c.get("type"): c for c in status.get("conditions", [])}
    for kind in _SYNC_CONDITIONS:
        condition = found.get(kind)
        if condition and condition.get("status") == FALSE:
            first = str(condition.get("message", "")).strip().splitlines()
            return f"{kind}: {first[0] if first else condition.get('reason', '')}"
    return ""


def _current(each: Child) -> bool:
    return each.health is not None and each.health.status is health.Status.CURRENT


def _failed(each: Child) -> bool:
    return each.health is not None and each.health.status is health.Status.FAILED


def _done(each: Child) -> bool:
    return each.applied and _current(each)


def _describe(failed: Sequence[Child], *, pending: Sequence[Child]) -> str:
    """Name the first children that are not ready, failures first (``health.summary``)."""
    states = [(each.label, _state(each)) for each in (*failed, *pending)]
    return health.summary(states)[1]


def _state(each: Child) -> health.Health:
    if each.failure:
        reason, _, message = each.failure.partition(": ")
        return health.Health(health.Status.FAILED, reason, message)
    if not each.applied:
        return health.Health(health.Status.IN_PROGRESS, "NotApplied", "not applied yet")
    return each.health or health.Health(health.Status.IN_PROGRESS, "NotAssessed", "")
