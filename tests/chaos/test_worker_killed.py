"""SIGKILL of a worker in the middle of a sync of 150 objects, ten times: nothing is left behind.

Two workers serve both queues. Each round commits a new value into all 150 ConfigMaps and
pins the GitTrack to the commit; while the sync holds its lock, the worker that received it
is killed with SIGKILL (its pool with it) and started again, as a Deployment would. The
killed worker's messages are redelivered once their visibility timeout passes and its locks
expire: here both are shortened (``TIMING``) so ten rounds fit in CI; the production
defaults are exercised by ``tests/scenarios/test_crash.py``. Time to converge is printed
per round.
"""

from __future__ import annotations

import functools
import random
import secrets
import time

import redis

from faros.core import identity, recheck
from tests.harness import webhook
from tests.harness.apps import App
from tests.harness.shape import Shape, wait_ready
from tests.harness.wait import eventually
from tests.harness.webhook import Behaviour

OBJECTS = 150
ROUNDS = 10
TIMING = {"FAROS_LOCK_TTL": "6", "FAROS_VISIBILITY_TIMEOUT": "6"}


def test_killing_a_worker_mid_sync_leaves_no_object_behind(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    app = App(kube, git_root, git_servers, namespace, count=OBJECTS)
    lock = identity.lock_key(identity.gittrack_key(namespace=namespace, name="app"))
    broker = redis.Redis.from_url(worker_settings.broker_url)
    shape = Shape(worker_settings, tmp_path, beat_prefix=f"faros:beat:{secrets.token_hex(3)}:",
                  sync_period="10m", env=TIMING)  # fmt: skip
    times: list[float] = []
    kills = 0
    try:
        with shape:
            wait_ready(shape)
            app.track()
            eventually(lambda: app.assert_holds("0"), timeout=180, interval=1)
            for number in range(1, ROUNDS + 1):
                started = time.monotonic()
                app.release(str(number))
                eventually(lambda: _held(broker, lock), timeout=30, interval=0.05)
                time.sleep(random.uniform(0.0, 0.5))  # noqa: S311 - somewhere in the sync
                victim = shape.last_received("faros.sync")
                if victim is not None:
                    shape.kill(victim)
                    kills += 1
                    shape.start(victim)
                eventually(functools.partial(app.assert_holds, str(number)), timeout=120,
                           interval=0.5)  # fmt: skip
                times.append(time.monotonic() - started)
                shape.assert_alive()
    finally:
        broker.close()
    print(f"\nconverged after each kill (s): {', '.join(f'{t:.1f}' for t in times)}")
    assert kills == ROUNDS
    assert app.stale(str(ROUNDS)) == []


def _held(broker: redis.Redis, lock: str) -> None:
    assert broker.exists(lock), "the sync has not taken its lock yet"


def test_a_worker_killed_while_its_sync_applies_in_place_leaves_the_applies_to_the_watchers(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    """A small sync applies its objects itself, each marked so that its watch event queues no
    apply task. Its worker is killed with SIGKILL while a real admission webhook holds the
    first child's create (past the webhook's timeout: the create fails): nothing will clear
    the marks or write the statuses. The watchers queue the applies once the marks have
    waited ``SETTLE_WAIT``, and the other worker converges them once the dead worker's child
    locks expire (``FAROS_LOCK_TTL``, shortened here to 6 s): well before the sync's
    message is redelivered (and that sync finds its GitTrackObjects written, nothing to do)
    or the re-check's period (10 minutes) comes round."""
    app = App(kube, git_root, git_servers, namespace, count=3)
    with (
        webhook.FailingWebhook() as hook,
        webhook.guarding(kube, hook, namespace=namespace, resources=[], timeout_seconds=5),
    ):
        hook.hang(1, seconds=8)
        shape = Shape(worker_settings, tmp_path, beat_prefix=f"faros:beat:{secrets.token_hex(3)}:",
                      sync_period="10m", env={"FAROS_LOCK_TTL": "6"})  # fmt: skip
        with shape:
            wait_ready(shape)
            app.track()
            eventually(lambda: _hanging(hook), timeout=60, interval=0.02)
            victim = shape.last_received("faros.sync")
            assert victim is not None
            shape.kill(victim)
            killed_at = time.monotonic()
            eventually(lambda: app.assert_holds("0"), timeout=90, interval=0.5)
            healed_after = time.monotonic() - killed_at
            print(f"\nconverged {healed_after:.1f}s after the kill")
            assert healed_after < recheck.SETTLE_WAIT + 20, "not healed by the watchers"
            assert "apply in place not done" in shape.log("watch-1").read_text()
            shape.start(victim)
            shape.assert_alive()


def _hanging(hook: webhook.FailingWebhook) -> None:
    assert hook.count(Behaviour.HANG) == 1, "no child create has reached the webhook yet"
