"""The Kubernetes side of the test bed: our own control plane, or the current kubeconfig.

``USE_EXISTING_CLUSTER=true`` (envtest's convention) runs the suite against the cluster of the
current kubeconfig: nothing is started, the CRDs are installed there, and tests that need the
audit log are skipped.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from faros.kube import client, errors
from faros.testing import controlplane, crds
from tests.harness.wait import eventually

REPO = Path(__file__).resolve().parents[2]
CRD_DIR = REPO / "helm" / "faros" / "crds"


@dataclasses.dataclass(frozen=True)
class Cluster:
    """What a test needs to reach the API server."""

    kubeconfig: Path
    audit_log: Path | None
    plane: controlplane.ControlPlane | None = None
    """Our own control plane (None with ``USE_EXISTING_CLUSTER``): chaos tests restart parts."""

    def kubectl(self, *args: str, stdin: str | None = None, check: bool = True) -> str:
        """Run kubectl against this cluster and return its stdout (stderr joined on failure)."""
        done = subprocess.run(
            ["kubectl", f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout if done.returncode == 0 else done.stdout + done.stderr


def use_existing() -> bool:
    """True when ``USE_EXISTING_CLUSTER=true``."""
    return os.environ.get("USE_EXISTING_CLUSTER", "").lower() == "true"


@contextmanager
def provide(directory: Path) -> Iterator[Cluster]:
    """Start our control plane in ``directory`` (or use the current kubeconfig's cluster)."""
    if use_existing():
        kubeconfig = Path(os.environ.get("KUBECONFIG") or Path.home() / ".kube" / "config")
        crds.install(kubeconfig, [CRD_DIR])
        yield Cluster(kubeconfig=kubeconfig, audit_log=None)
        return
    with controlplane.ControlPlane(directory, crd_paths=[CRD_DIR]) as plane:
        yield Cluster(kubeconfig=plane.kubeconfig, audit_log=plane.audit_log, plane=plane)


def exists(kube: client.Kube, path: str) -> bool:
    """True when GET ``path`` finds the object, False on 404."""
    try:
        kube.request("GET", path)
    except errors.NotFound:
        return False
    return True


def get_or_empty(kube: client.Kube, path: str) -> dict[str, Any]:
    """The object at ``path``, or {} while it does not exist (for ``eventually``)."""
    try:
        found: dict[str, Any] = kube.request("GET", path)
    except errors.NotFound:
        return {}
    return found


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """The condition of type ``kind`` in ``obj``'s status, or {}."""
    for found in (obj.get("status") or {}).get("conditions", []):
        if found["type"] == kind:
            return dict(found)
    return {}


def assert_exist(kube: client.Kube, *paths: str) -> None:
    """Fail unless every object at ``paths`` exists (for ``eventually``)."""
    for path in paths:
        assert exists(kube, path), f"{path} does not exist"


def assert_gone(kube: client.Kube, *paths: str) -> None:
    """Fail while any object at ``paths`` still exists (for ``eventually``)."""
    for path in paths:
        assert not exists(kube, path), f"{path} still exists"


def wait_collector_caught_up(kube: client.Kube, *, timeout: float) -> None:
    """Wait until the garbage collector has worked through what was queued before this call.

    Its queue is first in, first out: a probe dependent whose owner is deleted now is
    collected only after the items queued ahead of it. A test that leaves thousands of
    dependents to the collector waits here, so that the next test's deletions are not
    queued behind them.
    """
    configmaps = "/api/v1/namespaces/default/configmaps"
    name = f"gc-probe-{secrets.token_hex(4)}"
    owner = kube.request("POST", configmaps, body={"metadata": {"name": f"{name}-owner"}})
    reference = {"apiVersion": "v1", "kind": "ConfigMap", "name": f"{name}-owner",
                 "uid": owner["metadata"]["uid"]}  # fmt: skip
    kube.request("POST", configmaps, body={
        "metadata": {"name": name, "ownerReferences": [reference]},
    })  # fmt: skip
    kube.request("DELETE", f"{configmaps}/{name}-owner")
    eventually(lambda: assert_gone(kube, f"{configmaps}/{name}"), timeout=timeout, interval=2)


def audit_lines(cluster: Cluster) -> int:
    """How many entries the audit log holds (a mark for ``writes_since``), once it has
    grown by nothing for ``AUDIT_QUIET`` seconds (at most ``AUDIT_SETTLE``): the API server
    writes a request's entry when its response is complete, just after the client read the
    response, so the last requests before the mark could otherwise be counted after it."""
    if cluster.audit_log is None or not cluster.audit_log.exists():
        return 0
    deadline = time.monotonic() + AUDIT_SETTLE
    count = _count_lines(cluster.audit_log)
    while time.monotonic() < deadline:
        time.sleep(AUDIT_QUIET)
        count, before = _count_lines(cluster.audit_log), count
        if count == before:
            break
    return count


AUDIT_QUIET = 0.3
AUDIT_SETTLE = 3.0


def _count_lines(path: Path) -> int:
    with path.open("rb") as log:
        return sum(1 for _ in log)


def writes_since(cluster: Cluster, mark: int) -> list[dict[str, Any]]:
    """Writes the API server audited after ``mark``, except the controller-manager's own.

    Dry-run requests (``dryRun=All``) change nothing and are not counted.
    """
    return [
        entry
        for entry in _audited(cluster, mark)
        if entry.get("verb") in WRITES
        and not _by_controller_manager(entry)
        and "dryRun=All" not in str(entry.get("requestURI", ""))
    ]


WRITES = frozenset({"create", "update", "patch", "delete", "deletecollection"})


def lists_since(cluster: Cluster, mark: int) -> list[str]:
    """Request URIs of the lists of Faros's own kinds audited after ``mark``."""
    return [
        str(e.get("requestURI", "")) for e in _audited(cluster, mark) if e.get("verb") == "list"
    ]


def gets_since(cluster: Cluster, mark: int) -> list[str]:
    """Request URIs of the reads by name of Faros's own kinds audited after ``mark``, except
    the controller-manager's (its garbage collector reads an owner it has not seen yet)."""
    return [
        str(entry.get("requestURI", ""))
        for entry in _audited(cluster, mark)
        if entry.get("verb") == "get" and not _by_controller_manager(entry)
    ]


def _by_controller_manager(entry: dict[str, Any]) -> bool:
    return str(entry.get("userAgent", "")).startswith("kube-controller-manager")


def _audited(cluster: Cluster, mark: int) -> list[dict[str, Any]]:
    if cluster.audit_log is None:
        raise AssertionError("no audit log: USE_EXISTING_CLUSTER runs cannot count requests")
    lines = cluster.audit_log.read_text().splitlines()
    if mark > len(lines):  # a count after the mark would be empty, and prove nothing
        raise AssertionError(
            f"the audit log holds {len(lines)} entries, fewer than the mark {mark}: it was rotated"
        )
    entries = lines[mark:]
    return [json.loads(line) for line in entries if line.strip()]
