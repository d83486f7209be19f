"""The HTTP endpoint of every Faros process: ``/metrics`` and ``/healthz`` in a thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST


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
