"""End to end with separate processes (2 workers, 1 beat, 2 watchers), and under `faros run`."""

from __future__ import annotations

import json
import secrets

from celery import Celery

from faros.api import names
from faros.beat import entries
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos, http, processes
from tests.harness.git_servers import Transport
from tests.harness.shape import FAROS, Shape
from tests.harness.wait import eventually


def configmap(name: str, namespace: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}}}\n"


def deployment(namespace: str) -> str:
    return json.dumps({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
    })  # fmt: skip


def test_gittrack_lifecycle_with_separate_processes(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path
):
    prefix = f"faros:beat:{secrets.token_hex(3)}:"
    schedule = Celery("faros-test")
    schedule.config_from_object("celeryconfig")
    broker = worker_settings.broker_url
    schedule.conf.update(broker_url=broker, redbeat_redis_url=broker, redbeat_key_prefix=prefix)
    shape = Shape(worker_settings, tmp_path, beat_prefix=prefix, watchers=2, workers=2)
    with shape:
        assert sorted(shape.running) == ["beat", "watch-1", "watch-2", "worker-1", "worker-2"]
        lifecycle(kube, cluster, git_root, git_servers, namespace,
                  list(shape.running.values()), schedule)  # fmt: skip


def test_gittrack_lifecycle_under_faros_run_without_redis(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path
):
    port = processes.free_port()
    command = [FAROS, "run", f"--kubeconfig={worker_settings.kubeconfig}", "--allow-file-urls",
               f"--metrics-bind-address=127.0.0.1:{port}", "--sync-period=3s",
               "--broker-url=redis://127.0.0.1:1/0"]  # fmt: skip  # nothing listens there
    process = processes.spawn(command, log=tmp_path / "run.log")
    try:
        lifecycle(kube, cluster, git_root, git_servers, namespace, [process], None,
                  metrics=f"http://127.0.0.1:{port}")  # fmt: skip
    finally:
        processes.stop(process, timeout=30)


def lifecycle(
    kube, cluster, git_root, git_servers, namespace, running, schedule, metrics: str = ""
) -> None:
    """Create, update, drift, delete: the cluster follows Git through the given processes."""
    repo = gitrepos.make_repo(git_root, f"e2e-{secrets.token_hex(3)}", [{
        "a.yaml": configmap("a", namespace), "b.yaml": configmap("b", namespace),
        "web.json": deployment(namespace),
    }])  # fmt: skip
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    web = f"/apis/apps/v1/namespaces/{namespace}/deployments/web"
    gittracks = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"

    def alive() -> None:
        for process in running:
            assert process.poll() is None, process.args

    kube.request("POST", gittracks, body={
        "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "app"},
        "spec": {"repository": git_servers.url(repo, Transport.FILE), "reference": "master"},
    })  # fmt: skip

    def applied(count: int) -> None:
        alive()
        status = kube.request("GET", f"{gittracks}/app").get("status", {})
        assert status.get("objectsApplied") == count, status
        assert cluster_harness.exists(kube, web)

    eventually(lambda: applied(3), timeout=90)
    if schedule is not None:
        # (other tests' GitTracks may still be going away: only ours is asserted)
        assert f"gittrack:{namespace}/app" in entries.names(schedule)
    if metrics:
        eventually(lambda: _scraped(metrics, namespace), timeout=30)
    eventually(lambda: cluster_harness.assert_exist(kube, f"{cms}/a", f"{cms}/b"), timeout=60)

    repo.commit({"c.yaml": configmap("c", namespace)})  # picked up by the next beat sync
    eventually(lambda: cluster_harness.assert_exist(kube, f"{cms}/c"), timeout=60)

    cluster.kubectl("-n", namespace, "set", "image", "deployment/web", "web=httpd")
    eventually(lambda: _assert_image(kube, web, "nginx"), timeout=60)

    kube.request("DELETE", f"{cms}/a")
    eventually(lambda: cluster_harness.assert_exist(kube, f"{cms}/a"), timeout=60)

    repo.commit({"b.yaml": None})
    eventually(lambda: cluster_harness.assert_gone(kube, f"{cms}/b"), timeout=60)

    kube.request("DELETE", f"{gittracks}/app")
    eventually(lambda: cluster_harness.assert_gone(kube, web, f"{cms}/c"), timeout=90)
    if schedule is not None:
        assert f"gittrack:{namespace}/app" not in entries.names(schedule)


def _assert_image(kube, path: str, expected: str) -> None:
    containers = kube.request("GET", path)["spec"]["template"]["spec"]["containers"]
    assert containers[0]["image"] == expected


def _scraped(url: str, namespace: str) -> None:
    status, text = http.get(f"{url}/metrics")
    assert status == 200, text
    wanted = (
        f'faros_gittrack_child_status{{name="app",namespace="{namespace}",status="applied"}} 3.0'
    )
    assert wanted in text
    assert "faros_gittrack_time_to_deploy_seconds_count" in text
