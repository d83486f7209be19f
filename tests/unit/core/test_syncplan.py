"""What a sync writes per object: create, update, nothing, or ignored (spec 2.6)."""

from __future__ import annotations

import copy

import pytest

from faros.api import names
from faros.core import identity, rules, synccalc, syncplan

OWNER = rules.Owner(kind=names.GITTRACK, namespace="default", name="example", uid="uid-1")
CLUSTER_OWNER = rules.Owner(kind=names.CLUSTERGITTRACK, namespace="", name="all", uid="uid-2")
KINDS = {
    ("apps/v1", "Deployment"): syncplan.Kind("deployments", namespaced=True),
    ("v1", "Namespace"): syncplan.Kind("namespaces", namespaced=False),
    ("example.com/v1", "Widget"): None,
}


def deployment(name="nginx", namespace="default", replicas=3):
    metadata = {"name": name, "namespace": namespace}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {"replicas": replicas}}  # fmt: skip


POLICY = rules.Policy()


def plan(objects, *, existing=None, owner=OWNER):
    return syncplan.plan(objects=objects, kinds=KINDS, existing=existing or {}, owner=owner,
                         policy=POLICY)  # fmt: skip


def existing_of(step, generation=1, **status):
    body = copy.deepcopy(step.body)
    body["metadata"]["generation"] = generation
    if status:
        body["status"] = status
    return {step.gto: body}


def test_new_object_is_created_with_a_controller_reference():
    (step,) = plan([deployment()]).steps

    assert step.action is syncplan.Action.CREATE
    assert step.gto == identity.gto_key(namespace="default", name="deployment-nginx")
    assert step.body["metadata"]["ownerReferences"] == [rules.owner_reference(OWNER)]
    assert step.body["spec"]["kind"] == "Deployment"
    assert syncplan.held_child(step.body) == identity.ObjectKey(
        "apps", "v1", "Deployment", "default", "nginx"
    )


def test_unchanged_object_needs_nothing_and_changed_one_an_update():
    (first,) = plan([deployment()]).steps

    (same,) = plan([deployment()], existing=existing_of(first)).steps
    (changed,) = plan([deployment(replicas=5)], existing=existing_of(first)).steps

    assert same.action is syncplan.Action.NOTHING
    assert changed.action is syncplan.Action.UPDATE
    assert syncplan.update_patch(changed.body)["spec"] == changed.body["spec"]


def test_in_sync_is_read_from_the_existing_status():
    (first,) = plan([deployment()]).steps
    status = {"conditions": [{"type": "ObjectInSync", "status": "True"}], "observedGeneration": 2}

    (step,) = plan([deployment()], existing=existing_of(first, generation=2, **status)).steps

    assert step.in_sync


def test_in_sync_for_an_older_generation_is_not_in_sync():
    """The apply of generation 3 never ran (a killed worker): its old True must not count."""
    (first,) = plan([deployment()]).steps
    status = {"conditions": [{"type": "ObjectInSync", "status": "True"}], "observedGeneration": 2}

    (step,) = plan([deployment()], existing=existing_of(first, generation=3, **status)).steps

    assert not step.in_sync


def test_encoding_is_deterministic():
    reordered = dict(reversed(list(deployment().items())))

    assert syncplan.encode(deployment()) == syncplan.encode(reordered)


@pytest.mark.parametrize(
    ("obj", "owner", "reason"),
    [
        ({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x"}}, OWNER,
         "a GitTrack cannot manage a cluster-scoped resource"),
        (deployment(namespace="other"), OWNER, "namespace `other` is not managed by this GitTrack"),
    ],
    ids=["cluster-scoped", "foreign-namespace"],
)  # fmt: skip
def test_ignored_objects_have_a_reason(obj, owner, reason):
    result = plan([obj], owner=owner)

    assert result.steps == ()
    assert [(r.outcome, r.message) for r in result.ignored] == [(synccalc.Outcome.IGNORED, reason)]


@pytest.mark.parametrize(
    ("namespace", "kind"),
    [("default", names.GITTRACKOBJECT), ("", names.CLUSTERGITTRACKOBJECT)],
    ids=["namespaced-guess", "cluster-guess"],
)
def test_unknown_kind_is_written_with_a_scope_guessed_from_its_namespace(namespace, kind):
    metadata = {"name": "w", **({"namespace": namespace} if namespace else {})}
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": metadata}

    (step,) = plan([widget], owner=CLUSTER_OWNER).steps

    assert step.gto.kind == kind


def test_object_held_by_another_owner_is_ignored_with_an_event():
    (theirs,) = plan([deployment()], owner=CLUSTER_OWNER).steps

    result = plan([deployment()], existing=existing_of(theirs))

    assert result.steps == ()
    assert result.ignored[0].message == rules.OWNED_BY_ANOTHER
    assert result.mismatches == (
        ("default/deployment-nginx",
         "Child 'deployment-nginx' is owned by another controller: "
         "child object is owned by 'all'"),
    )  # fmt: skip


def test_unreadable_data_holds_no_child():
    assert syncplan.held_child({"spec": {"data": "not-base64!"}}) is None


def widget(namespace=None, *, name="w", version="v1"):
    metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": f"example.com/{version}", "kind": "Widget", "metadata": metadata,
            "spec": {"size": 1}}  # fmt: skip


def test_an_unresolved_kind_never_moves_an_existing_cluster_scoped_gto():
    """A cluster-scoped Widget managed by a ClusterGitTrackObject; its served version goes
    away and the manifest carries a stray namespace: the GTO is kept, scope and data."""
    kinds = {**KINDS, ("example.com/v1", "Widget"): syncplan.Kind("widgets", namespaced=False)}
    resolved = syncplan.plan(objects=[widget("stray")], kinds=kinds, existing={},
                             owner=CLUSTER_OWNER, policy=POLICY)  # fmt: skip
    (first,) = resolved.steps
    assert first.gto.namespace == ""

    changed = widget("stray")
    changed["spec"]["size"] = 2
    result = syncplan.plan(objects=[changed], kinds=KINDS, existing=existing_of(first),
                           owner=CLUSTER_OWNER, policy=POLICY)  # fmt: skip

    assert result.steps == ()
    (waiting,) = result.ignored
    assert (waiting.gto, waiting.outcome) == (first.gto, synccalc.Outcome.FAILED)
    assert "kind Widget in example.com/v1 is not served" in waiting.message
    assert result.unresolved == {("example.com", "Widget")}


def test_a_new_object_of_an_unresolved_kind_is_still_written():
    result = syncplan.plan(objects=[widget("default")], kinds=KINDS, existing={}, owner=OWNER,
                           policy=POLICY)  # fmt: skip
    (step,) = result.steps
    assert step.action is syncplan.Action.CREATE
    assert result.unresolved == {("example.com", "Widget")}


def test_an_object_defined_twice_is_taken_from_its_first_file_and_reported():
    first, second = deployment(replicas=1), deployment(replicas=2)
    result = syncplan.plan(objects=[first, second], kinds=KINDS, existing={}, owner=OWNER,
                           policy=POLICY, origins=["a/app.yaml", "b/app.yaml"])  # fmt: skip

    (step,) = result.steps
    assert step.body["spec"]["data"] == syncplan.encode(first)
    (twice,) = result.ignored
    assert twice.gto == step.gto
    assert twice.outcome is synccalc.Outcome.FAILED
    assert "'a/app.yaml'" in twice.message
    assert "'b/app.yaml'" in twice.message
    assert "first in path order" in twice.message


def test_two_versions_of_one_object_are_one_object_defined_twice():
    v1 = {"apiVersion": "apps/v1", "kind": "Deployment",
          "metadata": {"name": "nginx", "namespace": "default"}}  # fmt: skip
    beta = {**v1, "apiVersion": "apps/v1beta2"}
    kinds = {**KINDS, ("apps/v1beta2", "Deployment"): KINDS[("apps/v1", "Deployment")]}
    result = syncplan.plan(objects=[v1, beta], kinds=kinds, existing={}, owner=OWNER,
                           policy=POLICY, origins=["a.yaml", "b.yaml"])  # fmt: skip
    assert len(result.steps) == 1
    assert len(result.ignored) == 1


def test_gitrackobjects_carry_their_owner_label_and_a_missing_one_is_an_update():
    (first,) = plan([deployment()]).steps
    assert first.body["metadata"]["labels"] == {names.OWNER_LABEL: OWNER.uid}

    unlabelled = existing_of(first)
    del unlabelled[first.gto]["metadata"]["labels"]
    (step,) = plan([deployment()], existing=unlabelled).steps

    assert step.action is syncplan.Action.UPDATE
    assert syncplan.update_patch(step.body)["metadata"]["labels"] == {names.OWNER_LABEL: OWNER.uid}


def test_other_labels_on_a_gitrackobject_are_no_reason_to_write():
    (first,) = plan([deployment()]).steps
    labelled = existing_of(first)
    labelled[first.gto]["metadata"]["labels"]["team"] = "a"
    (step,) = plan([deployment()], existing=labelled).steps
    assert step.action is syncplan.Action.NOTHING


@pytest.mark.parametrize(
    ("previous", "labelled", "complete"),
    [(None, 0, True), ({"objectsApplied": 3}, 3, True), ({"objectsApplied": 3}, 2, False),
     ({"objectsApplied": 0}, 0, True), ({}, 5, True)],
    ids=["new", "all-labelled", "legacy-unlabelled", "empty", "no-counter"],
)  # fmt: skip
def test_the_owner_label_finds_everything_unless_the_last_sync_applied_more(
    previous, labelled, complete
):
    assert syncplan.is_inventory_complete(previous, labelled=labelled) is complete


def protected(name="nginx"):
    obj = deployment(name)
    obj["metadata"]["annotations"] = {"faros.pusher.com/prune": "disabled"}
    return obj


def test_a_prune_protected_object_gets_the_release_finalizer_and_keeps_others():
    (first,) = plan([protected()]).steps
    assert first.body["metadata"]["finalizers"] == ["faros.pusher.com/release-child"]

    (plain,) = plan([deployment()]).steps
    existing = existing_of(plain)
    existing[plain.gto]["metadata"]["finalizers"] = ["example.com/other"]
    (now_protected,) = plan([protected()], existing=existing).steps
    assert now_protected.action is syncplan.Action.UPDATE
    assert now_protected.finalizers == ("example.com/other", "faros.pusher.com/release-child")
    patch = syncplan.update_patch(now_protected.body, finalizers=now_protected.finalizers)
    assert patch["metadata"]["finalizers"] == list(now_protected.finalizers)

    existing = existing_of(first)
    (kept,) = plan([protected()], existing=existing).steps
    assert (kept.action, kept.finalizers) == (syncplan.Action.NOTHING, None)
    (unprotected,) = plan([deployment()], existing=existing).steps
    assert unprotected.action is syncplan.Action.UPDATE
    assert unprotected.finalizers == ()
    assert "finalizers" not in syncplan.update_patch(unprotected.body)["metadata"]
