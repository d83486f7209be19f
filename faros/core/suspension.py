"""``spec.suspend`` (ours): a suspended GitTrack is left alone, and says so in its status.

While ``spec.suspend`` is true, Faros neither syncs the GitTrack nor applies or reverts its
objects; its periodic schedule is kept, and each scheduled sync only confirms the
``Suspended`` condition (True, reason ``Suspended``, its transition time saying since when).
Resuming sets the condition False (reason ``Resumed``) and syncs at once.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from faros.api import conditions, types
from faros.core import transitions

SUSPENDED = "Suspended"
"""The condition type, and its reason while suspended."""
RESUMED = "Resumed"


def is_suspended(gittrack: Mapping[str, Any] | None) -> bool:
    """True when a GitTrack's (or ClusterGitTrack's) ``spec.suspend`` is true."""
    return ((gittrack or {}).get("spec") or {}).get("suspend") is True


def was_suspended(status: Mapping[str, Any] | None) -> bool:
    """True when a status still says Suspended=True."""
    found = transitions.find((status or {}).get("conditions") or [], SUSPENDED)
    return found is not None and found.get("status") == conditions.ConditionStatus.TRUE


def with_suspension(
    existing: list[types.Condition], *, suspended: bool, now: datetime.datetime
) -> list[types.Condition]:
    """``existing`` with the Suspended condition for ``suspended``.

    A GitTrack never suspended gets no condition at all (its status stays as the Go controller
    wrote it); one resumed keeps Suspended=False, reason ``Resumed``.
    """
    if not suspended and transitions.find(existing, SUSPENDED) is None:
        return existing
    if suspended:
        setting = (conditions.ConditionStatus.TRUE, SUSPENDED,
                   "spec.suspend is true: no syncs, applies or drift reverts until it is false "
                   "(suspended since this condition's lastTransitionTime)")  # fmt: skip
    else:
        setting = (conditions.ConditionStatus.FALSE, RESUMED, "")
    status, reason, message = setting
    return transitions.set_condition(
        existing, condition_type=SUSPENDED, status=status, reason=reason, message=message,
        now=now,
    )  # fmt: skip
