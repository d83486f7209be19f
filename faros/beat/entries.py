"""RedBeat schedule entries <-> GitTracks: one periodic ``faros.sync`` per GitTrack.

Written by whoever sees GitTracks (the watchers): upsert on create or spec change, delete
on delete, and ``reconcile`` against the full list at start and periodically, so a missed
delete event cannot leave an orphan entry behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from celery import Celery
from celery.schedules import schedule
from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf, get_redis

from faros.core import identity

TASK = "faros.sync"


def upsert(app: Celery, key: identity.ObjectKey, *, period: timedelta) -> None:
    """Create or update the entry syncing ``key`` every ``period``.

    Each sync expires after one period, so an outage does not pile them up.
    """
    ensure_conf(app)
    seconds = period.total_seconds()
    entry = RedBeatSchedulerEntry(
        identity.schedule_entry(key),
        TASK,
        schedule(run_every=period),
        args=[key.namespace, key.name],
        options={"queue": "sync", "expires": seconds},
        app=app,
    )
    entry.save()


def delete(app: Celery, key: identity.ObjectKey) -> None:
    """Remove the entry of ``key`` (nothing happens when there is none)."""
    conf = ensure_conf(app)
    name = conf.key_prefix + identity.schedule_entry(key)
    redis = get_redis(app)
    with redis.pipeline() as pipe:
        pipe.delete(name)
        pipe.zrem(conf.schedule_key, name)
        pipe.execute()


def names(app: Celery) -> set[str]:
    """The entry names now scheduled."""
    conf = ensure_conf(app)
    prefix = conf.key_prefix
    keys = get_redis(app).zrange(conf.schedule_key, 0, -1)
    decoded = (k.decode() if isinstance(k, bytes) else str(k) for k in keys)
    return {k.removeprefix(prefix) for k in decoded if k.startswith(prefix)}


def reconcile(
    app: Celery,
    keys: Iterable[identity.ObjectKey],
    *,
    period: timedelta,
    suspects: Iterable[str] | None = None,
) -> set[str]:
    """Add the entries missing for ``keys``; delete orphans; return the orphans kept.

    With ``suspects`` (what the previous call returned), an orphan is deleted only when it was
    an orphan then too: another watcher replica may have written it for a GitTrack this one
    has not seen yet. Without, every orphan is deleted at once.
    """
    wanted = {identity.schedule_entry(key): key for key in keys}
    present = names(app)
    for name, key in wanted.items():
        if name not in present:
            upsert(app, key, period=period)
    found = {name: identity.scheduled_gittrack(name) for name in present - set(wanted)}
    orphans = {name: gone for name, gone in found.items() if gone is not None}
    doomed = set(orphans) if suspects is None else set(orphans) & set(suspects)
    for name in doomed:
        delete(app, orphans[name])
    return set(orphans) - doomed


class RedBeatSchedule:
    """The schedule ``faros watch`` keeps: RedBeat entries read by ``faros beat``."""

    def __init__(self, app: Celery) -> None:
        self.app = app
        self._suspects: set[str] = set()
        # RedBeat makes its Redis client on first use, without a lock: two watch threads using
        # it first at once each made one, and the one replaced was collected and closed the
        # connection its thread was writing with. Made here, before any thread runs.
        get_redis(app)

    def upsert(self, key: identity.ObjectKey, *, period: timedelta) -> None:
        """Create or update the entry of ``key``."""
        upsert(self.app, key, period=period)

    def delete(self, key: identity.ObjectKey) -> None:
        """Remove the entry of ``key``."""
        delete(self.app, key)

    def reconcile(self, keys: Iterable[identity.ObjectKey], *, period: timedelta) -> None:
        """One entry per key; an orphan goes at the second reconcile that finds it (another
        watcher replica may know a GitTrack this one has not seen yet)."""
        self._suspects = reconcile(self.app, keys, period=period, suspects=self._suspects)
