"""The distributed shape as separate processes: watchers, beat and workers, by name.

Each process is the real ``faros`` command in its own session, logging to its own file, so a
test can kill one with SIGKILL, start it again as a supervisor would, and check that none of
the others exited.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import redis

from faros import config
from faros.tasks import dispatch
from tests.harness import processes

FAROS = str(Path(sys.executable).with_name("faros"))


class Shape:
    """``faros watch`` x ``watchers``, ``faros beat``, ``faros worker`` x ``workers``."""

    def __init__(
        self,
        settings: config.Settings,
        directory: Path,
        *,
        beat_prefix: str,
        sync_period: str = "3s",
        watchers: int = 1,
        workers: int = 2,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.dir = directory
        self.broker_url = settings.broker_url
        self.common = [
            f"--kubeconfig={settings.kubeconfig}", f"--broker-url={settings.broker_url}",
            "--allow-file-urls", "--metrics-bind-address=0", f"--sync-period={sync_period}",
        ]  # fmt: skip
        self.env = {**os.environ, "FAROS_BEAT_KEY_PREFIX": beat_prefix, **(env or {})}
        if settings.known_hosts:
            self.env["FAROS_KNOWN_HOSTS"] = os.pathsep.join(map(str, settings.known_hosts))
        self.commands: dict[str, list[str]] = {"beat": ["beat"]}
        for index in range(1, watchers + 1):
            self.commands[f"watch-{index}"] = ["watch"]
        for index in range(1, workers + 1):
            self.commands[f"worker-{index}"] = ["worker", "--concurrency=1"]
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str | None = None) -> Shape:
        """Start every process (or the one named ``name``)."""
        for each in [name] if name else list(self.commands):
            log = self.log(each)
            env = {**self.env, "PROMETHEUS_MULTIPROC_DIR": str(self.dir / f"metrics-{each}")}
            command = [FAROS, *self.commands[each], *self.common]
            self.running[each] = processes.spawn(command, log=log, env=env)
        return self

    def log(self, name: str) -> Path:
        return self.dir / f"{name}.log"

    def kill(self, name: str) -> None:
        """SIGKILL the process ``name`` and everything in its session (its pool), and reap it."""
        process = self.running.pop(name)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, name: str | None = None) -> None:
        """Stop every process (or ``name``) with SIGTERM, as Kubernetes would."""
        for each in [name] if name else list(self.running):
            processes.stop(self.running.pop(each), timeout=30)

    def assert_alive(self) -> None:
        """Fail naming every process that exited, with its status and the end of its log."""
        dead = {n: p.poll() for n, p in self.running.items() if p.poll() is not None}
        details = "\n".join(
            f"{name} exited with {code}:\n{processes.tail(self.log(name), 30)}"
            for name, code in dead.items()
        )
        assert not dead, details

    def last_received(self, task: str) -> str | None:
        """The worker whose log shows the most recent reception of ``task`` (e.g. faros.sync)."""
        latest: tuple[str, str] | None = None
        pattern = re.compile(rf"^\[(?P<at>[^\]]+)\].*Task {re.escape(task)}\[.*\] received")
        for name in self.running:
            if not name.startswith("worker-") or not self.log(name).exists():
                continue
            for line in self.log(name).read_text(errors="replace").splitlines():
                found = pattern.match(line)
                if found and (latest is None or found["at"] > latest[0]):
                    latest = (found["at"], name)
        return None if latest is None else latest[1]

    def __enter__(self) -> Shape:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        purge(self.broker_url)


def purge(broker_url: str) -> None:
    """Drop every task still queued or unacknowledged on the test session's shared Redis,
    and the de-duplication keys that stand for them: what one test left undone must not
    become the next test's work."""
    client = redis.Redis.from_url(broker_url)
    try:
        stale = [*client.scan_iter(match="faros:dirty:*", count=1000)]
        stale += [key for key in client.scan_iter(count=1000) if _is_queue(key)]
        if stale:
            client.delete(*stale)
    finally:
        client.close()


def _is_queue(key: bytes) -> bool:
    name = key.decode(errors="replace")
    return name.split("\x06")[0] in dispatch.QUEUES or name in ("unacked", "unacked_index")


def wait_ready(shape: Shape, *, timeout: float = 60.0) -> None:
    """Wait until every worker says it is ready."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shape.assert_alive()
        logs = [shape.log(n) for n in shape.running if n.startswith("worker-")]
        if all(log.exists() and " ready." in log.read_text(errors="replace") for log in logs):
            return
        time.sleep(0.2)
    raise AssertionError("workers not ready")
