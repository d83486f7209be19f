"""A sync of up to 1,000 objects applies what it writes: no apply task, no second read of it.

A sync writing at most ``sync.IN_PLACE_MAX`` GitTrackObjects applies each one's child right
after writing it, from the write's answer, on a worker that serves the apply queue too.
Before, every object cost an apply task that read its GitTrackObject (and GitTrack) again,
and the GitTrack became Ready only after those tasks and a refresh had run.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any

import pytest

from faros.core import identity, recheck
from faros.kube import errors
from faros.tasks import runtime, sync
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos
from tests.harness.git_servers import Transport
from tests.harness.tracks import Tracks


def configmap(name: str, namespace: str, data: str = "{colour: blue}") -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}}}"
            f"\ndata: {data}\n")  # fmt: skip


def three_configmaps(tracks: Tracks, git_root, git_servers, namespace: str) -> identity.ObjectKey:
    files = {f"{name}.yaml": configmap(name, namespace) for name in ("a", "b", "c")}
    repo = gitrepos.make_repo(git_root, f"in-place-{secrets.token_hex(3)}", [files])
    return tracks.create(reference="master", repository=git_servers.url(repo, Transport.FILE),
                         namespace=namespace)  # fmt: skip


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    found = [c for c in status.get("conditions", []) if c["type"] == kind]
    assert found, status
    return dict(found[0])


def test_a_small_sync_applies_its_objects_and_is_ready_when_it_returns(
    tracks, kube, cluster, git_root, git_servers, namespace
):
    key = three_configmaps(tracks, git_root, git_servers, namespace)
    mark = cluster_harness.audit_lines(cluster)
    status = tracks.sync(key)  # the sync task alone: no apply task runs in this test

    for name in ("a", "b", "c"):
        kube.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}")
    for gto in tracks.children(key).values():
        assert condition(gto["status"], "ObjectInSync")["status"] == "True"
    assert condition(status, "Ready")["status"] == "True", status
    assert status["objectsInSync"] == 3
    reads = [uri for uri in cluster_harness.gets_since(cluster, mark)
             if "/gittrackobjects/" in uri and "/status" not in uri]  # fmt: skip
    assert reads == [], "what the sync wrote is applied from the write's answer"


def test_an_apply_in_place_that_fails_hands_the_object_to_an_apply_task(
    tracks, kube, rt, git_root, git_servers, namespace
):
    files = {"bad.yaml": configmap("bad", namespace, data="{'not a key!': x}")}
    repo = gitrepos.make_repo(git_root, f"in-place-bad-{secrets.token_hex(3)}", [files])
    key = tracks.create(reference="master", repository=git_servers.url(repo, Transport.FILE),
                        namespace=namespace)  # fmt: skip
    tracks.sync(key)

    (gto,) = tracks.children(key).values()
    in_sync = condition(gto["status"], "ObjectInSync")
    assert (in_sync["status"], in_sync["reason"]) == ("False", "ErrorCreatingChild"), in_sync
    gto_key = identity.gto_key(namespace=namespace, name=gto["metadata"]["name"])
    [mark] = rt.locks.noted([identity.in_place_key(gto_key)])
    assert mark != recheck.IN_PLACE, "cleared: the watchers queue its apply at its event"


@pytest.mark.parametrize("why", ["more-than-the-limit", "worker-serves-syncs-only"])
def test_a_big_sync_or_a_sync_only_worker_leaves_the_applies_to_the_apply_queue(
    why, tracks, kube, worker_settings, git_root, git_servers, namespace, monkeypatch
):
    if why == "more-than-the-limit":
        monkeypatch.setattr(sync, "IN_PLACE_MAX", 2)
        rt = runtime.Runtime.build(worker_settings, lock_ttl=60)
    else:
        rt = runtime.Runtime.build(dataclasses.replace(worker_settings, queues=("sync",)),
                                   lock_ttl=60)  # fmt: skip
    try:
        key = three_configmaps(tracks, git_root, git_servers, namespace)
        sync.run(rt, namespace=key.namespace, name=key.name)
    finally:
        rt.close()

    gtos = tracks.children(key)
    assert len(gtos) == 3
    assert all(not (gto.get("status") or {}).get("conditions") for gto in gtos.values())
    for name in ("a", "b", "c"):
        with pytest.raises(errors.NotFound):
            kube.request("GET", f"/api/v1/namespaces/{namespace}/configmaps/{name}")


def test_a_repository_of_a_few_hundred_objects_is_applied_by_its_sync_alone(
    tracks, kube, git_root, git_servers, namespace
):
    files = {f"cm-{i:03}.yaml": configmap(f"cm-{i:03}", namespace) for i in range(MANY)}
    repo = gitrepos.make_repo(git_root, f"in-place-many-{secrets.token_hex(3)}", [files])
    key = tracks.create(reference="master", repository=git_servers.url(repo, Transport.FILE),
                        namespace=namespace)  # fmt: skip

    status = tracks.sync(key)  # the sync task alone: no apply task runs in this test

    assert status["objectsInSync"] == MANY, status
    assert condition(status, "Ready")["status"] == "True", status
    made = kube.request("GET", f"/api/v1/namespaces/{namespace}/configmaps")["items"]
    assert len([cm for cm in made if cm["metadata"]["name"].startswith("cm-")]) == MANY


MANY = 200
"""Over the first limit of 32, far under ``sync.IN_PLACE_MAX``: a repository of this size
is applied by its sync, without an apply task per object."""
