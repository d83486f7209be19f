"""The receiver's HTTP server: ``POST /hook/<provider>`` and ``GET /healthz``.

Built on the standard library's ``http.server.ThreadingHTTPServer`` rather than a framework:
no new dependency, and every limit a hostile client could push on is ours to set and test:

- a body is read only when ``Content-Length`` says it fits ``max_body`` (else 413, unread);
  a chunked body or none at all is 411; the read is capped to that length;
- a client is dropped after ``READ_TIMEOUT`` seconds of silence, and its body must arrive
  within ``BODY_DEADLINE`` seconds; at most ``MAX_CONNECTIONS`` are served at once (more are
  closed at once), HTTP/1.0, one request per connection;
- a client address that spends its token bucket is answered 429 with ``Retry-After``
  before its body is read;
- only POST reaches a hook path (405 otherwise); any other path is 404.
Request lines, headers and bodies are never logged.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from faros import metrics
from faros.core.webhooks import payloads
from faros.receiver import intake

logger = logging.getLogger(__name__)

ROUTES = {f"/hook/{provider.value}": provider for provider in payloads.Provider}
HEALTH = "/healthz"
READ_TIMEOUT = 10.0
BODY_DEADLINE = 30.0
MAX_CONNECTIONS = 64
READ_SIZE = 65536
POLL_INTERVAL = 0.1
"""Seconds between checks for a shutdown request (``server.shutdown()`` waits up to this)."""


class Server(ThreadingHTTPServer):
    """A threading HTTP server that serves at most ``MAX_CONNECTIONS`` clients at once."""

    daemon_threads = True
    request_queue_size = MAX_CONNECTIONS

    def __init__(
        self, address: tuple[str, int], *, deliveries: intake.Intake, max_body: int,
        healthy: Callable[[], bool], family: socket.AddressFamily = socket.AF_INET,
        read_timeout: float = READ_TIMEOUT, body_deadline: float = BODY_DEADLINE,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:  # fmt: skip
        self.address_family = family
        self.intake = deliveries
        self.max_body = max_body
        self.healthy = healthy
        self.read_timeout = read_timeout
        self.body_deadline = body_deadline
        self.slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)  # too many clients at once: closed, not served
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    @property
    def port(self) -> int:
        """The port served (useful when bound to port 0)."""
        return int(self.server_address[1])


class Handler(BaseHTTPRequestHandler):
    """One request per connection; see the module docstring for the checks."""

    server: Server
    server_version = "faros-receiver"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.read_timeout)  # each read waits this long

    def do_POST(self) -> None:
        provider = ROUTES.get(self._path())
        if provider is None:
            self._not_hook()
            return
        answer = self._hook(provider)
        if answer is not None:
            metrics.WEBHOOK_REQUESTS.labels(provider=str(provider), result=answer.result).inc()
            self._answer(answer)

    def do_GET(self) -> None:
        self._not_hook()

    def do_HEAD(self) -> None:
        self._not_hook()

    def do_PUT(self) -> None:
        self._not_hook()

    def do_PATCH(self) -> None:
        self._not_hook()

    def do_DELETE(self) -> None:
        self._not_hook()

    def _hook(self, provider: payloads.Provider) -> intake.Answer | None:
        """The answer to a delivery, or None when the client went away before sending it."""
        wait = self.server.intake.admit(str(self.client_address[0]))
        if wait:
            return intake.Answer(429, {"error": "too many requests"}, "rate_limited", wait)
        if self.headers.get("Transfer-Encoding") or self.headers.get("Content-Length") is None:
            return intake.Answer(411, {"error": "Content-Length required"}, "length_required")
        try:
            length = int(self.headers["Content-Length"])
        except ValueError:
            length = -1
        if length < 0:
            return intake.Answer(400, {"error": "bad Content-Length"}, "malformed")
        if length > self.server.max_body:
            return intake.Answer(413, {"error": "payload too large"}, "too_large")
        body = self._read(length)
        if body is None:
            metrics.WEBHOOK_REQUESTS.labels(provider=str(provider), result="incomplete").inc()
            return None
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            return self.server.intake.handle(provider, headers=headers, body=body)
        except Exception:
            logger.exception("webhook delivery failed", extra={"provider": str(provider)})
            return intake.Answer(500, {"error": "internal error"}, "error")

    def _read(self, length: int) -> bytes | None:
        """Exactly ``length`` bytes of body, or None when the client is too slow or stops."""
        deadline = time.monotonic() + self.server.body_deadline
        body = bytearray()
        try:
            while len(body) < length:
                if time.monotonic() > deadline:
                    return None
                chunk = self.rfile.read1(min(READ_SIZE, length - len(body)))
                if not chunk:
                    return None
                body += chunk
        except OSError:  # timed out or reset
            return None
        finally:
            self.close_connection = True
        return bytes(body)

    def _not_hook(self) -> None:
        path = self._path()
        if path == HEALTH and self.command in ("GET", "HEAD"):
            ok = bool(self.server.healthy())
            self._send(200 if ok else 503, {"ok": ok})
        elif path in ROUTES or path == HEALTH:
            allowed = "POST" if path in ROUTES else "GET, HEAD"
            self._send(405, {"error": "method not allowed"}, {"Allow": allowed})
            provider = ROUTES.get(path)
            if provider is not None:
                labels = {"provider": str(provider), "result": "method_not_allowed"}
                metrics.WEBHOOK_REQUESTS.labels(**labels).inc()
        else:
            self._send(404, {"error": "not found"})

    def _answer(self, answer: intake.Answer) -> None:
        extra = {"Retry-After": str(answer.retry_after)} if answer.retry_after else {}
        self._send(answer.status, answer.body, extra)

    def _send(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True

    def _path(self) -> str:
        path = self.path.split("?", 1)[0]
        return path.rstrip("/") or "/"

    def log_message(self, format: str, *args: Any) -> None:
        return  # request lines are not logged: the receiver logs each delivery itself

    def log_error(self, format: str, *args: Any) -> None:
        logger.debug("webhook client error", extra={"client": str(self.client_address[0])})


def serve(
    address: str, *, deliveries: intake.Intake, max_body: int, healthy: Callable[[], bool],
    read_timeout: float = READ_TIMEOUT, body_deadline: float = BODY_DEADLINE,
    max_connections: int = MAX_CONNECTIONS,
) -> Server:  # fmt: skip
    """Serve on ``[host]:port`` (port 0: any free port) in a daemon thread."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = Server(
        (host or "0.0.0.0", int(port)),  # noqa: S104 - a receiver listens for the world
        deliveries=deliveries, max_body=max_body, healthy=healthy, family=family,
        read_timeout=read_timeout, body_deadline=body_deadline, max_connections=max_connections,
    )  # fmt: skip
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL},
        name="faros-webhooks", daemon=True,
    ).start()  # fmt: skip
    return server
