"""The in-process schedule of ``faros run``: one timer per GitTrack, no Redis, no beat.

Same contract as the RedBeat schedule: ``upsert``, ``delete``, ``reconcile``; a due
GitTrack is handed to ``send`` (the in-process dispatcher) every period.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from faros.core import identity

TICK = 0.5


class LocalSchedule:
    """A thread that sends each scheduled key when its period has passed."""

    def __init__(self, send: Callable[[identity.ObjectKey], object], stop: threading.Event):
        self.send = send
        self.stop = stop
        self._due: dict[identity.ObjectKey, tuple[float, float]] = {}
        self._guard = threading.Lock()
        self.thread = threading.Thread(target=self._loop, name="faros-schedule", daemon=True)

    def start(self) -> None:
        """Start sending due keys."""
        self.thread.start()

    def upsert(self, key: identity.ObjectKey, *, period: timedelta) -> None:
        """Send ``key`` every ``period`` from now on."""
        seconds = period.total_seconds()
        with self._guard:
            self._due[key] = (seconds, time.monotonic() + seconds)

    def delete(self, key: identity.ObjectKey) -> None:
        """Stop sending ``key``."""
        with self._guard:
            self._due.pop(key, None)

    def reconcile(self, keys: Iterable[identity.ObjectKey], *, period: timedelta) -> None:
        """Exactly one timer per key in ``keys``."""
        wanted = set(keys)
        with self._guard:
            for key in set(self._due) - wanted:
                del self._due[key]
        for key in wanted:
            if key not in self._due:
                self.upsert(key, period=period)

    def _loop(self) -> None:
        while not self.stop.wait(TICK):
            now = time.monotonic()
            with self._guard:
                due = [key for key, (_, at) in self._due.items() if at <= now]
                for key in due:
                    seconds, _ = self._due[key]
                    self._due[key] = (seconds, now + seconds)
            for key in due:
                self.send(key)
