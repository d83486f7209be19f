"""A worker killed with SIGKILL while it applies: the task is delivered again and converges."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import redis

from faros.core import identity
from faros.kube import errors
from faros.tasks import app as celery_app
from faros.tasks import apply as apply_task
from tests.harness import processes
from tests.harness.gtos import Objects
from tests.harness.wait import eventually
from tests.integration.test_apply import deployment, get_deployment

FAROS = str(Path(sys.executable).with_name("faros"))
# Timing chain of the test: soft < hard time limit < lock TTL < visibility timeout.
TIMING = {"FAROS_TASK_SOFT_TIME_LIMIT": "8", "FAROS_TASK_TIME_LIMIT": "9",
          "FAROS_LOCK_TTL": "10", "FAROS_VISIBILITY_TIMEOUT": "12"}  # fmt: skip


def worker(settings, log: Path, **extra: str):
    command = [FAROS, "worker", f"--kubeconfig={settings.kubeconfig}",
               f"--broker-url={settings.broker_url}", "--metrics-bind-address=0",
               "--concurrency=1", "--queues=apply"]  # fmt: skip
    env = {**os.environ, **TIMING, **extra, "PROMETHEUS_MULTIPROC_DIR": str(log) + ".metrics"}
    return processes.spawn(command, log=log, env=env)


def test_killed_worker_loses_nothing_and_leaves_no_lock(kube, rt, worker_settings, namespace,
                                                         tmp_path):  # fmt: skip
    gto = Objects(kube, rt).put(deployment(namespace), namespace=namespace)
    child = identity.ObjectKey("apps", "v1", "Deployment", namespace, "nginx")
    lock = identity.lock_key(child)
    client = redis.Redis.from_url(worker_settings.broker_url)
    doomed = worker(worker_settings, tmp_path / "doomed.log",
                    FAROS_TEST_HOLD_APPLY_SECONDS="60")  # fmt: skip
    survivor = None
    try:
        eventually(lambda: _ready(tmp_path / "doomed.log"), timeout=60)
        with celery_app.app.connection_for_write(worker_settings.broker_url) as connection:
            # celery-types lacks apply_async's documented `connection` option
            apply_task.apply.apply_async(  # type: ignore[call-arg]
                args=(namespace, gto["metadata"]["name"]), connection=connection
            )
        eventually(lambda: _locked(client, lock), timeout=30)

        os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its pool, mid-apply
        doomed.wait(timeout=10)
        killed_at = time.monotonic()
        assert not cluster_exists(kube, namespace)

        survivor = worker(worker_settings, tmp_path / "survivor.log")
        eventually(lambda: _gone(client, lock), timeout=20)
        assert time.monotonic() - killed_at <= float(TIMING["FAROS_LOCK_TTL"]) + 2
        eventually(lambda: _created(kube, namespace), timeout=90, interval=1)
    finally:
        if doomed.poll() is None:
            processes.stop(doomed)
        if survivor is not None:
            processes.stop(survivor, timeout=30)
        client.close()


def cluster_exists(kube, namespace: str) -> bool:
    try:
        get_deployment(kube, namespace)
    except errors.NotFound:
        return False
    return True


def _created(kube, namespace: str) -> None:
    assert cluster_exists(kube, namespace), "not created after the redelivery"


def _ready(log: Path) -> None:
    assert log.exists()
    assert " ready." in log.read_text(errors="replace")


def _locked(client, key: str) -> None:
    assert client.exists(key)


def _gone(client, key: str) -> None:
    assert not client.exists(key)
