"""``faros watch``: watch loops that turn API events into queued syncs and applies.

- GitTracks and ClusterGitTracks (per the modes): keep one RedBeat entry each, queue an
  immediate sync when the spec changed, and after every (re)list re-derive all entries.
- GitTrackObjects and ClusterGitTrackObjects: queue an apply when the spec changed (or, first
  seen, when the status does not say it was applied as it is), and
  keep one child watch per kind they hold (started and stopped as they come and go).
- Children: any change or deletion of an object a GitTrackObject controls queues its apply.
Every enqueue goes through the de-duplication keys of ``faros.tasks.dispatch``. Several
watcher replicas are safe: they queue through the same keys, and tasks are idempotent.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any, Protocol

from faros import config
from faros.api import names
from faros.core import (
    breakglass,
    dependencies,
    errors,
    identity,
    manual,
    prune,
    recheck,
    routing,
    suspension,
    syncplan,
)
from faros.kube import client, discovery, watch

logger = logging.getLogger(__name__)

RECONCILE_EVERY = 60.0
"""Seconds between re-derivations of the schedule from the known GitTracks."""
SETTLE_TICK = 0.05
"""Seconds between two looks at the child events waiting for an apply's note."""
RECHECK_TICK = 1.0
"""Seconds between two steps of the level-based re-check (each looks at the objects whose
offset in the period fell in the last step)."""


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

    def apply(self, key: identity.ObjectKey, *, force: bool = False) -> bool: ...

    def refresh(self, key: identity.ObjectKey) -> bool: ...


@dataclasses.dataclass(frozen=True, slots=True)
class _Held:
    """What the routing keeps of one GitTrackObject."""

    generation: int
    child_kind: tuple[str, str] | None
    progress: tuple[str, str]
    """(ObjectInSync, Healthy) as its status says: its GitTrack follows their changes."""
    owner: identity.ObjectKey | None = None
    """The GitTrack (or ClusterGitTrack) controlling it."""


@dataclasses.dataclass(slots=True)
class _Watch:
    """One running watch: its loop, the thread running it and the event that stops it."""

    watcher: watch.Watcher
    thread: threading.Thread
    stop: threading.Event
    resource: discovery.Resource | None = None
    """The child kind's resource (child watches only)."""


def _child_verdict(
    _owner: identity.ObjectKey, waiting: tuple[str, float], noted: str | None, now: float
) -> recheck.Verdict:
    """A child event waiting (version, since) for the note of the apply writing it."""
    version, since = waiting
    return recheck.child_event(version, noted=noted, waited=now - since)


def _keep(kind: str, *, child: bool) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    """What a watch holds of each object: a child's metadata, a GitTrackObject's status and
    the identity of its child, the rest of our kinds but their managedFields."""
    if child:
        return routing.child_meta
    return routing.gto_kept if kind in routing.GTO_KINDS else routing.own_kept


class Watchers:
    """All watch threads of one process, and the level-based re-check over what they hold."""

    def __init__(
        self, *, settings: config.Settings, kube: client.Kube, schedule: Schedule,
        dispatcher: Dispatcher, stop: threading.Event,
        noted: Callable[[Sequence[str]], list[str | None]],
    ) -> None:  # fmt: skip
        self.settings = settings
        self.kube = kube
        self.schedule = schedule
        self.dispatcher = dispatcher
        self.stop = stop
        self.noted = noted
        """Reads the children's resourceVersions the applies noted (``Locks.noted``)."""
        self.discovery = discovery.Discovery(kube)
        self.period: timedelta = settings.sync_period
        # Only what the routing needs: a generation per GitTrack, a generation and the held
        # child kind per GitTrackObject; the watch loops keep the objects themselves.
        self._gittracks: dict[identity.ObjectKey, int] = {}
        self._depends: dict[identity.ObjectKey, tuple[identity.ObjectKey, ...]] = {}
        self._ready: dict[identity.ObjectKey, bool] = {}
        self._requested: dict[identity.ObjectKey, str] = {}
        """Per GitTrack, the sync requested by hand and not served yet, as last seen."""
        self._unseen_before: set[identity.ObjectKey] = set()
        """GitTracks whose spec no sync had seen at the last schedule reconcile."""
        self._suspended: set[identity.ObjectKey] = set()
        """GitTracks whose ``spec.suspend`` is true: events of their objects are dropped."""
        self._gtos: dict[identity.ObjectKey, _Held] = {}
        self._main: dict[str, _Watch] = {}
        self._children: dict[tuple[str, str], _Watch] = {}
        self._slots = recheck.Slots[identity.ObjectKey](self.period.total_seconds())
        """Each GitTrackObject held, by its second in the period."""
        self._settling: dict[identity.ObjectKey, tuple[str, float]] = {}
        """Child events waiting for the apply writing their child: (version, since)."""
        self._placing: dict[identity.ObjectKey, float] = {}
        """GitTrackObject events waiting for the sync applying them in place: since when."""
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
            with self._lock:
                self._main[kind] = self._spawn(kind, path, handler, self.stop)
        threading.Thread(target=self._settle_loop, name="settle", daemon=True).start()

    def _spawn(
        self, name: str, path: str, handler: Any, stop: threading.Event, *, child: bool = False
    ) -> _Watch:
        def on_event(event: str, obj: dict[str, Any], _kind: str = name) -> None:
            try:
                handler(_kind, event, obj)
            except Exception:  # one bad event (or a broker away) must not end the watch
                logger.exception("watch handler failed", extra={"watch": _kind})

        watcher = watch.Watcher(
            self.kube, path, on_event=on_event, stop=stop, name=name,
            metadata_only=child, keep=_keep(name, child=child),
        )  # fmt: skip
        thread = threading.Thread(target=watcher.run, name=f"watch-{name}", daemon=True)
        thread.start()
        return _Watch(watcher, thread, stop)

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
            self._depends.pop(key, None)
            self._requested.pop(key, None)
            self._suspend(key, False)
            self.schedule.delete(key)
            self.dispatcher.sync(key)  # lets the sync forget the GitTrack's metrics
            self._wake_dependents(key)
            return
        old = self._gittracks.get(key)
        self._gittracks[key] = routing.generation(obj)
        self._depends[key] = tuple(dependencies.refs(obj))
        resumed = self._suspend(key, suspension.is_suspended(obj))
        asked, self._requested[key] = self._requested.get(key), manual.pending(obj)
        if old != self._gittracks[key]:
            self.schedule.upsert(key, period=self.period)
            self.dispatcher.sync(key)
        elif self._requested[key] and asked != self._requested[key]:
            self.dispatcher.sync(key)  # requested by hand (faros sync)
        if resumed:
            self._resume(key)
        ready = dependencies.is_ready(obj)
        if self._ready.get(key) != ready:
            self._ready[key] = ready
            self._wake_dependents(key)

    def _suspend(self, key: identity.ObjectKey, suspended: bool) -> bool:
        """Note whether ``key`` is suspended; True when it was and is no longer (resumed)."""
        with self._lock:
            was = key in self._suspended
            if suspended:
                self._suspended.add(key)
            else:
                self._suspended.discard(key)
        return was and not suspended

    def _resume(self, key: identity.ObjectKey) -> None:
        """Queue an apply of every GitTrackObject of a resumed GitTrack: drift that came while
        it was suspended is reverted at once, not at the next re-check."""
        with self._lock:
            mine = [gto for gto, held in self._gtos.items() if held.owner == key]
        for gto in mine:
            self.dispatcher.apply(gto, force=True)

    def _is_suspended(self, owner: identity.ObjectKey | None) -> bool:
        with self._lock:
            return owner is not None and owner in self._suspended

    def _wake_dependents(self, key: identity.ObjectKey) -> None:
        """Sync at once the GitTracks that depend on ``key`` (its readiness changed)."""
        for other, needs in list(self._depends.items()):
            if key in needs:
                self.dispatcher.sync(other)

    def shutdown(self) -> None:
        """Stop every watch thread (the main ones and the child ones)."""
        self.stop.set()
        with self._lock:
            running = [*self._main.values(), *self._children.values()]
            for child in self._children.values():
                child.stop.set()
        for each in running:
            each.thread.join(timeout=5)

    def cached(self, kind: str) -> list[dict[str, Any]]:
        """Every object of one of our kinds as this process's watch last saw it ([] when not
        watched): what the status metrics read at scrape time, never a LIST."""
        with self._lock:
            running = self._main.get(kind)
        return [] if running is None else list(running.watcher.known.values())

    def paused(self) -> int:
        """Managed objects whose reverts are paused now (break-glass), from the child watches'
        metadata: the gauge ``faros_paused_objects``, never a LIST."""
        now = datetime.datetime.now(datetime.UTC)
        with self._lock:
            watches = list(self._children.values())
        return sum(
            breakglass.is_paused(meta, now=now, limit=self.settings.max_pause)
            for each in watches
            for meta in list(each.watcher.known.values())
        )

    def healthy(self) -> bool:
        """True while every watch that is wanted runs (the process's ``/healthz``).

        A child watch that was stopped because no GitTrackObject holds its kind any more is
        not wanted, and does not count.
        """
        with self._lock:
            running = [*self._main.values(), *self._children.values()]
        return bool(running) and all(each.thread.is_alive() for each in running)

    def run_until_stopped(self) -> None:
        """Start the watches; until the stop event is set, re-check the objects they hold
        every ``RECHECK_TICK`` and re-derive the schedule every ``RECONCILE_EVERY`` seconds;
        then stop every watch thread. A failure of one round (Redis away) is logged and the
        next round tries again: the process never exits for it."""
        self.start()
        last_check = time.time()
        next_reconcile = time.monotonic() + RECONCILE_EVERY
        while not self.stop.wait(RECHECK_TICK):
            now = time.time()
            self._guarded("re-check", self.check_due, since=last_check, until=now)
            last_check = now
            if time.monotonic() >= next_reconcile:
                self._guarded("schedule reconcile", self.reconcile_entries)
                next_reconcile = time.monotonic() + RECONCILE_EVERY
        self.shutdown()

    @staticmethod
    def _guarded(what: str, work: Any, **arguments: Any) -> None:
        try:
            work(**arguments)
        except Exception as error:  # the policy: everything not bad input is retried later
            if errors.verdict(error).terminal:
                raise
            logger.warning("round failed, trying again", extra={"what": what, "error": str(error)})

    def reconcile_entries(self) -> None:
        """Re-derive the schedule from the GitTracks known now (missed deletes included), and
        queue a sync of each GitTrack whose spec no sync had seen at this round and the one
        before: the sync its change should have queued is lost (its event's handler failed,
        say with Redis away, or the message was lost), and its next periodic sync may be a
        whole period away."""
        self._reconcile_entries()
        unseen = self._unseen_specs()
        for key in sorted(unseen & self._unseen_before, key=lambda key: key.identity):
            self.dispatcher.sync(key)
        self._unseen_before = unseen

    def _unseen_specs(self) -> set[identity.ObjectKey]:
        """The GitTracks in scope whose spec no sync has seen yet (from the watch caches)."""
        with self._lock:
            watches = [each.watcher for kind, each in self._main.items()
                       if kind in (names.GITTRACK, names.CLUSTERGITTRACK)]  # fmt: skip
        return {
            key
            for watcher in watches
            for gittrack in list(watcher.known.values())
            if (key := routing.key_of(gittrack)) in self._gittracks
            and not routing.spec_observed(gittrack)
        }

    def _reconcile_entries(self) -> None:
        self.schedule.reconcile(list(self._gittracks), period=self.period)

    # GitTrackObjects and children --------------------------------------------------------

    def _on_gto(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        if event == "SYNCED":
            self._follow_children()
            return
        key = routing.key_of(obj)
        if event == "DELETED":
            with self._lock:
                gone = self._gtos.pop(key, None) is not None
                self._slots.discard(key)
                self._placing.pop(key, None)
            if gone:
                self._follow_children()
            owner = routing.owning_gittrack(obj)
            if owner is not None:
                self.dispatcher.refresh(owner)  # counters; and a missing one must be written
            return
        if key not in self._slots:  # first: a later failure must not hide it from re-checks
            slot = recheck.offset(key, period=self.period.total_seconds())
            with self._lock:
                self._slots.add(key, slot)
        child_kind = routing.child_kind(obj)  # one decode per event, never of every GTO
        owner = routing.owning_gittrack(obj)
        held = _Held(routing.generation(obj), child_kind, routing.progress(obj), owner)
        applied = recheck.status_need(obj) is None
        with self._lock:
            old = self._gtos.get(key)
            self._gtos[key] = held
            watched = child_kind is None or child_kind in self._children
            # The status of an apply in place: the sync that made it writes the GitTrack's
            # readiness itself, so no refresh (a sync that died is delivered again).
            placed = applied and self._placing.pop(key, None) is not None
        needed = recheck.event_needs_apply(
            obj, old_generation=None if old is None else old.generation
        )
        wanted = needed and (prune.needs_release(obj) or not self._is_suspended(owner))
        if wanted and not self._placed_by_sync(key, obj):
            self.dispatcher.apply(key)
        moved = old is not None and old.progress != held.progress
        if moved and owner is not None and not placed:
            self.dispatcher.refresh(owner)  # readiness and counters follow the children
        if not watched:
            self._follow_children()

    def _placed_by_sync(self, key: identity.ObjectKey, gto: dict[str, Any]) -> bool:
        """True when a sync marked ``gto`` as applied in place (``recheck.IN_PLACE``): its
        event then waits, in :meth:`settle`, for the status that apply writes."""
        if gto.get("metadata", {}).get("deletionTimestamp"):
            return False
        [mark] = self.noted([identity.in_place_key(key)])
        applied = recheck.status_need(gto) is None
        verdict = recheck.in_place_event(mark, applied=applied, waited=0.0)
        if verdict is recheck.Verdict.SETTLE:
            with self._lock:
                self._placing.setdefault(key, time.monotonic())
        return verdict is not recheck.Verdict.APPLY

    def _follow_children(self) -> None:
        """Watch every child kind some GitTrackObject holds; stop watching the others.

        Decided and done under one lock: the GitTrackObject and ClusterGitTrackObject watch
        threads both call this, and neither may stop a kind the other still needs.
        """
        with self._lock:
            wanted = {held.child_kind for held in self._gtos.values() if held.child_kind}
            for kind_key in sorted(wanted - set(self._children)):
                resource = self.discovery.resource(*kind_key)
                if resource is None:
                    continue  # not served yet: the next event of a GTO holding it tries again
                path = resource.path(namespace=self.settings.namespace)
                started = self._spawn(
                    f"{kind_key[1]}.{kind_key[0]}",
                    path,
                    self._on_child,
                    threading.Event(),
                    child=True,
                )
                started.resource = resource
                self._children[kind_key] = started
            for kind_key in set(self._children) - wanted:
                self._children.pop(kind_key).stop.set()

    def _on_child(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        if event == "SYNCED" or self.stop.is_set():
            return
        owner = routing.owning_gto(obj)
        with self._lock:
            held = self._gtos.get(owner) if owner is not None else None
        if held is not None and self._is_suspended(held.owner):
            return  # suspended: its drift is reverted when the GitTrack resumes
        if owner is None or held is None:
            # Not (or no longer) a GitTrackObject's: a child the garbage collector removes after
            # its GitTrackObject went needs no apply (that apply would find nothing to do).
            return
        if event == "DELETED":
            self.dispatcher.apply(owner)
            return
        version = str(obj.get("metadata", {}).get("resourceVersion", ""))
        [noted] = self.noted([identity.seen_key(owner)])
        verdict = recheck.child_event(version, noted=noted)
        if verdict is recheck.Verdict.SETTLE:
            with self._lock:
                earlier = self._settling.get(owner)
                if earlier is None or earlier[0] != version:
                    self._settling[owner] = (version, time.monotonic())
            if earlier is None or earlier[0] == version:
                return
            # Two versions during one write: at most one is the apply's own; never lose the other.
        if verdict is not recheck.Verdict.OWN:
            self.dispatcher.apply(owner)

    def settle(self) -> int:
        """Decide the child events that waited for an apply's note, and the GitTrackObject
        events that waited for a sync's apply in place; return how many applies were queued.
        An event of the apply's own write is dropped, any other queues an apply."""
        children = self._settle(self._settling, identity.seen_key, _child_verdict)
        placed = self._settle(self._placing, identity.in_place_key, self._placed_verdict)
        for key in placed:
            logger.info("apply in place not done: apply queued",
                        extra={"gto": key.namespaced_name})  # fmt: skip
        return len(children) + len(placed)

    def _settle(
        self, waiting_in: dict[identity.ObjectKey, Any],
        note_key: Callable[[identity.ObjectKey], str],
        decide: Callable[[identity.ObjectKey, Any, str | None, float], recheck.Verdict],
    ) -> list[identity.ObjectKey]:  # fmt: skip
        """Decide the events waiting in ``waiting_in`` from the notes under ``note_key`` (one
        MGET); drop the decided ones; return the keys whose apply was queued."""
        with self._lock:
            waiting = dict(waiting_in)
        if not waiting:
            return []
        keys = list(waiting)
        notes = self.noted([note_key(key) for key in keys])
        now, queued = time.monotonic(), []
        for key, note in zip(keys, notes, strict=True):
            verdict = decide(key, waiting[key], note, now)
            if verdict is recheck.Verdict.SETTLE:
                continue
            with self._lock:
                if waiting_in.get(key) == waiting[key]:
                    del waiting_in[key]
            if verdict is recheck.Verdict.APPLY and self.dispatcher.apply(key):
                queued.append(key)
        return queued

    def _placed_verdict(
        self, key: identity.ObjectKey, since: float, mark: str | None, now: float
    ) -> recheck.Verdict:
        """A GitTrackObject event waiting for a sync's apply in place: done once the status
        the watch holds says it was applied as it is."""
        with self._lock:
            running = self._main.get(key.kind)
        gto = None if running is None else running.watcher.known.get((key.namespace, key.name))
        applied = gto is None or recheck.status_need(gto) is None
        return recheck.in_place_event(mark, applied=applied, waited=now - since)

    def _settle_loop(self) -> None:
        while not self.stop.wait(SETTLE_TICK):
            self._guarded("settle", self.settle)

    # The level-based re-check ------------------------------------------------------------

    def check_due(self, *, since: float, until: float) -> int:
        """Queue an apply for every GitTrackObject due in the window (``since``, ``until``] of
        wall time whose child is missing or moved since its last apply; return how many."""
        with self._lock:
            gto_watches = {kind: each.watcher for kind, each in self._main.items()
                           if kind in routing.GTO_KINDS}  # fmt: skip
            keys = self._slots.due(since=since, until=until)
            placing = set(self._placing)
        due: list[tuple[identity.ObjectKey, dict[str, Any]]] = []
        # Only the GitTrackObjects whose second of the period fell in the window are read.
        for key in keys:
            if key in placing:
                continue  # its apply in place is under way, or queued when it is not done
            watcher = gto_watches.get(key.kind)
            gto = None if watcher is None else watcher.known.get((key.namespace, key.name))
            if gto is None:
                continue  # deleted meanwhile: its DELETED event drops its slot
            if self._is_suspended(routing.owning_gittrack(gto)) and not prune.needs_release(gto):
                continue
            due.append((key, gto))
        if not due:
            return 0
        noted = self.noted([identity.seen_key(key) for key, _ in due])
        queued = 0
        for (key, gto), version in zip(due, noted, strict=True):
            reason = self._need(gto, noted=version)
            force = reason is not None and recheck.overrides_pending(reason)
            if reason is not None and self.dispatcher.apply(key, force=force):
                fields = {"gto": key.namespaced_name, "reason": str(reason)}
                logger.info("re-check queued an apply", extra=fields)
                queued += 1
        return queued

    def _need(self, gto: dict[str, Any], *, noted: str | None) -> recheck.Need | None:
        """Why ``gto`` needs an apply, from the watch caches and the noted version alone."""
        child = syncplan.held_child(gto)
        with self._lock:
            watching = (
                None if child is None else self._children.get((child.api_version, child.kind))
            )
        if child is None or watching is None or not watching.watcher.synced:
            return recheck.status_need(gto)  # no child to compare with: only the status tells
        live = watching.watcher.known.get((child.namespace, child.name))
        return recheck.need(gto, live, noted=noted)
