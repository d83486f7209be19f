"""The Celery application: settings from ``celeryconfig``; the task modules it loads."""

from __future__ import annotations

from celery import Celery

from faros import locks
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
