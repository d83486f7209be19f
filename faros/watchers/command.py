"""``faros watch``: run the watch loops until SIGTERM, and publish the status gauges.

The watcher is the one process that publishes the gauges describing the cluster
(``faros_gittrack_child_status``, ``faros_gittrackobject_in_sync``), read at scrape time.
"""

from __future__ import annotations

import logging
import signal
import threading

import redis
from prometheus_client import CollectorRegistry, generate_latest

from faros import config, locks, metrics
from faros.beat import entries
from faros.kube import client, reads
from faros.tasks import dispatch
from faros.watchers import runner

logger = logging.getLogger(__name__)

RECONCILE_EVERY = 60.0
"""Seconds between re-derivations of the schedule from the known GitTracks."""


def run(settings: config.Settings) -> int:
    """Watch until SIGTERM or SIGINT; return the exit code."""
    from faros.tasks.app import app

    app.conf.update(broker_url=settings.broker_url, redbeat_redis_url=settings.broker_url)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    kube = client.Kube.connect(settings.kubeconfig or None)
    pending = locks.RedisLocks(redis.Redis.from_url(settings.broker_url))
    watchers = runner.Watchers(
        settings=settings, kube=kube, schedule=entries.RedBeatSchedule(app),
        dispatcher=dispatch.Dispatcher(app, pending), stop=stop,
    )  # fmt: skip
    registry = CollectorRegistry()
    registry.register(metrics.StatusCollector(reads.lister(kube, namespace=settings.namespace)))
    server = metrics.serve(
        settings.metrics_bind_address,
        exposition=lambda: generate_latest(registry),
        healthy=lambda: all(thread.is_alive() for thread in watchers.threads),
    )
    watchers.start()
    logger.info("watching", extra={"namespace": settings.namespace or "all"})
    while not stop.wait(RECONCILE_EVERY):
        watchers.reconcile_entries()
    watchers.shutdown()
    if server is not None:
        server.shutdown()
    kube.close()
    return 0
