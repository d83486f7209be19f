"""Per-object locks and de-duplication keys in Redis.

A lock has a TTL and is renewed by its holder between steps; a holder that finds it lost
must stop before writing. The API server's resourceVersion preconditions stay the final
fence against a stale writer. De-duplication keys (``SET NX EX``) let a storm of events for
one object queue a handful of tasks, with client-go workqueue semantics: the task deletes
the key before it reads the world, so an event during the task queues one more run.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import redis
from redis.exceptions import LockError, LockNotOwnedError

logger = logging.getLogger(__name__)


class LockLostError(RuntimeError):
    """The lock expired or was taken over: the holder must not write."""

    def __init__(self, key: str) -> None:
        super().__init__(f"lost the lock {key}")
        self.key = key


class Held:
    """A lock this process holds."""

    def __init__(self, lock: redis.lock.Lock, key: str, ttl: float) -> None:
        self._lock = lock
        self.key = key
        self.ttl = ttl

    def renew(self) -> None:
        """Reset the TTL; raise ``LockLostError`` when the lock is no longer ours."""
        try:
            self._lock.reacquire()
        except (LockNotOwnedError, LockError):
            raise LockLostError(self.key) from None


class RedisLocks:
    """Locks and de-duplication keys on one Redis database."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @contextlib.contextmanager
    def hold(self, key: str, *, ttl: float) -> Iterator[Held | None]:
        """Try to take ``key`` without waiting: yield the held lock, or None when busy."""
        lock = self.client.lock(key, timeout=ttl, blocking=False)
        if not lock.acquire(blocking=False):
            yield None
            return
        try:
            yield Held(lock, key, ttl)
        finally:
            try:
                lock.release()
            except LockError:
                logger.warning("lock expired before release", extra={"key": key})

    def mark_pending(self, key: str, *, ttl: float) -> bool:
        """Set the de-duplication key; True when it was not set (the caller should enqueue)."""
        return bool(self.client.set(key, b"1", nx=True, ex=max(1, round(ttl))))

    def clear_pending(self, key: str) -> bool:
        """Delete the de-duplication key; True when it was set."""
        return bool(self.client.delete(key))
