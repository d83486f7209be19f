"""Condition setting (spec 1.2) with current messages and stable order and times."""

import datetime

import pytest

from faros.api import types
from faros.api.conditions import ConditionStatus
from faros.core import transitions

T0 = datetime.datetime(2019, 4, 3, 9, 11, 54, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)
S0, S1 = "2019-04-03T09:11:54Z", "2019-04-03T09:16:54Z"


def condition(
    kind: str,
    status: str,
    reason: str,
    message: str = "",
    *,
    updated: str = S0,
    transitioned: str = S0,
) -> types.Condition:
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": updated,
        "lastTransitionTime": transitioned,
        "reason": reason,
        "message": message,
    }


OLD = [condition("A", "True", "Ok"), condition("B", "False", "Bad", "boom")]

CASES = [
    (
        "new-type-appended",
        "C",
        ConditionStatus.TRUE,
        "Ok",
        "",
        [*OLD, condition("C", "True", "Ok", updated=S1, transitioned=S1)],
    ),
    ("identical-kept-with-its-times", "B", ConditionStatus.FALSE, "Bad", "boom", OLD),
    (
        "message-change-is-written",
        "B",
        ConditionStatus.FALSE,
        "Bad",
        "bang",
        [OLD[0], condition("B", "False", "Bad", "bang", updated=S1)],
    ),
    (
        "reason-change-keeps-transition",
        "B",
        ConditionStatus.FALSE,
        "Worse",
        "boom",
        [OLD[0], condition("B", "False", "Worse", "boom", updated=S1)],
    ),
    (
        "status-change-transitions",
        "A",
        ConditionStatus.FALSE,
        "Bad",
        "x",
        [condition("A", "False", "Bad", "x", updated=S1, transitioned=S1), OLD[1]],
    ),
]


@pytest.mark.parametrize(
    ("kind", "status", "reason", "message", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_set_condition(kind, status, reason, message, expected):
    result = transitions.set_condition(
        OLD, condition_type=kind, status=status, reason=reason, message=message, now=T1
    )
    assert result == expected
    assert [
        condition("A", "True", "Ok"),
        condition("B", "False", "Bad", "boom"),
    ] == OLD  # unchanged


def test_a_condition_without_transition_time_gets_now():
    old: list[types.Condition] = [{"type": "A", "status": "True", "reason": "Ok"}]
    (new,) = transitions.set_condition(
        old, condition_type="A", status=ConditionStatus.TRUE, reason="Ok2", message="", now=T1
    )
    assert new["lastTransitionTime"] == S1


TIMES = [
    ("utc", T0, S0),
    ("other-zone", T0.astimezone(datetime.timezone(datetime.timedelta(hours=1))), S0),
    ("microseconds-dropped", T0.replace(microsecond=999_999), S0),
]


@pytest.mark.parametrize(("now", "text"), [t[1:] for t in TIMES], ids=[t[0] for t in TIMES])
def test_timestamp(now, text):
    assert transitions.timestamp(now) == text


def test_timestamp_refuses_naive_times():
    with pytest.raises(ValueError, match="aware"):
        transitions.timestamp(datetime.datetime(2019, 1, 1))


def test_find_and_without_update_times():
    assert transitions.find(OLD, "B") == OLD[1]
    assert transitions.find(OLD, "Z") is None
    assert transitions.without_update_times(OLD)[0] == {
        "type": "A",
        "status": "True",
        "lastTransitionTime": S0,
        "reason": "Ok",
        "message": "",
    }
