"""The API budget: a token bucket every Faros process draws from before each API request.

All workers together respect one client-side rate (``--kube-api-qps`` requests per second,
bursts of ``--kube-api-burst``), like client-go's rate limiter but shared: in the distributed
shape the bucket lives in Redis and is drawn from atomically, so adding workers adds
parallelism, never load beyond the budget. A request reserves a token now and waits as long
as the bucket is in debt (Go's ``rate.Limiter.Reserve``), so waiting requests are served in
turn. A ``429`` from the API server's priority and fairness pauses everyone for its
``Retry-After``.

Pure: the arithmetic, with time as a parameter; the Redis side runs the same steps in a
script (``faros.locks``).
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Bucket:
    """Tokens left (negative: reserved ahead) at ``stamp`` (seconds, any epoch)."""

    tokens: float
    stamp: float


def reserve(
    bucket: Bucket | None, *, now: float, rate: float, burst: float, paused_until: float = 0.0
) -> tuple[float, Bucket]:
    """Take one token at ``now``: (seconds to wait before sending, the bucket after).

    ``bucket`` None is a full bucket. ``rate`` 0 or less means no limit. A pause (a 429's
    ``Retry-After``) makes everyone wait until ``paused_until``.
    """
    if rate <= 0:
        return max(0.0, paused_until - now), Bucket(burst, now)
    start = bucket or Bucket(burst, now)
    tokens = min(burst, start.tokens + max(0.0, now - start.stamp) * rate) - 1.0
    wait = -tokens / rate if tokens < 0 else 0.0
    return max(wait, paused_until - now, 0.0), Bucket(tokens, now)
