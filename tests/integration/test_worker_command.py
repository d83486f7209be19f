"""`faros worker` runs the tasks in a prefork or threads pool and serves /metrics and /healthz."""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import sys
import threading
from pathlib import Path

import pytest

from faros.beat import entries
from faros.tasks import app as celery_app
from faros.tasks import apply as apply_task
from faros.tasks import sync as sync_task
from faros.tasks import worker as worker_module
from tests.harness import http, processes
from tests.harness.redis_server import RedisServer
from tests.harness.wait import eventually


def send(broker: str, task, *args: str) -> None:
    with celery_app.app.connection_for_write(broker) as connection:
        task.apply_async(args=args, connection=connection)


@pytest.mark.parametrize("pool", ["prefork", "threads"])
def test_faros_worker_syncs_applies_and_reports(
    tracks, worker_settings, beat_app, tmp_path: Path, pool
):
    port = processes.free_port()
    faros = Path(sys.executable).with_name("faros")
    command = [
        str(faros), "worker", f"--kubeconfig={worker_settings.kubeconfig}",
        f"--broker-url={worker_settings.broker_url}", "--allow-file-urls",
        f"--metrics-bind-address=127.0.0.1:{port}", "--concurrency=2", "--queues=sync,apply",
        f"--pool={pool}",
    ]  # fmt: skip
    log = tmp_path / "worker.log"
    temporary = tmp_path / "tmp"  # no --repository-dir: the clone cache is made here
    temporary.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "TMPDIR": str(temporary),
           "FAROS_BEAT_KEY_PREFIX": beat_app.conf.redbeat_key_prefix}  # fmt: skip
    env.pop("FAROS_REPOSITORY_DIR", None)
    worker = processes.spawn(command, log=log, env=env)
    try:

        def healthy() -> None:
            assert worker.poll() is None, processes.tail(log, 40)
            assert http.get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")

        eventually(healthy, timeout=60, interval=0.5)
        key = tracks.create(reference="a144436")
        entries.upsert(beat_app, key, period=datetime.timedelta(hours=1))  # as the watchers do
        send(worker_settings.broker_url, sync_task.sync, key.namespace, key.name)
        eventually(lambda: _applied(tracks, key), timeout=60)
        send(worker_settings.broker_url, apply_task.apply, "default", "service-nginx")

        def deployed() -> None:
            _, text = http.get(f"http://127.0.0.1:{port}/metrics")
            assert f'faros_gittrack_time_to_deploy_seconds_count{{name="{key.name}"' in text

        eventually(deployed, timeout=60)
        # The GitTrack leaves the schedule (deleted): its series leave /metrics.
        entries.delete(beat_app, key)

        def forgotten() -> None:
            _, text = http.get(f"http://127.0.0.1:{port}/metrics")
            assert f'name="{key.name}"' not in text
            assert "faros_task_runs_total" in text

        eventually(forgotten, timeout=worker_module.LIVE_REFRESH + 30, interval=1)
        # The pool's processes or threads share one clone cache (not one each, never removed).
        assert len(list(temporary.glob("faros-repos-*"))) == 1
    finally:
        processes.stop(worker, timeout=30)
    assert worker.returncode is not None
    assert list(temporary.glob("faros-repos-*")) == [], "the clone cache is removed at exit"


def _applied(tracks, key) -> None:
    assert tracks.status(key).get("objectsApplied") == 2


def test_health_fails_when_the_worker_loses_its_broker(worker_settings, tmp_path: Path):
    broker = RedisServer(tmp_path / "redis").start()
    port = processes.free_port()
    command = [str(Path(sys.executable).with_name("faros")), "worker",
               f"--kubeconfig={worker_settings.kubeconfig}", f"--broker-url={broker.url}",
               f"--metrics-bind-address=127.0.0.1:{port}", "--concurrency=1"]  # fmt: skip
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    worker = processes.spawn(command, log=tmp_path / "worker.log", env=env)
    try:
        eventually(lambda: _status(port, 200), timeout=60, interval=0.5)

        broker.stop()

        eventually(lambda: _status(port, 503), timeout=30, interval=0.5)
    finally:
        processes.stop(worker, timeout=30)
        broker.stop()


def test_threads_pool_health_fails_while_a_task_outlives_the_time_limit(
    tracks, worker_settings, tmp_path: Path
):
    """Threads cannot be killed: a task stuck past FAROS_TASK_TIME_LIMIT fails /healthz, so
    the pod is restarted and the task delivered again, as a killed process would have it."""
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers: git waits
    held: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):  # closed at the end of the test
            while True:
                held.append(silent.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    port = processes.free_port()
    command = [str(Path(sys.executable).with_name("faros")), "worker", "--pool=threads",
               f"--kubeconfig={worker_settings.kubeconfig}", "--fetch-timeout=60s",
               f"--broker-url={worker_settings.broker_url}", "--concurrency=2",
               f"--metrics-bind-address=127.0.0.1:{port}"]  # fmt: skip
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           "FAROS_TASK_TIME_LIMIT": "3"}  # fmt: skip
    log = tmp_path / "worker.log"
    worker = processes.spawn(command, log=log, env=env)
    try:
        eventually(lambda: _status(port, 200), timeout=60, interval=0.5)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/stuck.git"
        key = tracks.create(reference="master", repository=url)
        send(worker_settings.broker_url, sync_task.sync, key.namespace, key.name)

        eventually(lambda: _status(port, 503), timeout=30, interval=0.5)
        assert "a task outlived the time limit" in log.read_text()
    finally:
        processes.stop(worker, timeout=30)
        silent.close()
        for connection in held:
            connection.close()


def _status(port: int, expected: int) -> None:
    assert http.get(f"http://127.0.0.1:{port}/healthz")[0] == expected
