"""Metric samples derived from the status Faros wrote (spec section 5), as plain values.

The gauges describe the cluster, so they are read from it at scrape time rather than kept
by the workers: a GitTrack or GitTrackObject that is deleted simply stops producing samples
(the original never removed its series), and N worker processes never disagree.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from faros.api import conditions, names

CHILD_STATUS = (
    ("discovered", "objectsDiscovered"),
    ("applied", "objectsApplied"),
    ("ignored", "objectsIgnored"),
    ("inSync", "objectsInSync"),
)

Sample = tuple[dict[str, str], float]


def child_status(gittracks: Iterable[Mapping[str, Any]]) -> list[Sample]:
    """``faros_gittrack_child_status``: the four counters of each GitTrack that has a status."""
    found: list[Sample] = []
    for gittrack in gittracks:
        status = gittrack.get("status") or {}
        if not status:
            continue
        meta = gittrack.get("metadata", {})
        name, namespace = str(meta.get("name", "")), str(meta.get("namespace", ""))
        for label, field in CHILD_STATUS:
            labels = {"name": name, "namespace": namespace, "status": label}
            found.append((labels, float(status.get(field, 0))))
    return found


def ready(gittracks: Iterable[Mapping[str, Any]]) -> list[Sample]:
    """``faros_gittrack_ready``: 1 when a GitTrack's Ready condition is True, else 0 (none
    for a GitTrack without the condition yet)."""
    found: list[Sample] = []
    for gittrack in gittracks:
        for condition in (gittrack.get("status") or {}).get("conditions", []):
            if condition.get("type") != conditions.ReadinessConditionType.READY:
                continue
            meta = gittrack.get("metadata", {})
            labels = {
                "name": str(meta.get("name", "")),
                "namespace": str(meta.get("namespace", "")),
            }
            found.append((labels, 1.0 if condition.get("status") == "True" else 0.0))
    return found


def in_sync(gtos: Iterable[Mapping[str, Any]]) -> list[Sample]:
    """``faros_gittrackobject_in_sync``: 1 when ObjectInSync is True, 0 when it is False."""
    found: list[Sample] = []
    for gto in gtos:
        for condition in (gto.get("status") or {}).get("conditions", []):
            if condition.get("type") != conditions.GitTrackObjectConditionType.OBJECT_IN_SYNC:
                continue
            spec = gto.get("spec", {})
            labels = {
                "kind": str(spec.get("kind", "")),
                "name": str(spec.get("name", "")),
                "namespace": str(gto.get("metadata", {}).get("namespace", "")),
            }
            value = 1.0 if condition.get("status") == conditions.ConditionStatus.TRUE else 0.0
            found.append((labels, value))
    return found


def time_to_deploy(
    gto: Mapping[str, Any], *, now: datetime.datetime
) -> tuple[dict[str, str], float] | None:
    """``faros_gittrack_time_to_deploy_seconds``: commit time -> child changed, for one child.

    Labels name the owning GitTrack (``namespace`` "" for a ClusterGitTrack) and the
    repository (credentials already removed by the sync). None when the GitTrackObject carries
    no commit time (written by hand, or by an older Faros).
    """
    meta = gto.get("metadata", {})
    annotations = meta.get("annotations") or {}
    stamp = annotations.get(names.COMMIT_TIME_ANNOTATION)
    owner = next(
        (ref for ref in meta.get("ownerReferences", [])
         if ref.get("kind") in (names.GITTRACK, names.CLUSTERGITTRACK)),
        None,
    )  # fmt: skip
    if not stamp or owner is None:
        return None
    try:
        committed = datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None
    labels = {
        "name": str(owner.get("name", "")),
        "namespace": str(meta.get("namespace", "")) if owner["kind"] == names.GITTRACK else "",
        "repository": str(annotations.get(names.REPOSITORY_ANNOTATION, "")),
    }
    return labels, max(0.0, (now - committed).total_seconds())


GitTrackId = tuple[str, str]
"""(namespace, name) of a GitTrack; namespace "" for a ClusterGitTrack."""


def gittrack_ids(gittracks: Iterable[Mapping[str, Any]]) -> frozenset[GitTrackId]:
    """The (namespace, name) of every GitTrack and ClusterGitTrack listed."""
    found: set[GitTrackId] = set()
    for gittrack in gittracks:
        meta = gittrack.get("metadata") or {}
        found.add((str(meta.get("namespace", "")), str(meta.get("name", ""))))
    return frozenset(found)


def is_live_series(labels: Mapping[str, str], *, live: frozenset[GitTrackId] | None) -> bool:
    """True when a per-GitTrack series (labels ``name``, ``namespace``) names a GitTrack that
    still exists; every series is kept when ``live`` is None (the GitTracks are unknown)."""
    if live is None:
        return True
    return (labels.get("namespace", ""), labels.get("name", "")) in live
