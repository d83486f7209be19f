"""The Faros processes of each measured shape, started and stopped by PID.

- ``run``: one ``faros run`` (watchers, schedule and task threads in one process, no Redis);
- ``distributed``: ``faros watch``, ``faros beat``, two ``faros worker --concurrency=2`` and
  ``faros receiver`` around the bench's own Redis.

Both serve the webhook receiver (``faros run`` itself, with ``--webhook-bind-address``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from bench import observe
from tests.harness import processes

FAROS = str(Path(sys.executable).with_name("faros"))
SHAPES = ("run", "distributed")
#: Periodic syncs would land in the middle of measurements: every sync here is triggered.
SYNC_PERIOD = "1h"
#: Nothing listens there: ``faros run`` must not need Redis.
NO_REDIS = "redis://127.0.0.1:1/0"


@dataclasses.dataclass(frozen=True)
class Hook:
    """Where the shape's webhook receiver listens, and the Secret (NAMESPACE/NAME) it reads."""

    port: int
    secret: str

    @property
    def flags(self) -> list[str]:
        return [f"--webhook-bind-address=127.0.0.1:{self.port}", f"--webhook-secret={self.secret}"]


def commands(*, shape: str, broker_url: str | None, hook: Hook) -> dict[str, list[str]]:
    """Process name -> ``faros`` arguments (without the common flags) for ``shape``."""
    if shape == "run":
        return {"run": ["run", f"--broker-url={NO_REDIS}", *hook.flags]}
    if broker_url is None:
        raise ValueError("the distributed shape needs a Redis URL")
    broker = f"--broker-url={broker_url}"
    worker = ["worker", "--concurrency=2", broker]
    return {"watch": ["watch", broker], "beat": ["beat", broker],
            "worker-1": worker, "worker-2": worker,
            "receiver": ["receiver", broker, *hook.flags]}  # fmt: skip


@contextlib.contextmanager
def started(
    *, shape: str, kubeconfig: Path, broker_url: str | None, workdir: Path, hook: Hook
) -> Iterator[Callable[[], None]]:
    """Start the processes of ``shape``; yield a check that raises if one of them exited."""
    running: dict[str, subprocess.Popen[bytes]] = {}
    env = {**os.environ, "FAROS_BEAT_KEY_PREFIX": f"faros:beat:bench-{secrets.token_hex(3)}:"}
    try:
        for name, args in commands(shape=shape, broker_url=broker_url, hook=hook).items():
            running[name] = _spawn(name, args, kubeconfig=kubeconfig, workdir=workdir, env=env)
        yield lambda: _check_alive(running, workdir=workdir)
    finally:
        for process in running.values():
            processes.stop(process, timeout=30)


def _spawn(
    name: str, args: list[str], *, kubeconfig: Path, workdir: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    common = [
        f"--kubeconfig={kubeconfig}",
        "--allow-file-urls",
        "--metrics-bind-address=0",
        f"--sync-period={SYNC_PERIOD}",
        f"--repository-dir={folder / 'repositories'}",
    ]
    proc_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}
    return processes.spawn([FAROS, *args, *common], log=log_of(workdir, name=name), env=proc_env)


def log_of(workdir: Path, *, name: str) -> Path:
    """Where the output of process ``name`` goes."""
    return workdir / f"{name}.log"


def _check_alive(running: dict[str, subprocess.Popen[bytes]], *, workdir: Path) -> None:
    for name, process in running.items():
        if process.poll() is not None:
            tail = processes.tail(log_of(workdir, name=name))
            raise observe.BenchError(f"faros {name} exited ({process.returncode}):\n{tail}")
