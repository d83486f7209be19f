"""Queue ``faros.sync`` and ``faros.apply`` through Redis de-duplication keys.

``SET NX EX`` on the object's key: only the first of a storm of events queues a task; the
task deletes the key before it reads the world, so an event arriving while it runs queues
exactly one more run (client-go workqueue semantics).
"""

from __future__ import annotations

import contextlib

from celery import Celery

from faros import locks
from faros.core import errors, identity

QUEUES = ("sync", "apply")
"""The task queues (``celeryconfig.task_routes``): one per task."""

PENDING_TTL = 60.0
"""A queued task that never ran (lost message) stops blocking new ones after this long."""

REFRESH_DELAY = 1.0
"""Seconds a GitTrack's refresh waits, gathering the child changes that follow."""


class Dispatcher:
    """Sends tasks for keys, at most one pending per key."""

    def __init__(self, app: Celery, pending: locks.Locks) -> None:
        self.app = app
        self.pending = pending

    def sync(self, key: identity.ObjectKey) -> bool:
        """Queue a sync of a GitTrack unless one is pending; True when queued."""
        return self._send("faros.sync", "sync", key)

    def refresh(self, key: identity.ObjectKey) -> bool:
        """Queue a refresh of a GitTrack's readiness, ``REFRESH_DELAY`` from now, unless one is
        pending: a burst of child changes is one status write."""
        return self._send("faros.refresh", "apply", key, task="refresh", countdown=REFRESH_DELAY)

    def apply(self, key: identity.ObjectKey, *, force: bool = False) -> bool:
        """Queue an apply of a GitTrackObject unless one is pending (or ``force``: even then,
        for the re-check, which must heal a pending task whose message was lost)."""
        return self._send("faros.apply", "apply", key, force=force)

    def _send(
        self, name: str, queue: str, key: identity.ObjectKey, *, force: bool = False,
        task: str = "", countdown: float = 0.0,
    ) -> bool:  # fmt: skip
        pending = identity.dedup_key(key, task=task)
        if not self.pending.mark_pending(pending, ttl=PENDING_TTL) and not force:
            return False
        try:
            self.app.send_task(name, args=[key.namespace, key.name], queue=queue,
                               countdown=countdown or None)  # fmt: skip
        except Exception as error:
            # Not queued: the key must not hold back the next event (or re-check) for its TTL.
            with contextlib.suppress(errors.Unreachable):
                self.pending.clear_pending(pending)
            raise errors.Unreachable(what="the broker", reason=str(error)) from error
        return True
