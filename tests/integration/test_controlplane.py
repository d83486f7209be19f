"""The test control plane is a real one: garbage collection and namespace deletion work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from faros.kube import client
from faros.testing import controlplane
from tests.harness import cluster as cluster_harness
from tests.harness.wait import eventually


def test_garbage_collector_deletes_dependent_when_owner_goes(kube: client.Kube, namespace: str):
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    owner = kube.request("POST", path, body={"metadata": {"name": "owner"}})
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner",
                 "uid": owner["metadata"]["uid"]}  # fmt: skip
    kube.request("POST", path, body={"metadata": {"name": "dependent",
                                                  "ownerReferences": [reference]}})  # fmt: skip

    kube.request("DELETE", f"{path}/owner")

    def dependent_gone() -> None:
        assert not cluster_harness.exists(kube, f"{path}/dependent")

    eventually(dependent_gone, timeout=60)


def test_namespace_deletion_completes(kube: client.Kube):
    kube.request("POST", "/api/v1/namespaces", body={"metadata": {"name": "doomed"}})
    kube.request("POST", "/api/v1/namespaces/doomed/configmaps", body={"metadata": {"name": "x"}})

    kube.request("DELETE", "/api/v1/namespaces/doomed")

    def namespace_gone() -> None:
        assert not cluster_harness.exists(kube, "/api/v1/namespaces/doomed")

    eventually(namespace_gone, timeout=60)


@pytest.mark.skipif(cluster_harness.use_existing(), reason="starts its own control plane")
def test_start_and_stop_by_hand(tmp_path: Path):
    command = [sys.executable, "-m", "faros.testing.controlplane"]
    env = {**os.environ, "KUBEBUILDER_CONTROLPLANE_START_TIMEOUT": "90s"}
    started = subprocess.run(
        [*command, "start", "--dir", str(tmp_path)],
        capture_output=True, text=True, env=env, check=False, timeout=180,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    kubeconfig = Path(started.stdout.strip().splitlines()[-1])
    assert kubeconfig == tmp_path / "admin.kubeconfig"
    pids = controlplane.load_state(tmp_path).pids
    assert set(pids) == {"etcd", "kube-apiserver", "kube-controller-manager"}
    try:
        with client.Kube.connect(kubeconfig) as kube:
            crds = kube.request("GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
            names = {item["metadata"]["name"] for item in crds["items"]}
            assert "gittracks.faros.pusher.com" in names
    finally:
        stopped = subprocess.run(
            [*command, "stop", "--dir", str(tmp_path)],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
    assert stopped.returncode == 0, stopped.stderr
    for pid in pids.values():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert not (tmp_path / "state.json").exists()
