"""Field paths: JSON pointers, managedFields (FieldsV1), get/put/remove, and differences."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from faros.core import fieldpaths

DEPLOYMENT: dict[str, Any] = {
    "spec": {"replicas": 3, "template": {"spec": {"containers": [
        {"name": "web", "image": "nginx:1", "ports": [{"containerPort": 80}]},
        {"name": "side", "image": "envoy:1"},
    ]}}},
}  # fmt: skip


@pytest.mark.parametrize(("pointer", "path"), [
    ("", ()), ("/spec/replicas", ("spec", "replicas")),
    ("/metadata/annotations/a~1b~0c", ("metadata", "annotations", "a/b~c")),
    ("/spec/containers/0/image", ("spec", "containers", "0", "image")),
])  # fmt: skip
def test_pointers(pointer, path):
    assert fieldpaths.parse_pointer(pointer) == path


@pytest.mark.parametrize("pointer", ["spec/replicas", "/a/~2", "/a~"])
def test_bad_pointers_are_refused(pointer):
    with pytest.raises(fieldpaths.PointerError, match="JSON pointer"):
        fieldpaths.parse_pointer(pointer)


def test_managed_fields_become_paths():
    fields = {
        "f:metadata": {"f:labels": {".": {}, "f:team": {}}},
        "f:spec": {"f:replicas": {}, "f:template": {"f:spec": {"f:containers": {
            'k:{"name":"web"}': {".": {}, "f:image": {}}}}}},
        "f:finalizers": {'v:"x"': {}},
    }  # fmt: skip
    paths = fieldpaths.managed_paths(fields)
    assert ("metadata", "labels") in paths
    assert ("metadata", "labels", "team") in paths
    assert ("spec", "replicas") in paths
    assert ("spec", "template", "spec", "containers", {"name": "web"}) in paths
    assert ("spec", "template", "spec", "containers", {"name": "web"}, "image") in paths
    assert ("finalizers",) in paths  # a set member: the list as a whole
    assert fieldpaths.managed_paths(None) == []


def test_get_put_remove_follow_keys_and_indexes():
    obj: dict[str, Any] = copy.deepcopy(DEPLOYMENT)
    web = ("spec", "template", "spec", "containers", {"name": "web"}, "image")
    assert fieldpaths.get(DEPLOYMENT, web) == "nginx:1"
    assert fieldpaths.get(DEPLOYMENT, ("spec", "template", "spec", "containers", "1", "image")) == (
        "envoy:1")  # fmt: skip
    assert fieldpaths.get(DEPLOYMENT, ("spec", "nope")) is fieldpaths.MISSING
    assert fieldpaths.put(obj, web, "nginx:2")
    assert fieldpaths.get(obj, web) == "nginx:2"
    assert fieldpaths.put(obj, ("spec", "new", "deep"), 1)  # maps are created
    assert obj["spec"]["new"] == {"deep": 1}
    assert not fieldpaths.put(
        obj, ("spec", "template", "spec", "containers", {"name": "x"}, "a"), 1
    )
    assert fieldpaths.remove(obj, ("spec", "new"))
    assert not fieldpaths.remove(obj, ("spec", "new"))


def test_render_and_covers():
    path = ("spec", "template", "spec", "containers", {"name": "web"}, "image")
    assert fieldpaths.render(path) == "spec.template.spec.containers[name=web].image"
    assert fieldpaths.render(("data", "x.y")) == "data.x.y"
    assert fieldpaths.covers(("spec",), path)
    assert fieldpaths.covers(path, ("spec", "template"))
    assert not fieldpaths.covers(("spec", "replicas"), path)
    assert not fieldpaths.covers(("spec", "template", "spec", "containers", {"name": "side"}), path)


def test_differences_are_the_fields_desired_sets_that_live_does_not_hold():
    live = {"spec": {"replicas": 5, "paused": False, "template": {"spec": {"containers": [
        {"name": "side", "image": "envoy:1"},
        {"name": "web", "image": "nginx:2", "ports": [{"containerPort": 80, "protocol": "TCP"}],
         "resources": {}},
    ]}}}}  # fmt: skip
    found = list(fieldpaths.differences(DEPLOYMENT, live))
    assert found == [  # fields only live sets (defaults) are no difference
        ("spec", "replicas"),
        ("spec", "template", "spec", "containers", {"name": "web"}, "image"),
    ]
    assert list(fieldpaths.differences({"data": {"a": "1"}}, {"data": {"a": "1"}})) == []
    assert list(fieldpaths.differences({"data": {"a": "1"}}, {})) == [("data",)]
    assert list(fieldpaths.differences({"args": ["a", "b"]}, {"args": ["b", "a"]})) == [("args",)]
