"""GitTrackObject apply against the real API server (spec 6.3): create, drift, strategies."""

from __future__ import annotations

import base64
import dataclasses
import secrets
from typing import Any

import pytest

from faros import config
from faros.api import names
from faros.kube import client
from faros.tasks import runtime
from tests.harness import cluster as cluster_harness
from tests.harness.gtos import CGTOS, GTOS, Objects
from tests.harness.wait import eventually


def deployment(namespace, *, image="nginx", replicas=1, annotations=None):
    labels = {"app": "nginx"}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": namespace, "annotations": annotations or {}},
        "spec": {
            "replicas": replicas, "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "nginx", "image": image}]}},
        },
    }  # fmt: skip


@pytest.fixture
def objects(kube, rt):
    return Objects(kube, rt)


@pytest.fixture(params=[config.EventsMode.ALL, config.EventsMode.SUMMARY], ids=str)
def either(request, kube, rt, worker_settings):
    """Objects applied with each --events mode: with summary, a new GitTrackObject's child is
    created without being read first (a child that exists after all is read and planned)."""
    if request.param is config.EventsMode.ALL:
        yield Objects(kube, rt)
        return
    summary = runtime.Runtime.build(
        dataclasses.replace(worker_settings, events=request.param), lock_ttl=60
    )
    yield Objects(kube, summary)
    summary.close()


def get_deployment(kube, namespace):
    return kube.request("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/nginx")


def test_child_is_created_with_owner_reference_and_annotation(either, kube, namespace):
    objects = either
    gto = objects.put(deployment(namespace), namespace=namespace)

    gto = objects.apply(gto)

    child = get_deployment(kube, namespace)
    assert child["metadata"]["ownerReferences"] == [{
        "apiVersion": names.API_VERSION, "kind": "GitTrackObject", "name": "deployment-nginx",
        "uid": gto["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True,
    }]  # fmt: skip
    assert names.LAST_APPLIED_ANNOTATION in child["metadata"]["annotations"]
    assert objects.in_sync(gto) == ("True", "ChildAppliedSuccess", "")
    expected = [
        ("Normal", "CreateStarted", f"Creating child Deployment {namespace}/nginx"),
        ("Normal", "CreateSuccessful", f"Successfully created child Deployment {namespace}/nginx"),
    ]
    summary = objects.rt.settings.events is config.EventsMode.SUMMARY
    assert sorted(objects.events(gto)) == ([] if summary else expected)


def test_a_new_gittrackobject_takes_over_an_existing_unowned_child(either, kube, namespace):
    objects = either
    kube.request("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments",
                 body=deployment(namespace, image="httpd", replicas=3))  # fmt: skip

    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))

    child = get_deployment(kube, namespace)
    assert child["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx"
    assert child["spec"]["replicas"] == 1
    assert child["metadata"]["ownerReferences"][0]["uid"] == gto["metadata"]["uid"]
    assert objects.in_sync(gto) == ("True", "ChildAppliedSuccess", "")
    reasons = [reason for _, reason, _ in objects.events(gto)]
    assert not {"CreateStarted", "CreateSuccessful"} & set(reasons), reasons


def test_conflicting_drift_is_reverted_and_other_fields_kept(objects, kube, namespace):
    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/nginx"
    containers = [{"name": "nginx", "image": "nginx:latest"}]
    drift = {"spec": {"template": {"metadata": {"labels": {"extra": "kept"}},
                                   "spec": {"containers": containers}}}}  # fmt: skip
    kube.request("PATCH", path, body=drift, content_type=client.STRATEGIC_MERGE_PATCH)

    objects.apply(gto)

    template = get_deployment(kube, namespace)["spec"]["template"]
    assert template["spec"]["containers"][0]["image"] == "nginx"
    assert template["metadata"]["labels"]["extra"] == "kept"


def test_deleted_child_is_recreated(objects, kube, namespace):
    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))
    old_uid = get_deployment(kube, namespace)["metadata"]["uid"]
    kube.request("DELETE", f"/apis/apps/v1/namespaces/{namespace}/deployments/nginx")

    objects.apply(gto)

    assert get_deployment(kube, namespace)["metadata"]["uid"] != old_uid


def test_metadata_only_change_leaves_the_child_untouched(objects, kube, namespace):
    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))
    version = get_deployment(kube, namespace)["metadata"]["resourceVersion"]
    gto = kube.request("PATCH", f"{GTOS % namespace}/deployment-nginx",
                       body={"metadata": {"annotations": {"note": "x"}}},
                       content_type=client.MERGE_PATCH)  # fmt: skip

    objects.apply(gto)

    assert get_deployment(kube, namespace)["metadata"]["resourceVersion"] == version


def test_an_in_sync_object_reapplied_100_times_makes_no_write(objects, cluster, namespace):
    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))
    objects.apply(gto)
    mark = cluster_harness.audit_lines(cluster)

    for _ in range(100):
        objects.apply(gto)

    assert cluster_harness.writes_since(cluster, mark) == []


def test_update_strategy_applies_changes(objects, kube, namespace):
    objects.apply(objects.put(deployment(namespace), namespace=namespace))

    objects.apply(objects.put(deployment(namespace, replicas=3), namespace=namespace))

    assert get_deployment(kube, namespace)["spec"]["replicas"] == 3


def test_never_strategy_adopts_without_changing(either, kube, namespace):
    objects = either
    kube.request("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments",
                 body=deployment(namespace, image="httpd"))  # fmt: skip
    never = {names.UPDATE_STRATEGY_ANNOTATION: "never"}

    gto = objects.apply(objects.put(deployment(namespace, annotations=never), namespace=namespace))

    child = get_deployment(kube, namespace)
    assert child["spec"]["template"]["spec"]["containers"][0]["image"] == "httpd"
    assert child["metadata"]["ownerReferences"][0]["uid"] == gto["metadata"]["uid"]
    assert names.LAST_APPLIED_ANNOTATION not in child["metadata"].get("annotations", {})
    assert objects.in_sync(gto)[0] == "True"


def test_recreate_strategy_replaces_an_immutable_change(objects, kube):
    name = f"faros-test-{secrets.token_hex(3)}"
    recreate = {names.UPDATE_STRATEGY_ANNOTATION: "recreate"}

    def binding(role: str) -> dict[str, Any]:
        return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                "metadata": {"name": name, "annotations": recreate},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                            "name": role},
                "subjects": [{"kind": "User", "name": "alice",
                              "apiGroup": "rbac.authorization.k8s.io"}]}  # fmt: skip

    path = f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}"
    gto = objects.apply(objects.put(binding("view")))
    first_uid = kube.request("GET", path)["metadata"]["uid"]
    try:
        gto = objects.apply(objects.put(binding("edit")))

        replaced = kube.request("GET", path)
        assert replaced["roleRef"]["name"] == "edit"
        assert replaced["metadata"]["uid"] != first_uid
        assert objects.in_sync(gto)[0] == "True"
    finally:
        kube.request("DELETE", f"{CGTOS}/{gto['metadata']['name']}")


def test_invalid_data_is_reported(objects, namespace):
    gto = objects.put(deployment(namespace), namespace=namespace,
                      data=base64.b64encode(b"{not: [yaml").decode())  # fmt: skip

    gto = objects.apply(gto)

    status, reason, message = objects.in_sync(gto)
    assert (status, reason) == ("False", "ErrorUnmarshallingData")
    assert message.startswith("error reading child Deployment nginx: unable to unmarshal data:")
    assert ("Warning", "UnmarshalFailed", "Couldn't unmarshal object from JSON/YAML") in (
        objects.events(gto)
    )


def test_invalid_update_strategy_is_reported(objects, namespace):
    objects.apply(objects.put(deployment(namespace), namespace=namespace))
    bad = {names.UPDATE_STRATEGY_ANNOTATION: "sometimes"}

    gto = objects.apply(objects.put(deployment(namespace, annotations=bad), namespace=namespace))

    assert objects.in_sync(gto) == (
        "False", "ErrorUpdatingChild",
        "error updating child Deployment nginx: unable to get update strategy: "
        "invalid update strategy: sometimes",
    )  # fmt: skip


def test_object_owned_by_another_controller_is_not_stolen(either, kube, namespace):
    objects = either
    owner = kube.request("POST", f"/api/v1/namespaces/{namespace}/configmaps",
                         body={"metadata": {"name": "boss"}})  # fmt: skip
    theirs = deployment(namespace, image="httpd")
    theirs["metadata"]["ownerReferences"] = [{"apiVersion": "v1", "kind": "ConfigMap",
                                              "name": "boss", "uid": owner["metadata"]["uid"],
                                              "controller": True}]  # fmt: skip
    kube.request("POST", f"/apis/apps/v1/namespaces/{namespace}/deployments", body=theirs)

    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))

    status, reason, message = objects.in_sync(gto)
    assert (status, reason) == ("False", "ErrorAddingOwnerReference")
    assert "already owned by another ConfigMap controller boss" in message
    assert (
        get_deployment(kube, namespace)["spec"]["template"]["spec"]["containers"][0]["image"]
        == "httpd"
    )


def test_custom_resource_waits_for_its_crd_and_converges(objects, kube, namespace):
    group = f"t{secrets.token_hex(3)}.faros.test"
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                     "openAPIV3Schema": {"type": "object", "properties": {"spec": {
                         "type": "object", "properties": {"items": {
                             "type": "array", "items": {"type": "string"}}}}}}}}]},
    }  # fmt: skip
    widget = {"apiVersion": f"{group}/v1", "kind": "Widget",
              "metadata": {"name": "w", "namespace": namespace},
              "spec": {"items": ["a", "b"]}}  # fmt: skip
    widget_gto = objects.put(widget, namespace=namespace)

    waiting = objects.apply(widget_gto)
    assert objects.in_sync(waiting)[1] == "ErrorGettingChild"
    assert "does not serve kind Widget" in objects.in_sync(waiting)[2]

    crd_gto = objects.apply(objects.put(crd))
    try:

        def converged() -> None:
            assert objects.in_sync(objects.apply(widget_gto))[0] == "True"

        eventually(converged, timeout=60, interval=1)
        live = kube.request("GET", f"/apis/{group}/v1/namespaces/{namespace}/widgets/w")
        assert live["spec"]["items"] == ["a", "b"]
    finally:
        kube.request("DELETE", f"{CGTOS}/{crd_gto['metadata']['name']}")
