"""A real ``redis-server`` (Debian's package) on a free loopback port, with its own data dir."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.harness import processes


class RedisServer:
    """One redis-server process; ``url`` is ``redis://127.0.0.1:<port>/0``."""

    def __init__(self, directory: Path, *, binary: str = "redis-server") -> None:
        self.dir = directory
        self.binary = binary
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Broker URL of this server, database 0."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 20.0) -> RedisServer:
        """Start the server (again: on the same port, empty) and wait until it answers PING."""
        path = shutil.which(self.binary)
        if path is None:
            raise RuntimeError(
                "redis-server not found: install Debian's redis-server package (make install)"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or processes.free_port()  # a restart keeps the port
        command = [
            path,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.dir),
            "--save", "",
            "--appendonly", "no",
            "--maxmemory-policy", "noeviction",
            "--logfile", str(self.dir / "redis.log"),
            "--daemonize", "no",
        ]  # fmt: skip
        self.process = processes.spawn(command, log=self.dir / "redis.stdout.log")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {processes.tail(self.dir / 'redis.log')}")
            with contextlib.suppress(redis.ConnectionError), self.client() as client:
                if client.ping():
                    return self
            time.sleep(0.05)
        raise RuntimeError(f"redis-server not ready on port {self.port} after {timeout:.0f}s")

    def client(self) -> redis.Redis:
        """A new client for this server (close it, or use it as a context manager)."""
        return redis.Redis.from_url(self.url)

    def stop(self) -> None:
        """Stop the server by the PID we started."""
        if self.process is not None:
            processes.stop(self.process)
            self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
