"""Set one status condition in a list, keeping its transition time when nothing turned over.

The condition-setting rules of spec section 1.2, shared by GitTrack and GitTrackObject
conditions, without their quirks:

- a new condition gets ``lastUpdateTime = lastTransitionTime = now``;
- ``lastTransitionTime`` changes only when ``status`` changes;
- [QUIRK] fixed: the original kept a condition untouched while its status and reason
  stayed the same, so its message went stale when only the error text changed. Here
  any change of status, reason or message replaces the condition and sets
  ``lastUpdateTime`` to ``now``; an identical condition is kept as it was, times
  included, so a sync that learnt nothing new produces an equal status;
- [QUIRK] fixed: the original removed a replaced condition and appended the new one,
  so the list reordered itself over time. A condition keeps its place here.

Times are RFC 3339 in UTC with second precision, as Kubernetes writes them; ``now`` is
a parameter (the core never reads the clock).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence

from faros.api import conditions, types


def timestamp(now: datetime.datetime) -> str:
    """Return ``now`` as Kubernetes writes times (``2019-04-03T09:11:54Z``).

    Raises:
        ValueError: ``now`` has no time zone.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def find(existing: Iterable[types.Condition], condition_type: str) -> types.Condition | None:
    """Return the condition of ``condition_type`` among ``existing``, or None."""
    return next((c for c in existing if c.get("type") == condition_type), None)


def set_condition(
    existing: Sequence[types.Condition],
    *,
    condition_type: str,
    status: conditions.ConditionStatus,
    reason: str,
    message: str,
    now: datetime.datetime,
) -> list[types.Condition]:
    """Return ``existing`` with the condition of ``condition_type`` set (module docstring)."""
    when = timestamp(now)
    new: types.Condition = {
        "type": condition_type,
        "status": str(status),
        "lastUpdateTime": when,
        "lastTransitionTime": when,
        "reason": reason,
        "message": message,
    }
    result = list(existing)
    for index, old in enumerate(result):
        if old.get("type") != condition_type:
            continue
        if _same(old, new):
            return result
        if old.get("status") == new["status"] and "lastTransitionTime" in old:
            new["lastTransitionTime"] = old["lastTransitionTime"]
        result[index] = new
        return result
    result.append(new)
    return result


def _same(old: types.Condition, new: types.Condition) -> bool:
    keys = ("status", "reason", "message")
    return all(old.get(key, "") == new.get(key, "") for key in keys)


def without_update_times(existing: Iterable[types.Condition]) -> list[dict[str, str]]:
    """Return the conditions without ``lastUpdateTime``, to compare what they say."""
    return [
        {key: str(value) for key, value in condition.items() if key != "lastUpdateTime"}
        for condition in existing
    ]
