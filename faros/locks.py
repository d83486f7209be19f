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
import threading
import time
from collections.abc import Iterator
from typing import Protocol

import redis
from redis.exceptions import LockError, LockNotOwnedError

logger = logging.getLogger(__name__)


class Lease(Protocol):
    """A held lock: renew it between steps; renewing raises ``LockLostError`` once lost."""

    def renew(self) -> None: ...


class Locks(Protocol):
    """Redis locks for the distributed processes, in-process ones for ``faros run``."""

    def hold(self, key: str, *, ttl: float) -> contextlib.AbstractContextManager[Lease | None]:
        """Try to take ``key`` without waiting: the held lock, or None when busy."""
        ...

    def mark_pending(self, key: str, *, ttl: float) -> bool:
        """Set the de-duplication key; True when it was not set."""
        ...

    def clear_pending(self, key: str) -> bool:
        """Delete the de-duplication key; True when it was set."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


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

    def close(self) -> None:
        """Close the Redis connection pool."""
        self.client.close()


class LocalHeld:
    """A lock held in this process (``faros run``): it cannot be lost to another process."""

    def __init__(self, key: str) -> None:
        self.key = key

    def renew(self) -> None:
        """Nothing to renew: only this process takes these locks."""


class LocalLocks:
    """In-process locks and de-duplication keys for ``faros run`` (no Redis)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: set[str] = set()
        self._pending: dict[str, float] = {}

    @contextlib.contextmanager
    def hold(self, key: str, *, ttl: float) -> Iterator[LocalHeld | None]:
        """Try to take ``key`` without waiting: yield the held lock, or None when busy."""
        with self._guard:
            if key in self._held:
                busy = True
            else:
                busy = False
                self._held.add(key)
        if busy:
            yield None
            return
        try:
            yield LocalHeld(key)
        finally:
            with self._guard:
                self._held.discard(key)

    def mark_pending(self, key: str, *, ttl: float) -> bool:
        """Set the de-duplication key; True when it was not set (the caller should enqueue)."""
        now = time.monotonic()
        with self._guard:
            if self._pending.get(key, 0.0) > now:
                return False
            self._pending[key] = now + ttl
            return True

    def clear_pending(self, key: str) -> bool:
        """Delete the de-duplication key; True when it was set."""
        with self._guard:
            return self._pending.pop(key, 0.0) > time.monotonic()

    def close(self) -> None:
        """Nothing to release."""
