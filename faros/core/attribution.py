"""Drift attribution (ours): when Faros reverts a child, say which fields differed, and which
field manager last wrote each of them, with which operation and when (from the live
object's ``managedFields``, read before the revert).

``kubectl edit`` writes as ``kubectl-edit``, ``kubectl patch`` as ``kubectl-patch`` (or its
``--field-manager``), a server-side apply as its field manager; controllers as their own
names. Faros's own entries are never blamed.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from faros.api import names
from faros.core import fieldpaths

SHOWN = 5
"""Fields an Event names (then "and N more")."""
MANAGER_LABELS = 20
"""Distinct field managers a process gives their own metric label (then ``other``)."""
UNKNOWN = "unknown"
"""The label when no manager can be told (the object was deleted, or no entry covers it)."""
OTHER = "other"
_COUNTED_METADATA = ("labels", "annotations")
_OURS = frozenset(
    {names.LAST_APPLIED_ANNOTATION, "kubectl.kubernetes.io/last-applied-configuration"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One field that differed, and who last wrote it."""

    path: str
    manager: str = UNKNOWN
    operation: str = ""
    time: str = ""


def drifted(desired: Mapping[str, Any], live: Mapping[str, Any]) -> list[fieldpaths.Path]:
    """The fields ``desired`` sets that ``live`` does not hold as desired (``status`` and most
    of ``metadata`` left out: only labels and annotations count)."""
    found: list[fieldpaths.Path] = []
    for key, value in desired.items():
        if key in ("apiVersion", "kind", "status"):
            continue
        if key == "metadata":
            meta = live.get("metadata") or {}
            for field in _COUNTED_METADATA:
                wanted = {k: v for k, v in (value.get(field) or {}).items() if k not in _OURS}
                found += fieldpaths.differences(wanted, meta.get(field) or {},
                                                ("metadata", field))  # fmt: skip
            continue
        found += fieldpaths.differences(value, live.get(key, fieldpaths.MISSING), (key,))
    return found


def attribute(paths: Iterable[fieldpaths.Path], live: Mapping[str, Any]) -> list[Change]:
    """Who last wrote each of ``paths`` in ``live``: among the ``managedFields`` entries (Faros's
    own left out) owning the field, one of its parents or one of its children, the latest."""
    entries = [
        (entry, fieldpaths.managed_paths(entry.get("fieldsV1")))
        for entry in (live.get("metadata") or {}).get("managedFields") or []
        if not _ours(str(entry.get("manager", "")))
    ]
    changes = []
    for path in paths:
        owners = [entry for entry, owned in entries
                  if any(fieldpaths.covers(each, path) for each in owned)]  # fmt: skip
        latest = max(owners, key=lambda entry: str(entry.get("time", "")), default=None)
        if latest is None:
            changes.append(Change(fieldpaths.render(path)))
            continue
        changes.append(Change(
            fieldpaths.render(path), manager=str(latest.get("manager") or UNKNOWN),
            operation=str(latest.get("operation", "")), time=str(latest.get("time", "")),
        ))  # fmt: skip
    return changes


def _ours(manager: str) -> bool:
    return manager == names.FIELD_MANAGER or manager.startswith(f"{names.FIELD_MANAGER}-")


def message(label: str, changes: Sequence[Change], *, deleted: bool = False) -> str:
    """The ``DriftReverted`` Event: the object, its fields, and who wrote them."""
    if deleted:
        return f"Reverted drift on {label}: it had been deleted; created it again"
    if not changes:
        return f"Reverted drift on {label}"
    parts = []
    for change in changes[:SHOWN]:
        if change.manager == UNKNOWN:
            parts.append(f"{change.path} (writer unknown)")
            continue
        how = ", ".join(filter(None, (change.operation, change.time)))
        parts.append(f"{change.path} (by {change.manager}{', ' + how if how else ''})")
    more = f" and {len(changes) - SHOWN} more" if len(changes) > SHOWN else ""
    return f"Reverted drift on {label}: {'; '.join(parts)}{more}"


class ManagerLabels:
    """Bounded label values for the metric of reverts by field manager: the first
    ``MANAGER_LABELS`` distinct managers keep their names, later ones count as ``other``."""

    def __init__(self, limit: int = MANAGER_LABELS) -> None:
        self.limit = limit
        self._seen: set[str] = set()
        self._guard = threading.Lock()

    def label(self, manager: str) -> str:
        """The label value for ``manager``."""
        if manager in (UNKNOWN, ""):
            return UNKNOWN
        with self._guard:
            if manager in self._seen:
                return manager
            if len(self._seen) < self.limit:
                self._seen.add(manager)
                return manager
        return OTHER


def managers(changes: Sequence[Change], *, deleted: bool = False) -> list[str]:
    """The distinct managers blamed by ``changes`` (``unknown`` for a deleted object)."""
    if deleted or not changes:
        return [UNKNOWN]
    return sorted({change.manager for change in changes})
