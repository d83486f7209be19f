"""Drift reverts and commit-to-applied latency are decided from the GitTrackObject alone."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from faros.api import names
from faros.core import delivery

NOW = datetime.datetime(2026, 1, 1, 12, 0, 10, tzinfo=datetime.UTC)


def gto(*, generation: int = 2, observed: int | None = 2, in_sync: str | None = "True",
        synced_at: str | None = "2026-01-01T12:00:00.000Z") -> dict[str, Any]:  # fmt: skip
    body: dict[str, Any] = {"metadata": {"name": "x", "generation": generation}}
    if synced_at is not None:
        body["metadata"]["annotations"] = {names.SYNCED_AT_ANNOTATION: synced_at}
    status: dict[str, Any] = {}
    if observed is not None:
        status["observedGeneration"] = observed
    if in_sync is not None:
        status["conditions"] = [{"type": "ObjectInSync", "status": in_sync}]
    if status:
        body["status"] = status
    return body


@pytest.mark.parametrize(
    ("body", "written", "expected"),
    [
        (gto(), True, True),
        (gto(), False, False),
        (gto(generation=3), True, False),
        (gto(in_sync="False"), True, False),
        (gto(observed=None), True, False),
        (gto(in_sync=None), True, False),
    ],
    ids=[
        "applied-generation-written-again-is-drift",
        "nothing-written-is-no-drift",
        "new-generation-is-a-deploy",
        "last-apply-failed-is-no-drift",
        "never-reported-is-no-drift",
        "no-condition-is-no-drift",
    ],
)
def test_drift_revert_is_a_write_of_an_already_applied_generation(body, written, expected):
    assert delivery.is_drift_revert(body, written=written) is expected


def test_latency_is_measured_on_the_first_successful_apply_of_a_generation():
    assert delivery.applied_latency(gto(generation=3), now=NOW) == 10.0
    assert delivery.applied_latency(gto(in_sync="False"), now=NOW) == 10.0


def test_latency_is_not_measured_again_for_an_applied_generation():
    assert delivery.applied_latency(gto(), now=NOW) is None


@pytest.mark.parametrize("stamp", [None, "", "yesterday", "2026-01-01T12:00:00"])
def test_latency_needs_a_valid_stamp(stamp):
    assert delivery.applied_latency(gto(generation=3, synced_at=stamp), now=NOW) is None


def test_latency_is_never_negative():
    late = gto(generation=3, synced_at="2026-01-01T12:00:20.000Z")
    assert delivery.applied_latency(late, now=NOW) == 0.0


def test_stamp_is_utc_with_milliseconds():
    local = datetime.datetime(2026, 1, 1, 13, 0, 0, 123456,
                              tzinfo=datetime.timezone(datetime.timedelta(hours=1)))  # fmt: skip
    assert delivery.synced_at(local) == "2026-01-01T12:00:00.123Z"
    with pytest.raises(ValueError, match="time zone"):
        delivery.synced_at(datetime.datetime(2026, 1, 1))


def with_health(status: str, changed: str) -> dict[str, Any]:
    body = gto()
    body["status"]["conditions"].append(
        {"type": "Healthy", "status": status, "lastTransitionTime": changed}
    )
    return body


@pytest.mark.parametrize(
    ("body", "latency"),
    [(gto(), 10.0),
     (with_health("Unknown", "2026-01-01T11:00:00Z"), 10.0),
     (with_health("True", "2026-01-01T11:00:00Z"), None),
     (with_health("False", "2026-01-01T12:00:05Z"), None),
     (gto(synced_at=None), None)],
    ids=["first-health", "in-progress-before-the-data", "healthy-already", "a-recovery",
         "no-stamp"],
)  # fmt: skip
def test_commit_to_healthy_is_measured_once_per_delivery(body, latency):
    assert delivery.healthy_latency(body, now=NOW) == latency
