"""Task ``faros.refresh``: a GitTrack's readiness and counters, fresh from its GitTrackObjects.

Queued (coalesced: one per GitTrack per second at most) when a GitTrackObject's
``ObjectInSync`` or ``Healthy`` changes, so ``Ready``, ``objectsInSync`` and
``objectsHealthy`` follow the children within seconds instead of at the next sync. Holds the
GitTrack's lock, as the sync does (both write its status); reads the GitTrack and its own
GitTrackObjects (by the owner label) and writes the status only when it changed.
"""

from __future__ import annotations

import datetime
from typing import Any

from faros.api import names
from faros.core import dependencies, identity, readiness, trackstatus
from faros.kube import discovery, reads
from faros.kube import errors as kube_errors
from faros.tasks import report, runtime
from faros.tasks.app import DONE, Result, busy, measured, reconcile_task


def run(rt: runtime.Runtime, *, namespace: str, name: str, attempt: int = 0) -> Result:
    """Refresh one GitTrack's readiness; unless done, the result says when to run again."""
    return measured("refresh", lambda: _run(rt, namespace=namespace, name=name), attempt=attempt)


refresh = reconcile_task("faros.refresh", run)
"""The Celery task: ``refresh.delay(namespace, name)``."""


def _run(rt: runtime.Runtime, *, namespace: str, name: str) -> Result:
    key = identity.gittrack_key(namespace=namespace, name=name)
    with rt.locks.hold(identity.lock_key(key), ttl=rt.lock_ttl) as held:
        if held is None:
            return busy()
        rt.locks.clear_pending(identity.dedup_key(key, task="refresh"))
        path = discovery.own(key.kind).path(namespace=namespace, name=name)
        try:
            gittrack: dict[str, Any] = rt.kube.request("GET", path)
        except kube_errors.NotFound:
            return DONE
        if not gittrack.get("status") or dependencies.held_back(gittrack["status"]):
            return DONE  # not synced yet, or held back: only the sync changes that
        now = datetime.datetime.now(datetime.UTC)
        children = owned(rt, gittrack)
        if len(children) < int(gittrack["status"].get("objectsApplied") or 0):
            # GitTrackObjects went missing: the next sync must not skip as "unchanged".
            rt.locks.clear_pending(identity.synced_key(key))
        status = refreshed(gittrack, children, now=now)
        if trackstatus.status_changed(gittrack["status"], status):
            held.renew()
            report.Reporter(rt.kube, gittrack, events_namespace=rt.events_namespace(),
                            now=now).save(status)  # fmt: skip
    return DONE


def owned(rt: runtime.Runtime, gittrack: dict[str, Any]) -> list[readiness.Child]:
    """What readiness reads of each GitTrackObject a GitTrack controls, read by the owner
    label, page by page: a GitTrack of 10,000 objects never has them all whole at once."""
    meta = gittrack["metadata"]
    namespace = str(meta.get("namespace", "")) or rt.settings.namespace
    selector = f"{names.OWNER_LABEL}={meta['uid']}"
    kinds = [names.GITTRACKOBJECT]
    if not meta.get("namespace"):
        kinds.append(names.CLUSTERGITTRACKOBJECT)
    found: list[readiness.Child] = []
    for kind in kinds:
        found += reads.read_own(rt.kube, kind, readiness.child, namespace=namespace,
                                label_selector=selector)  # fmt: skip
    return found


def refreshed(
    gittrack: dict[str, Any], children: list[readiness.Child], *, now: datetime.datetime
) -> dict[str, Any]:
    """The GitTrack's status with readiness and counters computed from its ``children``."""
    status = dict(gittrack.get("status") or {})
    state = readiness.assess(
        status=status, generation=int(gittrack["metadata"].get("generation") or 0),
        children=children, waiting=readiness.waiting_of(status),
    )  # fmt: skip
    return readiness.with_readiness(status, state, now=now)
