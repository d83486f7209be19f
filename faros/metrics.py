"""Prometheus metrics of Faros; names and labels are the original controller's (spec 5).

``StatusCollector`` publishes the gauges that describe the cluster by reading GitTrack and
GitTrackObject status when scraped, so the series of a deleted object vanish with it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from faros.api import names
from faros.core import samples

CHILD_STATUS = "faros_gittrack_child_status"
IN_SYNC = "faros_gittrackobject_in_sync"
TIME_TO_DEPLOY_BUCKETS = (60, 120, 180, 240, 300, 600, 900, 1200, 1500, 1800, 2400, 3000, 3600)

TIME_TO_DEPLOY = Histogram(
    "faros_gittrack_time_to_deploy_seconds",
    "Seconds from a commit's committer time to the change of a child it made",
    ["name", "namespace", "repository"],
    buckets=TIME_TO_DEPLOY_BUCKETS,
)
"""Observed by the apply task only when a child really changed (the original observed every
unchanged child on every resync, and leaked credentials in ``repository``)."""


Lister = Callable[[str], list[dict[str, Any]]]
"""Returns every object of one Faros kind in scope (raises nothing: logs and returns [])."""


class StatusCollector:
    """Gauges read from the API server at scrape time (register once per serving process)."""

    def __init__(self, lister: Lister) -> None:
        self.lister = lister

    def collect(self) -> Iterator[Metric]:
        """Yield ``faros_gittrack_child_status`` and ``faros_gittrackobject_in_sync``."""
        status = GaugeMetricFamily(
            CHILD_STATUS, "Number of children of a GitTrack by status",
            labels=["name", "namespace", "status"],
        )  # fmt: skip
        in_sync = GaugeMetricFamily(
            IN_SYNC, "Whether a GitTrackObject's child is in sync (1) or not (0)",
            labels=["kind", "name", "namespace"],
        )  # fmt: skip
        gittracks = self.lister(names.GITTRACK) + self.lister(names.CLUSTERGITTRACK)
        for labels, value in samples.child_status(gittracks):
            status.add_metric([labels["name"], labels["namespace"], labels["status"]], value)
        gtos = self.lister(names.GITTRACKOBJECT) + self.lister(names.CLUSTERGITTRACKOBJECT)
        for labels, value in samples.in_sync(gtos):
            in_sync.add_metric([labels["kind"], labels["name"], labels["namespace"]], value)
        yield status
        yield in_sync


def forget_gittrack(*, name: str, namespace: str) -> None:
    """Drop the time-to-deploy series of a deleted GitTrack (this process's series)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return  # prometheus-client cannot remove series across processes yet
    TIME_TO_DEPLOY.remove_by_labels({"name": name, "namespace": namespace})


class _Handler(BaseHTTPRequestHandler):
    exposition: Callable[[], bytes]
    healthy: Callable[[], bool]

    def do_GET(self) -> None:
        if self.path.startswith("/metrics"):
            self._send(200, self.exposition(), CONTENT_TYPE_LATEST)
        elif self.path.startswith("/healthz"):
            ok = self.healthy()
            self._send(200 if ok else 503, b"ok\n" if ok else b"unhealthy\n", "text/plain")
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


def serve(
    address: str, *, exposition: Callable[[], bytes], healthy: Callable[[], bool]
) -> ThreadingHTTPServer | None:
    """Serve ``/metrics`` and ``/healthz`` on ``[host]:port`` in a thread; None for ``0``."""
    if address == "0":
        return None
    host, _, port = address.rpartition(":")
    handler = type("Handler", (_Handler,), {"exposition": staticmethod(exposition),
                                            "healthy": staticmethod(healthy)})  # fmt: skip
    server = ThreadingHTTPServer((host.strip("[]") or "0.0.0.0", int(port)), handler)  # noqa: S104
    threading.Thread(target=server.serve_forever, name="faros-http", daemon=True).start()
    return server
