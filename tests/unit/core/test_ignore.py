"""spec.ignoreDifferences: which objects a rule selects, and what the apply then leaves alone."""

from __future__ import annotations

from typing import Any

import pytest

from faros.core import identity, ignore

WEB = identity.ObjectKey("apps", "v1", "Deployment", "team", "web")
LIVE: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "team", "labels": {"app": "web", "hpa": "on"},
                 "managedFields": [
        {"manager": "faros", "operation": "Update", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
        {"manager": "hpa", "operation": "Update",
         "fieldsV1": {"f:spec": {"f:replicas": {}}, "f:status": {"f:replicas": {}}}},
        {"manager": "hpa", "operation": "Update", "subresource": "status",
         "fieldsV1": {"f:metadata": {"f:labels": {"f:hpa": {}}}}},
    ]},
    "spec": {"replicas": 7, "paused": True},
    "status": {"replicas": 7},
}  # fmt: skip
DESIRED = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "team", "labels": {"app": "web"}},
           "spec": {"replicas": 2, "minReadySeconds": 5}}  # fmt: skip


def test_selectors_narrow_and_the_gto_keeps_only_the_fields():
    rules = ignore.parse([
        {"kind": "Deployment", "jsonPointers": ["/spec/replicas"]},
        {"group": "", "kind": "ConfigMap", "jsonPointers": ["/data/x"]},
        {"name": "other", "managedFieldsManagers": ["hpa"]},
        {"namespace": "team", "group": "apps", "managedFieldsManagers": ["hpa"]},
    ])  # fmt: skip
    assert ignore.for_object(rules, WEB) == [
        {"jsonPointers": ["/spec/replicas"]}, {"managedFieldsManagers": ["hpa"]},
    ]  # fmt: skip
    assert ignore.for_object(rules, identity.ObjectKey("", "v1", "ConfigMap", "x", "c")) == [
        {"jsonPointers": ["/data/x"]}]  # fmt: skip


@pytest.mark.parametrize(("rules", "error"), [
    ({"kind": "x"}, "must be a list"),
    ([{"kind": "Deployment"}], r"\[0\] names no field"),
    (["x"], r"\[0\] must be an object"),
    ([{"kind": 3, "jsonPointers": ["/a"]}], r"\[0\]\.kind must be a string"),
    ([{"jsonPointers": ["spec"]}], r"\[0\]\.jsonPointers: JSON pointer 'spec' must start"),
    ([{"jsonPointers": [""]}], "whole object"),
    ([{"managedFieldsManagers": "hpa"}], "must be a list of strings"),
])  # fmt: skip
def test_bad_rules_are_refused_naming_the_rule(rules, error):
    with pytest.raises(ignore.RuleError, match=error):
        ignore.parse(rules)


def test_a_pointer_takes_the_live_value_or_drops_the_field():
    rules = ignore.parse([{"jsonPointers": ["/spec/replicas", "/spec/minReadySeconds"]}])
    out = ignore.normalize(DESIRED, LIVE, rules)
    assert out["spec"] == {"replicas": 7}  # live has no minReadySeconds: not set by Faros
    assert DESIRED["spec"] == {"replicas": 2, "minReadySeconds": 5}  # the input is untouched


def test_a_manager_takes_the_fields_it_owns_but_never_status_or_a_subresource():
    out = ignore.normalize(DESIRED, LIVE, ignore.parse([{"managedFieldsManagers": ["hpa"]}]))
    assert out["spec"] == {"replicas": 7, "minReadySeconds": 5}
    assert "status" not in out
    assert out["metadata"]["labels"] == {"app": "web"}  # hpa's label came through status


def test_no_live_object_or_no_rule_changes_nothing_and_unmatched_rules_are_harmless():
    rules = ignore.parse([{"jsonPointers": ["/spec/replicas"]}])
    assert ignore.normalize(DESIRED, None, rules) == DESIRED
    assert ignore.normalize(DESIRED, LIVE, []) == DESIRED
    nothing = ignore.parse([{"jsonPointers": ["/data/absent"]}, {"managedFieldsManagers": ["x"]}])
    assert ignore.normalize(DESIRED, LIVE, nothing) == DESIRED


def test_identity_and_most_of_metadata_are_never_ignored():
    rules = ignore.parse([{"jsonPointers": ["/metadata/name", "/kind", "/metadata/labels",
                                            "/metadata/labels/app"]}])  # fmt: skip
    out = ignore.normalize(DESIRED, {**LIVE, "metadata": {**LIVE["metadata"], "name": "x",
                                                          "labels": {}}}, rules)  # fmt: skip
    assert out["metadata"]["name"] == "web"
    assert out["kind"] == "Deployment"
    assert out["metadata"]["labels"] == {}  # one label may be left alone, not the name
