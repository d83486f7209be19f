"""The adapters one worker process uses, built once per process (after the fork).

Settings come from the same ``FAROS_*`` variables as the flags (``faros.config``), so a
worker started by Celery, by ``faros worker`` or by a test reads one configuration.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import redis

from faros import config, locks
from faros.config import Command
from faros.git import fetch
from faros.kube import client, discovery, openapi

LOCK_TTL = 30.0
"""Seconds a lock outlives a holder that stopped extending it (``FAROS_LOCK_TTL``)."""

_DEFAULT_KNOWN_HOSTS = (Path.home() / ".ssh" / "known_hosts", Path("/etc/ssh/ssh_known_hosts"))


@dataclasses.dataclass(slots=True)
class Runtime:
    """Settings plus the clients built from them."""

    settings: config.Settings
    kube: client.Kube
    discovery: discovery.Discovery
    openapi: openapi.OpenAPI
    store: fetch.Store
    locks: locks.Locks
    lock_ttl: float
    sync_slots: int = 0
    """Syncs this worker runs at once, at most (0: no cap; see :meth:`sync_slot`)."""

    @classmethod
    def build(
        cls,
        settings: config.Settings,
        *,
        lock_ttl: float = LOCK_TTL,
        local_locks: bool = False,
    ) -> Runtime:
        """Connect to the API server and Redis named by ``settings`` (no Redis with
        ``local_locks``: ``faros run``)."""
        kube = client.Kube.connect(settings.kubeconfig or None)
        rate, burst = settings.kube_api_qps, float(settings.kube_api_burst)
        known_hosts = settings.known_hosts or tuple(p for p in _DEFAULT_KNOWN_HOSTS if p.exists())
        store = fetch.Store(
            settings.repository_dir,
            fetch_timeout=settings.fetch_timeout.total_seconds(),
            known_hosts_files=known_hosts,
            allow_file=settings.allow_file_urls,
            max_file_bytes=settings.max_file_size,
        )
        redis_client = None if local_locks else redis.Redis.from_url(settings.broker_url)
        kube.budget = (
            locks.LocalBudget(rate=rate, burst=burst)
            if redis_client is None
            else locks.RedisBudget(redis_client, rate=rate, burst=burst)
        )
        return cls(
            settings=settings,
            kube=kube,
            discovery=discovery.Discovery(kube),
            openapi=openapi.OpenAPI(kube),
            store=store,
            locks=locks.LocalLocks() if redis_client is None else locks.RedisLocks(redis_client),
            lock_ttl=lock_ttl,
            sync_slots=0 if local_locks else sync_slots(settings),
        )

    @contextlib.contextmanager
    def sync_slot(self) -> Iterator[bool]:
        """Hold one of this worker's sync slots for the block; False when all are taken.

        The pool processes of one worker share the slots (file locks in its clone cache), so a
        worker serving both queues always keeps a process for applies: a wave of periodic
        syncs cannot make drift reverts wait behind them.
        """
        if self.sync_slots <= 0:
            yield True
            return
        deadline = time.monotonic() + SLOT_WAIT
        handle = self._free_slot()
        while handle is None and time.monotonic() < deadline:
            time.sleep(SLOT_POLL)
            handle = self._free_slot()
        if handle is None:
            yield False
            return
        with handle:
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _free_slot(self) -> IO[str] | None:
        """The lock file of a sync slot no other thread or process holds, locked; None when
        every slot is taken."""
        for index in range(self.sync_slots):
            handle = (self.store.root / f"sync-slot-{index}.lock").open("w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return handle
        return None

    def close(self) -> None:
        """Release the API and Redis connections, and a temporary repository cache."""
        self.kube.close()
        self.locks.close()
        self.store.close()

    def events_namespace(self) -> str:
        """Where Events about cluster-scoped objects go."""
        return self.settings.namespace or self.settings.events_namespace


_current: Runtime | None = None
_settings: config.Settings | None = None
_guard = threading.Lock()


SLOT_WAIT = 0.1
"""Seconds a sync waits for a free sync slot before it is queued again: during a wave of
syncs the pool's spare process otherwise re-queues one sync after another (each a message
sent, received and acknowledged); an apply waits at most this long for that process."""
SLOT_POLL = 0.02


def configure(settings: config.Settings) -> None:
    """Use ``settings`` (parsed by the CLI) instead of the environment in this process and
    in the pool processes it forks; the clients are still built after the fork."""
    global _settings  # set once by `faros worker` before the pool starts
    _settings = settings


def sync_slots(settings: config.Settings) -> int:
    """How many syncs a worker runs at once: one process fewer than its pool when it serves
    the apply queue too (so one always takes applies), else no cap."""
    both = {"sync", "apply"} <= set(settings.queues)
    return settings.concurrency - 1 if both and settings.concurrency > 1 else 0


def close_current(**_: object) -> None:
    """Close this process's runtime, if built (a pool process exits: its clones go too)."""
    global _current  # see current()
    with _guard:
        if _current is not None:
            _current.close()
            _current = None


def current() -> Runtime:
    """This process's runtime, built from the environment on first use."""
    global _current  # one runtime per process, created lazily after the fork
    with _guard:
        if _current is None:
            settings = _settings or config.parse([Command.WORKER.value], os.environ)[1]
            ttl = float(os.environ.get("FAROS_LOCK_TTL") or LOCK_TTL)
            _current = Runtime.build(settings, lock_ttl=ttl)
        return _current
