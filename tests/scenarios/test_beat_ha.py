"""Two `faros beat` replicas: syncs are not doubled, and a standby takes over after a kill."""

from __future__ import annotations

import datetime
import functools
import os
import secrets
import signal
import sys
import time
from pathlib import Path

import redis
from celery import Celery

from faros.beat import entries
from faros.core import identity
from tests.harness import http, processes
from tests.harness.wait import eventually

FAROS = str(Path(sys.executable).with_name("faros"))
PERIOD = datetime.timedelta(seconds=1)
LOCK_TIMEOUT = 10


def test_two_beats_send_once_and_fail_over(redis_url, tmp_path):
    prefix = f"faros:beat:{secrets.token_hex(3)}:"
    app = Celery("faros-test")
    app.config_from_object("celeryconfig")
    app.conf.update(broker_url=redis_url, redbeat_redis_url=redis_url, redbeat_key_prefix=prefix)
    key = identity.gittrack_key(namespace="ha", name=f"g-{secrets.token_hex(3)}")
    client = redis.Redis.from_url(redis_url)
    client.delete("sync")
    entries.upsert(app, key, period=PERIOD)
    env = {**os.environ, "FAROS_BEAT_KEY_PREFIX": prefix,
           "FAROS_BEAT_LOCK_TIMEOUT": str(LOCK_TIMEOUT)}  # fmt: skip
    command = [FAROS, "beat", f"--broker-url={redis_url}", "--log-level=debug"]
    ports = {name: processes.free_port() for name in ("a", "b")}
    beats = {name: processes.spawn([*command, f"--metrics-bind-address=127.0.0.1:{port}"],
                                   log=tmp_path / f"{name}.log", env=env)
             for name, port in ports.items()}  # fmt: skip
    try:
        eventually(lambda: _sent_at_least(client, 3), timeout=60)
        for port in ports.values():  # the active one ticks; the standby waits for the lock
            eventually(functools.partial(_healthy, port), timeout=30)
        start, before = time.monotonic(), client.llen("sync")
        time.sleep(6)
        rate = (client.llen("sync") - before) / (time.monotonic() - start)
        assert rate <= 1.5, f"{rate:.1f} syncs/s for a 1 s period: two beats are sending"

        active = next(name for name in beats if "Extending lock" in _log(tmp_path, name))
        os.killpg(beats[active].pid, signal.SIGKILL)
        beats[active].wait(timeout=10)
        killed, after_kill = time.monotonic(), client.llen("sync")

        eventually(lambda: _sent_at_least(client, after_kill + 3), timeout=LOCK_TIMEOUT + 30)
        assert time.monotonic() - killed <= LOCK_TIMEOUT + 30
    finally:
        for process in beats.values():
            if process.poll() is None:
                processes.stop(process, timeout=20)
        entries.delete(app, key)
        client.delete("sync")
        client.close()


def _sent_at_least(client, count: int) -> None:
    assert client.llen("sync") >= count


def _healthy(port: int) -> None:
    assert http.get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")


def _log(tmp_path: Path, name: str) -> str:
    return (tmp_path / f"{name}.log").read_text(errors="replace")
