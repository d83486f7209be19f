"""Applying one GitTrackObject: decode, place, and the write it needs (spec 3.3-3.6)."""

from __future__ import annotations

import base64
import json

import pytest

from faros.api import conditions, names
from faros.core import applyplan, merge

Reason = conditions.GitTrackObjectReason
GTO = {"apiVersion": names.API_VERSION, "kind": names.GITTRACKOBJECT,
       "metadata": {"name": "configmap-c", "namespace": "ns", "uid": "gto-uid"}}  # fmt: skip


def gto_with(manifest=None, *, raw: bytes | None = None):
    data = raw if raw is not None else json.dumps(manifest).encode()
    spec = {"name": "c", "kind": "ConfigMap", "data": base64.b64encode(data).decode()}
    return {**GTO, "spec": spec}


def configmap(**extra):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "c", "namespace": "ns", **extra}, "data": {"k": "v"}}  # fmt: skip


def child(manifest=None):
    return applyplan.place(applyplan.decode(gto_with(manifest or configmap())),
                           gto_namespace="ns", namespaced=True)  # fmt: skip


@pytest.mark.parametrize(
    ("raw", "reason", "text"),
    [
        (b"{not: [yaml", Reason.ERROR_UNMARSHALLING_DATA, "unable to unmarshal data"),
        (b'"just a string"', Reason.ERROR_UNMARSHALLING_DATA, "not a Kubernetes object"),
        (b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}',
         Reason.ERROR_GETTING_CHILD, "unable to get child: name cannot be empty"),
    ],
    ids=["yaml-error", "not-an-object", "no-name"],
)  # fmt: skip
def test_undecodable_data_is_reported(raw, reason, text):
    with pytest.raises(applyplan.ApplyError) as failed:
        applyplan.decode(gto_with(raw=raw))

    assert failed.value.reason is reason
    assert text in failed.value.message


def test_yaml_data_is_accepted_and_owned():
    decoded = applyplan.decode(
        gto_with(raw=b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    )

    assert decoded.desired["metadata"]["ownerReferences"] == [{
        "apiVersion": names.API_VERSION, "kind": names.GITTRACKOBJECT, "name": "configmap-c",
        "uid": "gto-uid", "controller": True, "blockOwnerDeletion": True,
    }]  # fmt: skip
    assert decoded.strategy is names.UpdateStrategy.UPDATE


def test_manifest_declaring_another_controller_is_refused():
    other = [{"apiVersion": "v1", "kind": "ConfigMap", "name": "boss", "uid": "x",
              "controller": True}]  # fmt: skip

    with pytest.raises(applyplan.ApplyError, match="already owned by another ConfigMap"):
        applyplan.decode(gto_with(configmap(ownerReferences=other)))


@pytest.mark.parametrize(
    ("namespace", "namespaced", "gto_namespace"),
    [("other", True, "ns"), ("", False, "ns")],
    ids=["cross-namespace", "namespaced-owner-of-cluster-object"],
)
def test_illegal_ownership_is_refused(namespace, namespaced, gto_namespace):
    manifest = configmap() | {"metadata": {"name": "c", "namespace": namespace}}
    decoded = applyplan.decode(gto_with(manifest))

    with pytest.raises(applyplan.ApplyError) as failed:
        applyplan.place(decoded, gto_namespace=gto_namespace, namespaced=namespaced)

    assert failed.value.reason is Reason.ERROR_ADDING_OWNER_REFERENCE


def test_missing_child_is_created_with_its_annotation():
    step = applyplan.plan(child=child(), live=None, meta=None)

    assert step.action is applyplan.Action.CREATE
    assert names.LAST_APPLIED_ANNOTATION in step.body["metadata"]["annotations"]


def test_child_matching_its_last_applied_needs_nothing():
    live = applyplan.plan(child=child(), live=None, meta=None).body
    live["metadata"]["resourceVersion"] = "7"

    assert applyplan.plan(child=child(), live=live, meta=None).action is applyplan.Action.NOTHING


def test_changed_child_gets_a_patch():
    live = applyplan.plan(child=child(), live=None, meta=None).body
    live["data"] = {"k": "drifted"}

    step = applyplan.plan(child=child(), live=live, meta=None)

    assert step.action is applyplan.Action.PATCH
    assert step.content_type == merge.PatchType.MERGE
    assert step.body["data"] == {"k": "v"}


def test_never_adopts_without_touching_content():
    never = configmap(annotations={names.UPDATE_STRATEGY_ANNOTATION: "never"})
    live = {**configmap(resourceVersion="3"), "data": {"k": "theirs"}}

    step = applyplan.plan(child=child(never), live=live, meta=None)

    assert step.action is applyplan.Action.ADOPT
    assert set(step.body["metadata"]) == {"ownerReferences", "resourceVersion"}


def test_invalid_strategy_is_reported_on_update_only():
    odd = child(configmap(annotations={names.UPDATE_STRATEGY_ANNOTATION: "sometimes"}))
    assert applyplan.plan(child=odd, live=None, meta=None).action is applyplan.Action.CREATE

    with pytest.raises(applyplan.ApplyError, match="invalid update strategy: sometimes"):
        applyplan.plan(child=odd, live=configmap(), meta=None)


def test_live_object_of_another_controller_is_never_stolen():
    other = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "y",
              "controller": True}]  # fmt: skip

    with pytest.raises(applyplan.ApplyError, match="another ReplicaSet controller rs"):
        applyplan.plan(child=child(), live=configmap(ownerReferences=other), meta=None)


def test_dry_run_result_equal_to_live_ignores_version_and_managed_fields():
    live = configmap(resourceVersion="1", managedFields=[{"manager": "a"}])
    dry = configmap(resourceVersion="1", managedFields=[{"manager": "b"}])

    assert applyplan.same_object(dry, live)
    assert not applyplan.same_object({**dry, "data": {"k": "x"}}, live)


def test_server_side_sends_the_desired_object_as_an_apply():
    live = applyplan.plan(child=child(), live=None, meta=None).body

    created = applyplan.plan(child=child(), live=None, meta=None, server_side=True)
    updated = applyplan.plan(child=child(), live=live, meta=None, server_side=True)

    for step in (created, updated):
        assert step.action is applyplan.Action.APPLY
        assert step.content_type == applyplan.APPLY_PATCH
        assert names.LAST_APPLIED_ANNOTATION not in step.body["metadata"].get("annotations", {})


def test_json_data_keeps_its_numbers():
    manifest = configmap()
    manifest["spec"] = {"small": 1e-07, "big": 123456789012345678901, "exact": 9007199254740993}

    desired = applyplan.decode(gto_with(manifest)).desired

    assert desired["spec"] == {
        "small": 1e-07,
        "big": 123456789012345678901,
        "exact": 9007199254740993,
    }
    assert isinstance(desired["spec"]["small"], float)


def test_yaml_data_is_read_as_repository_files_are():
    data = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nspec: {when: 2019-04-03, on: y}\n"
    )

    desired = applyplan.decode(gto_with(raw=data)).desired

    assert desired["spec"] == {"when": "2019-04-03", "true": True}


SECRET = b"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (SECRET + b"stringData:\n  password: hunter2: x\n",
         "yaml: line 5: mapping values are not allowed here"),
        (SECRET + b'data: {password: "hunter2\n', "yaml: line 5: while scanning a quoted scalar"),
        (SECRET + b"data: {password: !!int hunter2}\n", "cannot decode !!str as a !!int"),
        (SECRET + b"---\nkind: hunter2\n", "the data has more than one document"),
    ],
    ids=["bad-mapping", "unclosed-quote", "bad-tag", "two-documents"],
)  # fmt: skip
def test_unreadable_yaml_data_is_reported_without_quoting_it(raw, text):
    with pytest.raises(applyplan.ApplyError) as failed:
        applyplan.decode(gto_with(raw=raw))

    assert failed.value.reason is Reason.ERROR_UNMARSHALLING_DATA
    assert text in failed.value.message
    assert "hunter2" not in failed.value.message


@pytest.mark.parametrize(
    ("status", "summary", "server_side", "expected"),
    [
        ({}, True, False, True),  # written by a sync, never applied: create first
        (None, True, False, True),
        ({"conditions": [{"type": "ObjectInSync"}]}, True, False, False),  # applied once
        ({}, False, False, False),  # --events=all: the read comes first, as it always did
        ({}, True, True, False),  # server-side apply reads nothing anyway
    ],
)
def test_only_a_never_applied_object_in_summary_mode_is_created_without_a_read(
    status, summary, server_side, expected
):
    gto = {"metadata": {"name": "a"}, **({"status": status} if status is not None else {})}
    assert applyplan.creates_blind(gto, summary=summary, server_side=server_side) is expected
