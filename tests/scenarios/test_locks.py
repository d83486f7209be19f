"""Four worker processes and 200 objects changed at once: one writer per object, all converge."""

from __future__ import annotations

import collections
import json
import os
import secrets
import sys
from pathlib import Path

from faros.api import names
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos, processes
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually

FAROS = str(Path(sys.executable).with_name("faros"))
COUNT = 200


def configmaps(namespace: str, version: str) -> dict[str, str]:
    return {
        f"cm/{i:03}.yaml": json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": f"cm-{i:03}", "namespace": namespace},
            "data": {"version": version},
        })
        for i in range(COUNT)
    }  # fmt: skip


def test_four_workers_write_each_object_once_per_change(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"locks-{secrets.token_hex(3)}",
                              [configmaps(namespace, "v1")])  # fmt: skip
    common = [f"--kubeconfig={worker_settings.kubeconfig}",
              f"--broker-url={worker_settings.broker_url}", "--allow-file-urls",
              "--metrics-bind-address=0", "--sync-period=2s"]  # fmt: skip
    env = {**os.environ, "FAROS_BEAT_KEY_PREFIX": f"faros:beat:{secrets.token_hex(3)}:"}
    commands = [["watch"], ["beat"]] + [["worker", "--concurrency=1"]] * 4
    started = []
    try:
        for index, args in enumerate(commands):
            log = tmp_path / f"{args[0]}-{index}.log"
            proc_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{index}")}
            started.append(processes.spawn([FAROS, *args, *common], log=log, env=proc_env))
        mark = cluster_harness.audit_lines(cluster)
        gittracks = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"
        kube.request("POST", gittracks, body={
            "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "many"},
            "spec": {"repository": git_servers.url(repo, Transport.FILE), "reference": "master"},
        })  # fmt: skip
        eventually(lambda: _versions(kube, namespace, "v1"), timeout=240, interval=1)

        repo.commit(configmaps(namespace, "v2"))  # all 200 change at once
        eventually(lambda: _versions(kube, namespace, "v2"), timeout=240, interval=1)
        for process in started:
            assert process.poll() is None, process.args

        writes = [
            entry for entry in cluster_harness.writes_since(cluster, mark)
            if entry.get("objectRef", {}).get("resource") == "configmaps"
            and entry.get("objectRef", {}).get("namespace") == namespace
            and str(entry.get("objectRef", {}).get("name", "")).startswith("cm-")
        ]  # fmt: skip
        conflicts = [e for e in writes if e.get("responseStatus", {}).get("code") == 409]
        assert conflicts == []
        per_object = collections.Counter(
            (e["objectRef"]["name"], e["verb"]) for e in writes
            if e.get("responseStatus", {}).get("code", 200) < 300
        )  # fmt: skip
        for i in range(COUNT):
            name = f"cm-{i:03}"
            assert per_object[(name, "create")] == 1, name
            assert per_object[(name, "patch")] == 1, name  # one write for the one change
    finally:
        for process in started:
            processes.stop(process, timeout=30)


def _versions(kube, namespace: str, version: str) -> None:
    listing = kube.request("GET", f"/api/v1/namespaces/{namespace}/configmaps")["items"]
    found = {
        item["metadata"]["name"]: item.get("data", {}).get("version")
        for item in listing
        if item["metadata"]["name"].startswith("cm-")
    }
    assert len(found) == COUNT
    assert set(found.values()) == {version}, collections.Counter(found.values())
