"""The level-based re-check: every object once per period, spread out; drift from the caches."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import pytest

from faros.api import names
from faros.core import identity, recheck

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


def held_slots(
    count: int, period: float
) -> tuple[recheck.Slots[identity.ObjectKey], dict[identity.ObjectKey, float]]:
    slots = recheck.Slots[identity.ObjectKey](period)
    offsets = {key(index): recheck.offset(key(index), period=period) for index in range(count)}
    for each, offset in offsets.items():
        slots.add(each, offset)
    return slots, offsets


@pytest.mark.parametrize("period", [PERIOD, 60.0, 7.5, 0.5])
def test_held_slots_give_the_keys_due_in_any_window_and_only_those(period):
    slots, offsets = held_slots(300, period)
    windows = [(1_000_000.0 + 0.37 * step, 1_000_000.0 + 0.37 * (step + 1))
               for step in range(int(2 * period / 0.37) + 2)]  # fmt: skip
    windows += [(123.4, 123.4 + period * 0.9), (59.99, 60.01), (0.0, 0.0), (5.0, 5.0 + period)]
    for since, until in windows:
        expected = {each for each, offset in offsets.items()
                    if recheck.is_due(offset, since=since, until=until, period=period)}  # fmt: skip
        due = slots.due(since=since, until=until)
        assert sorted(due) == sorted(expected), (since, until)


def test_consecutive_ticks_give_each_held_key_once_per_period():
    slots, offsets = held_slots(500, 60.0)
    seen = dict.fromkeys(offsets, 0)
    for since, until in itertools.pairwise(1_000_000.0 + step for step in range(61)):
        for each in slots.due(since=since, until=until):
            seen[each] += 1
    assert set(seen.values()) == {1}


def test_held_slots_follow_adds_and_discards():
    slots, offsets = held_slots(10, 60.0)
    first = key(0)
    slots.add(first, 1.0)  # held already: its offset stays
    assert len(slots) == 10
    assert first in slots
    whole = slots.due(since=0.0, until=60.0)
    assert sorted(whole) == sorted(offsets)
    slots.discard(first)
    slots.discard(first)  # not held: nothing happens
    assert first not in slots
    assert len(slots) == 9
    assert first not in slots.due(since=0.0, until=60.0)


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


def child(version: str = "7") -> dict[str, Any]:
    """The child's metadata as the watch holds it."""
    return {"metadata": {"name": "web", "namespace": "default", "resourceVersion": version}}


def test_an_applied_child_that_did_not_move_needs_nothing():
    assert recheck.need(gto(CONFIGMAP), child("7"), noted="7") is None


def test_a_child_that_moved_since_its_apply_needs_one():
    assert recheck.need(gto(CONFIGMAP), child("9"), noted="7") is recheck.Need.MOVED


def test_a_child_never_noted_needs_one():
    """After a Redis loss or for a child no apply has noted yet: checked once."""
    assert recheck.need(gto(CONFIGMAP), child("7"), noted=None) is recheck.Need.MOVED


def test_a_missing_child_needs_an_apply():
    assert recheck.need(gto(CONFIGMAP), None, noted="7") is recheck.Need.MISSING


@pytest.mark.parametrize(
    "body",
    [gto(CONFIGMAP, generation=3, observed=2), gto(CONFIGMAP, in_sync="False"),
     {**gto(CONFIGMAP), "status": {}}],
    ids=["spec-not-applied", "failed-last-time", "never-applied"],
)  # fmt: skip
def test_a_status_that_is_not_in_sync_for_this_generation_needs_an_apply(body):
    assert recheck.need(body, child("7"), noted="7") is recheck.Need.NOT_APPLIED
    assert recheck.status_need(body) is recheck.Need.NOT_APPLIED
    assert recheck.status_need(gto(CONFIGMAP)) is None


def test_a_child_event_at_the_noted_version_is_the_applys_own_write():
    assert recheck.child_event("7", noted="7") is recheck.Verdict.OWN


@pytest.mark.parametrize("noted", ["6", None], ids=["other-version", "nothing-noted"])
def test_a_child_event_at_another_version_queues_an_apply(noted):
    assert recheck.child_event("7", noted=noted) is recheck.Verdict.APPLY


def test_a_child_event_during_an_applys_write_waits_for_its_note_but_not_for_ever():
    assert recheck.child_event("7", noted=recheck.WRITING) is recheck.Verdict.SETTLE
    waited = recheck.SETTLE_WAIT + 0.1  # the apply died before noting: treated as a change
    assert recheck.child_event("7", noted=recheck.WRITING, waited=waited) is recheck.Verdict.APPLY


def deleting(body: dict[str, Any], *finalizers: str) -> dict[str, Any]:
    meta = {**body["metadata"], "deletionTimestamp": "2026-12-04T06:00:00Z",
            "finalizers": list(finalizers)}  # fmt: skip
    return {**body, "metadata": meta}


def test_a_gto_event_queues_an_apply_when_its_spec_changed_or_it_is_new_and_not_applied():
    applied, stale = gto(CONFIGMAP), gto(CONFIGMAP, observed=1)
    assert recheck.event_needs_apply(applied, old_generation=1)
    assert not recheck.event_needs_apply(applied, old_generation=2)  # a status write
    assert not recheck.event_needs_apply(applied, old_generation=None)  # a watcher starting
    assert recheck.event_needs_apply(stale, old_generation=None)


def test_a_gto_being_deleted_needs_an_apply_only_to_release_a_protected_child():
    plain = deleting(gto(CONFIGMAP, observed=1), "foregroundDeletion")
    protected = deleting(gto(CONFIGMAP), "faros.pusher.com/release-child")

    assert not recheck.event_needs_apply(plain, old_generation=1)
    assert recheck.status_need(plain) is None
    assert recheck.need(plain, None, noted=None) is None
    assert recheck.event_needs_apply(protected, old_generation=2)
    assert recheck.status_need(protected) is recheck.Need.RELEASE
    assert recheck.need(protected, child(), noted="7") is recheck.Need.RELEASE


def test_only_a_not_applied_object_trusts_its_pending_apply():
    assert not recheck.overrides_pending(recheck.Need.NOT_APPLIED)
    for need in (recheck.Need.MOVED, recheck.Need.MISSING, recheck.Need.RELEASE):
        assert recheck.overrides_pending(need)


def test_a_gto_event_of_a_sync_applying_in_place_waits_for_the_status_it_writes():
    mark = recheck.IN_PLACE
    assert recheck.in_place_event(mark, applied=False, waited=0.0) is recheck.Verdict.SETTLE
    assert recheck.in_place_event(mark, applied=True, waited=0.0) is recheck.Verdict.OWN
    waited = recheck.SETTLE_WAIT + 0.1  # the sync died before its apply: queued after all
    assert recheck.in_place_event(mark, applied=False, waited=waited) is recheck.Verdict.APPLY


@pytest.mark.parametrize("mark", ["", None], ids=["cleared-after-a-failure", "never-marked"])
def test_a_gto_event_without_the_in_place_mark_queues_an_apply_at_once(mark):
    assert recheck.in_place_event(mark, applied=False, waited=0.0) is recheck.Verdict.APPLY
