"""Drift attribution: which fields differed, and which field manager last wrote them."""

from __future__ import annotations

from typing import Any

from faros.core import attribution

DESIRED = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "a", "labels": {"team": "x"},
                        "annotations": {"faros.pusher.com/last-applied-configuration": "{}"}},
           "data": {"colour": "blue", "size": "s"}}  # fmt: skip


def live(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "labels": {"team": "x"}, "managedFields": list(entries),
                         "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "x"}},
            "data": {"colour": "red", "size": "s", "extra": "kept"}}  # fmt: skip


FAROS = {"manager": "faros", "operation": "Update", "time": "2026-12-04T05:00:00Z",
         "fieldsV1": {"f:data": {"f:colour": {}, "f:size": {}}}}  # fmt: skip
EDIT = {"manager": "kubectl-edit", "operation": "Update", "time": "2026-12-04T06:00:00Z",
        "fieldsV1": {"f:data": {"f:colour": {}}}}  # fmt: skip
OLD_PATCH = {"manager": "x", "operation": "Update", "time": "2026-12-04T05:30:00Z",
             "fieldsV1": {"f:data": {"f:colour": {}}}}  # fmt: skip


def test_the_drifted_fields_are_named_and_faros_own_annotations_ignored():
    assert attribution.drifted(DESIRED, live()) == [("data", "colour")]


def test_the_latest_writer_of_a_field_is_blamed_never_faros():
    changes = attribution.attribute([("data", "colour")], live(FAROS, OLD_PATCH, EDIT))
    assert changes == [attribution.Change("data.colour", "kubectl-edit", "Update",
                                          "2026-12-04T06:00:00Z")]  # fmt: skip
    (only_faros,) = attribution.attribute([("data", "colour")], live(FAROS))
    assert only_faros.manager == attribution.UNKNOWN


def test_a_parent_owned_as_a_whole_counts():
    apply = {"manager": "deployer", "operation": "Apply", "time": "2026-12-04T06:01:00Z",
             "fieldsV1": {"f:data": {".": {}}}}  # fmt: skip
    (change,) = attribution.attribute([("data", "colour")], live(apply))
    assert (change.manager, change.operation) == ("deployer", "Apply")


def test_the_event_names_fields_writers_and_times():
    changes = attribution.attribute([("data", "colour"), ("data", "size")], live(EDIT))
    text = attribution.message("ConfigMap team/a", changes)
    assert text == ("Reverted drift on ConfigMap team/a: data.colour (by kubectl-edit, Update, "
                    "2026-12-04T06:00:00Z); data.size (writer unknown)")  # fmt: skip
    many = [attribution.Change(f"data.k{i}", "m") for i in range(7)]
    assert attribution.message("x", many).endswith("data.k4 (by m) and 2 more")
    assert "deleted" in attribution.message("x", [], deleted=True)


def test_manager_labels_are_bounded():
    labels = attribution.ManagerLabels(limit=2)
    assert [labels.label(m) for m in ("a", "b", "c", "a", "")] == ["a", "b", "other", "a",
                                                                   "unknown"]  # fmt: skip
    assert attribution.managers([], deleted=True) == ["unknown"]
    assert attribution.managers([attribution.Change("p", "b"), attribution.Change("q", "a"),
                                 attribution.Change("r", "b")]) == ["a", "b"]  # fmt: skip
