"""The in-process broker of ``faros run``: a thread pool runs the tasks, no Redis.

Same semantics as the Celery path: de-duplication keys before queueing, the task clears
its key when it starts, and a task that found its lock busy, waits for a kind, or failed is
tried again with capped exponential backoff.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from faros.core import identity
from faros.tasks import apply, dispatch, runtime, sync
from faros.tasks.app import Outcome

logger = logging.getLogger(__name__)

MAX_BACKOFF = 60.0


class LocalDispatcher:
    """Runs ``faros.sync`` and ``faros.apply`` on a pool of threads in this process."""

    def __init__(self, rt: runtime.Runtime, *, workers: int, stop: threading.Event) -> None:
        self.rt = rt
        self.stop = stop
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="faros-task")
        self._guard = threading.Lock()
        self._queued = {"sync": 0, "apply": 0}

    def depths(self) -> dict[str, int]:
        """Tasks submitted to the pool and not started yet, per queue (``faros_queue_depth``)."""
        with self._guard:
            return dict(self._queued)

    def sync(self, key: identity.ObjectKey) -> bool:
        """Queue a sync of a GitTrack unless one is pending; True when queued."""
        return self._send("sync", key)

    def apply(self, key: identity.ObjectKey) -> bool:
        """Queue an apply of a GitTrackObject unless one is pending; True when queued."""
        return self._send("apply", key)

    def shutdown(self) -> None:
        """Let running tasks finish; drop queued ones."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _send(self, task: str, key: identity.ObjectKey) -> bool:
        if not self.rt.locks.mark_pending(identity.dedup_key(key), ttl=dispatch.PENDING_TTL):
            return False
        self._submit(task, key, attempt=0)
        return True

    def _submit(self, task: str, key: identity.ObjectKey, *, attempt: int) -> None:
        if not self.stop.is_set():
            with self._guard:
                self._queued[task] += 1
            self.pool.submit(self._run, task, key, attempt)

    def _run(self, task: str, key: identity.ObjectKey, attempt: int) -> None:
        with self._guard:
            self._queued[task] -= 1
        try:
            if task == "sync":
                done = sync.run(self.rt, namespace=key.namespace, name=key.name)
                outcome = Outcome.DONE if done else Outcome.BUSY
            else:
                outcome = apply.run(self.rt, namespace=key.namespace, name=key.name)
        except Exception:  # a transient failure: retried below, like a Celery retry
            logger.exception("task failed", extra={"task": task, "object": key.namespaced_name})
            outcome = None
        if outcome is Outcome.DONE or self.stop.is_set():
            return
        delay = min(MAX_BACKOFF, 2.0**attempt)
        timer = threading.Timer(
            delay, self._submit, args=(task, key), kwargs={"attempt": attempt + 1}
        )
        timer.daemon = True
        timer.start()
