"""Metric samples come from status: counters per GitTrack, in-sync per GitTrackObject."""

from __future__ import annotations

from typing import Any

from faros.core import samples


def test_child_status_has_four_series_per_synced_gittrack():
    gittracks: list[dict[str, Any]] = [
        {"metadata": {"name": "a", "namespace": "ns"},
         "status": {"objectsDiscovered": 3, "objectsApplied": 2, "objectsIgnored": 1,
                    "objectsInSync": 2}},
        {"metadata": {"name": "never-synced", "namespace": "ns"}},
        {"metadata": {"name": "c"}, "status": {"objectsDiscovered": 1, "objectsApplied": 1,
                                               "objectsIgnored": 0, "objectsInSync": 0}},
    ]  # fmt: skip

    found = {
        (s["name"], s["namespace"], s["status"]): v for s, v in samples.child_status(gittracks)
    }

    assert found[("a", "ns", "applied")] == 2
    assert found[("a", "ns", "inSync")] == 2
    assert found[("c", "", "discovered")] == 1
    assert len(found) == 8


def test_in_sync_is_one_or_zero_and_absent_without_a_condition():
    def gto(name, status=None):
        conditions = [{"type": "ObjectInSync", "status": status}] if status else []
        return {"metadata": {"name": f"configmap-{name}", "namespace": "ns"},
                "spec": {"kind": "ConfigMap", "name": name},
                "status": {"conditions": conditions}}  # fmt: skip

    found = samples.in_sync([gto("a", "True"), gto("b", "False"), gto("c")])

    assert found == [
        ({"kind": "ConfigMap", "name": "a", "namespace": "ns"}, 1.0),
        ({"kind": "ConfigMap", "name": "b", "namespace": "ns"}, 0.0),
    ]
