"""Losing Redis loses nothing: after the broker restarts empty, Faros converges again.

Redis holds only queues, locks, the schedule and de-duplication keys. Here a worker, a beat and
a watcher run against their own redis-server, which is restarted without persistence (on the
same port, as a Redis pod would come back behind its Service): the watcher writes the
schedule again from the GitTracks it knows, beat syncs again, and drift is still reverted.
"""

from __future__ import annotations

import dataclasses
import secrets

from faros.api import names
from faros.watchers import runner
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos
from tests.harness.git_servers import Transport
from tests.harness.redis_server import RedisServer
from tests.harness.wait import eventually
from tests.scenarios.test_end_to_end import faros_processes


def configmap(name: str, namespace: str, value: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"data: {{value: '{value}'}}\n"
    )


def test_faros_converges_after_redis_restarts_empty(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    broker = RedisServer(tmp_path / "redis").start()
    settings = dataclasses.replace(worker_settings, broker_url=broker.url)
    repo = gitrepos.make_repo(git_root, f"loss-{secrets.token_hex(3)}", [
        {"a.yaml": configmap("a", namespace, "1")},
    ])  # fmt: skip
    a = f"/api/v1/namespaces/{namespace}/configmaps/a"

    def value(expected: str) -> None:
        live = kube.request("GET", a) if cluster_harness.exists(kube, a) else {}
        assert live.get("data", {}).get("value") == expected, live

    try:
        with faros_processes(settings, tmp_path, "faros:beat:") as running:
            kube.request("POST", f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks",
                         body={"apiVersion": names.API_VERSION, "kind": "GitTrack",
                               "metadata": {"name": "app"},
                               "spec": {"repository": git_servers.url(repo, Transport.FILE),
                                        "reference": "master"}})  # fmt: skip
            eventually(lambda: value("1"), timeout=90)
            with broker.client() as client:
                assert client.dbsize() > 0  # the schedule entry at least

            broker.stop()
            broker.start()  # empty: no schedule, no queues, no locks, no de-duplication keys
            repo.commit({"a.yaml": configmap("a", namespace, "2")})

            # The watcher re-derives the schedule at least every RECONCILE_EVERY seconds;
            # beat then syncs on its 3 s period.
            eventually(lambda: value("2"), timeout=runner.RECONCILE_EVERY + 60)
            kube.request("PATCH", a, body={"data": {"value": "drift"}},
                         content_type="application/merge-patch+json")  # fmt: skip
            eventually(lambda: value("2"), timeout=60)
            for process in running:
                assert process.poll() is None, process.args
    finally:
        broker.stop()
