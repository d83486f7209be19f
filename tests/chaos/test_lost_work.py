"""Work lost on purpose is healed by the level-based re-check alone.

The workers are stopped, a ConfigMap is changed behind Faros's back (or Git changes and a
sync rewrites the GitTrackObjects), and the applies the watcher queued are purged from Redis
(as lost messages would be). No event will ever come again for that work, and a periodic
sync writes nothing when Git did not change again: only the re-check, which compares every
GitTrackObject with its child once per sync period from the watch caches, can find it. A
drift is queued at once; an object not applied yet trusts its pending apply until the
pending key expires (so a cold start's backlog is not queued twice), then is queued.
"""

from __future__ import annotations

import secrets
import time

import pytest
import redis

from faros.api import names
from faros.core import identity
from faros.kube import client
from faros.tasks import dispatch
from tests.harness.apps import App
from tests.harness.shape import Shape, wait_ready
from tests.harness.wait import eventually

PERIOD = 20.0


@pytest.fixture
def stopped(kube, worker_settings, git_root, git_servers, namespace, tmp_path):
    """Five ConfigMaps applied by the distributed shape (sync period ``PERIOD``), whose workers
    are then stopped: (app, broker, shape)."""
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
            yield app, broker, shape
            assert "re-check queued an apply" in shape.log("watch-1").read_text()
            shape.assert_alive()
    finally:
        broker.close()


def test_a_purged_apply_is_healed_by_the_recheck_within_one_period(stopped):
    app, broker, shape = stopped
    app.drift(1)
    eventually(lambda: _queued(broker), timeout=30, interval=0.1)
    purged_at = _lose_the_applies(broker, shape)  # the apply of the drift event

    eventually(lambda: app.assert_holds("0"), timeout=2 * PERIOD + 30, interval=0.5)
    healed_after = time.monotonic() - purged_at
    print(f"\nhealed by the re-check {healed_after:.1f}s after the work was lost")
    assert healed_after <= PERIOD + 30  # one period, plus worker start and the apply


def test_purged_applies_of_changed_objects_are_healed_once_their_pending_keys_expire(kube, stopped):
    app, broker, shape = stopped
    shape.commands["syncs-only"] = ["worker", "--concurrency=1", "--queues=sync"]
    shape.start("syncs-only")
    app.release("1")  # the sync rewrites every GitTrackObject; nobody applies them
    eventually(lambda: _rewritten_and_queued(kube, broker, app), timeout=60, interval=0.2)
    shape.stop("syncs-only")
    purged_at = _lose_the_applies(broker, shape)  # their pending keys remain

    bound = dispatch.PENDING_TTL + PERIOD + 30
    eventually(lambda: app.assert_holds("1"), timeout=bound + 30, interval=0.5)
    healed_after = time.monotonic() - purged_at
    print(f"\nhealed by the re-check {healed_after:.1f}s after the work was lost")
    assert healed_after <= bound  # the pending keys' life, one period, start and apply


def _lose_the_applies(broker: redis.Redis, shape: Shape) -> float:
    """Delete every queued apply (the queue and its priority lists), start the workers again;
    return when the work was lost (monotonic)."""
    for queue in broker.scan_iter("apply*"):
        broker.delete(queue)
    lost_at = time.monotonic()
    for name in ("worker-1", "worker-2"):
        shape.start(name)
    return lost_at


def _queued(broker: redis.Redis) -> None:
    assert broker.llen("apply") > 0, "the watcher has not queued the drift's apply yet"


def _rewritten_and_queued(kube: client.Kube, broker: redis.Redis, app: App) -> None:
    """Every GitTrackObject holds the new spec and the watcher queued its apply (its pending
    key is set)."""
    path = f"/apis/{names.API_VERSION}/namespaces/{app.namespace}/gittrackobjects"
    items = kube.request("GET", path)["items"]
    rewritten = [i["metadata"]["name"] for i in items if i["metadata"]["generation"] > 1]
    assert len(rewritten) == app.count, f"rewritten so far: {rewritten}"
    keys = [identity.dedup_key(identity.gto_key(namespace=app.namespace, name=name))
            for name in rewritten]  # fmt: skip
    assert broker.exists(*keys) == app.count, "not every apply is queued yet"
