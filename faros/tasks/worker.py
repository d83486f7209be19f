"""``faros worker``: a Celery worker (prefork or threads pool) with ``/metrics`` and ``/healthz``.

The parent process serves Prometheus metrics: with the prefork pool in multiprocess mode
(every pool process writes into ``PROMETHEUS_MULTIPROC_DIR``, wiped at start; a process that
exits is marked dead), with the threads pool from memory, as the tasks run in this process
(multiprocess mode would cost a 1,000-GitTrack worker about 40 MiB more at each scrape). And
a health check that fails when the worker's event loop has stopped sending
heartbeats to the broker, e.g. connected but stuck, or disconnected. The threads pool
cannot stop a task that hangs (Celery's time limits need processes): there the health check
also fails once a task has run longer than the hard time limit, so that the pod is restarted
and the task's message delivered again, as a killed pool process would have it.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from faros import config
from faros.kube import client

if TYPE_CHECKING:
    from celery import Celery

logger = logging.getLogger(__name__)

HEARTBEAT_GRACE = 10.0
"""Seconds without a worker heartbeat (sent every 2 s) before /healthz fails."""
LIVE_REFRESH = 10.0
"""Seconds between two reads of which GitTracks exist (the sync schedule in Redis, never the
API server), to hide the series of deleted ones at /metrics, however often Prometheus
scrapes."""

_last_heartbeat = 0.0
_running: dict[str, float] = {}
"""Task id -> when it started (monotonic), for the threads pool's hang check."""
_time_limit = 0.0
"""Seconds a task may run before /healthz fails (0: no check; the prefork pool kills it)."""


def run(settings: config.Settings) -> int:
    """Run the worker in this process until it is stopped; return its exit code."""
    multiprocess = settings.pool is not config.Pool.THREADS
    _prepare_metrics_dir(multiprocess=multiprocess)
    # Imported only now: prometheus_client picks multiprocess mode when it is first imported,
    # and metrics created at import time must see PROMETHEUS_MULTIPROC_DIR (or its absence).
    from celery import signals

    from faros.metrics import server as http
    from faros.tasks import runtime
    from faros.tasks.app import app

    cache = None
    if settings.repository_dir is None:  # one clone cache for every pool process, removed at exit
        cache = Path(tempfile.mkdtemp(prefix="faros-repos-"))
        settings = dataclasses.replace(settings, repository_dir=cache)
    runtime.configure(settings)
    app.conf.update(broker_url=settings.broker_url, redbeat_redis_url=settings.broker_url)
    signals.heartbeat_sent.connect(_heartbeat, weak=False)
    if multiprocess:
        signals.worker_process_shutdown.connect(_process_gone, weak=False)
    if settings.pool is config.Pool.THREADS:
        global _time_limit  # read by the HTTP thread's health check
        _time_limit = float(app.conf.task_time_limit or 0)
        signals.task_prerun.connect(_started, weak=False)
        signals.task_postrun.connect(_finished, weak=False)
    # Fails fast (exit 1) on a kubeconfig that cannot be used, before any task is taken.
    client.Kube.connect(settings.kubeconfig or None).close()
    exposition = _exposition(app, multiprocess=multiprocess)
    server = http.serve(settings.metrics_bind_address, exposition=exposition, healthy=healthy)
    argv = [
        "worker",
        f"--pool={settings.pool.value}",
        f"--concurrency={settings.concurrency}",
        f"--queues={','.join(settings.queues)}",
        f"--loglevel={settings.log_level.value.upper()}",
        "--task-events",
        "--without-mingle",
    ]
    fatal = _Fatal()
    logging.getLogger("celery.worker.worker").addHandler(fatal)
    code = 0
    try:
        app.worker_main(argv)
    except SystemExit as stop:
        code = int(stop.code or 0)
    finally:
        if server is not None:
            server.shutdown()
        runtime.close_current()  # the threads pool's runtime lives in this process
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    # Celery logs "Unrecoverable error" and may still exit 0: a supervisor must restart us.
    return code or (1 if fatal.seen else 0)


class _Fatal(logging.Handler):
    """Notices the worker's critical log line (an unrecoverable error)."""

    def __init__(self) -> None:
        super().__init__(logging.CRITICAL)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True


def _prepare_metrics_dir(*, multiprocess: bool) -> None:
    if not multiprocess:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        return
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        folder = tempfile.mkdtemp(prefix="faros-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, exist_ok=True)


def _heartbeat(**_: Any) -> None:
    global _last_heartbeat  # written by the worker's event loop, read by the HTTP thread
    _last_heartbeat = time.monotonic()


def _process_gone(pid: int | None = None, **_: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid or os.getpid())


def _started(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _running[task_id] = time.monotonic()


def _finished(task_id: str | None = None, **_: Any) -> None:
    if task_id:
        _running.pop(task_id, None)


def hung(now: float, *, running: dict[str, float], limit: float) -> list[str]:
    """The ids of the tasks in ``running`` (id -> start) that ran longer than ``limit``."""
    return [] if limit <= 0 else [t for t, start in list(running.items()) if now - start > limit]


def healthy() -> bool:
    """True while the worker sent a heartbeat to the broker within ``HEARTBEAT_GRACE`` and
    (threads pool) no task has outlived the hard time limit."""
    now = time.monotonic()
    stuck = hung(now, running=_running, limit=_time_limit)
    if stuck:
        logger.error("a task outlived the time limit", extra={"task_id": stuck[0]})
        return False
    return _last_heartbeat > 0 and now - _last_heartbeat < HEARTBEAT_GRACE


def _exposition(app: Celery, *, multiprocess: bool) -> Callable[[], bytes]:
    """The metrics of this process (threads) or of the pool processes merged from their files
    (prefork), without the series of deleted GitTracks."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client import multiprocess as files
    from redbeat.schedulers import ensure_conf, get_redis

    from faros.metrics import collectors

    conf = ensure_conf(app)
    scheduled = functools.partial(
        collectors.scheduled, get_redis(app), schedule_key=conf.schedule_key,
        key_prefix=conf.key_prefix,
    )  # fmt: skip
    live = collectors.LiveGitTracks(scheduled, ttl=LIVE_REFRESH)
    registry = CollectorRegistry()
    recorded = files.MultiProcessCollector(None) if multiprocess else REGISTRY
    registry.register(collectors.LiveOnly(recorded, live))
    return lambda: generate_latest(registry)
