"""Celery settings for Faros, each read from the environment (``FAROS_*``), no logic.

Timeouts, shortest first (docs/operations.md, "Timeouts"): a lock lives ``FAROS_LOCK_TTL``
(30 s) and is extended every third of it while its task runs; a message a worker holds is
redelivered ``FAROS_VISIBILITY_TIMEOUT`` (30 s) after its worker stopped refreshing it
(``faros.tasks.visibility``), checked every 5 s; so the task of a worker killed with SIGKILL
runs again on another worker within about 35 s, just as its locks expire. The time limits
only stop a task that hangs.
"""

import os

broker_url = os.environ.get("FAROS_BROKER_URL") or os.environ.get(
    "CELERY_BROKER_URL", "redis://localhost:6379/0"
)

task_soft_time_limit = int(os.environ.get("FAROS_TASK_SOFT_TIME_LIMIT", "240"))
task_time_limit = int(os.environ.get("FAROS_TASK_TIME_LIMIT", "300"))
broker_transport_options = {
    "visibility_timeout": int(os.environ.get("FAROS_VISIBILITY_TIMEOUT", "30")),
    # Look for tasks of dead workers every 5 s (kombu's default scans every 100 s).
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}

task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_ignore_result = True
result_backend = None
result_expires = None  # no results: no celery.backend_cleanup beat entry

task_default_queue = "sync"
task_routes = {
    "faros.sync": {"queue": "sync"},
    "faros.apply": {"queue": "apply"},
    "faros.refresh": {"queue": "apply"},  # short, per object like applies: same queue
}

broker_connection_retry_on_startup = True
worker_cancel_long_running_tasks_on_connection_loss = True
worker_soft_shutdown_timeout = float(os.environ.get("FAROS_WORKER_SOFT_SHUTDOWN_TIMEOUT", "10"))
worker_max_tasks_per_child = int(os.environ.get("FAROS_WORKER_MAX_TASKS_PER_CHILD", "1000"))
worker_send_task_events = True
task_send_sent_event = True

# The dynamic schedule (celery-redbeat): one entry per GitTrack, written by the watchers.
beat_scheduler = "redbeat.RedBeatScheduler"
redbeat_redis_url = broker_url
redbeat_redis_options: dict[str, object] = {}
redbeat_key_prefix = os.environ.get("FAROS_BEAT_KEY_PREFIX", "faros:beat:")
# A standby beat takes over about this many seconds after the active one dies.
redbeat_lock_timeout = int(os.environ.get("FAROS_BEAT_LOCK_TIMEOUT", "30"))
beat_max_loop_interval = 5
