"""An object's status as the health rules read it: fields by path, conditions, the time.

Pure. ``observe`` checks the shape of ``status`` once, so the rules of
:mod:`faros.core.kindhealth` and :mod:`faros.core.health` read typed values only; a rule
returns a ``Verdict`` (kstatus's status string, a reason, a message).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, Literal

Outcome = Literal["Current", "InProgress", "Failed", "Terminating", "Unknown"]
"""kstatus's status strings, the values of ``health.Status`` a rule can give."""


@dataclasses.dataclass(frozen=True, slots=True)
class Condition:
    """One entry of ``status.conditions``; a missing field reads as an empty string."""

    type: str
    status: str
    reason: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class Observed:
    """An object as the rules read it: its body, its conditions, and the time if known."""

    body: Mapping[str, Any]
    conditions: tuple[Condition, ...]
    now: datetime.datetime | None

    def field(self, path: str) -> Any:
        """Return the value at a dotted ``path`` (``status.phase``), or None."""
        return dig(self.body, path)

    def number(self, path: str, default: int) -> int:
        """Return the integer at ``path``, or ``default`` when absent or not an integer."""
        value = self.field(path)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    def text(self, path: str, default: str = "") -> str:
        """Return the string at ``path``, or ``default`` when absent or not a string."""
        value = self.field(path)
        return value if isinstance(value, str) else default

    def condition(self, condition_type: str, status: str) -> Condition | None:
        """Return the first condition of ``condition_type`` with ``status``, or None."""
        return next(
            (c for c in self.conditions if c.type == condition_type and c.status == status), None
        )


def dig(value: Any, path: str) -> Any:
    """Return the value at a dotted ``path`` in nested mappings, or None."""
    for key in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule found: a kstatus status, a CamelCase reason, a sentence for users."""

    status: Outcome
    reason: str
    message: str


def observe(obj: Mapping[str, Any], *, now: datetime.datetime | None) -> Observed:
    """Read ``obj`` and its conditions.

    Raises:
        ValueError: ``status`` or one of its conditions has the wrong shape.
    """
    status = obj.get("status")
    if status is None:
        return Observed(obj, (), now)
    if not isinstance(status, Mapping):
        raise ValueError("status is not an object")
    raw = status.get("conditions")
    if raw is None:
        return Observed(obj, (), now)
    if not isinstance(raw, list):
        raise ValueError("status.conditions is not a list")
    parsed: list[Condition] = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            raise ValueError("a status condition is not an object")
        values = [entry.get(key, "") for key in ("type", "status", "reason", "message")]
        values = ["" if value is None else value for value in values]
        if not all(isinstance(value, str) for value in values):
            raise ValueError("a status condition has a field that is not a string")
        parsed.append(Condition(*values))
    return Observed(obj, tuple(parsed), now)
