"""A sync reads only its own GitTrack's objects, counted in the API server's audit log.

Before, every sync listed every GitTrackObject and ClusterGitTrackObject in the cluster
(unpaginated): at 1,000 GitTracks x 10 objects, ten million objects per sync period.
"""

from __future__ import annotations

import secrets
import urllib.parse

from faros.api import names
from faros.kube import client
from faros.tasks import refresh as refresh_task
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos
from tests.harness.git_servers import Transport


def configmap(name: str, namespace: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}}}\n"


def test_a_sync_lists_only_its_own_gitrackobjects(
    tracks, kube, cluster, git_root, git_servers, namespace
):
    repo = gitrepos.make_repo(git_root, f"scope-{secrets.token_hex(3)}", [
        {"a.yaml": configmap("a", namespace), "b.yaml": configmap("b", namespace)},
    ])  # fmt: skip
    url = git_servers.url(repo, Transport.FILE)
    ours = tracks.create(reference="master", repository=url, namespace=namespace)
    tracks.sync(ours)
    uid = tracks.get(ours)["metadata"]["uid"]

    repo.commit({"c.yaml": configmap("c", namespace)})  # new inputs: a sync that does work
    mark = cluster_harness.audit_lines(cluster)
    tracks.sync(ours)

    lists = [urllib.parse.unquote(uri) for uri in cluster_harness.lists_since(cluster, mark)]
    assert len(lists) == 1, lists  # (the harness's own reads come after)
    (listed,) = lists
    assert listed.startswith(f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittrackobjects?")
    assert f"labelSelector={names.OWNER_LABEL}={uid}" in listed
    assert "limit=" in listed
    for gto in tracks.children(ours).values():
        assert gto["metadata"]["labels"][names.OWNER_LABEL] == uid


def test_gitrackobjects_written_before_the_label_are_found_and_labelled_once(
    tracks, kube, cluster, git_root, git_servers, namespace
):
    repo = gitrepos.make_repo(git_root, f"legacy-{secrets.token_hex(3)}", [
        {"a.yaml": configmap("a", namespace), "b.yaml": configmap("b", namespace)},
    ])  # fmt: skip
    key = tracks.create(reference="master", repository=git_servers.url(repo, Transport.FILE),
                        namespace=namespace)  # fmt: skip
    tracks.sync(key)
    for gto in tracks.children(key).values():  # as the Go controller wrote them: no label
        path = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittrackobjects/"
        kube.request("PATCH", path + gto["metadata"]["name"],
                     body={"metadata": {"labels": {names.OWNER_LABEL: None}}},
                     content_type=client.MERGE_PATCH)  # fmt: skip
    repo.commit({"b.yaml": None})  # b leaves Git: its unlabelled GitTrackObject must still go

    mark = cluster_harness.audit_lines(cluster)
    status = tracks.sync(key)
    lists = cluster_harness.lists_since(cluster, mark)

    assert len(lists) == 2, "by label, then the whole namespace once"
    assert set(tracks.children(key)) == {f"{namespace}/configmap-a"}
    assert status["objectsApplied"] == 1
    repo.commit({"c.yaml": configmap("c", namespace)})
    mark = cluster_harness.audit_lines(cluster)
    tracks.sync(key)
    assert len(cluster_harness.lists_since(cluster, mark)) == 1, "labelled now: by label only"


def test_a_sync_of_unchanged_inputs_lists_and_writes_nothing(
    tracks, kube, cluster, rt, git_root, git_servers, namespace
):
    repo = gitrepos.make_repo(git_root, f"same-{secrets.token_hex(3)}", [
        {"a.yaml": configmap("a", namespace)},
    ])  # fmt: skip
    key = tracks.create(reference="master", repository=git_servers.url(repo, Transport.FILE),
                        namespace=namespace)  # fmt: skip
    tracks.sync(key)

    mark = cluster_harness.audit_lines(cluster)
    tracks.sync(key)  # same commit, generation and settings: a git ls-remote, nothing else
    assert cluster_harness.lists_since(cluster, mark) == []
    assert cluster_harness.writes_since(cluster, mark) == []

    repo.commit({"b.yaml": configmap("b", namespace)})
    tracks.sync(key)
    assert set(tracks.children(key)) == {f"{namespace}/configmap-a", f"{namespace}/configmap-b"}

    gtos = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittrackobjects"
    kube.request("DELETE", f"{gtos}/configmap-b")  # by hand: the watchers queue a refresh
    refresh_task.run(rt, namespace=key.namespace, name=key.name)
    tracks.sync(key)
    assert f"{namespace}/configmap-b" in tracks.children(key), "written again"
