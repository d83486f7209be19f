"""faros status: rows, the failing message, and aligned tables."""

from __future__ import annotations

import base64
import json
from typing import Any

from faros.core import overview


def track(**status: Any) -> dict[str, Any]:
    return {"kind": "GitTrack", "metadata": {"name": "web", "namespace": "team"},
            "spec": {"repository": "r", "reference": "main"}, "status": status}  # fmt: skip


def condition(kind: str, state: str, message: str = "", when: str = "") -> dict[str, str]:
    return {"type": kind, "status": state, "reason": "R", "message": message,
            "lastUpdateTime": when}  # fmt: skip


def test_a_row_shows_counters_revision_readiness_and_the_last_sync():
    row = overview.track_row(track(
        revision="0123456789abcdef", objectsDiscovered=4, objectsApplied=3, objectsInSync=2,
        objectsIgnored=1,
        conditions=[condition("FilesFetched", "True", when="2026-12-04T06:00:00Z"),
                    condition("ChildrenUpToDate", "True", when="2026-12-04T06:05:00Z"),
                    condition("Ready", "False", "Deployment web: not ready",
                              when="2026-12-04T07:00:00Z")],
    ))  # fmt: skip
    assert row.cells() == [
        "team", "web", "GitTrack", "0123456789ab", "4", "3", "2", "1", "False",
        "2026-12-04T06:05:00Z", "Deployment web: not ready",
    ]  # fmt: skip


def test_the_first_failing_sync_condition_wins_on_one_short_line():
    long = "unable to parse 'a.yaml':\n" + "x" * 200
    failing = [condition("Ready", "False", "later"), condition("FilesParsed", "False", long)]
    row = overview.track_row(track(conditions=failing))
    assert row.message.startswith("unable to parse 'a.yaml': xxx")
    assert len(row.message) == overview.MESSAGE_WIDTH
    assert row.message.endswith("…")
    assert overview.track_row(track()).cells()[3:] == ["-", "0", "0", "0", "0", "Unknown", "-", ""]


def test_a_suspended_gittrack_says_so():
    suspended = track()
    suspended["spec"]["suspend"] = True
    assert overview.track_row(suspended).cells()[8] == "Suspended"


def test_children_rows_come_from_the_gittrackobjects():
    data = base64.b64encode(json.dumps({"kind": "ConfigMap", "metadata": {"name": "c"}}).encode())
    gto = {"metadata": {"name": "configmap-c", "namespace": "team"},
           "spec": {"kind": "ConfigMap", "name": "c", "data": data.decode()},
           "status": {"conditions": [
               {"type": "ObjectInSync", "status": "False", "reason": "ErrorUpdatingChild",
                "message": "forbidden"}]}}  # fmt: skip
    assert overview.child_cells(gto) == [
        "ConfigMap", "team/c", "configmap-c", "False (ErrorUpdatingChild)", "-", "forbidden",
    ]  # fmt: skip


def test_tables_are_aligned_and_bold_only_when_asked():
    text = overview.table(["A", "BBB", "C"], [["xx", "y", "long message"], ["x", "", ""]])
    assert text == "A   BBB  C\nxx  y    long message\nx\n"
    assert overview.table(["A"], [], bold=True) == "\x1b[1mA\x1b[0m\n"
