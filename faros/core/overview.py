"""What ``faros status`` shows: one row per GitTrack, one per child, and aligned tables.

Pure: reads the GitTrack and GitTrackObject bodies the API server returned.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from faros.api import conditions

SYNC_CONDITIONS = tuple(str(kind) for kind in conditions.GitTrackConditionType)
MESSAGE_WIDTH = 80
"""Characters of a message a table shows (the rest is in ``-o yaml``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class TrackRow:
    """One GitTrack or ClusterGitTrack as ``faros status`` lists it."""

    namespace: str
    name: str
    kind: str
    revision: str
    discovered: int
    applied: int
    in_sync: int
    ignored: int
    ready: str
    suspended: bool
    last_sync: str
    message: str

    def cells(self) -> list[str]:
        """The table cells, in ``TRACK_HEADERS`` order."""
        return [self.namespace or "-", self.name, self.kind, self.revision[:12] or "-",
                str(self.discovered), str(self.applied), str(self.in_sync), str(self.ignored),
                "Suspended" if self.suspended else self.ready, self.last_sync or "-",
                self.message]  # fmt: skip


TRACK_HEADERS = ["NAMESPACE", "NAME", "KIND", "REVISION", "DISCOVERED", "APPLIED", "IN SYNC",
                 "IGNORED", "READY", "LAST SYNC", "MESSAGE"]  # fmt: skip


def _conditions(obj: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((obj.get("status") or {}).get("conditions") or [])


def _find(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    return next((c for c in _conditions(obj) if c.get("type") == kind), {})


def problem(obj: Mapping[str, Any]) -> str:
    """The message of the first failing condition (sync conditions first, then Ready), one
    line, shortened; "" when nothing fails."""
    for kind in (*SYNC_CONDITIONS, "Ready", "ObjectInSync", "Healthy"):
        found = _find(obj, kind)
        if found.get("status") == "False" and found.get("message"):
            return shorten(str(found["message"]))
    return ""


def shorten(text: str, width: int = MESSAGE_WIDTH) -> str:
    """``text`` on one line, at most ``width`` characters (ending with an ellipsis)."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def last_sync(obj: Mapping[str, Any]) -> str:
    """When a sync last wrote a sync condition (their latest ``lastUpdateTime``)."""
    times = [str(c.get("lastUpdateTime", "")) for c in _conditions(obj)
             if c.get("type") in SYNC_CONDITIONS]  # fmt: skip
    return max(times, default="")


def track_row(obj: Mapping[str, Any]) -> TrackRow:
    """The row of one GitTrack or ClusterGitTrack."""
    meta, status = obj.get("metadata") or {}, obj.get("status") or {}
    return TrackRow(
        namespace=str(meta.get("namespace", "")), name=str(meta.get("name", "")),
        kind=str(obj.get("kind", "")), revision=str(status.get("revision", "")),
        discovered=int(status.get("objectsDiscovered") or 0),
        applied=int(status.get("objectsApplied") or 0),
        in_sync=int(status.get("objectsInSync") or 0),
        ignored=int(status.get("objectsIgnored") or 0),
        ready=str(_find(obj, "Ready").get("status", "Unknown")),
        suspended=((obj.get("spec") or {}).get("suspend") is True),
        last_sync=last_sync(obj), message=problem(obj),
    )  # fmt: skip


CHILD_HEADERS = ["KIND", "CHILD", "GITTRACKOBJECT", "IN SYNC", "HEALTHY", "MESSAGE"]


def child_cells(gto: Mapping[str, Any]) -> list[str]:
    """One child of a GitTrack, from its GitTrackObject."""
    spec, meta = gto.get("spec") or {}, gto.get("metadata") or {}
    manifest = _manifest(str(spec.get("data", "")))
    child_meta = manifest.get("metadata") or {}
    namespace = str(child_meta.get("namespace") or meta.get("namespace") or "")
    name = str(child_meta.get("name") or spec.get("name", ""))
    in_sync = _find(gto, "ObjectInSync")
    healthy = _find(gto, "Healthy")
    return [str(manifest.get("kind") or spec.get("kind", "")),
            f"{namespace}/{name}" if namespace else name, str(meta.get("name", "")),
            _state(in_sync), _state(healthy), problem(gto)]  # fmt: skip


def _state(condition: Mapping[str, Any]) -> str:
    if not condition:
        return "-"
    status, reason = str(condition.get("status", "")), str(condition.get("reason", ""))
    return status if status == "True" or not reason else f"{status} ({reason})"


def _manifest(data: str) -> dict[str, Any]:
    try:
        found = json.loads(base64.b64decode(data, validate=True))
    except (ValueError, binascii.Error):
        return {}
    return found if isinstance(found, dict) else {}


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, bold: bool = False) -> str:
    """An aligned text table (two spaces between columns; the last column not padded);
    the header in bold when ``bold`` (a terminal)."""
    widths = [max([len(headers[i])] + [len(row[i]) for row in rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(cells[:-1])]
        return "  ".join([*padded, cells[-1]]).rstrip()

    head = line(headers)
    if bold:
        head = f"\x1b[1m{head}\x1b[0m"
    return "\n".join([head, *(line(row) for row in rows)]) + "\n"
