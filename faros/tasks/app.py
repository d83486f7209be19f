"""The Celery application: settings from ``celeryconfig``; the task modules it loads."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, Task

from faros import locks, metrics
from faros.kube import errors as kube_errors

app = Celery("faros")
app.config_from_object("celeryconfig")
app.conf.include = ["faros.tasks.sync", "faros.tasks.apply"]

TRANSIENT: tuple[type[Exception], ...] = (
    kube_errors.Unavailable,
    kube_errors.Conflict,
    locks.LockLostError,
)
"""Failures retried with capped exponential backoff (2 s doubling to 60 s, jittered): well
below the broker's visibility timeout. Bad input is never retried: it lands in status."""


class Outcome(enum.StrEnum):
    """How one run of a task ended, for whoever runs it (Celery task or in-process pool)."""

    DONE = "done"
    BUSY = "busy"
    """Another process holds the object's lock: run again shortly."""
    WAITING = "waiting"
    """The child's kind is not served yet: run again with backoff."""


def reconcile_task(name: str) -> Callable[[Callable[..., None]], Task[Any, Any]]:
    """The decorator of a Faros task: a stable name, bound, transient failures retried."""
    return app.task(
        name=name,
        bind=True,
        autoretry_for=TRANSIENT,
        retry_backoff=2,
        retry_backoff_max=60,
        retry_jitter=True,
        max_retries=None,
    )


def measured(task: str, work: Callable[[], Outcome]) -> Outcome:
    """Run ``work`` (one run of ``task``) and count it in ``faros_task_runs_total`` and
    ``faros_task_duration_seconds``: its outcome, ``retry`` for a transient failure (re-raised
    for the retry policy) or ``error`` for any other exception (re-raised)."""
    started = time.monotonic()
    result = "error"
    try:
        outcome = work()
        result = outcome.value
        return outcome
    except TRANSIENT:
        result = "retry"
        raise
    finally:
        metrics.TASK_RUNS.labels(task=task, result=result).inc()
        metrics.TASK_DURATION.labels(task=task).observe(time.monotonic() - started)
