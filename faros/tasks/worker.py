"""``faros worker``: a Celery worker (prefork pool) with ``/metrics`` and ``/healthz``.

The parent process serves Prometheus metrics in multiprocess mode (every pool process
writes into ``PROMETHEUS_MULTIPROC_DIR``, wiped at start; a process that exits is marked
dead) and a health check that fails when the worker's event loop has stopped sending
heartbeats to the broker, e.g. connected but stuck, or disconnected.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from faros import config

logger = logging.getLogger(__name__)

HEARTBEAT_GRACE = 10.0
"""Seconds without a worker heartbeat (sent every 2 s) before /healthz fails."""

_last_heartbeat = 0.0


def run(settings: config.Settings) -> int:
    """Run the worker in this process until it is stopped; return its exit code."""
    _prepare_metrics_dir()
    # Imported only now: metrics created at import time must see PROMETHEUS_MULTIPROC_DIR.
    from celery import signals

    from faros.tasks import runtime
    from faros.tasks.app import app

    runtime.configure(settings)
    app.conf.update(broker_url=settings.broker_url)
    signals.heartbeat_sent.connect(_heartbeat, weak=False)
    signals.worker_process_shutdown.connect(_process_gone, weak=False)
    server = _serve(settings.metrics_bind_address)
    argv = [
        "worker",
        "--pool=prefork",
        f"--concurrency={settings.concurrency}",
        f"--queues={','.join(settings.queues)}",
        f"--loglevel={settings.log_level.value.upper()}",
        "--task-events",
        "--without-mingle",
    ]
    try:
        app.worker_main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    finally:
        if server is not None:
            server.shutdown()


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
    multiprocess.mark_process_dead(pid or os.getpid())


def healthy() -> bool:
    """True while the worker sent a heartbeat to the broker within ``HEARTBEAT_GRACE``."""
    return _last_heartbeat > 0 and time.monotonic() - _last_heartbeat < HEARTBEAT_GRACE


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/metrics"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
        elif self.path.startswith("/healthz"):
            ok = healthy()
            self._send(200 if ok else 503, b"ok\n" if ok else b"no heartbeat\n", "text/plain")
        else:
            self._send(404, b"not found\n", "text/plain")

    def _send(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def _serve(address: str) -> ThreadingHTTPServer | None:
    """Serve /metrics and /healthz on ``[host]:port``; None when disabled (``0``)."""
    if address == "0":
        return None
    host, _, port = address.rpartition(":")
    server = ThreadingHTTPServer((host.strip("[]") or "0.0.0.0", int(port)), _Handler)  # noqa: S104
    thread = threading.Thread(target=server.serve_forever, name="faros-metrics", daemon=True)
    thread.start()
    logger.info("serving metrics and health", extra={"address": address})
    return server
