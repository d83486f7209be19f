"""``faros beat``: Celery beat on the RedBeat schedule (one entry per GitTrack).

Several replicas may run: RedBeat's Redis lock lets one schedule while the others wait,
and a standby takes over about ``redbeat_lock_timeout`` seconds after the active one dies.
Every replica serves ``/healthz`` (its loop ticked recently, or it waits for the lock and
reaches Redis) and ``/metrics`` with the depth of the task queues read from Redis.
"""

from __future__ import annotations

import logging
import os
import time

import redis

from faros import config

logger = logging.getLogger(__name__)


def run(settings: config.Settings) -> int:
    """Run beat in this process until it is stopped."""
    # Beat runs no pool: its metrics live in memory whatever the environment says (and
    # prometheus_client reads it when first imported, hence the imports below).
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from prometheus_client import CollectorRegistry, generate_latest

    from faros.beat import scheduler
    from faros.metrics import collectors, server
    from faros.tasks import dispatch
    from faros.tasks.app import app

    app.conf.update(broker_url=settings.broker_url, redbeat_redis_url=settings.broker_url)
    broker = redis.Redis.from_url(settings.broker_url, socket_timeout=5, socket_connect_timeout=5)
    registry = CollectorRegistry()
    options = dict(app.conf.broker_transport_options or {})
    registry.register(
        collectors.QueueDepthCollector(
            collectors.redis_depths(broker, dispatch.QUEUES, options=options)
        )
    )

    def healthy() -> bool:
        last = scheduler.last_tick()
        broker_ok = last is not None or _reachable(broker)
        return scheduler.is_healthy(last_tick=last, now=time.monotonic(), broker_ok=broker_ok)

    http = server.serve(
        settings.metrics_bind_address, exposition=lambda: generate_latest(registry), healthy=healthy
    )
    beat = app.Beat(
        loglevel=settings.log_level.value.upper(), max_interval=5,
        scheduler=f"{scheduler.__name__}:TickingScheduler",
    )  # fmt: skip
    try:
        beat.run()
    finally:
        if http is not None:
            http.shutdown()
        broker.close()
    return 0


def _reachable(broker: redis.Redis) -> bool:
    try:
        return bool(broker.ping())
    except redis.RedisError:
        return False
