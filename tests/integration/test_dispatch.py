"""A storm of events for one object queues one task; an event during the task queues one more."""

from __future__ import annotations

import secrets

import redis
from celery import Celery

from faros import locks
from faros.core import identity
from faros.tasks import dispatch


def test_a_storm_of_events_queues_one_task(redis_url):
    app = Celery("faros-test")
    app.config_from_object("celeryconfig")
    app.conf.update(broker_url=redis_url)
    client = redis.Redis.from_url(redis_url)
    sender = dispatch.Dispatcher(app, locks.RedisLocks(client))
    key = identity.gto_key(namespace="ns", name=f"configmap-{secrets.token_hex(3)}")
    client.delete("apply")
    try:
        queued = sum(sender.apply(key) for _ in range(1000))
        assert queued == 1
        assert client.llen("apply") == 1

        client.delete(identity.dedup_key(key))  # what the task does when it starts
        assert sum(sender.apply(key) for _ in range(1000)) == 1
        assert client.llen("apply") == 2
    finally:
        client.delete("apply", identity.dedup_key(key))
        client.close()
