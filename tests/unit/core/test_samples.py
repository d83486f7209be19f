"""Metric samples come from status: counters per GitTrack, in-sync per GitTrackObject."""

from __future__ import annotations

import datetime
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


def test_time_to_deploy_labels_name_the_gittrack_and_measure_from_the_commit():
    gto = {"metadata": {"namespace": "ns", "annotations": {
               "faros.pusher.com/commit-time": "2026-01-01T00:00:00Z",
               "faros.pusher.com/repository": "https://git.example/r.git"},
           "ownerReferences": [{"kind": "GitTrack", "name": "app"}]}}  # fmt: skip
    now = datetime.datetime(2026, 1, 1, 0, 2, tzinfo=datetime.UTC)

    assert samples.time_to_deploy(gto, now=now) == (
        {"name": "app", "namespace": "ns", "repository": "https://git.example/r.git"},
        120.0,
    )
    assert samples.time_to_deploy({"metadata": {}}, now=now) is None


def test_gittrack_ids_name_gittracks_and_clustergittracks():
    listed = [{"kind": "GitTrack", "metadata": {"name": "a", "namespace": "ns"}},
              {"kind": "ClusterGitTrack", "metadata": {"name": "c"}}]  # fmt: skip

    assert samples.gittrack_ids(listed) == frozenset({("ns", "a"), ("", "c")})


def test_series_of_deleted_gittracks_are_not_live():
    live = frozenset({("ns", "a")})

    assert samples.is_live_series({"name": "a", "namespace": "ns", "repository": "r"}, live=live)
    assert not samples.is_live_series({"name": "gone", "namespace": "ns"}, live=live)
    assert samples.is_live_series({"name": "gone", "namespace": "ns"}, live=None)
