"""``faros watch``: run the watch loops until SIGTERM, and publish the status gauges.

The watcher is the one process that publishes the gauges describing the cluster
(``faros_gittrack_child_status``, ``faros_gittrackobject_in_sync``), read at scrape time,
and, like beat, the depth of the task queues read from Redis.
"""

from __future__ import annotations

import logging
import os

import redis

from faros import config, locks
from faros.beat import entries
from faros.kube import client
from faros.tasks import dispatch
from faros.watchers import runner

logger = logging.getLogger(__name__)


def run(settings: config.Settings) -> int:
    """Watch until SIGTERM or SIGINT; return the exit code."""
    # The watcher runs no pool: its metrics live in memory whatever the environment says (and
    # prometheus_client reads it when first imported, hence the imports below).
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from prometheus_client import CollectorRegistry, generate_latest

    from faros.metrics import collectors, server
    from faros.tasks.app import app

    app.conf.update(broker_url=settings.broker_url, redbeat_redis_url=settings.broker_url)
    stop = runner.stop_on_signals()
    kube = client.Kube.connect(settings.kubeconfig or None)
    broker = redis.Redis.from_url(settings.broker_url)
    pending = locks.RedisLocks(broker)
    kube.budget = locks.RedisBudget(
        broker, rate=settings.kube_api_qps, burst=float(settings.kube_api_burst)
    )
    watchers = runner.Watchers(
        settings=settings, kube=kube, schedule=entries.RedBeatSchedule(app),
        dispatcher=dispatch.Dispatcher(app, pending), stop=stop, noted=pending.noted,
    )  # fmt: skip
    registry = CollectorRegistry()
    registry.register(collectors.StatusCollector(watchers.cached))
    registry.register(collectors.PausedCollector(watchers.paused))
    options = dict(app.conf.broker_transport_options or {})
    registry.register(
        collectors.QueueDepthCollector(
            collectors.redis_depths(broker, dispatch.QUEUES, options=options)
        )
    )
    http = server.serve(
        settings.metrics_bind_address,
        exposition=lambda: generate_latest(registry),
        healthy=watchers.healthy,
    )
    logger.info("watching", extra={"namespace": settings.namespace or "all"})
    watchers.run_until_stopped()
    if http is not None:
        http.shutdown()
    kube.close()
    return 0
