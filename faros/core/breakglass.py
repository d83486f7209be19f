"""Break-glass (ours): ``faros.pusher.com/pause-until`` on a live child pauses its reverts.

During an incident an operator may need to change a managed object by hand and keep the
change for a while. The annotation, set on the live object (not in Git), holds an RFC 3339
time: until then Faros writes nothing to that object (no revert, no update from Git), at
most ``--max-pause`` ahead (24 h by default). A time further ahead, or one that is not a
time, is refused: the object is managed as usual and a Warning Event says why. Once the time
has passed, the next apply (a watch event, or the level-based re-check within one sync
period) reverts the object.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Mapping
from typing import Any

from faros.core import delivery

PAUSE_ANNOTATION = "faros.pusher.com/pause-until"
CONDITION = "Paused"
"""The GitTrackObject's condition (ours): True while its child's reverts are paused."""


class State(enum.StrEnum):
    """What the annotation of one child says now."""

    NONE = "none"
    """No annotation: managed as usual."""
    ACTIVE = "active"
    """Paused: Faros writes nothing to the object until ``until``."""
    EXPIRED = "expired"
    """The time has passed: managed (and reverted) as usual."""
    REFUSED = "refused"
    """Not a time, or too far ahead: managed as usual; ``message`` says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Pause:
    """The break-glass state of one child."""

    state: State
    until: datetime.datetime | None = None
    message: str = ""


def annotation(obj: Mapping[str, Any] | None) -> str | None:
    """The raw ``pause-until`` value of a live object; None when absent."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    found = annotations.get(PAUSE_ANNOTATION) if isinstance(annotations, Mapping) else None
    return found if isinstance(found, str) else None


def parse_time(text: str) -> datetime.datetime | None:
    """An RFC 3339 time with a zone (``2026-12-04T18:00:00Z``, ``...+01:00``); None if not."""
    value = text.strip()
    if "T" not in value.upper():
        return None  # a date alone is no time
    return delivery.parse_time(value.replace("z", "Z").replace("t", "T"))


def read(
    obj: Mapping[str, Any] | None, *, now: datetime.datetime, limit: datetime.timedelta,
    label: str = "the object",
) -> Pause:  # fmt: skip
    """The break-glass state of the live object ``obj`` at ``now`` (``label`` names it)."""
    raw = annotation(obj)
    if raw is None:
        return Pause(State.NONE)
    until = parse_time(raw)
    if until is None:
        return Pause(State.REFUSED, message=(
            f"{PAUSE_ANNOTATION} on {label} is not an RFC 3339 time with a zone: {raw!r} "
            "(e.g. 2026-12-04T18:00:00Z); its reverts are not paused"))  # fmt: skip
    if until - now > limit:
        ahead, allowed = _span(until - now), _span(limit)
        return Pause(State.REFUSED, until=until, message=(
            f"{PAUSE_ANNOTATION} on {label} is {ahead} ahead, more than the {allowed} allowed "
            f"(--max-pause): {raw}; its reverts are not paused"))  # fmt: skip
    if until > now:
        return Pause(State.ACTIVE, until=until, message=(
            f"reverts of {label} are paused until {_stamp(until)} ({PAUSE_ANNOTATION}): Faros "
            "writes nothing to it until then"))  # fmt: skip
    return Pause(State.EXPIRED, until=until, message=(
        f"the pause of {label} ended at {_stamp(until)} ({PAUSE_ANNOTATION}): it is managed, "
        "and reverted, as usual"))  # fmt: skip


def is_paused(obj: Mapping[str, Any] | None, *, now: datetime.datetime,
              limit: datetime.timedelta) -> bool:  # fmt: skip
    """True while ``obj``'s reverts are paused (the gauge of paused objects counts these)."""
    return read(obj, now=now, limit=limit).state is State.ACTIVE


def _stamp(when: datetime.datetime) -> str:
    return when.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(delta: datetime.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02}m" if hours else f"{minutes}m"
