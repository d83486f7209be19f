"""Redis flushed in the middle of a sync, then killed and started again empty: no Faros
process exits, and the next commit and a drift edit still converge.

The broker holds only queues, locks, the schedule and de-duplication keys; losing it loses
work in flight, never state. Workers reconnect (kombu's failing restore of held messages is
worked around in ``faros.tasks.brokerfix``), beat waits for its lock again, the watchers log
the failed enqueues and go on, and the level-based re-check re-queues what was lost.
"""

from __future__ import annotations

import dataclasses
import secrets
import time

from faros.core import identity
from tests.harness.apps import App
from tests.harness.redis_server import RedisServer
from tests.harness.shape import Shape, wait_ready
from tests.harness.wait import eventually

OBJECTS = 60


def test_faros_survives_redis_flushed_and_restarted_empty(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    broker = RedisServer(tmp_path / "redis").start()
    settings = dataclasses.replace(worker_settings, broker_url=broker.url)
    app = App(kube, git_root, git_servers, namespace, count=OBJECTS)
    lock = identity.lock_key(identity.gittrack_key(namespace=namespace, name="app"))
    shape = Shape(settings, tmp_path, beat_prefix=f"faros:beat:{secrets.token_hex(3)}:",
                  sync_period="20s", watchers=2)  # fmt: skip
    try:
        with shape:
            wait_ready(shape)
            app.track()
            eventually(lambda: app.assert_holds("0"), timeout=120, interval=1)

            app.release("1")
            with broker.client() as client:
                eventually(lambda: _held(client, lock), timeout=30, interval=0.05)
                client.flushall()  # queues, locks, schedule, de-duplication keys: all gone
            eventually(lambda: app.assert_holds("1"), timeout=120, interval=1)
            app.drift(3)
            eventually(lambda: app.assert_holds("1"), timeout=60, interval=0.5)
            shape.assert_alive()

            broker.stop()  # killed: every process loses its connections at once
            time.sleep(3)
            broker.start()  # empty, on the same port
            app.release("2")
            eventually(lambda: app.assert_holds("2"), timeout=120, interval=1)
            app.drift(5)
            eventually(lambda: app.assert_holds("2"), timeout=60, interval=0.5)
            shape.assert_alive()
    finally:
        broker.stop()


def _held(client, lock: str) -> None:
    assert client.exists(lock), "the sync has not taken its lock yet"


def test_a_gittrack_created_while_redis_is_down_is_synced_once_it_is_back(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    """The watchers cannot queue the new GitTrack's sync nor write its schedule entry while
    Redis is away, and Redis comes back empty: the watchers' schedule reconcile (every 60 s)
    restores the entry and queues the sync no event could, with no process restarted."""
    broker = RedisServer(tmp_path / "redis").start()
    settings = dataclasses.replace(worker_settings, broker_url=broker.url)
    app = App(kube, git_root, git_servers, namespace, count=5)
    shape = Shape(settings, tmp_path, beat_prefix=f"faros:beat:{secrets.token_hex(3)}:",
                  sync_period="10m")  # fmt: skip
    try:
        with shape:
            wait_ready(shape)
            broker.stop()  # killed: every process loses its connections at once
            app.track()  # its event finds no Redis
            time.sleep(5)
            broker.start()  # empty, on the same port
            # Not the period (10 minutes): the reconcile's rounds, 60 s apart, heal it.
            eventually(lambda: app.assert_holds("0"), timeout=240, interval=1)
            shape.assert_alive()
    finally:
        broker.stop()
