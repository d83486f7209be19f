"""spec.suspend: the Suspended condition, present only once a GitTrack was ever suspended."""

from __future__ import annotations

import datetime

from faros.api import types
from faros.core import suspension, transitions

T0 = datetime.datetime(2026, 12, 4, 6, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)


def test_only_a_literal_true_suspends():
    assert suspension.is_suspended({"spec": {"suspend": True}})
    for spec in ({}, {"suspend": False}, {"suspend": "true"}, {"suspend": None}):
        assert not suspension.is_suspended({"spec": spec})
    assert not suspension.is_suspended(None)


def test_a_gittrack_never_suspended_gets_no_condition():
    existing: list[types.Condition] = [{"type": "FilesFetched", "status": "True"}]
    assert suspension.with_suspension(existing, suspended=False, now=T0) == existing


def test_suspended_since_the_transition_then_resumed():
    suspended = suspension.with_suspension([], suspended=True, now=T0)
    again = suspension.with_suspension(suspended, suspended=True, now=T1)
    found = transitions.find(again, suspension.SUSPENDED)
    assert found is not None
    assert (found["status"], found["reason"]) == ("True", "Suspended")
    assert found["lastTransitionTime"] == transitions.timestamp(T0)  # since when: kept
    assert suspension.was_suspended({"conditions": again})

    resumed = suspension.with_suspension(again, suspended=False, now=T1)
    found = transitions.find(resumed, suspension.SUSPENDED)
    assert found is not None
    assert (found["status"], found["reason"]) == ("False", "Resumed")
    assert found["lastTransitionTime"] == transitions.timestamp(T1)
    assert not suspension.was_suspended({"conditions": resumed})
