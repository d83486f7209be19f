"""A real HTTPS validating admission webhook on loopback whose answers a test switches at run time.

The Kubernetes API server calls it like any ValidatingAdmissionWebhook; a test makes it allow,
fail with HTTP 500, hang past the webhook timeout or deny, and reads back what it was asked.
It listens only on 127.0.0.1 and writes only its certificates, to a temporary folder that
``stop`` removes. Certificates come from the ``openssl`` command, as the control plane's do.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import json
import secrets
import shutil
import socket
import socketserver
import ssl
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from faros.kube import client, errors

PATH = "/validate"
CONFIGURATIONS = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
HANDSHAKE_TIMEOUT = 5.0
READ_TIMEOUT = 10.0

# One config for both certificates: no dependence on the system's openssl.cnf. The server
# certificate carries SANs only (Go ignores the CN) and key identifiers (strict X.509 checks).
_OPENSSL_CONFIG = """\
[req]
distinguished_name = subject
prompt = no
[subject]
CN = faros test webhook
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
"""


class Behaviour(enum.StrEnum):
    """How the webhook answers one request."""

    ALLOW = "allow"
    FAIL = "fail"  # HTTP 500
    HANG = "hang"  # hold the request, then allow
    DENY = "deny"  # allowed=false with a status message and code


@dataclass(frozen=True, slots=True)
class Call:
    """One AdmissionReview the webhook received, and how it answered."""

    kind: str
    namespace: str
    name: str
    operation: str
    behaviour: Behaviour


@dataclass(frozen=True, slots=True)
class _Plan:
    behaviour: Behaviour
    remaining: int
    seconds: float = 0.0
    message: str = ""
    code: int = 0


_ALLOW = _Plan(Behaviour.ALLOW, 0)


class FailingWebhook:
    """The webhook server; ``with FailingWebhook() as hook:`` starts and stops it.

    ``allow``/``fail``/``hang``/``deny`` may be called from any thread while it serves.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._plan = _ALLOW
        self._calls: list[Call] = []
        self._counts: Counter[Behaviour] = Counter()
        self._received = 0
        self._stopping = threading.Event()
        self._dir: Path | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.ca_pem = ""

    @property
    def port(self) -> int:
        """The loopback port it listens on."""
        if self._server is None:
            raise RuntimeError("the webhook is not started")
        port: int = self._server.server_address[1]
        return port

    @property
    def url(self) -> str:
        """What the API server calls: ``https://127.0.0.1:<port>/validate``."""
        return f"https://127.0.0.1:{self.port}{PATH}"

    @property
    def ca_path(self) -> Path:
        """The CA certificate file (PEM), for clients that verify the server; gone after stop."""
        if self._dir is None:
            raise RuntimeError("the webhook is not started")
        return self._dir / "ca.crt"

    @property
    def ca_bundle(self) -> str:
        """The CA PEM in base64, as ``clientConfig.caBundle`` wants it."""
        return base64.b64encode(self.ca_pem.encode()).decode()

    def start(self) -> FailingWebhook:
        """Make a CA and a server certificate, then serve HTTPS in a background thread."""
        if self._server is not None:
            raise RuntimeError("the webhook is already started")
        self._stopping = threading.Event()
        self._dir = Path(tempfile.mkdtemp(prefix="faros-webhook-"))
        try:
            cert, key = _make_certificates(self._dir)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            self.ca_pem = self.ca_path.read_text()
            self._server = _Server(self, context)
        except BaseException:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            raise
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self, *, timeout: float = 2.0) -> None:
        """Stop serving, release hanging requests unanswered, and remove the certificates."""
        self._stopping.set()
        deadline = time.monotonic() + timeout
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.join(deadline=deadline)
            self._server = None
        if self._thread is not None:
            self._thread.join(max(0.0, deadline - time.monotonic()))
            self._thread = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> FailingWebhook:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def allow(self) -> None:
        """Allow every request from now on."""
        self._set(_ALLOW)

    def fail(self, n: int) -> None:
        """Answer HTTP 500 to the next ``n`` requests, then allow."""
        self._set(_Plan(Behaviour.FAIL, n))

    def hang(self, n: int, seconds: float) -> None:
        """Hold each of the next ``n`` requests for ``seconds`` before allowing it."""
        self._set(_Plan(Behaviour.HANG, n, seconds=seconds))

    def deny(self, n: int, message: str = "denied by the test webhook", code: int = 403) -> None:
        """Answer allowed=false with ``message`` and ``code`` to the next ``n``, then allow."""
        self._set(_Plan(Behaviour.DENY, n, message=message, code=code))

    def count(self, behaviour: Behaviour | None = None) -> int:
        """Requests received so far: all of them (bad ones too), or those answered so."""
        with self._lock:
            return self._received if behaviour is None else self._counts[behaviour]

    def calls(self) -> list[Call]:
        """The AdmissionReviews received so far, oldest first."""
        with self._lock:
            return list(self._calls)

    def reset(self) -> None:
        """Allow everything and forget the requests received so far."""
        with self._lock:
            self._plan = _ALLOW
            self._calls.clear()
            self._counts.clear()
            self._received = 0

    def configuration(
        self,
        name: str,
        *,
        namespace_label: tuple[str, str],
        resources: Sequence[tuple[str, str, str]],
        timeout_seconds: int,
        failure_policy: Literal["Fail", "Ignore"] = "Fail",
    ) -> dict[str, Any]:
        """A ValidatingWebhookConfiguration sending CREATE and UPDATE of ``resources``
        ((group, version, plural) triples) in namespaces labelled ``namespace_label`` here.
        """
        key, value = namespace_label
        rules = [
            {
                "apiGroups": [group],
                "apiVersions": [version],
                "resources": [plural],
                "operations": ["CREATE", "UPDATE"],
                "scope": "*",
            }
            for group, version, plural in resources
        ]
        webhook = {
            "name": f"{name}.webhooks.faros.test",  # the API requires a qualified name
            "clientConfig": {"url": self.url, "caBundle": self.ca_bundle},
            "rules": rules,
            "namespaceSelector": {"matchLabels": {key: value}},
            "failurePolicy": failure_policy,
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": timeout_seconds,
        }
        return {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": {"name": name},
            "webhooks": [webhook],
        }

    def _set(self, plan: _Plan) -> None:
        if plan.remaining < 0:
            raise ValueError(f"a request count cannot be negative: {plan.remaining}")
        with self._lock:
            self._plan = plan

    def _answer(self, body: bytes) -> tuple[int, bytes] | None:
        """The (HTTP status, body) for one request body; None to hang up (stopping)."""
        try:
            request = json.loads(body)["request"]
            uid = str(request["uid"])
            kind, operation = str(request["kind"]["kind"]), str(request["operation"])
            namespace, name = str(request.get("namespace", "")), str(request.get("name", ""))
        except (ValueError, KeyError, TypeError):
            with self._lock:
                self._received += 1
            return 400, b"not an admission.k8s.io/v1 AdmissionReview\n"
        with self._lock:
            plan = self._plan if self._plan.remaining > 0 else _ALLOW
            if plan.remaining > 0:
                self._plan = replace(plan, remaining=plan.remaining - 1)
            self._received += 1
            self._counts[plan.behaviour] += 1
            self._calls.append(Call(kind, namespace, name, operation, plan.behaviour))
        if plan.behaviour is Behaviour.HANG and self._stopping.wait(plan.seconds):
            return None
        if plan.behaviour is Behaviour.FAIL:
            return 500, b"injected failure\n"
        response: dict[str, Any] = {"uid": uid, "allowed": plan.behaviour is not Behaviour.DENY}
        if plan.behaviour is Behaviour.DENY:
            response["status"] = {"code": plan.code, "message": plan.message}
        review = {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}
        return 200, json.dumps({**review, "response": response}).encode()


def install(kube: client.Kube, body: dict[str, Any]) -> Any:
    """Create the ValidatingWebhookConfiguration ``body``; the created object."""
    return kube.request("POST", CONFIGURATIONS, body=body)


def uninstall(kube: client.Kube, name: str) -> None:
    """Delete the ValidatingWebhookConfiguration ``name`` if it exists."""
    with contextlib.suppress(errors.NotFound):
        kube.request("DELETE", f"{CONFIGURATIONS}/{name}")


LABEL = "faros.test/webhook"


@contextlib.contextmanager
def guarding(
    kube: client.Kube,
    hook: FailingWebhook,
    *,
    namespace: str,
    resources: Sequence[tuple[str, str, str]],
    timeout_seconds: int,
) -> Iterator[None]:
    """Send the writes of ``resources`` (and of ConfigMaps, to probe) in ``namespace`` to
    ``hook`` for the block: label the namespace, install the configuration, wait until the
    API server calls the hook (a new configuration takes a moment), forget that probe."""
    kube.request("PATCH", f"/api/v1/namespaces/{namespace}",
                 body={"metadata": {"labels": {LABEL: namespace}}},
                 content_type=client.MERGE_PATCH)  # fmt: skip
    name = f"guard-{namespace}"
    watched = [("", "v1", "configmaps"), *resources]
    body = hook.configuration(name, namespace_label=(LABEL, namespace), resources=watched,
                              timeout_seconds=timeout_seconds)  # fmt: skip
    install(kube, body)
    try:
        deadline = time.monotonic() + 30
        while hook.count() == 0:
            if time.monotonic() > deadline:
                raise AssertionError("the API server never called the webhook")
            probe = {"metadata": {"name": f"probe-{secrets.token_hex(3)}"}}
            kube.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", body=probe,
                         query={"dryRun": "All"})  # fmt: skip
            time.sleep(0.3)
        hook.reset()
        yield
    finally:
        uninstall(kube, name)


def _make_certificates(directory: Path) -> tuple[Path, Path]:
    """Write ca.crt and a server certificate and key signed by it; (server.crt, server.key)."""
    config = directory / "openssl.cnf"
    config.write_text(_OPENSSL_CONFIG)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca, ca_key = directory / "ca.crt", directory / "ca.key"
    cert, key, csr = directory / "server.crt", directory / "server.key", directory / "server.csr"
    _openssl("req", "-x509", "-config", config, "-extensions", "ca", *ec, "-keyout", ca_key,
             "-out", ca, "-days", "2", "-subj", "/CN=faros test webhook CA")  # fmt: skip
    _openssl("req", "-new", "-config", config, *ec, "-keyout", key, "-out", csr,
             "-subj", "/CN=127.0.0.1")  # fmt: skip
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
             "-set_serial", str(secrets.randbits(63) + 1), "-days", "2",
             "-extfile", config, "-extensions", "server", "-out", cert)  # fmt: skip
    return cert, key


def _openssl(*args: str | Path) -> None:
    try:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)
    except FileNotFoundError:
        raise RuntimeError("openssl not found: install Debian's openssl package") from None
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"openssl {args[0]} failed: {error.stderr.decode()}") from None


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hook: FailingWebhook, context: ssl.SSLContext) -> None:
        self.hook = hook
        self.context = context
        self.active: set[threading.Thread] = set()
        self.active_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer's own looks up the host's FQDN, which can stall on a slow resolver.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]

    def finish_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # The TLS handshake runs here, in the request's own thread, so that a slow or
        # broken client never blocks accepting the next connection.
        assert isinstance(request, socket.socket)
        thread = threading.current_thread()
        with self.active_lock:
            self.active.add(thread)
        try:
            request.settimeout(HANDSHAKE_TIMEOUT)
            with (
                contextlib.suppress(OSError),
                self.context.wrap_socket(request, server_side=True) as connection,
            ):
                _Handler(connection, client_address, self)
        finally:
            with self.active_lock:
                self.active.discard(thread)

    def join(self, *, deadline: float) -> None:
        """Wait until the handler threads end (a hang ends as soon as stop is set)."""
        with self.active_lock:
            threads = list(self.active)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = READ_TIMEOUT

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        # The API server adds ?timeout=<n>s to the URL.
        if self.path.partition("?")[0] != PATH:
            self._send(404, b"not found\n", "text/plain")
            return
        answer = self.server.hook._answer(body)
        if answer is None:
            self.close_connection = True
            return
        status, payload = answer
        self._send(status, payload, "application/json" if status == 200 else "text/plain")

    def _send(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests read ``calls()`` instead."""
