"""Work around kombu 5.7's Redis transport crashing a worker when Redis goes away.

When the connection to Redis breaks, the worker's consumer closes its channel, and closing
a channel restores the messages the worker held (``QoS.restore_unacked_once``). With the
connection already gone, that restore raises (``AttributeError: 'NoneType' object has no
attribute 'hostname'`` from ``Channel._connparams``, or a Redis ``ConnectionError``), the
error escapes as "Unrecoverable error", and the worker stops instead of reconnecting.

Skipping the restore there loses nothing: the messages stay in the transport's unacked
hash, and once Redis is back the visibility scan redelivers them (after
``FAROS_VISIBILITY_TIMEOUT``); if Redis came back empty, they are gone with everything
else, and the level-based re-check and the periodic syncs rebuild the work.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import redis
from kombu.transport import redis as kombu_redis

logger = logging.getLogger(__name__)

_FAILURES = (AttributeError, OSError, redis.RedisError)


def install() -> None:
    """Make the Redis transport's restore of held messages survive a lost connection."""
    original: Callable[..., Any] = kombu_redis.QoS.restore_unacked
    if getattr(original, "_faros_safe", False):
        return

    @functools.wraps(original)
    def restore_unacked(self: Any, client: Any = None) -> Any:
        try:
            return original(self, client)
        except _FAILURES as error:
            logger.warning(
                "cannot restore held messages now; the broker redelivers them after the "
                "visibility timeout",
                extra={"error": repr(error)},
            )
            return None

    restore_unacked._faros_safe = True  # type: ignore[attr-defined]  # marks the wrapper
    kombu_redis.QoS.restore_unacked = restore_unacked  # type: ignore[method-assign]  # the fix
