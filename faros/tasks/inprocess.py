"""The in-process broker of ``faros run``: pools of threads run the tasks, no Redis.

Same semantics as the Celery path: de-duplication keys before queueing, the task clears
its key when it starts, and a task whose result is not done (lock busy, kind not served,
transient failure) runs again after the delay the error policy chose.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from faros.core import identity
from faros.tasks import apply, dispatch, refresh, runtime, sync

logger = logging.getLogger(__name__)


class LocalDispatcher:
    """Runs ``faros.sync`` and ``faros.apply`` on pools of threads in this process.

    Each task has its own pool, as each has its own queue in the distributed shape: a
    thousand periodic syncs never starve the applies (a drift revert waits only for other
    applies), and a storm of applies never holds back a new commit.
    """

    def __init__(
        self, rt: runtime.Runtime, *, workers: int, stop: threading.Event, sync_workers: int = 0
    ) -> None:
        self.rt = rt
        self.stop = stop
        self.pools = {
            "sync": ThreadPoolExecutor(
                max_workers=sync_workers or max(1, workers // 2), thread_name_prefix="faros-sync"
            ),
            "apply": ThreadPoolExecutor(max_workers=workers, thread_name_prefix="faros-apply"),
        }
        self.pools["refresh"] = self.pools["apply"]  # short, per object: the applies' pool
        self._guard = threading.Lock()
        self._queued = {"sync": 0, "apply": 0, "refresh": 0}

    def depths(self) -> dict[str, int]:
        """Tasks submitted to the pool and not started yet, per queue (``faros_queue_depth``)."""
        with self._guard:
            queued = dict(self._queued)
        return {"sync": queued["sync"], "apply": queued["apply"] + queued["refresh"]}

    def sync(self, key: identity.ObjectKey) -> bool:
        """Queue a sync of a GitTrack unless one is pending; True when queued."""
        return self._send("sync", key)

    def apply(self, key: identity.ObjectKey, *, force: bool = False) -> bool:
        """Queue an apply of a GitTrackObject unless one is pending (or ``force``)."""
        return self._send("apply", key, force=force)

    def refresh(self, key: identity.ObjectKey) -> bool:
        """Queue a refresh of a GitTrack's readiness in ``REFRESH_DELAY``, unless pending."""
        if not self.rt.locks.mark_pending(
            identity.dedup_key(key, task="refresh"), ttl=dispatch.PENDING_TTL
        ):
            return False
        timer = threading.Timer(dispatch.REFRESH_DELAY, self._submit, args=("refresh", key),
                                kwargs={"attempt": 0})  # fmt: skip
        timer.daemon = True
        timer.start()
        return True

    def shutdown(self) -> None:
        """Let running tasks finish; drop queued ones."""
        for pool in self.pools.values():
            pool.shutdown(wait=True, cancel_futures=True)

    def _send(self, task: str, key: identity.ObjectKey, *, force: bool = False) -> bool:
        marked = self.rt.locks.mark_pending(identity.dedup_key(key), ttl=dispatch.PENDING_TTL)
        if not marked and not force:
            return False
        self._submit(task, key, attempt=0)
        return True

    def _submit(self, task: str, key: identity.ObjectKey, *, attempt: int) -> None:
        if not self.stop.is_set():
            with self._guard:
                self._queued[task] += 1
            self.pools[task].submit(self._run, task, key, attempt)

    def _run(self, task: str, key: identity.ObjectKey, attempt: int) -> None:
        with self._guard:
            self._queued[task] -= 1
        work = {"sync": sync.run, "apply": apply.run, "refresh": refresh.run}[task]
        result = work(self.rt, namespace=key.namespace, name=key.name, attempt=attempt)
        if result.done or self.stop.is_set():
            return
        timer = threading.Timer(
            result.delay, self._submit, args=(task, key), kwargs={"attempt": attempt + 1}
        )
        timer.daemon = True
        timer.start()
