"""The level-based re-check: every object once per period, spread out; drift from the caches."""

from __future__ import annotations

import base64
import copy
import itertools
import json

import pytest

from faros.api import names
from faros.core import identity, merge, recheck

PERIOD = 300.0


def key(index: int) -> identity.ObjectKey:
    return identity.gto_key(namespace="default", name=f"configmap-{index}")


def test_offsets_are_stable_and_spread_over_the_period():
    keys = [key(index) for index in range(2000)]
    slots = [recheck.offset(k, period=PERIOD) for k in keys]

    assert slots == [recheck.offset(k, period=PERIOD) for k in keys]
    assert all(0 <= slot < PERIOD for slot in slots)
    per_minute = [sum(1 for s in slots if m * 60 <= s < (m + 1) * 60) for m in range(5)]
    assert min(per_minute) > 300  # 400 expected per minute: no burst, no gap


def test_consecutive_windows_cover_each_slot_exactly_once_per_period():
    slots = [recheck.offset(key(index), period=PERIOD) for index in range(500)]
    ticks = [1_000_000.0 + 0.7 * step for step in range(int(2 * PERIOD / 0.7))]
    seen = [0] * len(slots)
    for since, until in itertools.pairwise(ticks):
        for index, slot in enumerate(slots):
            seen[index] += recheck.is_due(slot, since=since, until=until, period=PERIOD)
    assert set(seen) <= {1, 2}
    assert sum(seen) >= len(slots) * 1.9  # two periods: (nearly) every slot twice


def test_a_window_longer_than_the_period_covers_everything():
    assert recheck.is_due(10.0, since=0.0, until=PERIOD + 1, period=PERIOD)


def gto(data, *, generation=2, observed=2, in_sync="True", namespace="default"):
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.GITTRACKOBJECT,
        "metadata": {"name": "configmap-web", "namespace": namespace, "uid": "gto-uid",
                     "generation": generation},
        "spec": {"name": data["metadata"]["name"], "kind": data["kind"],
                 "data": base64.b64encode(text.encode()).decode()},
        "status": {"observedGeneration": observed,
                   "conditions": [{"type": "ObjectInSync", "status": in_sync}]},
    }  # fmt: skip


CONFIGMAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"},
             "data": {"colour": "blue"}}  # fmt: skip


def live_of(desired, **changes):
    """The child as the API server would hold it after Faros applied ``desired``."""
    live = copy.deepcopy(desired)
    meta = live["metadata"]
    meta.update(namespace="default", uid="child-uid", resourceVersion="7",
                ownerReferences=[{"apiVersion": names.API_VERSION, "kind": names.GITTRACKOBJECT,
                                  "name": "configmap-web", "uid": "gto-uid", "controller": True,
                                  "blockOwnerDeletion": True}])  # fmt: skip
    applied = merge.modified_of({**desired, "metadata": {**desired["metadata"],
                                 "ownerReferences": meta["ownerReferences"],
                                 "namespace": "default"}})  # fmt: skip
    meta["annotations"] = dict(applied["metadata"]["annotations"])
    live.update(changes)
    return live


def need(body, live, *, server_side=False):
    return recheck.need(body, live, namespaced=True, meta=None, server_side=server_side)


@pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])
def test_an_applied_object_in_sync_needs_nothing(server_side):
    assert need(gto(CONFIGMAP), live_of(CONFIGMAP), server_side=server_side) is None


@pytest.mark.parametrize("server_side", [False, True], ids=["client-side", "server-side"])
def test_a_drifted_child_needs_an_apply(server_side):
    drifted = live_of(CONFIGMAP, data={"colour": "red"})
    assert need(gto(CONFIGMAP), drifted, server_side=server_side) is recheck.Need.DRIFTED


def test_fields_the_server_adds_are_not_drift():
    live = live_of(CONFIGMAP)
    live["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    live["metadata"]["managedFields"] = [{"manager": "faros"}]
    assert need(gto(CONFIGMAP), live) is None
    assert need(gto(CONFIGMAP), live, server_side=True) is None


def test_a_missing_child_needs_an_apply():
    assert need(gto(CONFIGMAP), None) is recheck.Need.MISSING


@pytest.mark.parametrize(
    "body",
    [gto(CONFIGMAP, generation=3, observed=2), gto(CONFIGMAP, in_sync="False"),
     {**gto(CONFIGMAP), "status": {}}],
    ids=["spec-not-applied", "failed-last-time", "never-applied"],
)  # fmt: skip
def test_a_status_that_is_not_in_sync_for_this_generation_needs_an_apply(body):
    assert need(body, live_of(CONFIGMAP)) is recheck.Need.NOT_APPLIED
    assert recheck.status_need(body) is recheck.Need.NOT_APPLIED


def test_undecodable_data_is_left_to_the_apply_to_report():
    body = gto(CONFIGMAP)
    body["spec"]["data"] = base64.b64encode(b"{not json: [").decode()
    assert need(body, live_of(CONFIGMAP)) is recheck.Need.NOT_APPLIED


def test_contains_compares_lists_item_by_item():
    assert recheck.contains({"a": [1, {"b": 2, "c": 3}]}, {"a": [1, {"b": 2}]})
    assert not recheck.contains({"a": [1, 2]}, {"a": [1]})
    assert not recheck.contains({"a": {"b": 1}}, {"a": {"b": 2}})
    assert not recheck.contains({}, {"a": None})
