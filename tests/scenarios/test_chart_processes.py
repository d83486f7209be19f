"""The chart's processes, run as rendered: worker, beat, watch and Flower keep a GitTrack applied.

Each Deployment's container (command, arguments, environment from the rendered Secrets) runs
on this machine against the test control plane and Redis, as its pod would: with the token of
the chart's ServiceAccount (so with the chart's RBAC and nothing more), the image's
entrypoint is the venv's ``faros`` (or ``celery``), every volume a temporary directory (the
known_hosts ConfigMap written into it), every container port a free loopback port.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from faros.api import names
from faros.testing import binaries
from tests.harness import chart, gitrepos, http, processes
from tests.harness import cluster as cluster_harness
from tests.harness.chart import Doc, Helm, LocalPod
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\n"
COMPONENTS = (*chart.FAROS_PROCESSES, "flower")
RBAC_KINDS = ("ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding")


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(binary=binaries.helm(), home=tmp_path_factory.mktemp("helm-home"))


@contextlib.contextmanager
def running(pods: dict[str, LocalPod], logs: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    started: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, pod in pods.items():
            log = logs / f"{name}.log"
            started[name] = processes.spawn(pod.command, log=log, env=pod.env, cwd=pod.cwd)
        yield started
    finally:
        for process in started.values():
            processes.stop(process, timeout=30)


def test_rendered_processes_apply_a_gittrack(
    helm, cluster, kube, redis_url, git_root, git_servers, namespace, tmp_path
):
    values = {
        "faros": {"namespace": namespace, "syncPeriod": "3s", "logFormat": "text"},
        "redis": {"enabled": False, "external": {"url": redis_url}},
        "knownHosts": {"content": git_servers.ssh.known_hosts.read_text()},
        # Its own schedule in the shared Redis, so no other test's beat entries interfere.
        "extraEnv": [{"name": "FAROS_BEAT_KEY_PREFIX", "value": f"faros:beat:{namespace}:"}],
        "worker": {"concurrency": 1},
        "flower": {"enabled": True},
    }
    docs = helm.template(values, release="faros", namespace=namespace)
    kubeconfig = _service_account_kubeconfig(cluster, docs, namespace, tmp_path)
    base_env = {"PATH": os.environ.get("PATH", ""), "KUBECONFIG": str(kubeconfig)}
    pods = {
        component: chart.localize(
            docs, chart.deployment(docs, component), root=tmp_path / component, base_env=base_env
        )
        for component in COMPONENTS
    }
    _assert_faithful(docs, pods)

    repo = gitrepos.make_repo(git_root, f"chart-{secrets.token_hex(3)}",
                              [{"a.yaml": CONFIGMAP % ("a", namespace)}])  # fmt: skip
    key = base64.b64encode(git_servers.ssh.private_key.read_bytes()).decode()
    deploy_key = {"metadata": {"name": "deploy"}, "data": {"id": key}}
    kube.request("POST", f"/api/v1/namespaces/{namespace}/secrets", body=deploy_key)
    gittracks = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"
    configmaps = f"/api/v1/namespaces/{namespace}/configmaps"

    with running(pods, tmp_path) as started:

        def alive() -> None:
            for name, process in started.items():
                assert process.poll() is None, (
                    f"{name}:\n{processes.tail(tmp_path / f'{name}.log')}"
                )

        kube.request("POST", gittracks, body={
            "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "app"},
            "spec": {"repository": git_servers.url(repo, Transport.SSH), "reference": "master",
                     "deployKey": {"secretName": "deploy", "key": "id"}},
        })  # fmt: skip

        def applied(count: int) -> None:
            alive()
            status = kube.request("GET", f"{gittracks}/app").get("status", {})
            assert status.get("objectsApplied") == count, status

        # SSH with the deploy key, host key checked against the chart's known_hosts ConfigMap.
        eventually(lambda: applied(1), timeout=90)  # its GitTrackObject; then its child:
        eventually(lambda: cluster_harness.assert_exist(kube, f"{configmaps}/a"), timeout=60)

        repo.commit({"b.yaml": CONFIGMAP % ("b", namespace)})  # found by beat's next sync
        eventually(lambda: applied(2), timeout=60)
        eventually(lambda: cluster_harness.assert_exist(kube, f"{configmaps}/b"), timeout=60)

        for component in COMPONENTS:
            probes = chart.container(chart.deployment(docs, component))
            for probe in ("livenessProbe", "readinessProbe"):
                get = probes[probe]["httpGet"]
                url = f"http://127.0.0.1:{pods[component].ports[get['port']]}{get['path']}"
                eventually(functools.partial(_answers, url, 200), timeout=30)

        flower = f"http://127.0.0.1:{pods['flower'].ports['http']}/"
        _answers(flower, 401)  # basic auth is on, with the chart's generated password
        _answers(flower, 200, auth=pods["flower"].env["FLOWER_BASIC_AUTH"])

        kube.request("DELETE", f"{gittracks}/app")
        eventually(
            lambda: cluster_harness.assert_gone(kube, f"{configmaps}/a", f"{configmaps}/b"),
            timeout=60,
        )
        alive()


def _service_account_kubeconfig(cluster, docs: list[Doc], namespace: str, folder: Path) -> Path:
    """Create the rendered ServiceAccount and RBAC; return a kubeconfig with the account's token.

    The processes then have exactly the permissions their pods would have (the test control
    plane authorizes with RBAC), instead of the admin's.
    """
    rbac = [doc for doc in docs if doc["kind"] in RBAC_KINDS]
    assert {doc["kind"] for doc in rbac} == {"ServiceAccount", "Role", "RoleBinding"}
    cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(rbac))
    account = chart.one(docs, "ServiceAccount")["metadata"]["name"]
    token = cluster.kubectl("--namespace", namespace, "create", "token", account).strip()
    kubeconfig = yaml.safe_load(cluster.kubeconfig.read_text())
    for user in kubeconfig["users"]:
        user["user"] = {"token": token}
    path = folder / "serviceaccount.kubeconfig"
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


def _assert_faithful(docs: list[Doc], pods: dict[str, LocalPod]) -> None:
    """The local processes are the rendered ones: same program, arguments, variables."""
    for component, pod in pods.items():
        container = chart.container(chart.deployment(docs, component))
        entrypoint = container.get("command", ["faros"])
        assert Path(pod.command[0]).name == entrypoint[0]
        assert len(pod.command) == len(entrypoint) + len(container["args"])
        for name in chart.environment(docs, chart.deployment(docs, component)):
            assert name in pod.env
    assert pods["worker"].command[1] == "worker"
    assert "FLOWER_BASIC_AUTH" in pods["flower"].env


def _answers(url: str, code: int, *, auth: str = "") -> None:
    assert http.get(url, auth=auth)[0] == code, url
