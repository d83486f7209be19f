"""The Celery application: settings from ``celeryconfig``; the task modules it loads."""

from __future__ import annotations

from celery import Celery

app = Celery("faros")
app.config_from_object("celeryconfig")
app.conf.include = ["faros.tasks.sync", "faros.tasks.apply"]
