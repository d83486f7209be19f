"""GitTrack status: the four conditions, stale steps, kept counters, no-op detection (spec 1.2)."""

import datetime
from typing import Any

import pytest

from faros.api import types
from faros.core import errors, identity, manifests, synccalc, trackstatus
from faros.core.synccalc import ObjectResult, Outcome
from faros.core.trackstatus import SyncReport

T0 = datetime.datetime(2019, 4, 3, 9, 11, 54, tzinfo=datetime.UTC)
T1, T2 = T0 + datetime.timedelta(minutes=5), T0 + datetime.timedelta(minutes=10)
S0, S1, S2 = "2019-04-03T09:11:54Z", "2019-04-03T09:16:54Z", "2019-04-03T09:21:54Z"

OBJ = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx"}}
DEPLOYMENT = identity.gto_key(namespace="default", name="deployment-nginx")
SERVICE = identity.gto_key(namespace="default", name="service-nginx")
INVALID = manifests.FileResult(
    "invalid_file.yaml", (), errors.ManifestError(path="invalid_file.yaml", reason="bad")
)
HEALTHY = SyncReport(
    files=(
        manifests.FileResult("deployment.yaml", (OBJ,)),
        manifests.FileResult("service.yaml", (OBJ,)),
    ),
    results=(ObjectResult(DEPLOYMENT, Outcome.APPLIED), ObjectResult(SERVICE, Outcome.APPLIED)),
    revision="a144436",
)
GIT_ERROR = (
    "failed to checkout 'does-not-exist': unable to parse ref does-not-exist: reference not found"
)
TYPES = ["FilesParsed", "FilesFetched", "ChildrenGarbageCollected", "ChildrenUpToDate"]


def summary(status: types.GitTrackStatus) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in status["conditions"]}


def times(status: types.GitTrackStatus, kind: str) -> tuple[str, str]:
    (condition,) = [c for c in status["conditions"] if c["type"] == kind]
    return condition["lastUpdateTime"], condition["lastTransitionTime"]


def counters(status: types.GitTrackStatus) -> list[int]:
    return [
        status["objectsDiscovered"],
        status["objectsApplied"],
        status["objectsIgnored"],
        status["objectsInSync"],
    ]


def test_first_healthy_sync():
    status = trackstatus.for_gittrack(previous=None, report=HEALTHY, now=T0)
    assert [c["type"] for c in status["conditions"]] == TYPES
    assert summary(status) == {
        "FilesParsed": ("True", "FileParseSuccess", ""),
        "FilesFetched": ("True", "GitFetchSuccess", ""),
        "ChildrenGarbageCollected": ("True", "GCSuccess", ""),
        "ChildrenUpToDate": ("True", "ChildUpdateSuccess", ""),
    }
    assert times(status, "ChildrenUpToDate") == (S0, S0)
    assert counters(status) == [2, 2, 0, 0]
    assert "ignoredFiles" not in status
    assert status["revision"] == "a144436"


def test_a_sync_that_learnt_nothing_writes_nothing():
    first = trackstatus.for_gittrack(previous=None, report=HEALTHY, now=T0)
    second = trackstatus.for_gittrack(previous=first, report=HEALTHY, now=T1)
    assert second == first
    assert not trackstatus.status_changed(first, second)


def test_parse_error_skips_gc_and_says_so_keeping_the_last_gc_result():
    first = trackstatus.for_gittrack(previous=None, report=HEALTHY, now=T0)
    report = SyncReport(
        files=(INVALID, *HEALTHY.files),
        results=HEALTHY.results,
        gc=synccalc.GcPlan(skipped=synccalc.GC_SKIPPED_PARSE),
    )
    status = trackstatus.for_gittrack(previous=first, report=report, now=T1)
    assert summary(status)["FilesParsed"] == (
        "False",
        "ErrorParsingFiles",
        "invalid_file.yaml: unable to parse 'invalid_file.yaml': bad\n",
    )
    assert summary(status)["ChildrenGarbageCollected"] == (
        "True",
        "GCSuccess",
        synccalc.GC_SKIPPED_PARSE,
    )
    assert times(status, "ChildrenGarbageCollected") == (S1, S0)
    assert status["ignoredFiles"] == {
        "invalid_file.yaml": "unable to parse 'invalid_file.yaml': bad\n"
    }
    assert counters(status) == [2, 2, 1, 0]
    assert status["revision"] == "a144436"


def test_first_sync_with_a_parse_error_never_claims_gc_success():
    report = SyncReport(files=(INVALID,), gc=synccalc.GcPlan(skipped=synccalc.GC_SKIPPED_PARSE))
    status = trackstatus.for_gittrack(previous=None, report=report, now=T0)
    assert summary(status)["ChildrenGarbageCollected"] == (
        "False",
        "ErrorDeletingChildren",
        synccalc.GC_SKIPPED_PARSE,
    )


def test_git_error_keeps_counters_and_marks_the_rest_stale():
    ignored = SyncReport(
        files=HEALTHY.files,
        results=(ObjectResult(DEPLOYMENT, Outcome.IGNORED, "why"), HEALTHY.results[1]),
        revision="a144436",
    )
    first = trackstatus.for_gittrack(previous=None, report=ignored, now=T0)
    status = trackstatus.for_gittrack(
        previous=first, report=SyncReport(source_error=GIT_ERROR), now=T1
    )
    assert summary(status) == {
        "FilesParsed": ("True", "FileParseSuccess", trackstatus.NOT_FETCHED),
        "FilesFetched": ("False", "ErrorFetchingFiles", GIT_ERROR),
        "ChildrenGarbageCollected": ("True", "GCSuccess", trackstatus.NOT_FETCHED),
        "ChildrenUpToDate": ("True", "ChildUpdateSuccess", trackstatus.NOT_FETCHED),
    }
    assert counters(status) == counters(first) == [2, 1, 1, 0]
    assert status["ignoredFiles"] == first["ignoredFiles"] == {"default/deployment-nginx": "why"}
    assert status["revision"] == "a144436"
    assert times(status, "FilesFetched") == (S1, S1)
    assert times(status, "FilesParsed") == (S1, S0)


def test_first_sync_with_a_git_error():
    status = trackstatus.for_gittrack(
        previous=None, report=SyncReport(source_error=GIT_ERROR), now=T0
    )
    assert counters(status) == [0, 0, 0, 0]
    assert summary(status)["ChildrenUpToDate"] == (
        "False",
        "ErrorUpdatingChildren",
        trackstatus.NOT_FETCHED,
    )
    assert "revision" not in status


def test_messages_are_always_current_and_redacted():
    first = trackstatus.for_gittrack(
        previous=None, report=SyncReport(source_error="timeout"), now=T0
    )
    error = "failed to get repository 'https://user:token@host/r': repository not found'"
    second = trackstatus.for_gittrack(previous=first, report=SyncReport(source_error=error), now=T1)
    assert summary(second)["FilesFetched"] == (
        "False",
        "ErrorFetchingFiles",
        "failed to get repository 'https://host/r': repository not found'",
    )
    assert times(second, "FilesFetched") == (S1, S0)


def test_failed_objects_and_failed_deletes():
    report = SyncReport(
        files=HEALTHY.files,
        results=(
            ObjectResult(SERVICE, Outcome.FAILED, "e2"),
            ObjectResult(DEPLOYMENT, Outcome.FAILED, "e1"),
        ),
        gc_errors=("failed to delete child for 'default/x': 'forbidden'",),
    )
    status = trackstatus.for_gittrack(previous=None, report=report, now=T0)
    assert summary(status)["ChildrenUpToDate"] == ("False", "ErrorUpdatingChildren", "e1,\ne2")
    assert summary(status)["ChildrenGarbageCollected"] == (
        "False",
        "ErrorDeletingChildren",
        "failed to delete child for 'default/x': 'forbidden'",
    )
    assert status["ignoredFiles"] == {
        "default/deployment-nginx": "e1",
        "default/service-nginx": "e2",
    }
    assert counters(status) == [2, 0, 2, 0]


def test_order_is_fixed_and_foreign_conditions_are_kept():
    first = trackstatus.for_gittrack(previous=None, report=HEALTHY, now=T0)
    foreign: types.Condition = {"type": "Ready", "status": "True", "reason": "X"}
    scrambled: types.GitTrackStatus = {
        **first,
        "conditions": [foreign, *reversed(first["conditions"])],
    }
    status = trackstatus.for_gittrack(previous=scrambled, report=HEALTHY, now=T2)
    assert [c["type"] for c in status["conditions"]] == [*TYPES, "Ready"]
    assert times(status, "FilesFetched") == (S0, S0)


def test_observed_generation_is_carried():
    previous = trackstatus.for_gittrack(previous=None, report=HEALTHY, now=T0)
    previous["observedGeneration"] = 3
    assert (
        trackstatus.for_gittrack(previous=previous, report=HEALTHY, now=T1)["observedGeneration"]
        == 3
    )


CONDITION: dict[str, str] = {
    "type": "A",
    "status": "True",
    "reason": "R",
    "message": "",
    "lastUpdateTime": S0,
    "lastTransitionTime": S0,
}
BASE: dict[str, Any] = {
    "objectsDiscovered": 1,
    "objectsApplied": 1,
    "objectsIgnored": 0,
    "objectsInSync": 0,
    "conditions": [CONDITION],
}
CHANGES = [
    ("nothing", BASE, False),
    (
        "update-time-only",
        {**BASE, "conditions": [{**CONDITION, "lastUpdateTime": S1}]},
        False,
    ),
    ("empty-ignored-files", {**BASE, "ignoredFiles": {}}, False),
    ("counter", {**BASE, "objectsInSync": 1}, True),
    ("message", {**BASE, "conditions": [{**CONDITION, "message": "m"}]}, True),
    (
        "transition-time",
        {**BASE, "conditions": [{**CONDITION, "lastTransitionTime": S1}]},
        True,
    ),
    ("ignored-files", {**BASE, "ignoredFiles": {"a.yaml": "x"}}, True),
    ("revision", {**BASE, "revision": "abc"}, True),
]


@pytest.mark.parametrize(("new", "changed"), [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_status_changed(new, changed):
    assert trackstatus.status_changed(BASE, new) is changed


def test_no_previous_status_is_a_change():
    assert trackstatus.status_changed(None, BASE)


def test_gc_waiting_for_discovery_says_why_and_keeps_the_last_result():
    first = trackstatus.for_gittrack(previous=None, report=HEALTHY, now=T0)
    waiting = synccalc.GcPlan(waiting=(identity.gto_key(namespace="", name="widget-w"),))
    report = SyncReport(files=HEALTHY.files, results=HEALTHY.results, gc=waiting)

    status = trackstatus.for_gittrack(previous=first, report=report, now=T1)

    assert summary(status)["ChildrenGarbageCollected"] == (
        "True", "GCSuccess", waiting.waiting_message,
    )  # fmt: skip
    assert "widget-w" in waiting.waiting_message


def test_a_deletion_budget_stop_is_a_false_gc_condition_with_its_own_reason():
    blocked = synccalc.GcPlan(blocked=("DeletionBudgetExceeded", "would delete 4 of 5"))
    status = trackstatus.for_gittrack(
        previous=None, report=SyncReport(files=HEALTHY.files, results=HEALTHY.results, gc=blocked),
        now=T0,
    )  # fmt: skip
    assert summary(status)["ChildrenGarbageCollected"] == (
        "False", "DeletionBudgetExceeded", "would delete 4 of 5",
    )  # fmt: skip
    assert summary(status)["ChildrenUpToDate"] == ("True", "ChildUpdateSuccess", "")
