"""Two guards of the receiver, with bounded memory and time as a parameter (not thread-safe:
the caller holds a lock).

- :class:`RateLimiter`: a token bucket per client address; a client that emptied its bucket
  is told how long to wait (``Retry-After``).
- :class:`ReplayWindow`: the delivery ids accepted in the last ``window`` seconds, so a
  provider's redelivery of the same delivery queues nothing twice.
"""

from __future__ import annotations

import collections
import math

MAX_CLIENTS = 10_000
"""Client buckets kept at most; the least recently seen is forgotten first (a full bucket)."""
MAX_DELIVERIES = 10_000
"""Delivery ids kept at most; beyond, the oldest is forgotten before its window ends."""


class RateLimiter:
    """``rate`` requests per second per client, in bursts of up to ``burst``; rate 0 allows all."""

    def __init__(self, *, rate: float, burst: float, max_clients: int = MAX_CLIENTS) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.max_clients = max_clients
        self._buckets: collections.OrderedDict[str, tuple[float, float]] = collections.OrderedDict()

    def take(self, client: str, *, now: float) -> int:
        """Spend one token of ``client`` at ``now`` (seconds); return 0 when allowed, else the
        whole seconds until a token is back (at least 1)."""
        if self.rate <= 0:
            return 0
        tokens, last = self._buckets.pop(client, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))


class ReplayWindow:
    """The delivery ids claimed within the last ``window`` seconds."""

    def __init__(self, *, window: float, max_entries: int = MAX_DELIVERIES) -> None:
        self.window = window
        self.max_entries = max_entries
        self._seen: collections.OrderedDict[str, float] = collections.OrderedDict()

    def claim(self, delivery: str, *, now: float) -> bool:
        """True when ``delivery`` was not claimed within the window (it is claimed now); False
        for a replay. An empty id cannot be told apart from another: always True."""
        while self._seen and next(iter(self._seen.values())) <= now - self.window:
            self._seen.popitem(last=False)
        if not delivery:
            return True
        if delivery in self._seen:
            return False
        self._seen[delivery] = now
        while len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return True

    def release(self, delivery: str) -> None:
        """Forget a claim (its delivery failed): the provider's redelivery is then accepted."""
        self._seen.pop(delivery, None)

    def __len__(self) -> int:
        return len(self._seen)
