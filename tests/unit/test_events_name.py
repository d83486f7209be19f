"""Event aggregation: one Event object per (object, type, reason, message), across processes."""

from typing import Any

from faros.kube import events

META = {"name": "configmap-web", "namespace": "team", "uid": "u-1"}
GTO: dict[str, Any] = {"kind": "GitTrackObject", "metadata": META}


def name(involved=GTO, kind="Normal", reason="UpdateSuccessful", message="Successfully updated"):
    return events.name(involved=involved, kind=kind, reason=reason, message=message)


def test_the_same_event_always_has_the_same_name():
    assert name() == name()
    assert name().startswith("configmap-web.")


def test_anything_the_event_says_changes_the_name():
    other_object = {**GTO, "metadata": {**META, "uid": "u-2"}}
    assert len({name(), name(kind="Warning"), name(reason="UpdateFailed"),
                name(message="other"), name(involved=other_object)}) == 5  # fmt: skip


def test_names_stay_valid_for_long_object_names():
    long = {**GTO, "metadata": {**META, "name": "x" * 253}}
    assert len(name(involved=long)) <= 253
