"""Work lost on purpose is healed by the level-based re-check alone, within one sync period.

The workers are stopped, a ConfigMap is changed behind Faros's back, and the apply the
watcher queued for it is purged from Redis (as a lost message would be). No event will ever
come again for that drift, and a periodic sync writes nothing when Git did not change: only
the re-check, which compares every GitTrackObject with its child once per sync period from
the watch caches, can find it.
"""

from __future__ import annotations

import secrets
import time

import redis

from tests.harness.apps import App
from tests.harness.shape import Shape, wait_ready
from tests.harness.wait import eventually

PERIOD = 20.0


def test_a_purged_apply_is_healed_by_the_recheck_within_one_period(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    app = App(kube, git_root, git_servers, namespace, count=5)
    broker = redis.Redis.from_url(worker_settings.broker_url)
    shape = Shape(worker_settings, tmp_path, beat_prefix=f"faros:beat:{secrets.token_hex(3)}:",
                  sync_period=f"{PERIOD:g}s")  # fmt: skip
    try:
        with shape:
            wait_ready(shape)
            app.track()
            eventually(lambda: app.assert_holds("0"), timeout=120, interval=1)
            for name in ("worker-1", "worker-2"):
                shape.stop(name)

            app.drift(1)
            eventually(lambda: _queued(broker), timeout=30, interval=0.1)
            for queue in broker.scan_iter("apply*"):  # the queue and its priority lists
                broker.delete(queue)  # the apply of the drift event is lost
            purged_at = time.monotonic()
            for name in ("worker-1", "worker-2"):
                shape.start(name)

            eventually(lambda: app.assert_holds("0"), timeout=2 * PERIOD + 30, interval=0.5)
            healed_after = time.monotonic() - purged_at
            print(f"\nhealed by the re-check {healed_after:.1f}s after the work was lost")
            assert healed_after <= PERIOD + 30  # one period, plus worker start and the apply
            shape.assert_alive()
    finally:
        broker.close()


def _queued(broker: redis.Redis) -> None:
    assert broker.llen("apply") > 0, "the watcher has not queued the drift's apply yet"
