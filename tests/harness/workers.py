"""Real Celery worker processes (prefork pool) running the Faros tasks, for integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from faros import config
from tests.harness import processes


def environment(settings: config.Settings) -> dict[str, str]:
    """The ``FAROS_*`` variables that make a worker process read ``settings``."""
    env = dict(os.environ)
    env.update(
        FAROS_KUBECONFIG=settings.kubeconfig,
        FAROS_BROKER_URL=settings.broker_url,
        FAROS_ALLOW_FILE_URLS="true" if settings.allow_file_urls else "false",
        FAROS_KNOWN_HOSTS=os.pathsep.join(str(path) for path in settings.known_hosts),
        FAROS_FETCH_TIMEOUT=f"{settings.fetch_timeout.total_seconds():g}s",
        FAROS_LOCK_TTL="60",
    )
    if settings.repository_dir is not None:
        env["FAROS_REPOSITORY_DIR"] = str(settings.repository_dir)
    return env


class Worker:
    """``celery -A faros.tasks.app worker`` as a child process, stopped by its PID."""

    def __init__(self, settings: config.Settings, directory: Path, *, queues: str = "sync") -> None:
        self.settings = settings
        self.dir = directory
        self.queues = queues
        self.log = directory / "worker.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *, timeout: float = 60.0) -> Worker:
        """Start the worker and wait until it says it is ready."""
        self.dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "celery", "-A", "faros.tasks.app", "worker",
            "--pool=prefork", "--concurrency=1", f"--queues={self.queues}",
            "--loglevel=INFO", "--without-gossip", "--without-mingle", "-E",
        ]  # fmt: skip
        self.process = processes.spawn(command, log=self.log, env=environment(self.settings))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited:\n{processes.tail(self.log, 40)}")
            if self.log.exists() and " ready." in self.log.read_text(errors="replace"):
                return self
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after {timeout:.0f}s:\n{processes.tail(self.log)}")

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process, timeout=20)
            self.process = None

    def __enter__(self) -> Worker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
