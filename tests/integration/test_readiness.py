"""Applied is not working: children's health and a GitTrack's Ready, against a real API server.

The control plane has no scheduler, kubelet or workload controllers, so the test writes the
status of Deployments and Jobs through the status subresource, as their controllers would
(real API behaviour, no mock). Faros runs as `faros run`, scoped to the test's namespace.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from typing import Any

from faros.api import names
from faros.kube import client
from tests.harness import gitrepos
from tests.harness.cluster import condition
from tests.harness.cluster import get_or_empty as get
from tests.harness.faros_run import Run as FarosRun
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually


def deployment(namespace: str) -> str:
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 1, "progressDeadlineSeconds": 60,
                 "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    })  # fmt: skip


def job(namespace: str) -> str:
    return json.dumps({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": namespace},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
                                       "containers": [{"name": "m", "image": "busybox"}]}}},
    })  # fmt: skip


def configmap(namespace: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c, namespace: {namespace}}}\n"


def write_status(kube: client.Kube, path: str, status: dict[str, Any]) -> None:
    live = kube.request("GET", path)
    live["status"] = status
    kube.request("PUT", f"{path}/status", body=live)


def roll_out(kube: client.Kube, web: str) -> int:
    """Write the status of an available Deployment, as its controller would; its generation."""
    generation = int(kube.request("GET", web)["metadata"]["generation"])
    write_status(kube, web, {
        "observedGeneration": generation, "replicas": 1, "updatedReplicas": 1,
        "readyReplicas": 1, "availableReplicas": 1,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}],
    })  # fmt: skip
    return generation


def test_ready_follows_the_health_of_the_children(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"ready-{secrets.token_hex(3)}", [
        {"web.json": deployment(namespace), "c.yaml": configmap(namespace)},
    ])  # fmt: skip
    gittracks = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"
    web = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    web_gto = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittrackobjects/deployment-web"
    with FarosRun(worker_settings, tmp_path, namespace, period="10m") as run:
        kube.request("POST", gittracks, body={
            "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "app"},
            "spec": {"repository": git_servers.url(repo, Transport.FILE), "reference": "master"},
        })  # fmt: skip

        def progressing() -> None:
            assert run.process.poll() is None
            gto = get(kube, web_gto)
            assert condition(gto, "Healthy").get("status") == "Unknown", gto.get("status")
            track = get(kube, f"{gittracks}/app")
            assert condition(track, "Ready").get("status") == "False", track.get("status")
            assert condition(track, "Reconciling")["status"] == "True"
            assert "Deployment" in condition(track, "Ready")["message"]

        eventually(progressing, timeout=60, interval=0.5)

        generation = roll_out(kube, web)
        waited = subprocess.run(
            ["kubectl", f"--kubeconfig={cluster.kubeconfig}", "-n", namespace, "wait",
             "--for=condition=Ready", "gittrack/app", "--timeout=60s"],
            capture_output=True, text=True, timeout=90, check=False,
        )  # fmt: skip
        assert waited.returncode == 0, waited.stderr
        track = kube.request("GET", f"{gittracks}/app")
        assert track["status"]["objectsHealthy"] == 2
        assert track["status"]["objectsInSync"] == 2
        assert condition(track, "Stalled")["status"] == "False"

        write_status(kube, web, {
            "observedGeneration": generation, "replicas": 1, "updatedReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "False",
                            "reason": "ProgressDeadlineExceeded",
                            "message": 'ReplicaSet "web-1" has timed out progressing.'}],
        })  # fmt: skip

        def failed() -> None:
            track = kube.request("GET", f"{gittracks}/app")
            ready = condition(track, "Ready")
            assert ready["status"] == "False", ready
            assert f"Deployment {namespace}/web: ProgressDeadlineExceeded" in ready["message"]
            assert condition(track, "Stalled")["status"] == "True"
            assert condition(kube.request("GET", web_gto), "Healthy")["status"] == "False"

        eventually(failed, timeout=60, interval=0.5)
        assert run.process.poll() is None


def test_a_failed_job_stalls_its_gittrack(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"job-{secrets.token_hex(3)}", [
        {"job.json": job(namespace)},
    ])  # fmt: skip
    gittracks = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"
    path = f"/apis/batch/v1/namespaces/{namespace}/jobs/migrate"
    with FarosRun(worker_settings, tmp_path, namespace, period="10m"):
        kube.request("POST", gittracks, body={
            "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "app"},
            "spec": {"repository": git_servers.url(repo, Transport.FILE), "reference": "master"},
        })  # fmt: skip
        eventually(lambda: _exists(kube, path), timeout=60)
        write_status(kube, path, {
            "startTime": "2026-12-03T12:00:00Z", "failed": 6,
            "conditions": [
                {"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit"},
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit"}],
        })  # fmt: skip

        def stalled() -> None:
            track = get(kube, f"{gittracks}/app")
            assert condition(track, "Stalled").get("status") == "True", track.get("status")
            assert (
                f"Job {namespace}/migrate: BackoffLimitExceeded"
                in condition(track, "Ready")["message"]
            )

        eventually(stalled, timeout=60, interval=0.5)


def _exists(kube: client.Kube, path: str) -> None:
    assert get(kube, path), f"{path} not created yet"


def test_depends_on_waits_for_readiness_then_proceeds_and_cycles_stall(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    base = gitrepos.make_repo(git_root, f"base-{secrets.token_hex(3)}", [
        {"web.json": deployment(namespace)},
    ])  # fmt: skip
    app = gitrepos.make_repo(git_root, f"app-{secrets.token_hex(3)}", [
        {"c.yaml": configmap(namespace)},
    ])  # fmt: skip
    gittracks = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"
    web = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"

    def create(name: str, repo, *needs: str) -> None:
        spec: dict[str, Any] = {"repository": git_servers.url(repo, Transport.FILE),
                                "reference": "master"}  # fmt: skip
        if needs:
            spec["dependsOn"] = [{"name": need} for need in needs]
        kube.request("POST", gittracks, body={"apiVersion": names.API_VERSION,
                                              "kind": "GitTrack", "metadata": {"name": name},
                                              "spec": spec})  # fmt: skip

    with FarosRun(worker_settings, tmp_path, namespace, period="10m"):
        create("app", app, "base")
        create("base", base)
        create("x", app, "y")
        create("y", app, "x")

        def waiting() -> None:
            track = get(kube, f"{gittracks}/app")
            ready = condition(track, "Ready")
            assert (ready.get("status"), ready.get("reason")) == ("False", "DependencyNotReady")
            assert f"GitTrack {namespace}/base is not Ready" in ready["message"]
            assert condition(track, "Reconciling")["status"] == "True"

        eventually(waiting, timeout=60, interval=0.5)
        eventually(lambda: _exists(kube, web), timeout=60)
        assert not get(kube, f"/api/v1/namespaces/{namespace}/configmaps/c"), "nothing applied"

        roll_out(kube, web)

        def proceeded() -> None:
            assert condition(get(kube, f"{gittracks}/app"), "Ready").get("status") == "True"
            assert get(kube, f"/api/v1/namespaces/{namespace}/configmaps/c")

        eventually(proceeded, timeout=60, interval=0.5)

        def cycle() -> None:
            stalled = condition(get(kube, f"{gittracks}/x"), "Stalled")
            assert (stalled.get("status"), stalled.get("reason")) == ("True", "DependencyCycle")
            assert f"GitTrack {namespace}/x -> GitTrack {namespace}/y" in stalled["message"]

        eventually(cycle, timeout=60, interval=0.5)
