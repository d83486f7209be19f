"""The Faros processes of each measured shape, started and stopped by PID.

- ``run``: one ``faros run`` (watchers, schedule and task threads in one process, no Redis);
- ``distributed``: ``faros watch``, ``faros beat``, two ``faros worker`` (the chart's
  ``--pool=threads --concurrency=8`` unless told otherwise) and
  ``faros receiver`` around the bench's own Redis (``workers`` says how many workers).

Both serve the webhook receiver (``faros run`` itself, with ``--webhook-bind-address``). Every
process serves its metrics on a loopback port of its own; :class:`Running` reads them, and the
peak resident memory of each process and its pool from ``/proc``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import secrets
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from bench import observe
from faros import config
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


def add_events_flag(parser: argparse.ArgumentParser) -> None:
    """``--events all|summary``: Faros's ``--events`` in every shape of a bench."""
    parser.add_argument("--events", default=config.EventsMode.ALL.value,
                        choices=[mode.value for mode in config.EventsMode],
                        help="Faros's --events (all)")  # fmt: skip


WORKER = ("--pool=threads", "--concurrency=8")
"""The flags of each worker of the distributed shape, unless told others: the chart's."""


def commands(
    *, shape: str, broker_url: str | None, hook: Hook | None, workers: int = 2,
    worker: tuple[str, ...] = WORKER,
) -> dict[str, list[str]]:  # fmt: skip
    """Process name -> ``faros`` arguments (without the common flags) for ``shape``."""
    hooks = [] if hook is None else hook.flags
    if shape == "run":
        return {"run": ["run", f"--broker-url={NO_REDIS}", *hooks]}
    if broker_url is None:
        raise ValueError("the distributed shape needs a Redis URL")
    broker = f"--broker-url={broker_url}"
    found = {"watch": ["watch", broker], "beat": ["beat", broker]}
    for index in range(1, workers + 1):
        found[f"worker-{index}"] = ["worker", *worker, broker]
    if hook is not None:
        found["receiver"] = ["receiver", broker, *hooks]
    return found


@dataclasses.dataclass
class Running:
    """The processes of one shape: call it to check they all run."""

    processes: dict[str, subprocess.Popen[bytes]]
    ports: dict[str, int]
    workdir: Path

    def __call__(self) -> None:
        _check_alive(self.processes, workdir=self.workdir)

    def peak_rss(self) -> dict[str, float]:
        """MiB: the peak resident memory (``VmHWM``) of each process, its pool's included (a
        worker's pool processes are added to it: together they are what its pod holds)."""
        return {name: sum(map(_peak_kib, _tree(p.pid))) / 1024
                for name, p in self.processes.items()}  # fmt: skip

    def counter(self, metric: str, *, labels: str = "") -> float:
        """The sum over every process of the samples of ``metric`` (a counter or a histogram's
        ``_count``) whose labels contain ``labels`` (e.g. ``task="sync"``), from the processes'
        own ``/metrics``."""
        total = 0.0
        for port in self.ports.values():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as got:
                    text = got.read().decode()
            except OSError:
                continue  # a process serving no metrics (beat)
            pattern = rf"^{re.escape(metric)}(?:{{([^}}]*)}})? ([0-9.e+-]+)$"
            found = re.findall(pattern, text, flags=re.MULTILINE)
            total += sum(float(value) for inside, value in found if labels in inside)
        return total


@contextlib.contextmanager
def started(
    *, shape: str, kubeconfig: Path, broker_url: str | None, workdir: Path, hook: Hook | None,
    workers: int = 2, sync_period: str = SYNC_PERIOD, extra: tuple[str, ...] = (),
    worker: tuple[str, ...] = WORKER,
) -> Iterator[Running]:  # fmt: skip
    """Start the processes of ``shape``; yield them (calling it raises if one exited)."""
    running = Running({}, {}, workdir)
    env = {**os.environ, "FAROS_BEAT_KEY_PREFIX": f"faros:beat:bench-{secrets.token_hex(3)}:"}
    chosen = commands(shape=shape, broker_url=broker_url, hook=hook, workers=workers,
                      worker=worker)  # fmt: skip
    try:
        for name, args in chosen.items():
            port = processes.free_port()
            common = [f"--kubeconfig={kubeconfig}", "--allow-file-urls",
                      f"--metrics-bind-address=127.0.0.1:{port}", f"--sync-period={sync_period}",
                      f"--repository-dir={workdir / name / 'repositories'}", *extra]  # fmt: skip
            running.processes[name] = _spawn(name, [*args, *common], workdir=workdir, env=env)
            running.ports[name] = port
        yield running
    finally:
        for process in running.processes.values():
            processes.stop(process, timeout=30)


def _spawn(
    name: str, args: list[str], *, workdir: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    folder = workdir / name
    folder.mkdir(parents=True, exist_ok=True)
    proc_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}
    return processes.spawn([FAROS, *args], log=log_of(workdir, name=name), env=proc_env)


def _tree(pid: int) -> list[int]:
    """``pid`` and every descendant (from ``/proc/<pid>/task/*/children``)."""
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        found.append(each)
        for task in Path(f"/proc/{each}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(child) for child in task.read_text().split()]
    return found


def _peak_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def log_of(workdir: Path, *, name: str) -> Path:
    """Where the output of process ``name`` goes."""
    return workdir / f"{name}.log"


def _check_alive(running: dict[str, subprocess.Popen[bytes]], *, workdir: Path) -> None:
    for name, process in running.items():
        if process.poll() is not None:
            tail = processes.tail(log_of(workdir, name=name))
            raise observe.BenchError(f"faros {name} exited ({process.returncode}):\n{tail}")
