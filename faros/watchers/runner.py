"""``faros watch``: watch loops that turn API events into queued syncs and applies.

- GitTracks and ClusterGitTracks (per the modes): keep one RedBeat entry each, queue an
  immediate sync when the spec changed, and after every (re)list re-derive all entries.
- GitTrackObjects and ClusterGitTrackObjects: queue an apply when the spec changed, and
  keep one child watch per kind they hold (started and stopped as they come and go).
- Children: any change or deletion of an object a GitTrackObject controls queues its apply.
Every enqueue goes through the de-duplication keys of ``faros.tasks.dispatch``. Several
watcher replicas are safe: they queue through the same keys, and tasks are idempotent.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any, Protocol

from faros import config
from faros.api import names
from faros.core import identity, routing
from faros.kube import client, discovery, watch

logger = logging.getLogger(__name__)

RECONCILE_EVERY = 60.0
"""Seconds between re-derivations of the schedule from the known GitTracks."""


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT: the way every long-running command stops."""
    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())
    return stop


class Schedule(Protocol):
    """Where periodic syncs live: RedBeat entries, or in-process timers for ``faros run``."""

    def upsert(self, key: identity.ObjectKey, *, period: timedelta) -> None: ...

    def delete(self, key: identity.ObjectKey) -> None: ...

    def reconcile(self, keys: Iterable[identity.ObjectKey], *, period: timedelta) -> None: ...


class Dispatcher(Protocol):
    """Queues tasks for keys (through Redis, or in-process for ``faros run``)."""

    def sync(self, key: identity.ObjectKey) -> bool: ...

    def apply(self, key: identity.ObjectKey) -> bool: ...


class Watchers:
    """All watch threads of one process."""

    def __init__(
        self, *, settings: config.Settings, kube: client.Kube, schedule: Schedule,
        dispatcher: Dispatcher, stop: threading.Event,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.kube = kube
        self.schedule = schedule
        self.dispatcher = dispatcher
        self.stop = stop
        self.discovery = discovery.Discovery(kube)
        self.period: timedelta = settings.sync_period
        self.threads: list[threading.Thread] = []
        # Only what the routing needs: a generation per GitTrack, a generation and the held
        # child kind per GitTrackObject (the watch loops keep the objects themselves).
        self._gittracks: dict[identity.ObjectKey, int] = {}
        self._gtos: dict[identity.ObjectKey, tuple[int, tuple[str, str] | None]] = {}
        self._children: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the GitTrack and GitTrackObject watches (children follow the GTOs)."""
        settings = self.settings
        kinds: list[str] = []
        if settings.gittrack_mode is names.GitTrackMode.ENABLED:
            kinds += [names.GITTRACK, names.GITTRACKOBJECT]
        if settings.clustergittrack_mode is not names.ClusterGitTrackMode.DISABLED:
            kinds += [names.CLUSTERGITTRACK, names.CLUSTERGITTRACKOBJECT]
            if names.GITTRACKOBJECT not in kinds:
                kinds.append(names.GITTRACKOBJECT)
        for kind in kinds:
            handler = self._on_gto if kind in routing.GTO_KINDS else self._on_gittrack
            path = discovery.own(kind).path(namespace=settings.namespace)
            self._spawn(kind, path, handler, self.stop)

    def _spawn(self, name: str, path: str, handler: Any, stop: threading.Event) -> None:
        def on_event(event: str, obj: dict[str, Any], _kind: str = name) -> None:
            try:
                handler(_kind, event, obj)
            except Exception:  # one bad event must not end the watch
                logger.exception("watch handler failed", extra={"watch": _kind})

        watcher = watch.Watcher(self.kube, path, on_event=on_event, stop=stop, name=name)
        thread = threading.Thread(target=watcher.run, name=f"watch-{name}", daemon=True)
        thread.start()
        self.threads.append(thread)

    # GitTracks -------------------------------------------------------------------------

    def _on_gittrack(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        if event == "SYNCED":
            self._reconcile_entries()
            return
        if not routing.is_managed(
            obj, gittrack=self.settings.gittrack_mode is names.GitTrackMode.ENABLED,
            cluster_mode=self.settings.clustergittrack_mode, namespace=self.settings.namespace,
        ):  # fmt: skip
            return
        key = routing.key_of(obj)
        if event == "DELETED":
            self._gittracks.pop(key, None)
            self.schedule.delete(key)
            self.dispatcher.sync(key)  # lets the sync forget the GitTrack's metrics
            return
        old = self._gittracks.get(key)
        self._gittracks[key] = routing.generation(obj)
        if old != self._gittracks[key]:
            self.schedule.upsert(key, period=self.period)
            self.dispatcher.sync(key)

    def shutdown(self) -> None:
        """Stop every watch thread (the main ones and the child ones)."""
        self.stop.set()
        with self._lock:
            for child_stop in self._children.values():
                child_stop.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def healthy(self) -> bool:
        """True while every watch thread runs (the process's ``/healthz``)."""
        return all(thread.is_alive() for thread in self.threads)

    def run_until_stopped(self) -> None:
        """Start the watches, re-derive the schedule every ``RECONCILE_EVERY`` seconds until
        the stop event is set, then stop every watch thread."""
        self.start()
        while not self.stop.wait(RECONCILE_EVERY):
            self.reconcile_entries()
        self.shutdown()

    def reconcile_entries(self) -> None:
        """Re-derive the schedule from the GitTracks known now (missed deletes included)."""
        self._reconcile_entries()

    def _reconcile_entries(self) -> None:
        self.schedule.reconcile(list(self._gittracks), period=self.period)

    # GitTrackObjects and children --------------------------------------------------------

    def _on_gto(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        if event == "SYNCED":
            self._follow_children()
            return
        key = routing.key_of(obj)
        if event == "DELETED":
            if self._gtos.pop(key, None) is not None:
                self._follow_children()
            return
        old = self._gtos.get(key)
        child_kind = routing.child_kind(obj)  # one decode per event, never of every GTO
        self._gtos[key] = (routing.generation(obj), child_kind)
        if old is None or old[0] != self._gtos[key][0]:
            self.dispatcher.apply(key)
        if child_kind is not None and child_kind not in self._children:
            self._follow_children()

    def _follow_children(self) -> None:
        """Watch every child kind some GitTrackObject holds; stop watching the others."""
        wanted = {kind for _, kind in list(self._gtos.values()) if kind is not None}
        with self._lock:
            for kind_key in wanted - set(self._children):
                resource = self.discovery.resource(*kind_key)
                if resource is None:
                    continue  # not served yet: the next event of a GTO holding it tries again
                stop = threading.Event()
                self._children[kind_key] = stop
                path = resource.path(namespace=self.settings.namespace)
                self._spawn(f"{kind_key[1]}.{kind_key[0]}", path, self._on_child, stop)
            for kind_key in set(self._children) - wanted:
                self._children.pop(kind_key).set()

    def _on_child(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        if event == "SYNCED" or self.stop.is_set():
            return
        owner = routing.owning_gto(obj)
        if owner is not None:
            self.dispatcher.apply(owner)
