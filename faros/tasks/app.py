"""The Celery application, and how one run of a task ends: done, or again after a wait.

Both shapes run a task the same way: :func:`measured` runs it, asks the error policy
(``faros.core.errors``) about any failure, and returns a :class:`Result` that says whether
and when to run it again; the Celery task turns that into ``self.retry(countdown=...)``,
the in-process pool of ``faros run`` into a timer.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from celery import Celery, Task, signals

from faros import metrics
from faros.core import errors
from faros.tasks import brokerfix, runtime, visibility

logger = logging.getLogger(__name__)

brokerfix.install()
app = Celery("faros")
app.config_from_object("celeryconfig")
app.conf.include = ["faros.tasks.sync", "faros.tasks.apply", "faros.tasks.refresh"]
signals.worker_ready.connect(lambda **_: visibility.start(app), weak=False)
signals.worker_shutdown.connect(visibility.stop, weak=False)
signals.worker_process_shutdown.connect(runtime.close_current, weak=False)

BUSY_DELAY = (0.2, 0.6)
"""Seconds (lowest, highest) before a task that found its lock held runs again: locks are
held briefly (a refresh for tens of milliseconds), and a sync a push queued must not wait long
behind one (the jitter keeps two contenders apart)."""


class Outcome(enum.StrEnum):
    """How one run of a task ended, for whoever runs it (Celery task or in-process pool)."""

    DONE = "done"
    """Finished: the world matches what the object says."""
    TERMINAL = "terminal"
    """Bad input was reported: nothing to do until the input changes."""
    BUSY = "busy"
    """Another process holds the object's lock: run again shortly."""
    WAITING = "waiting"
    """The child's kind is not served yet: run again with backoff."""
    RETRY = "retry"
    """A transient failure (reported): run again with backoff."""


@dataclasses.dataclass(frozen=True, slots=True)
class Result:
    """The outcome of one run and, unless DONE, the seconds to wait before the next."""

    outcome: Outcome
    delay: float = 0.0

    @property
    def done(self) -> bool:
        """True when the task must not run again for this request."""
        return self.outcome in (Outcome.DONE, Outcome.TERMINAL)


DONE = Result(Outcome.DONE)


def busy() -> Result:
    """Run again shortly (jittered, so two contenders do not meet again)."""
    return Result(Outcome.BUSY, random.uniform(*BUSY_DELAY))  # noqa: S311 - not for security


def again(outcome: Outcome, *, attempt: int, retry_after: float | None = None) -> Result:
    """Run again after the policy's backoff for retry number ``attempt``."""
    jitter = random.random()  # noqa: S311 - spreading retries, not security
    return Result(outcome, errors.backoff(attempt, jitter=jitter, retry_after=retry_after))


def reconcile_task(name: str, run: Callable[..., Result]) -> Task[Any, Any]:
    """Register ``run(rt, *, namespace, name, attempt)`` as the Celery task ``name`` (stable:
    queued messages and beat entries refer to it). Celery never retries it by itself: each
    run's result says whether and when to run again. Tasks are acknowledged late
    (``celeryconfig``)."""

    def task(self: Any, namespace: str, key: str) -> None:
        result = run(runtime.current(), namespace=namespace, name=key,
                     attempt=self.request.retries)  # fmt: skip
        if not result.done:
            raise self.retry(countdown=result.delay)

    task.__doc__ = run.__doc__
    return app.task(name=name, bind=True, max_retries=None)(task)


def measured(task: str, work: Callable[[], Result], *, attempt: int) -> Result:
    """Run ``work`` (one run of ``task``), count it in ``faros_task_runs_total`` and
    ``faros_task_duration_seconds``, and turn an exception into a retry or an end.

    ``work`` reports what users must see before it returns; an exception reaching here was
    not reported (the API server or Redis failed between steps, or a bug): transient ones are
    retried with backoff (``retry``), anything the policy calls terminal ends the run
    (``terminal``), and unexpected ones (``error``) are logged with their traceback and retried.
    """
    started = time.monotonic()
    label = "error"
    try:
        result = work()
        label = result.outcome.value
        return result
    except Exception as error:
        verdict = errors.verdict(error)
        if verdict.terminal:
            label = "terminal"
            logger.warning("task stopped on bad input", extra={"task": task, "error": str(error)})
            return Result(Outcome.TERMINAL)
        if isinstance(error, errors.FarosError):
            label = "retry"
            logger.warning("task failed, retrying", extra={"task": task, "error": str(error)})
        else:
            logger.exception("task failed unexpectedly, retrying", extra={"task": task})
        return again(Outcome.RETRY, attempt=attempt, retry_after=verdict.retry_after)
    finally:
        metrics.TASK_RUNS.labels(task=task, result=label).inc()
        metrics.TASK_DURATION.labels(task=task).observe(time.monotonic() - started)
