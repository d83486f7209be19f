"""A worker killed with SIGKILL mid-apply costs seconds, with the production timeouts.

The apply's write is held up by a real admission webhook that hangs (no test hook in the
production code): the worker is inside the API request, holding the child's lock, when its
whole process group gets SIGKILL. A second GitTrackObject's apply is queued behind it (the
dead worker may have prefetched it). With the defaults (lock TTL 30 s extended while held,
visibility timeout 30 s refreshed by live workers, scanned every 5 s), the lock is gone
within its TTL and both tasks run again on another worker within about that TTL, not after
an hour.
"""

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
from faros.tasks import runtime
from tests.harness import processes, webhook
from tests.harness.gtos import Objects
from tests.harness.wait import eventually
from tests.integration.test_apply import deployment

FAROS = str(Path(sys.executable).with_name("faros"))
LOCK_TTL = runtime.LOCK_TTL
REDELIVERY = 30.0 + 5.0  # the visibility timeout and one scan (celeryconfig)


def worker(settings, log: Path):
    command = [FAROS, "worker", f"--kubeconfig={settings.kubeconfig}",
               f"--broker-url={settings.broker_url}", "--metrics-bind-address=0",
               "--concurrency=1", "--queues=apply"]  # fmt: skip
    env = {key: value for key, value in os.environ.items()
           if key not in ("FAROS_LOCK_TTL", "FAROS_VISIBILITY_TIMEOUT")}  # fmt: skip
    env["PROMETHEUS_MULTIPROC_DIR"] = str(log) + ".metrics"
    return processes.spawn(command, log=log, env=env)


def test_killed_worker_loses_nothing_and_frees_its_lock_in_seconds(
    kube, rt, worker_settings, namespace, tmp_path
):
    objects = Objects(kube, rt)
    first = objects.put(deployment(namespace), namespace=namespace)
    second_manifest = {**deployment(namespace), "metadata": {"name": "second",
                                                             "namespace": namespace}}  # fmt: skip
    second = objects.put(second_manifest, namespace=namespace)
    lock = identity.lock_key(identity.ObjectKey("apps", "v1", "Deployment", namespace, "nginx"))
    broker = redis.Redis.from_url(worker_settings.broker_url)
    deployments = [("apps", "v1", "deployments")]
    with (
        webhook.FailingWebhook() as hook,
        webhook.guarding(kube, hook, namespace=namespace, resources=deployments,
                         timeout_seconds=10),
    ):  # fmt: skip
        doomed = worker(worker_settings, tmp_path / "doomed.log")
        survivor = None
        try:
            hook.hang(1, seconds=20)  # the first write waits in the API server
            eventually(lambda: _ready(tmp_path / "doomed.log"), timeout=60)
            with celery_app.app.connection_for_write(worker_settings.broker_url) as connection:
                for gto in (first, second):
                    # celery-types lacks apply_async's documented `connection` option
                    apply_task.apply.apply_async(  # type: ignore[call-arg]
                        args=(namespace, gto["metadata"]["name"]), connection=connection
                    )
            eventually(lambda: _hanging(hook), timeout=30, interval=0.1)
            assert broker.exists(lock), "the apply holds the child's lock while it writes"

            os.killpg(doomed.pid, signal.SIGKILL)  # the worker and its pool, mid-request
            doomed.wait(timeout=10)
            killed_at = time.monotonic()
            survivor = worker(worker_settings, tmp_path / "survivor.log")

            eventually(lambda: _gone(broker, lock), timeout=LOCK_TTL + 5, interval=0.2)
            lock_freed = time.monotonic() - killed_at
            eventually(lambda: _created(kube, namespace, "nginx"), timeout=120, interval=0.5)
            first_again = time.monotonic() - killed_at
            eventually(lambda: _created(kube, namespace, "second"), timeout=120, interval=0.5)
            print(f"\nlock freed after {lock_freed:.1f}s, task again after {first_again:.1f}s")
            assert lock_freed <= LOCK_TTL + 2
            assert first_again <= REDELIVERY + 15
        finally:
            for process in (doomed, survivor):
                if process is not None and process.poll() is None:
                    processes.stop(process, timeout=30)
            broker.close()


def _hanging(hook: webhook.FailingWebhook) -> None:
    assert hook.count(webhook.Behaviour.HANG) == 1


def _created(kube, namespace: str, name: str) -> None:
    try:
        kube.request("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    except errors.NotFound:
        raise AssertionError(f"deployment {name} not created after the redelivery") from None


def _ready(log: Path) -> None:
    assert log.exists()
    assert " ready." in log.read_text(errors="replace")


def _gone(client, key: str) -> None:
    assert not client.exists(key)
