"""Every Prometheus metric Faros records while it works; the originals keep their names (spec 5).

The metrics here are recorded by the process doing the work (in ``faros worker`` by the
prefork pool processes, in multiprocess mode, so import this module only once
``PROMETHEUS_MULTIPROC_DIR`` is settled). Faros keeps no ``Gauge`` here on purpose: every
gauge describes shared state (status in the cluster, queues in Redis) and is computed at
scrape time by the one kind of process that publishes it (``faros.metrics.collectors``), so
no multiprocess gauge mode has to merge N workers' opinions. Label values are bounded: the
only object names are those of the original ``faros_gittrack_*`` and
``faros_gittrackobject_*`` metrics. The full table is ``docs/metrics.md``.
"""

from __future__ import annotations

import os

from prometheus_client import Counter, Histogram

TIME_TO_DEPLOY_BUCKETS = (60, 120, 180, 240, 300, 600, 900, 1200, 1500, 1800, 2400, 3000, 3600)
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600)
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

TIME_TO_DEPLOY_NAME = "faros_gittrack_time_to_deploy_seconds"
TIME_TO_DEPLOY = Histogram(
    TIME_TO_DEPLOY_NAME,
    "Seconds from a commit's committer time to the change of a child it made",
    ["name", "namespace", "repository"],
    buckets=TIME_TO_DEPLOY_BUCKETS,
)
"""Observed by the apply task only when a child really changed to new data from Git (the
original observed every unchanged child on every resync, and leaked credentials in
``repository``); drift reverts are not deploys and are not observed."""

COMMIT_TO_APPLIED = Histogram(
    "faros_commit_to_applied_seconds",
    "Seconds from the sync that first saw a child's new data in Git to its first successful "
    "apply (Faros's clocks only)",
    buckets=LATENCY_BUCKETS,
)

COMMIT_TO_HEALTHY = Histogram(
    "faros_commit_to_healthy_seconds",
    "Seconds from the sync that first saw a child's new data in Git to the apply that first "
    "found the child healthy with it (Faros's clocks only)",
    buckets=LATENCY_BUCKETS,
)

TASK_RUNS = Counter(
    "faros_task_runs_total",
    "Runs of the sync and apply tasks by result (done, busy, waiting, retry, error)",
    ["task", "result"],
)
TASK_DURATION = Histogram(
    "faros_task_duration_seconds",
    "Wall time of one run of the sync or apply task, whatever its result",
    ["task"],
    buckets=DURATION_BUCKETS,
)
LOCK_CONTENTION = Counter(
    "faros_lock_contention_total",
    "Task runs that found their lock held by another run (lock: gittrack or object)",
    ["lock"],
)
DRIFT_REVERTS = Counter(
    "faros_drift_reverts_total",
    "Applies that put back a child someone else changed or deleted, by the child's kind",
    ["group", "kind"],
)
DRIFT_REVERTS_BY_MANAGER = Counter(
    "faros_drift_reverts_by_manager",
    "Drift reverts by the field manager that last wrote a reverted field (the first 20 "
    "managers a process sees by name, then other; unknown for a deleted child)",
    ["manager"],
)
GIT_FETCH_DURATION = Histogram(
    "faros_git_fetch_duration_seconds",
    "Wall time of fetching a GitTrack's repository and reading its manifests, by result",
    ["result"],
    buckets=DURATION_BUCKETS,
)

WEBHOOK_REQUESTS = Counter(
    "faros_webhook_requests_total",
    "Requests to the webhook receiver's hook paths, by provider and result",
    ["provider", "result"],
)
WEBHOOK_SYNCS_QUEUED = Counter(
    "faros_webhook_syncs_queued_total",
    "Syncs of GitTracks queued by pushes the webhook receiver accepted, by provider",
    ["provider"],
)
WEBHOOK_PUSH_TO_APPLIED = Histogram(
    "faros_webhook_push_to_applied_seconds",
    "Seconds from the webhook receiver taking a push to the first successful apply of a child "
    "that push changed (Faros's clocks only)",
    buckets=LATENCY_BUCKETS,
)
"""Observed by the apply, next to ``COMMIT_TO_APPLIED``, from the GitTrackObject's
``faros.pusher.com/pushed-at`` annotation (``faros.core.webhooks.pushstamp``)."""


def forget_gittrack(*, name: str, namespace: str) -> None:
    """Drop the time-to-deploy series of a deleted GitTrack from this process's memory.

    In multiprocess mode series cannot be removed from other processes' files; there the
    exposition drops the series of GitTracks that no longer exist
    (``faros.metrics.collectors.LiveGitTracks``).
    """
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    TIME_TO_DEPLOY.remove_by_labels({"name": name, "namespace": namespace})
