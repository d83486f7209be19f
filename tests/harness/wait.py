"""``eventually``: poll a check until it passes, like Gomega's Eventually."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], *, timeout: float = 30.0, interval: float = 0.2) -> T:
    """Call ``check`` until it returns without raising AssertionError; return its value.

    The last AssertionError is re-raised when ``timeout`` passes, so the failure message is
    the one the check itself gives.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
        time.sleep(interval)
