"""Garbage collection never acts on a guess: a kind discovery cannot resolve keeps its objects.

A cluster-scoped custom resource, written with a stray ``metadata.namespace``, is managed by
a ClusterGitTrack through a ClusterGitTrackObject. Then the version its manifests use stops
being served (``served: false``) and Faros restarts (a fresh discovery cache, as after a pod
restart), while another object of that kind leaves Git. Before the fix the scope was guessed
from the stray namespace: the ClusterGitTrackObject was deleted, a namespaced one created,
and the garbage collector deleted the live object. Now nothing is deleted or moved, and the
status says why garbage collection waited.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from faros.api import names
from faros.kube import client, errors
from faros.tasks import apply as apply_task
from faros.tasks import runtime
from faros.tasks import sync as sync_task
from tests.harness import gitrepos
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def crd(group: str) -> dict[str, Any]:
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {"group": group, "scope": "Cluster",
                 "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": True, "storage": True, "schema": schema},
                              {"name": "v1beta1", "served": True, "storage": False,
                               "schema": schema}]},
    }  # fmt: skip


def widget(group: str, name: str) -> str:
    return (f"apiVersion: {group}/v1beta1\nkind: Widget\n"
            f"metadata: {{name: {name}, namespace: stray}}\nspec: {{size: 1}}\n")  # fmt: skip


def test_a_version_no_longer_served_deletes_nothing_and_says_why(
    tracks, rt, kube, worker_settings, git_root, git_servers
):
    group = f"g{secrets.token_hex(3)}.faros.test"
    kube.request("POST", CRDS, body=crd(group))
    eventually(lambda: _served(kube, f"/apis/{group}/v1beta1"), timeout=30)
    repo = gitrepos.make_repo(git_root, f"gc-{secrets.token_hex(3)}", [
        {"w.yaml": widget(group, "w"), "x.yaml": widget(group, "x")},
    ])  # fmt: skip
    key = tracks.create(names.CLUSTERGITTRACK, reference="master",
                        repository=git_servers.url(repo, Transport.FILE))  # fmt: skip
    tracks.sync(key)
    assert set(tracks.children(key)) == {"widget-w", "widget-x"}  # cluster-scoped, no stray ns
    for name in ("widget-w", "widget-x"):
        assert apply_task.run(rt, namespace="", name=name).done
    live = f"/apis/{group}/v1/widgets/w"
    uid = kube.request("GET", live)["metadata"]["uid"]

    served = crd(group)
    current = kube.request("GET", f"{CRDS}/widgets.{group}")
    current["spec"]["versions"][1]["served"] = False
    kube.request("PUT", f"{CRDS}/widgets.{group}", body=current)
    eventually(lambda: _not_served(kube, f"/apis/{group}/v1beta1"), timeout=30)
    repo.commit({"x.yaml": None})  # x leaves Git while its kind cannot be resolved

    restarted = runtime.Runtime.build(worker_settings, lock_ttl=60)  # empty discovery cache
    try:
        sync_task.run(restarted, namespace="", name=key.name)
    finally:
        restarted.close()

    assert set(tracks.children(key)) == {"widget-w", "widget-x"}, "nothing moved or deleted"
    time.sleep(3)  # the garbage collector would have deleted an orphan by now
    assert kube.request("GET", live)["metadata"]["uid"] == uid
    up_to_date = tracks.condition(key, "ChildrenUpToDate")
    assert up_to_date["status"] == "False"
    assert f"kind Widget in {group}/v1beta1 is not served" in up_to_date["message"]
    collected = tracks.condition(key, "ChildrenGarbageCollected")["message"]
    assert "widget-x" in collected
    assert "does not serve their kind" in collected

    current = kube.request("GET", f"{CRDS}/widgets.{group}")
    current["spec"]["versions"] = served["spec"]["versions"]
    kube.request("PUT", f"{CRDS}/widgets.{group}", body=current)
    eventually(lambda: _served(kube, f"/apis/{group}/v1beta1"), timeout=30)
    restarted = runtime.Runtime.build(worker_settings, lock_ttl=60)
    try:
        sync_task.run(restarted, namespace="", name=key.name)
    finally:
        restarted.close()
    assert set(tracks.children(key)) == {"widget-w"}, "collected once the kind is served"
    assert kube.request("GET", live)["metadata"]["uid"] == uid
    kube.request("DELETE", f"{CRDS}/widgets.{group}")


def _not_served(kube: client.Kube, path: str) -> None:
    try:
        kube.request("GET", path)
    except errors.NotFound:
        return
    raise AssertionError(f"{path} is still served")


def _served(kube: client.Kube, path: str) -> None:
    try:
        kube.request("GET", path)
    except errors.NotFound:
        raise AssertionError(f"{path} is not served yet") from None
