"""The RedBeat scheduler of ``faros beat``, noting when its loop last ticked for ``/healthz``."""

from __future__ import annotations

import time
from typing import Any

from redbeat import RedBeatScheduler

TICK_GRACE = 30.0
"""Seconds without a tick before an active beat is unhealthy (it ticks every <= 5 s)."""

_last_tick: float | None = None


class TickingScheduler(RedBeatScheduler):  # type: ignore[misc]  # redbeat ships no types
    """RedBeat's scheduler; every tick (a pass over the due entries) is recorded."""

    def tick(self, *args: Any, **kwargs: Any) -> float:
        interval: float = super().tick(*args, **kwargs)
        global _last_tick  # written by beat's loop, read by the HTTP thread
        _last_tick = time.monotonic()
        return interval


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
