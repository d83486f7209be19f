"""The chart's bundled Redis, run as rendered: its config, password, persistence and broker URL.

The StatefulSet's container (``redis-server`` with the rendered redis.conf from the ConfigMap
and the password from the broker Secret, expanded as the kubelet expands ``$(VAR)``) runs on
this machine's redis-server. Only the listening port and the data folder are moved to
loopback and a temporary directory; everything else is what the pod would run.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from faros.testing import binaries
from tests.harness import chart, processes
from tests.harness.chart import Doc, Helm
from tests.harness.wait import eventually


@pytest.fixture(scope="module")
def helm(tmp_path_factory: pytest.TempPathFactory) -> Helm:
    return Helm(binary=binaries.helm(), home=tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="module")
def rendered(helm: Helm) -> list[Doc]:
    return helm.template({}, release="faros", namespace="faros-system")


class BundledRedis:
    """The rendered Redis container as a local redis-server process."""

    def __init__(self, docs: list[Doc], root: Path) -> None:
        statefulset = chart.one(docs, "StatefulSet")
        pod = chart.localize(docs, statefulset, root=root, base_env={})
        env = pod.env
        program = shutil.which("redis-server")
        assert program is not None, "redis-server is installed by hack/install-system-deps.sh"
        self.port = processes.free_port()
        self.data = root / "volumes" / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        # The kubelet expands $(NAME) in args from the container's environment.
        args = [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in pod.command[1:]]
        conf = Path(args[0])  # the ConfigMap's redis.conf, as mounted
        text = conf.read_text()
        assert "\ndir /data\n" in text, text
        conf.write_text(text.replace("\ndir /data\n", f"\ndir {self.data}\n"))
        self.command = [program, *args, "--port", str(self.port)]
        self.root = root
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = processes.spawn(self.command, log=self.root / "redis.log")
        eventually(self._answers, timeout=20)

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process, timeout=20)
            self.process = None

    def _answers(self) -> None:
        # A raw PING: redis-py would retry a refused connection with seconds of backoff.
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                reply = conn.recv(64)
        except OSError as refused:
            raise AssertionError(f"bundled Redis not up: {refused}") from None
        assert reply.startswith((b"+PONG", b"-NOAUTH")), reply


@pytest.fixture
def bundled(rendered: list[Doc], tmp_path: Path) -> Iterator[BundledRedis]:
    server = BundledRedis(rendered, tmp_path)
    server.start()
    yield server
    server.stop()


def _broker(docs: list[Doc], port: int) -> redis.Redis:
    """A client from the broker URL every Faros process gets, pointed at the local port."""
    url = urllib.parse.urlsplit(chart.config_data(chart.one(docs, "Secret", "faros-broker"))["url"])
    assert (url.hostname, url.port) == ("faros-redis.faros-system.svc", 6379)
    local = url._replace(netloc=f":{url.password}@127.0.0.1:{port}")
    client: redis.Redis = redis.Redis.from_url(urllib.parse.urlunsplit(local))
    return client


def test_bundled_redis_wants_the_password_of_the_broker_url(rendered, bundled):
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=bundled.port, retry=Retry(NoBackoff(), 0)).ping()

    assert _broker(rendered, bundled.port).ping() is True


def test_bundled_redis_persists_with_appendonly_and_never_evicts(rendered, bundled):
    broker = _broker(rendered, bundled.port)

    settings = {
        key: broker.config_get(key)[key]
        for key in ("appendonly", "appendfsync", "maxmemory-policy")
    }
    assert settings == {
        "appendonly": "yes",
        "appendfsync": "everysec",
        "maxmemory-policy": "noeviction",
    }

    broker.rpush("sync", "queued-task")

    def written() -> None:
        assert any(bundled.data.rglob("*.aof")), "no append-only file written"

    eventually(written, timeout=10)
    bundled.stop()
    bundled.start()

    assert _broker(rendered, bundled.port).lrange("sync", 0, -1) == [b"queued-task"]
