"""``faros beat``: Celery beat on the RedBeat schedule (one entry per GitTrack).

Several replicas may run: RedBeat's Redis lock lets one schedule while the others wait,
and a standby takes over about ``redbeat_lock_timeout`` seconds after the active one dies.
"""

from __future__ import annotations

from faros import config


def run(settings: config.Settings) -> int:
    """Run beat in this process until it is stopped."""
    from faros.tasks.app import app

    app.conf.update(broker_url=settings.broker_url, redbeat_redis_url=settings.broker_url)
    beat = app.Beat(loglevel=settings.log_level.value.upper(), max_interval=5)
    beat.run()
    return 0
