"""``faros worker``: a Celery worker (prefork pool) with ``/metrics`` and ``/healthz``.

The parent process serves Prometheus metrics in multiprocess mode (every pool process
writes into ``PROMETHEUS_MULTIPROC_DIR``, wiped at start; a process that exits is marked
dead) and a health check that fails when the worker's event loop has stopped sending
heartbeats to the broker, e.g. connected but stuck, or disconnected.
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
from typing import Any

from faros import config
from faros.kube import client, reads

logger = logging.getLogger(__name__)

HEARTBEAT_GRACE = 10.0
"""Seconds without a worker heartbeat (sent every 2 s) before /healthz fails."""

_last_heartbeat = 0.0


def run(settings: config.Settings) -> int:
    """Run the worker in this process until it is stopped; return its exit code."""
    _prepare_metrics_dir()
    # Imported only now: prometheus_client picks multiprocess mode when it is first imported,
    # and metrics created at import time must see PROMETHEUS_MULTIPROC_DIR.
    from celery import signals

    from faros.metrics import server as http
    from faros.tasks import runtime
    from faros.tasks.app import app

    cache = None
    if settings.repository_dir is None:  # one clone cache for every pool process, removed at exit
        cache = Path(tempfile.mkdtemp(prefix="faros-repos-"))
        settings = dataclasses.replace(settings, repository_dir=cache)
    runtime.configure(settings)
    app.conf.update(broker_url=settings.broker_url)
    signals.heartbeat_sent.connect(_heartbeat, weak=False)
    signals.worker_process_shutdown.connect(_process_gone, weak=False)
    kube = client.Kube.connect(settings.kubeconfig or None)  # the parent's, for /metrics only
    server = http.serve(
        settings.metrics_bind_address, exposition=_exposition(kube, settings), healthy=healthy
    )
    argv = [
        "worker",
        "--pool=prefork",
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
        kube.close()
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


def _prepare_metrics_dir() -> None:
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


def healthy() -> bool:
    """True while the worker sent a heartbeat to the broker within ``HEARTBEAT_GRACE``."""
    return _last_heartbeat > 0 and time.monotonic() - _last_heartbeat < HEARTBEAT_GRACE


def _exposition(kube: client.Kube, settings: config.Settings) -> Callable[[], bytes]:
    """The pool processes' metrics merged from their files, without deleted GitTracks."""
    from prometheus_client import CollectorRegistry, generate_latest, multiprocess

    from faros.metrics import collectors

    live = collectors.LiveGitTracks(
        functools.partial(reads.list_own, kube, namespace=settings.namespace)
    )
    registry = CollectorRegistry()
    registry.register(collectors.LiveOnly(multiprocess.MultiProcessCollector(None), live))
    return lambda: generate_latest(registry)
