"""Watch events -> work keys: our kinds, generations, the controlling GitTrackObject."""

from __future__ import annotations

import base64
import json

import pytest

from faros.api import names
from faros.core import identity, routing, syncplan


def test_key_of_tells_our_kinds_apart():
    gto = {"kind": "GitTrackObject", "metadata": {"namespace": "ns", "name": "configmap-a"}}
    cluster_track = {"kind": "ClusterGitTrack", "metadata": {"name": "all"}}

    assert routing.key_of(gto) == identity.gto_key(namespace="ns", name="configmap-a")
    assert routing.key_of(cluster_track) == identity.gittrack_key(namespace="", name="all")


def test_generation_ignores_status_and_defaults_to_zero():
    assert routing.generation({"metadata": {"generation": 3}, "status": {"x": 1}}) == 3
    assert routing.generation({"metadata": {}}) == 0


@pytest.mark.parametrize(
    ("generation", "status", "seen"),
    [(3, {"observedGeneration": 3}, True), (3, {"observedGeneration": 2}, False),
     (3, {}, False), (3, None, False), (None, {"observedGeneration": 0}, True)],
)  # fmt: skip
def test_spec_observed_when_a_sync_saw_this_generation(generation, status, seen):
    metadata = {"name": "a"} if generation is None else {"name": "a", "generation": generation}
    gittrack = {"kind": names.GITTRACK, "metadata": metadata, "status": status}

    assert routing.spec_observed(gittrack) is seen


@pytest.mark.parametrize(
    ("references", "namespace", "expected"),
    [
        ([{"apiVersion": names.API_VERSION, "kind": "GitTrackObject", "name": "cm-a",
           "controller": True}], "ns", identity.gto_key(namespace="ns", name="cm-a")),
        ([{"apiVersion": names.API_VERSION, "kind": "ClusterGitTrackObject", "name": "ns-x",
           "controller": True}], "", identity.gto_key(namespace="", name="ns-x")),
        ([{"apiVersion": names.API_VERSION, "kind": "GitTrackObject", "name": "cm-a"}], "ns",
         None),
        ([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "controller": True}],
         "ns", None),
        ([], "ns", None),
    ],
    ids=["gto", "cgto", "not-controller", "other-controller", "unowned"],
)  # fmt: skip
def test_owning_gto(references, namespace, expected):
    child = {"metadata": {"namespace": namespace, "ownerReferences": references}}

    assert routing.owning_gto(child) == expected


def test_child_kind_is_read_from_the_data():
    data = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}
    gto = {"metadata": {"namespace": "ns"},
           "spec": {"data": base64.b64encode(json.dumps(data).encode()).decode()}}  # fmt: skip

    assert routing.child_kind(gto) == ("apps/v1", "Deployment")
    assert routing.child_kind({"spec": {"data": "garbage"}}) is None


@pytest.mark.parametrize(
    ("obj", "gittrack", "mode", "namespace", "expected"),
    [
        ({"kind": "GitTrack", "metadata": {"namespace": "a"}}, True,
         names.ClusterGitTrackMode.DISABLED, "", True),
        ({"kind": "GitTrack", "metadata": {"namespace": "a"}}, False,
         names.ClusterGitTrackMode.INCLUDE_NAMESPACED, "", False),
        ({"kind": "GitTrack", "metadata": {"namespace": "a"}}, True,
         names.ClusterGitTrackMode.DISABLED, "b", False),
        ({"kind": "ClusterGitTrack", "metadata": {}}, False,
         names.ClusterGitTrackMode.EXCLUDE_NAMESPACED, "", True),
        ({"kind": "ClusterGitTrack", "metadata": {}}, True,
         names.ClusterGitTrackMode.DISABLED, "", False),
    ],
    ids=["gittrack-on", "gittrack-off", "other-namespace", "cluster-on", "cluster-off"],
)  # fmt: skip
def test_is_managed_follows_modes_and_scope(obj, gittrack, mode, namespace, expected):
    assert routing.is_managed(obj, gittrack=gittrack, cluster_mode=mode,
                              namespace=namespace) is expected  # fmt: skip


def test_watchers_keep_only_the_metadata_of_managed_children():
    owner = {"apiVersion": "faros.pusher.com/v1alpha1", "kind": "GitTrackObject",
             "name": "secret-s", "uid": "u", "controller": True}  # fmt: skip
    meta = {"name": "s", "namespace": "n", "resourceVersion": "5", "uid": "c",
            "annotations": {"big": "x" * 1000}, "ownerReferences": [owner]}  # fmt: skip
    managed = {"kind": "Secret", "data": {"password": "aHVudGVyMg=="}, "metadata": meta}

    kept = routing.child_meta(managed)

    assert kept == {"metadata": {"name": "s", "namespace": "n", "resourceVersion": "5",
                                 "uid": "c", "ownerReferences": [owner]}}  # fmt: skip
    assert routing.child_meta({"metadata": {"name": "other", "namespace": "n"}}) is None


def test_own_kinds_are_held_without_their_managed_fields():
    metadata = {"name": "a", "managedFields": [{"manager": "faros"}], "uid": "u"}
    gto = {"kind": "GitTrackObject", "spec": {"data": "e30="}, "metadata": metadata}
    assert routing.own_kept(gto) == {"kind": "GitTrackObject", "spec": {"data": "e30="},
                                     "metadata": {"name": "a", "uid": "u"}}  # fmt: skip
    assert routing.own_kept({"kind": "GitTrack"}) == {"kind": "GitTrack"}


def test_a_gto_is_held_with_the_identity_of_its_child_only():
    meta = {"name": "s", "namespace": "n", "annotations": {"big": "x" * 999}}
    manifest = {"apiVersion": "v1", "kind": "Secret", "data": {"password": "aHVudGVyMg=="},
                "metadata": meta}  # fmt: skip
    status = {"observedGeneration": 3, "conditions": [
        {"type": "ObjectInSync", "status": "True", "reason": "ChildAppliedSuccessfully",
         "message": "Child applied successfully", "lastTransitionTime": "2026-12-04T10:00:00Z"},
    ]}  # fmt: skip
    controller = {"apiVersion": names.API_VERSION, "kind": "GitTrack", "name": "g", "uid": "u",
                  "controller": True}  # fmt: skip
    other = {"apiVersion": "v1", "kind": "ConfigMap", "name": "x", "uid": "v"}
    metadata = {"name": "secret-s", "namespace": "n", "managedFields": [{"manager": "faros"}],
                "generation": 3, "uid": "w", "annotations": {"faros.pusher.com/x": "y"},
                "ownerReferences": [other, controller]}  # fmt: skip
    gto = {"kind": "GitTrackObject", "metadata": metadata, "status": status,
           "spec": {"name": "s", "kind": "Secret", "data": syncplan.encode(manifest)}}  # fmt: skip
    child = syncplan.held_child(gto)

    kept = routing.gto_kept(gto)

    assert syncplan.held_child(kept) == child
    assert "aHVudGVyMg" not in str(kept)
    assert "xxx" not in str(kept)
    assert base64.b64decode(kept["spec"]["data"]) == (
        b'{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"n"}}'
    )
    in_sync = {"type": "ObjectInSync", "status": "True", "reason": "ChildAppliedSuccessfully"}
    assert kept["status"] == {"observedGeneration": 3, "conditions": [in_sync]}
    assert kept["metadata"] == {"name": "secret-s", "namespace": "n", "generation": 3,
                                "ownerReferences": [controller]}  # fmt: skip
    assert routing.owning_gittrack(kept) == routing.owning_gittrack(gto)
    assert routing.progress(kept) == routing.progress(gto) == ("applied", "")
    assert (kept["spec"]["name"], kept["spec"]["kind"]) == ("s", "Secret")


def test_a_gto_whose_data_cannot_be_read_is_held_as_it_is():
    gto = {"kind": "GitTrackObject", "metadata": {"name": "a"}, "spec": {"data": "not base64"}}
    kept = routing.gto_kept(gto)
    assert kept["spec"] == {"data": "not base64"}
    assert syncplan.held_child(kept) is None
