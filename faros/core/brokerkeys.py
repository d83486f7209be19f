"""The Redis keys kombu's Redis transport keeps one queue's messages under.

Pure. kombu stores each priority band of a queue in its own list: the plain queue name for
priority 0 and ``<queue><sep><step>`` for every other step (``kombu.transport.redis``
``Channel._q_for_pri``), all behind the optional ``global_keyprefix``. A queue's depth is
the sum of their lengths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PRIORITY_STEPS = (0, 3, 6, 9)
"""kombu's default ``priority_steps``."""
SEPARATOR = "\x06\x16"
"""kombu's ``Channel.sep`` between a queue's name and its priority step."""


def queue_keys(
    queue: str, *, steps: Sequence[int] = PRIORITY_STEPS, sep: str = SEPARATOR, prefix: str = ""
) -> tuple[str, ...]:
    """Every list key holding messages of ``queue``, lowest priority step first."""
    keys: list[str] = []
    for step in sorted(set(steps)):
        key = f"{prefix}{queue}{sep}{step}" if step else f"{prefix}{queue}"
        keys.append(key)
    return tuple(keys)


def for_options(queue: str, options: Mapping[str, Any]) -> tuple[str, ...]:
    """``queue_keys`` with the ``broker_transport_options`` a Celery app is configured with."""
    return queue_keys(
        queue,
        steps=tuple(options.get("priority_steps") or PRIORITY_STEPS),
        sep=str(options.get("sep") or SEPARATOR),
        prefix=str(options.get("global_keyprefix") or ""),
    )
