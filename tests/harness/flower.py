"""Flower started as the Helm chart starts it, on a free loopback port, stopped by its PID.

The chart runs ``celery --app=faros.tasks.app flower --port=5555`` with the broker in
``FAROS_BROKER_URL`` (read by ``celeryconfig``) and the credentials in ``FLOWER_BASIC_AUTH``
(read by Flower itself). Here only the port differs, and the address is loopback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.harness import http, processes

HOST = "127.0.0.1"


def command(port: int) -> list[str]:
    """The chart's Flower command line, on ``port`` and the loopback address."""
    celery = Path(sys.executable).with_name("celery")
    return [str(celery), "--app=faros.tasks.app", "flower", f"--port={port}", f"--address={HOST}"]


class Flower:
    """One Flower process with basic auth; ``get`` and ``json`` call its HTTP API."""

    def __init__(self, *, broker_url: str, basic_auth: str, directory: Path) -> None:
        self.broker_url = broker_url
        self.basic_auth = basic_auth
        self.dir = directory
        self.log = directory / "flower.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    def start(self, *, timeout: float = 60.0) -> Flower:
        """Start Flower in its own directory and wait until /healthcheck answers."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = processes.free_port()
        # Only the chart's variables: no FLOWER_* or broker setting leaks in from outside.
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("FLOWER_", "FAROS_", "CELERY_"))
        }
        env.update(FAROS_BROKER_URL=self.broker_url, FLOWER_BASIC_AUTH=self.basic_auth)
        self.process = processes.spawn(command(self.port), log=self.log, env=env, cwd=self.dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"flower exited:\n{processes.tail(self.log, 40)}")
            if self.get("/healthcheck")[0] == 200:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"flower not ready after {timeout:.0f}s:\n{processes.tail(self.log)}")

    def get(self, path: str, *, auth: tuple[str, str] | None = None) -> tuple[int, str]:
        """GET ``path``; (status, body), or (0, reason) while nothing listens."""
        return http.get(f"http://{HOST}:{self.port}{path}", auth=":".join(auth or ()))

    def json(self, path: str, *, auth: tuple[str, str]) -> Any:
        """GET ``path`` with credentials and decode the JSON body (status 200 required)."""
        status, body = self.get(path, auth=auth)
        assert status == 200, (status, body)
        return json.loads(body)

    def stop(self) -> None:
        """SIGTERM by PID (Flower exits 0 on it), wait, SIGKILL if it does not."""
        if self.process is not None:
            processes.stop(self.process, timeout=20)
            self.returncode = self.process.returncode
            self.process = None

    def __enter__(self) -> Flower:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
