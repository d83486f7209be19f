"""A GitTrack's Ready, Reconciling and Stalled conditions, from its status and children."""

from __future__ import annotations

import datetime

import pytest

from faros.core import health, readiness

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
OK = health.Health(health.Status.CURRENT, "Current", "")
SLOW = health.Health(health.Status.IN_PROGRESS, "LessAvailable", "1 of 3 available")
BROKEN = health.Health(health.Status.FAILED, "ProgressDeadlineExceeded", "timed out progressing")


def synced(**changes):
    conditions = [{"type": kind, "status": "True", "reason": "x", "message": ""}
                  for kind in ("FilesParsed", "FilesFetched", "ChildrenGarbageCollected",
                               "ChildrenUpToDate")]  # fmt: skip
    return {"objectsApplied": 2, "observedGeneration": 1, "conditions": conditions, **changes}


def child(label="Deployment web", *, applied=True, failure="", state=OK):
    return readiness.Child(label, applied, failure, state)


def assess(children, status=None, **options):
    return readiness.assess(status=status or synced(), generation=1, children=children, **options)


def test_every_child_applied_and_healthy_is_ready():
    state = assess([child(), child("Service web")])
    assert state.ready == ("True", "Succeeded", "")
    assert state.reconciling[0] == "False"
    assert state.stalled[0] == "False"
    assert (state.in_sync, state.healthy) == (2, 2)


def test_a_failed_child_stalls_and_is_named():
    state = assess([child(state=BROKEN), child("Service web")])
    assert state.stalled[:2] == ("True", "ChildrenFailed")
    assert state.ready[0] == "False"
    assert "Deployment web: ProgressDeadlineExceeded" in state.ready[2]
    assert state.healthy == 1


def test_a_child_in_progress_is_reconciling_not_stalled():
    state = assess([child(state=SLOW), child("Service web")])
    assert state.reconciling[:2] == ("True", "Progressing")
    assert state.stalled[0] == "False"
    assert state.ready[:2] == ("False", "ChildrenNotReady")
    assert "Deployment web: LessAvailable" in state.ready[2]


@pytest.mark.parametrize(
    ("children", "why"),
    [([child(applied=False), child("Service web")], "Deployment web: NotApplied"),
     ([child(state=None), child("Service web")], "Deployment web: NotAssessed"),
     ([child()], "1 objects not written yet")],
    ids=["not-applied", "not-assessed", "missing-gitrackobject"],
)  # fmt: skip
def test_work_still_to_do_is_reconciling(children, why):
    state = assess(children)
    assert state.reconciling[0] == "True"
    assert why in state.reconciling[2]
    assert state.ready[0] == "False"


def test_an_apply_failed_on_bad_input_stalls():
    failure = "ErrorUpdatingChild: error updating child ConfigMap c: invalid"
    state = assess([child(failure=failure), child("Service web")])
    assert state.stalled[:2] == ("True", "ChildrenFailed")
    assert "ErrorUpdatingChild" in state.ready[2]


def test_a_sync_condition_false_stalls_with_its_message():
    status = synced()
    message = "failed to checkout 'v2': reference not found"
    status["conditions"][1] = {"type": "FilesFetched", "status": "False", "reason": "x",
                               "message": message}  # fmt: skip
    state = assess(None, status)
    assert state.stalled == ("True", "SyncFailed", f"FilesFetched: {message}")
    assert state.ready[0] == "False"
    assert state.healthy is None


def test_a_sync_waiting_is_reconciling_with_its_reason():
    state = assess([child(), child("Service web")], waiting="waiting for Namespace team")
    assert state.reconciling == ("True", "Waiting", "waiting for Namespace team")
    assert state.ready == ("False", "Waiting", "waiting for Namespace team")


def test_a_generation_not_synced_yet_is_not_ready():
    state = readiness.assess(status=synced(), generation=2, children=[child(), child("S s")])
    assert state.ready[0] == "False"
    assert "not synced yet" in state.ready[2]


def test_conditions_are_read_back_from_gitrackobjects():
    gto = {
        "metadata": {"name": "deployment-web", "namespace": "team", "generation": 3},
        "spec": {"kind": "Deployment", "name": "web"},
        "status": {"observedGeneration": 3, "conditions": [
            {"type": "ObjectInSync", "status": "True", "reason": "ChildAppliedSuccess"},
            {"type": "Healthy", "status": "False", "reason": "ProgressDeadlineExceeded",
             "message": "timed out"}]},
    }  # fmt: skip
    read = readiness.child(gto)
    assert read.label == "Deployment team/web"
    assert read.applied
    assert read.health is not None
    assert read.health.status is health.Status.FAILED
    retrying = {**gto, "status": {"conditions": [
        {"type": "ObjectInSync", "status": "False", "reason": "ErrorUpdatingChild",
         "message": "boom" + readiness.RETRYING}]}}  # fmt: skip
    assert readiness.child(retrying).failure == ""


@pytest.mark.parametrize(
    ("state", "condition"),
    [(OK, ("True", "Current", "")), (BROKEN, ("False", BROKEN.reason, BROKEN.message)),
     (SLOW, ("Unknown", SLOW.reason, SLOW.message))],
    ids=["current", "failed", "in-progress"],
)  # fmt: skip
def test_healthy_condition_of_a_child(state, condition):
    assert readiness.healthy_condition(state) == condition


def test_conditions_are_set_on_the_status_and_keep_their_times():
    state = assess([child(), child("Service web")])
    first = readiness.with_readiness(synced(), state, now=NOW)
    later = readiness.with_readiness(first, state, now=NOW + datetime.timedelta(hours=1))
    assert first == later
    assert {c["type"] for c in first["conditions"]} >= {"Ready", "Reconciling", "Stalled"}
    assert first["objectsHealthy"] == 2


def test_objects_in_sync_count_applied_children_but_never_more_than_were_applied():
    status = synced(objectsApplied=2, objectsInSync=0)
    counted = readiness.with_readiness(status, assess([child(), child("Service web")]), now=NOW)
    assert counted["objectsInSync"] == 2
    one = readiness.with_readiness(status, assess([child(), child(applied=False)]), now=NOW)
    assert one["objectsInSync"] == 1
    capped = synced(objectsApplied=1, objectsInSync=0)
    assert readiness.with_readiness(capped, assess([child(), child()]), now=NOW)[
        "objectsInSync"] == 1  # fmt: skip
    unknown = readiness.assess(status=status, generation=1, children=None)
    assert readiness.with_readiness(status, unknown, now=NOW)["objectsInSync"] == 0  # kept
