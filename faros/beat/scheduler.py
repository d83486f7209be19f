"""The RedBeat scheduler of ``faros beat``, noting when its loop last ticked for ``/healthz``."""

from __future__ import annotations

import logging
import time
from typing import Any

import redis
from redbeat import RedBeatScheduler

logger = logging.getLogger(__name__)

TICK_GRACE = 30.0
"""Seconds without a tick before an active beat is unhealthy (it ticks every <= 5 s)."""

_last_tick: float | None = None


class TickingScheduler(RedBeatScheduler):  # type: ignore[misc]  # redbeat ships no types
    """RedBeat's scheduler; every tick (a pass over the due entries) is recorded."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        global _last_tick  # written by beat's loop, read by the HTTP thread
        try:
            interval: float = super().tick(*args, **kwargs)
        except redis.exceptions.LockNotOwnedError:
            # Redis lost the lock (restarted empty, flushed) or another beat holds it now:
            # become a standby until the lock is ours again, rather than exit.
            logger.warning("beat lock lost; waiting to hold it again")
            _last_tick = None
            self._reacquire()
            return 0.0
        except redis.exceptions.ConnectionError as error:
            logger.warning("broker unreachable; retrying", extra={"error": str(error)})
            return float(self.max_interval)
        _last_tick = time.monotonic()
        return interval

    def _reacquire(self) -> None:
        while True:
            try:
                self.lock.acquire()  # blocks, trying every max_interval seconds
            except redis.exceptions.ConnectionError:
                time.sleep(self.max_interval)
                continue
            logger.info("beat lock held again")
            return


def last_tick() -> float | None:
    """``time.monotonic()`` at the end of the last tick; None before the first."""
    return _last_tick


def is_healthy(*, last_tick: float | None, now: float, broker_ok: bool) -> bool:
    """An active beat is healthy while its loop ticked within ``TICK_GRACE``.

    Before its first tick a beat is starting or is a standby blocked on RedBeat's lock (it
    ticks only once it holds the lock): healthy while it can reach the broker.
    """
    if last_tick is None:
        return broker_ok
    return now - last_tick < TICK_GRACE
