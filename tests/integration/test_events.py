"""Events are aggregated as Kubernetes clients aggregate them: a repeat counts, it is not new.

A tug of war with another controller (here: a test that changes the child again and again)
used to write a new Event per revert into etcd.
"""

from __future__ import annotations

import secrets
from typing import Any

from faros.api import names
from faros.kube import client
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos, processes
from tests.harness.git_servers import Transport
from tests.harness.gtos import Objects
from tests.harness.shape import FAROS
from tests.harness.wait import eventually
from tests.integration.test_apply import deployment, get_deployment


def test_repeated_reverts_count_up_one_event(kube, rt, namespace):
    objects = Objects(kube, rt)
    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/nginx"

    for revert in range(3):
        kube.request("PATCH", path, body={"spec": {"replicas": 5 + revert}},
                     content_type=client.MERGE_PATCH)  # fmt: skip
        objects.apply(gto)
        assert get_deployment(kube, namespace)["spec"]["replicas"] == 1

    selector = f"involvedObject.uid={gto['metadata']['uid']},reason=UpdateSuccessful"
    listing = kube.request("GET", f"/api/v1/namespaces/{namespace}/events",
                           query={"fieldSelector": selector})  # fmt: skip
    (event,) = listing["items"]
    assert event["count"] == 3
    assert event["lastTimestamp"] >= event["firstTimestamp"]
    assert event["message"] == f"Successfully updated child Deployment {namespace}/nginx"


def test_summary_events_post_one_event_per_sync_and_keep_drift_reverts(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    files = {f"{n}.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}, namespace: "
             f"{namespace}}}\ndata: {{v: '1'}}\n" for n in ("a", "b", "c")}  # fmt: skip
    repo = gitrepos.make_repo(git_root, f"summary-{secrets.token_hex(3)}", [files])
    gittracks = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"
    command = [FAROS, "run", f"--kubeconfig={worker_settings.kubeconfig}", "--allow-file-urls",
               f"--namespace={namespace}", "--clustergittrack-mode=Disabled", "--events=summary",
               "--metrics-bind-address=0", "--sync-period=10m",
               "--broker-url=redis://127.0.0.1:1/0"]  # fmt: skip
    process = processes.spawn(command, log=tmp_path / "run.log")
    try:
        kube.request("POST", gittracks, body={
            "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "app"},
            "spec": {"repository": git_servers.url(repo, Transport.FILE), "reference": "master"},
        })  # fmt: skip
        cms = f"/api/v1/namespaces/{namespace}/configmaps"
        eventually(lambda: cluster_harness.assert_exist(kube, *(f"{cms}/{n}" for n in "abc")),
                   timeout=60)  # fmt: skip
        eventually(lambda: _applied(kube, namespace), timeout=60)
        kube.request("PATCH", f"{cms}/a", body={"data": {"v": "drift"}},
                     content_type=client.MERGE_PATCH)  # fmt: skip
        eventually(lambda: _reverted(kube, f"{cms}/a"), timeout=60)

        def posted() -> None:
            reasons = [(e["reason"], e["message"]) for e in _events(kube, namespace)]
            synced = [m for r, m in reasons if r == "Synced"]
            assert synced, reasons
            assert synced[0].endswith("3 created, 0 updated, 0 deleted")
            per_object = {"CreateStarted", "CreateSuccessful", "CheckoutStarted",
                          "CheckoutSuccessful"}  # fmt: skip
            assert not [r for r, _ in reasons if r in per_object]
            assert [m for r, m in reasons if r == "UpdateSuccessful"] == [
                f"Successfully updated child ConfigMap {namespace}/a"
            ], "a drift revert is still reported"

        eventually(posted, timeout=30)
        assert process.poll() is None
    finally:
        processes.stop(process, timeout=30)


def _events(kube, namespace: str) -> list[dict[str, Any]]:
    return list(kube.request("GET", f"/api/v1/namespaces/{namespace}/events")["items"])


def _applied(kube, namespace: str) -> None:
    track = kube.request("GET", f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks/app")
    assert (track.get("status") or {}).get("objectsInSync") == 3, track.get("status")


def _reverted(kube, path: str) -> None:
    assert kube.request("GET", path)["data"]["v"] == "1"
