"""Per-object locks and de-duplication keys in Redis.

A lock has a short TTL, extended by a thread of its holder while the holder works, so a
holder killed with SIGKILL frees it within the TTL; a holder that finds it lost must stop
before writing (``renew`` raises ``faros.core.errors.LockLost``). The API server's
resourceVersion preconditions stay the final fence against a stale writer.
De-duplication keys (``SET NX EX``) let a storm of events for one object queue a handful
of tasks, with client-go workqueue semantics: the task deletes the key before it reads the
world, so an event during the task queues one more run.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import redis
from redis.exceptions import LockError, LockNotOwnedError

from faros.core import budget, errors

logger = logging.getLogger(__name__)


class Lease(Protocol):
    """A held lock: ``renew`` between steps raises ``LockLost`` once it is lost."""

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

    def note(self, key: str, value: str, *, ttl: float) -> None:
        """Remember ``value`` under ``key`` for ``ttl`` seconds (e.g. a child's last seen
        resourceVersion); losing it only costs one more check."""
        ...

    def noted(self, keys: Sequence[str]) -> list[str | None]:
        """The values remembered under ``keys`` (None where nothing is), in one round trip."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class Held:
    """A Redis lock this process holds, kept alive by a thread while the holder works.

    The lock's TTL is short (``--lock-ttl``, seconds): a holder killed with SIGKILL frees
    its objects that fast. While the holder lives, a daemon thread extends the TTL every
    third of it; when an extension fails (the key expired or was taken, or Redis is gone for
    longer than the TTL), the lock counts as lost and the next ``renew`` raises.
    """

    def __init__(self, lock: redis.lock.Lock, key: str, ttl: float) -> None:
        self._lock = lock
        self.key = key
        self.ttl = ttl
        self._lost = False
        self._done = threading.Event()
        self._keeper = threading.Thread(target=self._keep, name=f"lock-{key}", daemon=True)
        self._keeper.start()

    def renew(self) -> None:
        """Reset the TTL now; raise ``LockLost`` when the lock is no longer ours."""
        if self._lost:
            raise errors.LockLost(key=self.key)
        try:
            self._lock.reacquire()
        except (LockNotOwnedError, LockError):
            self._lost = True
            raise errors.LockLost(key=self.key) from None
        except redis.RedisError as error:
            raise errors.LockLost(key=self.key) from error

    def stop(self) -> None:
        """Stop extending the TTL (the lock is being released)."""
        self._done.set()
        self._keeper.join(timeout=5)

    def _keep(self) -> None:
        last = time.monotonic()
        while not self._done.wait(self.ttl / 3):
            try:
                self._lock.reacquire()
                last = time.monotonic()
            except (LockNotOwnedError, LockError):
                self._lost = True
                logger.warning("lock lost while held", extra={"key": self.key})
                return
            except redis.RedisError:
                if time.monotonic() - last >= self.ttl:
                    self._lost = True
                    logger.warning("lock lost: Redis unreachable", extra={"key": self.key})
                    return


class RedisLocks:
    """Locks and de-duplication keys on one Redis database."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client

    @contextlib.contextmanager
    def hold(self, key: str, *, ttl: float) -> Iterator[Held | None]:
        """Try to take ``key`` without waiting: yield the held lock, or None when busy."""
        # Not thread-local: the keeper thread extends the lock with the holder's token.
        lock = self.client.lock(key, timeout=ttl, blocking=False, thread_local=False)
        with _reaching():
            taken = lock.acquire(blocking=False)
        if not taken:
            yield None
            return
        held = Held(lock, key, ttl)
        try:
            yield held
        finally:
            held.stop()
            try:
                lock.release()
            except LockError:
                logger.warning("lock expired before release", extra={"key": key})
            except redis.RedisError as error:
                logger.warning("lock not released", extra={"key": key, "error": str(error)})

    def mark_pending(self, key: str, *, ttl: float) -> bool:
        """Set the de-duplication key; True when it was not set (the caller should enqueue)."""
        with _reaching():
            return bool(self.client.set(key, b"1", nx=True, ex=max(1, round(ttl))))

    def clear_pending(self, key: str) -> bool:
        """Delete the de-duplication key; True when it was set."""
        with _reaching():
            return bool(self.client.delete(key))

    def note(self, key: str, value: str, *, ttl: float) -> None:
        """Remember ``value`` under ``key`` for ``ttl`` seconds."""
        with _reaching():
            self.client.set(key, value.encode(), ex=max(1, round(ttl)))

    def noted(self, keys: Sequence[str]) -> list[str | None]:
        """The values remembered under ``keys``, in one ``MGET``."""
        if not keys:
            return []
        with _reaching():
            found = self.client.mget(list(keys))
        return [value.decode() if isinstance(value, bytes) else value for value in found]

    def close(self) -> None:
        """Close the Redis connection pool."""
        self.client.close()


BUDGET_KEY = "faros:api:budget"
PAUSE_KEY = "faros:api:pause"

_RESERVE = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local rate, burst, batch = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local pause = redis.call('PTTL', KEYS[2])
local granted = 1
if pause <= 0 and tokens >= 2 * batch then granted = batch end
tokens = tokens - granted
local wait = 0
if tokens < 0 then wait = -tokens / rate end
if pause > 0 then wait = math.max(wait, pause / 1000) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('EXPIRE', KEYS[1], 300)
return tostring(wait) .. ' ' .. tostring(granted)
"""
"""``faros.core.budget.reserve`` run inside Redis (one atomic step on Redis's own clock); while
the bucket holds at least two batches and nobody is paused, it grants a batch at once."""

BATCH = 16
"""Tokens a process takes from Redis at once while the bucket is well filled: one Redis round
trip per 16 API requests instead of one each (a worker's profile showed 11 % of its time in
that round trip)."""
LEASE = 0.5
"""Seconds a process may spend a batch's tokens; unspent ones are lost (the budget is never
exceeded, at worst under-used)."""


class RedisBudget:
    """The API budget shared by every process using one Redis (module ``faros.core.budget``)."""

    def __init__(self, client: redis.Redis, *, rate: float, burst: float) -> None:
        self.client = client
        self.rate = rate
        self.burst = burst
        self._script = client.register_script(_RESERVE)
        self._guard = threading.Lock()
        self._spare = 0
        self._until = 0.0

    def take(self) -> float:
        """Reserve one request; the seconds to wait before sending it."""
        if self.rate <= 0:
            return 0.0
        with self._guard:
            if self._spare > 0 and time.monotonic() < self._until:
                self._spare -= 1
                return 0.0
        with _reaching():
            answer = self._script(keys=[BUDGET_KEY, PAUSE_KEY],
                                  args=[self.rate, self.burst, BATCH])  # fmt: skip
        wait, granted = (answer.decode() if isinstance(answer, bytes) else str(answer)).split()
        with self._guard:
            self._spare = int(float(granted)) - 1
            self._until = time.monotonic() + LEASE
        return float(wait)

    def pause(self, seconds: float) -> None:
        """Everyone waits ``seconds`` (the API server answered 429 with this Retry-After)."""
        with self._guard:
            self._spare = 0  # this process's batch is void too
        with _reaching():
            self.client.set(PAUSE_KEY, b"1", px=max(1, round(seconds * 1000)))


class LocalBudget:
    """The API budget of one process (``faros run``)."""

    def __init__(self, *, rate: float, burst: float, clock: Any = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._guard = threading.Lock()
        self._bucket: budget.Bucket | None = None
        self._paused_until = 0.0

    def take(self) -> float:
        """Reserve one request; the seconds to wait before sending it."""
        with self._guard:
            wait, self._bucket = budget.reserve(
                self._bucket, now=self.clock(), rate=self.rate, burst=self.burst,
                paused_until=self._paused_until,
            )  # fmt: skip
        return wait

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` before the next request (a 429's Retry-After)."""
        with self._guard:
            self._paused_until = max(self._paused_until, self.clock() + seconds)


@contextlib.contextmanager
def _reaching() -> Iterator[None]:
    """Turn a Redis failure into the policy's transient ``Unreachable``."""
    try:
        yield
    except redis.RedisError as error:
        raise errors.Unreachable(what="Redis", reason=str(error)) from error


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
        self._notes: dict[str, tuple[str, float]] = {}

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

    def note(self, key: str, value: str, *, ttl: float) -> None:
        """Remember ``value`` under ``key`` for ``ttl`` seconds."""
        with self._guard:
            self._notes[key] = (value, time.monotonic() + ttl)

    def noted(self, keys: Sequence[str]) -> list[str | None]:
        """The values remembered under ``keys``."""
        now = time.monotonic()
        with self._guard:
            found = [self._notes.get(key) for key in keys]
        return [None if entry is None or entry[1] <= now else entry[0] for entry in found]

    def close(self) -> None:
        """Nothing to release."""
