"""Keep the tasks a live worker holds invisible to the broker's redelivery, and only those.

The Redis transport redelivers a message that was delivered and not acknowledged for longer
than the broker's ``visibility_timeout``: that is how a task of a worker killed with SIGKILL
runs again (tasks are acknowledged late). A long timeout makes that wait long (an hour by
default); a short one would hand a task that simply runs long to a second worker. So the
timeout is short (``FAROS_VISIBILITY_TIMEOUT``, 30 s) and each live worker process that
consumes tasks refreshes, every ``REFRESH`` seconds, the delivery time of every message it
holds (running, prefetched or waiting for a retry countdown) in the transport's unacked
index: only the messages of a dead worker grow old enough to be redelivered.

I/O: one Redis connection of its own, ``ZADD ... XX`` on the transport's ``unacked_index``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from celery import Celery
from celery.worker import state

logger = logging.getLogger(__name__)

REFRESH = 5.0
"""Seconds between two refreshes; well below the visibility timeout."""
INDEX = "unacked_index"
"""The transport's sorted set of delivered, unacknowledged messages (kombu ``Channel``)."""


class Keeper:
    """A daemon thread refreshing the delivery time of the messages this worker holds."""

    def __init__(self, app: Celery) -> None:
        options: dict[str, Any] = dict(app.conf.broker_transport_options or {})
        self.index = str(options.get("global_keyprefix", "")) + str(
            options.get("unacked_index_key", INDEX)
        )
        self.client = redis.Redis.from_url(str(app.conf.broker_url))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="faros-visibility", daemon=True)

    def start(self) -> None:
        """Start refreshing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop refreshing and close the connection."""
        self._stop.set()
        self._thread.join(timeout=REFRESH + 1)
        self.client.close()

    def refresh(self) -> int:
        """Mark every message this worker holds as delivered now; how many were marked."""
        tags = held_tags()
        if not tags:
            return 0
        now = time.time()
        self.client.zadd(self.index, dict.fromkeys(tags, now), xx=True)
        return len(tags)

    def _loop(self) -> None:
        while not self._stop.wait(REFRESH):
            try:
                self.refresh()
            except redis.RedisError as error:  # the broker is away: the worker reconnects
                logger.warning("cannot refresh held messages", extra={"error": str(error)})


def held_tags() -> list[str]:
    """Delivery tags of the requests this worker process holds (reserved, active, scheduled)."""
    tags = []
    for request in list(state.requests.values()):
        message = getattr(request, "message", None)
        tag = getattr(message, "delivery_tag", None)
        if tag:
            tags.append(str(tag))
    return tags


_keeper: Keeper | None = None


def start(app: Celery, **_: Any) -> None:
    """Start this process's keeper (``worker_ready`` signal of a Redis-backed worker)."""
    global _keeper  # one keeper per worker process, started once it is ready
    if _keeper is None and str(app.conf.broker_url).startswith(("redis://", "rediss://")):
        _keeper = Keeper(app)
        _keeper.start()


def stop(**_: Any) -> None:
    """Stop this process's keeper (``worker_shutdown`` signal)."""
    global _keeper  # see start()
    if _keeper is not None:
        _keeper.stop()
        _keeper = None
