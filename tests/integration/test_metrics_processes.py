"""Each Faros process serves the new metrics: worker, beat, watch and run, scraped for real.

Real processes (a prefork worker, beat, the watchers, ``faros run``) against the real API
server and Redis; every test checks the series it can cause with a real sync, apply or drift.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from prometheus_client.parser import text_string_to_metric_families

from faros import locks
from faros.api import names
from faros.core import identity
from faros.tasks import app as celery_app
from faros.tasks import apply as apply_task
from faros.tasks import sync as sync_task
from faros.tasks import worker as worker_module
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos, http, processes
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually

FAROS = str(Path(sys.executable).with_name("faros"))


def configmap(name: str, namespace: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}}}\n"


class Scraper:
    """Reads one process's /metrics and /healthz."""

    def __init__(self, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.process = process
        self.log = log

    def text(self) -> str:
        assert self.process.poll() is None, processes.tail(self.log, 40)
        code, body = http.get(f"{self.base}/metrics")
        assert code == 200, body
        return body

    def samples(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        found = {}
        for family in text_string_to_metric_families(self.text()):
            for sample in family.samples:
                found[(sample.name, frozenset(sample.labels.items()))] = sample.value
        return found

    def value(self, metric: str, /, **labels: str) -> float:
        """The sample's value; 0 when it is absent."""
        return self.samples().get((metric, frozenset(labels.items())), 0.0)

    def healthy(self) -> None:
        assert self.process.poll() is None, processes.tail(self.log, 40)
        assert http.get(f"{self.base}/healthz") == (200, "ok\n")


@contextlib.contextmanager
def faros(
    args: list[str], tmp_path: Path, *, env: dict[str, str] | None = None
) -> Iterator[Scraper]:
    """Run ``faros <args>`` with a metrics port until the block ends; wait until healthy."""
    port = processes.free_port()
    log = tmp_path / f"{args[0]}.log"
    command = [FAROS, *args, f"--metrics-bind-address=127.0.0.1:{port}"]
    process = processes.spawn(command, log=log, env={**os.environ, **(env or {})})
    try:
        scraper = Scraper(port, process, log)
        eventually(scraper.healthy, timeout=60, interval=0.5)
        yield scraper
    finally:
        processes.stop(process, timeout=30)


def send(broker: str, task, *args: str, **options) -> None:
    with celery_app.app.connection_for_write(broker) as connection:
        task.apply_async(args=args, connection=connection, **options)


def test_worker_records_tasks_locks_drift_and_latency(
    tracks, worker_settings, git_root, git_servers, namespace, kube, cluster, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"metrics-{secrets.token_hex(3)}",
                              [{"a.yaml": configmap("a", namespace)}])  # fmt: skip
    key = tracks.create(reference="master", namespace=namespace,
                        repository=git_servers.url(repo, Transport.FILE))  # fmt: skip
    broker = worker_settings.broker_url
    common = [f"--kubeconfig={worker_settings.kubeconfig}", f"--broker-url={broker}"]
    args = ["worker", *common, "--allow-file-urls", "--concurrency=2", "--queues=sync,apply"]
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "FAROS_BEAT_KEY_PREFIX": f"faros:beat:{secrets.token_hex(3)}:"}  # fmt: skip
    # The watchers keep the schedule the worker reads which GitTracks exist from.
    watch_args = ["watch", *common, f"--namespace={namespace}", "--clustergittrack-mode=Disabled"]
    with (
        faros(args, tmp_path, env=env) as worker,
        faros(watch_args, tmp_path, env=env),
    ):
        send(broker, sync_task.sync, key.namespace, key.name)
        eventually(lambda: _applied(tracks, key, 1), timeout=60)
        send(broker, apply_task.apply, namespace, "configmap-a")
        cm = f"/api/v1/namespaces/{namespace}/configmaps/a"
        eventually(lambda: cluster_harness.assert_exist(kube, cm), timeout=60)

        def first_apply() -> None:
            assert worker.value("faros_task_runs_total", task="sync", result="done") >= 1
            assert worker.value("faros_task_runs_total", task="apply", result="done") >= 1
            assert worker.value("faros_task_duration_seconds_count", task="apply") >= 1
            assert worker.value("faros_git_fetch_duration_seconds_count", result="success") >= 1
            count = worker.value("faros_commit_to_applied_seconds_count")
            assert count >= 1
            assert 0 < worker.value("faros_commit_to_applied_seconds_sum") / count < 60
            assert f'faros_gittrack_time_to_deploy_seconds_count{{name="{key.name}"' in (
                worker.text()
            )

        eventually(first_apply, timeout=30)
        mark = cluster_harness.audit_lines(cluster)
        for _ in range(5):
            worker.text()
            time.sleep(3)
        # Which GitTracks exist is read from the schedule in Redis: a scrape lists nothing (a
        # sync the watchers queued meanwhile lists its own GitTrackObjects, by owner label).
        lists = cluster_harness.lists_since(cluster, mark)
        assert [uri for uri in lists if "owner-uid" not in uri] == []

        # Someone deletes the child: the next apply puts it back, and that is a drift revert.
        reverts = worker.value("faros_drift_reverts_total", group="", kind="ConfigMap")
        kube.request("DELETE", cm)
        send(broker, apply_task.apply, namespace, "configmap-a")
        eventually(lambda: cluster_harness.assert_exist(kube, cm), timeout=60)
        eventually(
            lambda: _at_least(worker, reverts + 1, "faros_drift_reverts_total",
                              group="", kind="ConfigMap"),
            timeout=30,
        )  # fmt: skip

        # The child's lock is held elsewhere: the apply is busy and counted as contention.
        child = identity.ObjectKey("", "v1", "ConfigMap", namespace, "a")
        with (
            redis.Redis.from_url(broker) as client,
            locks.RedisLocks(client).hold(identity.lock_key(child), ttl=30) as held,
        ):
            assert held is not None
            send(broker, apply_task.apply, namespace, "configmap-a")
            eventually(
                lambda: _at_least(worker, 1, "faros_lock_contention_total", lock="object"),
                timeout=30,
            )
            assert worker.value("faros_task_runs_total", task="apply", result="busy") >= 1

        # The GitTrack is deleted: the watchers drop its schedule entry, and its per-GitTrack
        # series leave the worker's /metrics within the refresh of which GitTracks exist.
        tracks.cleanup()

        def forgotten() -> None:
            assert f'name="{key.name}"' not in worker.text()

        eventually(forgotten, timeout=worker_module.LIVE_REFRESH + 30, interval=2)


def test_beat_serves_health_and_queue_depth(worker_settings, tmp_path):
    broker = worker_settings.broker_url
    env = {"FAROS_BEAT_KEY_PREFIX": f"faros:beat:{secrets.token_hex(3)}:",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "not-created")}  # fmt: skip
    with faros(["beat", f"--broker-url={broker}"], tmp_path, env=env) as beat:
        eventually(lambda: _has(beat, "faros_queue_depth", queue="apply"), timeout=30)
        before = beat.value("faros_queue_depth", queue="apply")
        probe = f"metrics-probe-{secrets.token_hex(3)}"  # no such GitTrackObject: a no-op
        send(broker, apply_task.apply, "no-such-namespace", probe)
        send(broker, apply_task.apply, "no-such-namespace", probe, priority=5)
        send(broker, apply_task.apply, "no-such-namespace", probe, priority=9)

        # No worker consumes in this test: all three wait, over kombu's priority lists.
        eventually(lambda: _at_least(beat, before + 3, "faros_queue_depth", queue="apply"),
                   timeout=30)  # fmt: skip
        beat.healthy()


def test_watch_publishes_status_gauges_and_queue_depth(tracks, cluster, worker_settings, tmp_path):
    key = tracks.create(reference="a144436")
    tracks.sync(key)
    args = ["watch", f"--kubeconfig={worker_settings.kubeconfig}",
            f"--broker-url={worker_settings.broker_url}"]  # fmt: skip
    env = {"FAROS_BEAT_KEY_PREFIX": f"faros:beat:{secrets.token_hex(3)}:",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "not-created")}  # fmt: skip
    with faros(args, tmp_path, env=env) as watch:

        def published() -> None:
            labels = {"name": key.name, "namespace": "default"}
            assert watch.value("faros_gittrack_child_status", **labels, status="applied") == 2
            assert _has(watch, "faros_queue_depth", queue="sync")
            assert _has(watch, "faros_queue_depth", queue="apply")

        eventually(published, timeout=30)
        mark = cluster_harness.audit_lines(cluster)
        for _ in range(5):
            watch.text()
        # The gauges come from the watch caches: a scrape lists nothing.
        assert cluster_harness.lists_since(cluster, mark) == []
        tracks.cleanup()
        eventually(lambda: _absent(watch, key.name), timeout=30)


def test_run_publishes_every_metric_from_one_process(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"metrics-run-{secrets.token_hex(3)}",
                              [{"a.yaml": configmap("a", namespace)}])  # fmt: skip
    args = ["run", f"--kubeconfig={worker_settings.kubeconfig}", "--allow-file-urls",
            f"--namespace={namespace}", "--clustergittrack-mode=Disabled",
            "--broker-url=redis://127.0.0.1:1/0"]  # fmt: skip
    gittracks = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"
    cm = f"/api/v1/namespaces/{namespace}/configmaps/a"
    with faros(args, tmp_path, env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "x")}) as run:
        kube.request("POST", gittracks, body={
            "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "app"},
            "spec": {"repository": git_servers.url(repo, Transport.FILE), "reference": "master"},
        })  # fmt: skip
        eventually(lambda: cluster_harness.assert_exist(kube, cm), timeout=60)

        def applied() -> None:
            assert run.value("faros_task_runs_total", task="sync", result="done") >= 1
            assert run.value("faros_task_runs_total", task="apply", result="done") >= 1
            assert run.value("faros_git_fetch_duration_seconds_count", result="success") >= 1
            assert run.value("faros_commit_to_applied_seconds_count") >= 1
            assert _has(run, "faros_queue_depth", queue="sync")
            assert _has(run, "faros_queue_depth", queue="apply")
            labels = {"name": "app", "namespace": namespace}
            assert run.value("faros_gittrack_child_status", **labels, status="applied") == 1
            assert run.value("faros_gittrack_time_to_deploy_seconds_count", **labels,
                             repository=git_servers.url(repo, Transport.FILE)) >= 1  # fmt: skip

        eventually(applied, timeout=30)

        kube.request("DELETE", cm)  # the watcher sees it; the apply puts it back: a drift revert
        eventually(lambda: cluster_harness.assert_exist(kube, cm), timeout=60)
        eventually(
            lambda: _at_least(run, 1, "faros_drift_reverts_total", group="", kind="ConfigMap"),
            timeout=30,
        )

        kube.request("DELETE", f"{gittracks}/app")
        eventually(lambda: _absent(run, '"app"'), timeout=60)


def _applied(tracks, key, count: int) -> None:
    assert tracks.status(key).get("objectsApplied") == count


def _has(scraper: Scraper, metric: str, /, **labels: str) -> bool:
    present = (metric, frozenset(labels.items())) in scraper.samples()
    assert present, (metric, labels)
    return present


def _at_least(scraper: Scraper, minimum: float, metric: str, /, **labels: str) -> None:
    assert scraper.value(metric, **labels) >= minimum, (metric, labels)


def _absent(scraper: Scraper, text: str) -> None:
    lines = [line for line in scraper.text().splitlines() if not line.startswith("#")]
    assert not [line for line in lines if re.search(re.escape(text), line)]
