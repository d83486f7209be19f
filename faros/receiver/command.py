"""``faros receiver``: the webhook receiver as its own process, until SIGTERM.

It watches GitTracks and ClusterGitTracks (under the modes and ``--namespace``), serves
``/hook/<provider>`` on ``--webhook-bind-address`` and queues syncs through the same Redis
de-duplication keys as the watchers, so any number of replicas may run, with no leader.
``/metrics`` and ``/healthz`` are on ``--metrics-bind-address`` as for every process.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

import redis

from faros import config, locks
from faros.kube import client
from faros.receiver import trackwatch
from faros.tasks import dispatch


def run(settings: config.Settings) -> int:
    """Receive webhooks until SIGTERM or SIGINT; return the exit code."""
    # No pool: metrics live in memory whatever the environment says (and prometheus_client
    # reads it when first imported, hence the imports below).
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from prometheus_client import REGISTRY, generate_latest

    from faros.metrics import server
    from faros.receiver import service
    from faros.tasks.app import app

    app.conf.update(broker_url=settings.broker_url)
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    kube = client.Kube.connect(settings.kubeconfig or None)
    dispatcher = dispatch.Dispatcher(
        app, locks.RedisLocks(redis.Redis.from_url(settings.broker_url))
    )
    tracks = trackwatch.TrackWatches(kube, settings=settings, stop=stop)
    tracks.start()
    service.start(
        settings, kube=kube, dispatcher=dispatcher, cached=tracks.cached, ready=tracks.healthy,
        stop=stop,
    )  # fmt: skip
    http = server.serve(
        settings.metrics_bind_address,
        exposition=lambda: generate_latest(REGISTRY),
        healthy=tracks.healthy,
    )
    logging.getLogger(__name__).info("receiving", extra={"namespace": settings.namespace or "all"})
    stop.wait()
    tracks.join()
    if http is not None:
        http.shutdown()
    kube.close()
    return 0
