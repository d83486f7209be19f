"""``faros run``: watchers, schedule and workers in one process, without Redis.

The embedded default for a laptop or a small cluster: the same tasks and watch loops as
the distributed processes, with in-process locks, de-duplication, schedule and task pool,
and the same ``/metrics`` (status gauges, the task metrics, and the depth of its own
in-process queues) and ``/healthz``.
"""

from __future__ import annotations

import logging
import os

from faros import config
from faros.beat import local
from faros.tasks import runtime
from faros.watchers import runner

logger = logging.getLogger(__name__)

WORKERS = 4


def run(settings: config.Settings) -> int:
    """Run everything until SIGTERM or SIGINT; return the exit code."""
    # One process, no pool: metrics live in memory whatever the environment says (and
    # prometheus_client reads it when first imported, hence the imports below).
    os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

    from faros.metrics import collectors, server
    from faros.tasks import inprocess

    stop = runner.stop_on_signals()
    rt = runtime.Runtime.build(settings, local_locks=True)
    dispatcher = inprocess.LocalDispatcher(rt, workers=WORKERS, stop=stop)
    schedule = local.LocalSchedule(dispatcher.sync, stop)
    watchers = runner.Watchers(
        settings=settings, kube=rt.kube, schedule=schedule, dispatcher=dispatcher, stop=stop,
        noted=rt.locks.noted,
    )  # fmt: skip
    live = collectors.LiveGitTracks(collectors.listed(watchers.cached), ttl=0.0)
    registry = CollectorRegistry()
    registry.register(collectors.LiveOnly(REGISTRY, live))
    registry.register(collectors.StatusCollector(watchers.cached))
    registry.register(collectors.PausedCollector(watchers.paused))
    registry.register(collectors.QueueDepthCollector(dispatcher.depths))
    http = server.serve(
        settings.metrics_bind_address,
        exposition=lambda: generate_latest(registry),
        healthy=watchers.healthy,
    )
    from faros.receiver import service as receiver  # records metrics: imported after the pop

    receiver.start(  # the webhook receiver, when --webhook-bind-address is not 0
        settings, kube=rt.kube, dispatcher=dispatcher, cached=watchers.cached,
        ready=watchers.healthy, stop=stop,
    )  # fmt: skip
    schedule.start()
    logger.info("running", extra={"namespace": settings.namespace or "all"})
    watchers.run_until_stopped()
    dispatcher.shutdown()
    if http is not None:
        http.shutdown()
    rt.close()
    return 0
