"""The receiver's HTTP server over a real loopback socket, against every hostile input.

Behind it: an intake over an in-memory GitTrack index and a dispatcher that records what it
is asked to queue (``tests/unit/test_receiver_intake.py``); no API server, no Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY

from faros.receiver import endpoint
from tests.unit.test_receiver_intake import SHARED, World, key, push, track

pytestmark = pytest.mark.timeout(20)
MAX_BODY = 4096


class Running:
    """A receiver on a free loopback port, and the world behind it."""

    def __init__(self, world: World, server: endpoint.Server) -> None:
        self.world = world
        self.server = server
        self.healthy = True

    @property
    def port(self) -> int:
        return self.server.port

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, http.client.HTTPResponse, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request(method, path, body=body or None, headers=headers or {})
            response = connection.getresponse()
            return response.status, response, response.read()
        finally:
            connection.close()

    def github(self, payload: dict[str, Any], *, secret: str = SHARED, delivery: str = "d-1",
               event: str = "push") -> tuple[int, http.client.HTTPResponse, bytes]:  # fmt: skip
        body = json.dumps(payload).encode()
        digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json",
        }  # fmt: skip
        return self.request("POST", "/hook/github", body, headers)

    def raw(self, data: bytes, *, wait: float = 5.0) -> bytes:
        """Send ``data`` as is, then read until the server closes the connection."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=wait) as client:
            client.sendall(data)
            return _read_all(client)


def _read_all(client: socket.socket) -> bytes:
    answer = b""
    try:
        while chunk := client.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer


def serve(
    world: World,
    *,
    read_timeout: float = 0.5,
    body_deadline: float = 1.0,
    max_connections: int = 16,
) -> Iterator[Running]:
    running: Running | None = None

    def healthy() -> bool:
        return running is not None and running.healthy

    server = endpoint.serve(
        "127.0.0.1:0", deliveries=world.intake, max_body=MAX_BODY, healthy=healthy,
        read_timeout=read_timeout, body_deadline=body_deadline, max_connections=max_connections,
    )  # fmt: skip
    running = Running(world, server)
    try:
        yield running
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Running]:
    world = World([track("main"), track("release", "release")])
    yield from serve(world)


def requests_counted(result: str, provider: str = "github") -> float:
    labels = {"provider": provider, "result": result}
    return REGISTRY.get_sample_value("faros_webhook_requests_total", labels) or 0.0


def test_a_signed_push_is_accepted_and_queues_the_matching_gittrack(receiver):
    before = requests_counted("accepted")

    status, response, body = receiver.github(push())

    assert (status, json.loads(body)) == (200, {"accepted": True})
    assert response.getheader("Content-Type") == "application/json"
    assert receiver.world.dispatcher.asked == [key("main")]
    assert requests_counted("accepted") == before + 1


def test_the_answer_is_the_same_bytes_whether_a_gittrack_matched_or_not(receiver):
    _, _, matched = receiver.github(push(), delivery="1")
    _, _, unmatched = receiver.github(push("refs/heads/nobody"), delivery="2")
    _, _, unknown = receiver.github(push(name="org/secret-project"), delivery="3")

    assert matched == unmatched == unknown


@pytest.mark.parametrize("secret", ["wrong", ""])
def test_a_wrong_or_missing_signature_is_401_and_queues_nothing(receiver, secret):
    before = requests_counted("unauthorized")
    if secret:
        status, _, body = receiver.github(push(), secret=secret)
    else:
        status, _, body = receiver.request(
            "POST", "/hook/github", json.dumps(push()).encode(), {"X-GitHub-Event": "push"}
        )

    assert (status, json.loads(body)) == (401, {"error": "unauthorized"})
    assert receiver.world.dispatcher.asked == []
    assert receiver.world.stamps == []
    assert requests_counted("unauthorized") == before + 1


def test_malformed_json_with_a_valid_signature_is_400(receiver):
    body = b'{"ref": "refs/heads/main", '
    digest = hmac.new(SHARED.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={digest}"}

    status, _, answer = receiver.request("POST", "/hook/github", body, headers)

    assert (status, json.loads(answer)) == (400, {"error": "malformed payload"})


def test_a_body_over_the_limit_is_413_without_being_read(receiver):
    head = (
        "POST /hook/github HTTP/1.1\r\nHost: x\r\nX-GitHub-Event: push\r\n"
        f"Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    )
    started = time.monotonic()

    answer = receiver.raw(head.encode() + b"{" * 100)  # 100 bytes of 100 MiB sent

    assert answer.startswith(b"HTTP/1.0 413 ")
    assert b'{"error": "payload too large"}' in answer
    assert time.monotonic() - started < 0.5  # answered at once, not after a read timeout
    assert receiver.world.dispatcher.asked == []


@pytest.mark.parametrize(
    "headers",
    ["Transfer-Encoding: chunked\r\n", ""],
    ids=["chunked", "no-length"],
)
def test_a_body_without_content_length_is_411(receiver, headers):
    request = f"POST /hook/github HTTP/1.1\r\nHost: x\r\n{headers}\r\n5\r\nhello\r\n0\r\n\r\n"

    assert receiver.raw(request.encode()).startswith(b"HTTP/1.0 411 ")


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_a_bad_content_length_is_400(receiver, length):
    request = f"POST /hook/github HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n"

    assert receiver.raw(request.encode()).startswith(b"HTTP/1.0 400 ")


def test_a_flood_from_one_client_is_429_with_retry_after():
    world = World([track("main")], rate=1)  # bursts of 5
    for running in serve(world):
        answers = [running.github(push(), delivery=str(n)) for n in range(7)]
        statuses = [status for status, _, _ in answers]

        assert statuses == [200] * 5 + [429] * 2
        assert int(answers[-1][1].getheader("Retry-After") or 0) >= 1
        assert json.loads(answers[-1][2]) == {"error": "too many requests"}
        assert len(world.dispatcher.asked) == 5


def test_a_replayed_delivery_is_200_and_queues_once(receiver):
    first = receiver.github(push(), delivery="72d3162e")
    again = receiver.github(push(), delivery="72d3162e")

    assert first[0] == again[0] == 200
    assert first[2] == again[2]
    assert receiver.world.dispatcher.asked == [key("main")]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD"])
def test_only_post_reaches_a_hook_path(receiver, method):
    status, response, _ = receiver.request(method, "/hook/github")

    assert status == 405
    assert response.getheader("Allow") == "POST"


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/hook/unknown"), ("POST", "/"), ("GET", "/metrics"), ("POST", "/hook"),
     ("GET", "/hook/github/../../etc/passwd")],
)  # fmt: skip
def test_unknown_paths_are_404(receiver, method, path):
    assert receiver.request(method, path, b"{}" if method == "POST" else b"")[0] == 404


def test_query_strings_and_a_trailing_slash_still_reach_the_hook(receiver):
    body = json.dumps(push()).encode()
    digest = hmac.new(SHARED.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-GitHub-Event": "push", "X-Hub-Signature-256": f"sha256={digest}"}

    assert receiver.request("POST", "/hook/github/?source=ci", body, headers)[0] == 200


def test_healthz(receiver):
    assert receiver.request("GET", "/healthz")[:1] == (200,)
    receiver.healthy = False
    assert receiver.request("GET", "/healthz")[0] == 503
    assert receiver.request("POST", "/healthz", b"{}")[0] == 405


def test_a_client_that_stops_sending_its_body_is_dropped_and_queues_nothing(receiver):
    before = requests_counted("incomplete")
    head = "POST /hook/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    started = time.monotonic()

    answer = receiver.raw(head.encode() + b'{"ref": ')

    assert answer == b""  # closed without an answer after the read timeout
    assert time.monotonic() - started < 3
    assert receiver.world.dispatcher.asked == []
    assert requests_counted("incomplete") == before + 1


def test_a_silent_client_is_dropped(receiver):
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as client:
        started = time.monotonic()
        assert _read_all(client) == b""
        assert time.monotonic() - started < 3


def test_a_client_trickling_its_body_is_dropped_at_the_deadline(receiver):
    head = "POST /hook/github HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=5) as client:
        client.sendall(head.encode())
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 4 and not closed:
            try:
                client.sendall(b" ")  # one byte every 0.2 s: never silent for 0.5 s
            except OSError:
                closed = True
                break
            time.sleep(0.2)
            client.setblocking(False)
            try:
                closed = client.recv(1) == b""
            except BlockingIOError:
                pass
            except ConnectionResetError:
                closed = True
            client.setblocking(True)

    assert closed
    assert time.monotonic() - started < 3  # the 1 s body deadline, not 1000 bytes' worth
    assert receiver.world.dispatcher.asked == []


def test_connections_beyond_the_limit_are_closed_at_once():
    world = World([track("main")])
    for running in serve(world, read_timeout=3.0, max_connections=2):
        idle = [socket.create_connection(("127.0.0.1", running.port)) for _ in range(2)]
        try:
            time.sleep(0.2)  # both accepted and holding their slot
            with socket.create_connection(("127.0.0.1", running.port), timeout=2) as third:
                started = time.monotonic()
                assert _read_all(third) == b""
                assert time.monotonic() - started < 1
        finally:
            for each in idle:
                each.close()
        time.sleep(0.2)  # the slots are given back
        assert running.github(push())[0] == 200


def test_logs_name_provider_and_delivery_but_never_secret_headers_or_body(receiver, caplog):
    caplog.set_level(logging.DEBUG)

    receiver.github(push(), delivery="delivery-42")
    receiver.github(push(), secret="attacker-secret", delivery="delivery-43")

    text = "\n".join(
        f"{record.getMessage()} {sorted(vars(record).items(), key=lambda kv: kv[0])}"
        for record in caplog.records
    )
    assert "delivery-42" in text
    assert "github" in text
    for secret_or_body in (SHARED, "attacker-secret", "org/manifests", "sha256="):
        assert secret_or_body not in text
