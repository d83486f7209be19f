"""A repository of 10,000 objects converges, in both shapes, well inside the task limits.

Before, a sync wrote its GitTrackObjects and Events one after the other (about 30,000
sequential requests for 10,000 objects inside a 240 s soft time limit, not retried): such a
repository never finished. Timings are the benchmark's business; here only convergence is
asserted, with a generous deadline. Runs with ``--events=summary`` (the mode such an
installation would choose).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
import redis

from faros.api import names
from faros.kube import client
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos, processes
from tests.harness.git_servers import Transport
from tests.harness.shape import FAROS, Shape, wait_ready
from tests.harness.wait import eventually

OBJECTS = 10_000
PER_FILE = 100
DEADLINE = 900.0


def files(namespace: str) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for first in range(0, OBJECTS, PER_FILE):
        found[f"cms-{first // PER_FILE:03d}.yaml"] = "---\n".join(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: {namespace}}}"
            f"\ndata: {{index: '{i}'}}\n"
            for i in range(first, first + PER_FILE)
        )
    return found


def converged(kube: client.Kube, namespace: str) -> None:
    found: list[dict[str, Any]] = []
    query: dict[str, str | int | bool] = {"limit": 2000}
    while True:
        page = kube.request("GET", f"/api/v1/namespaces/{namespace}/configmaps", query=query)
        found += page["items"]
        token = page["metadata"].get("continue")
        if not token:
            break
        query["continue"] = token
    held = {i["metadata"]["name"] for i in found if (i.get("data") or {}).get("index")}
    assert len(held) == OBJECTS, f"{len(held)} of {OBJECTS}"


@pytest.fixture(autouse=True)
def _gone_afterwards(kube, namespace):
    """Delete the test's 10,000 objects and wait until they and the garbage collector's work
    are done: left in the background, they delayed the next tests' deletions past their
    deadlines (and their deletion events queued applies in the next test)."""
    yield
    # Children first, then their owners: an owner deleted while its dependents exist queues
    # each of them in the garbage collector (10,000 lookups at its client's rate limit, which
    # held up the next test's collection for minutes); with none left, nothing is queued.
    for path in (f"/api/v1/namespaces/{namespace}/configmaps",
                 f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittrackobjects",
                 f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"):  # fmt: skip
        kube.request("DELETE", path, timeout=300)
    kube.request("DELETE", f"/api/v1/namespaces/{namespace}")
    eventually(lambda: no_namespace_terminating(kube), timeout=600, interval=5)
    cluster_harness.wait_collector_caught_up(kube, timeout=600)


def no_namespace_terminating(kube: client.Kube) -> None:
    found = kube.request("GET", "/api/v1/namespaces")["items"]
    terminating = [
        n["metadata"]["name"] for n in found if n["status"].get("phase") == "Terminating"
    ]
    assert not terminating, terminating


def track(kube: client.Kube, namespace: str, url: str) -> None:
    kube.request("POST", f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks", body={
        "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "big"},
        "spec": {"repository": url, "reference": "master"},
    })  # fmt: skip


@pytest.mark.timeout(1200)
def test_ten_thousand_objects_converge_under_faros_run(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"big-{secrets.token_hex(3)}", [files(namespace)])
    command = [FAROS, "run", f"--kubeconfig={worker_settings.kubeconfig}", "--allow-file-urls",
               f"--namespace={namespace}", "--clustergittrack-mode=Disabled", "--events=summary",
               "--metrics-bind-address=0", "--sync-period=10m",
               "--broker-url=redis://127.0.0.1:1/0"]  # fmt: skip
    process = processes.spawn(command, log=tmp_path / "run.log")
    try:
        began = time.monotonic()
        track(kube, namespace, git_servers.url(repo, Transport.FILE))
        eventually(lambda: converged(kube, namespace), timeout=DEADLINE, interval=5)
        print(f"\nfaros run: {OBJECTS} objects in {time.monotonic() - began:.0f}s")
        assert process.poll() is None
    finally:
        processes.stop(process, timeout=60)


@pytest.mark.timeout(1200)
def test_ten_thousand_objects_converge_distributed(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"big-{secrets.token_hex(3)}", [files(namespace)])
    shape = Shape(worker_settings, tmp_path, beat_prefix=f"faros:beat:{secrets.token_hex(3)}:",
                  sync_period="10m", env={"FAROS_EVENTS": "summary"})  # fmt: skip
    with shape:
        wait_ready(shape)
        began = time.monotonic()
        track(kube, namespace, git_servers.url(repo, Transport.FILE))
        eventually(lambda: converged(kube, namespace), timeout=DEADLINE, interval=5)
        print(f"\ndistributed: {OBJECTS} objects in {time.monotonic() - began:.0f}s")
        shape.assert_alive()
        # Each child's creation is one apply: the watch event of an apply's own write queues
        # no second one (before, about 7,000 of them were still queued at this point).
        left = redis.Redis.from_url(worker_settings.broker_url).llen("apply")
        assert left < OBJECTS // 10, f"{left} applies still queued after convergence"
