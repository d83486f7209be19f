"""Post Kubernetes Events (core/v1) about an object, aggregated as Kubernetes clients do.

A repeat of the same Event (same object, type, reason and message) updates the existing
Event's ``count`` and ``lastTimestamp`` instead of adding one: the Event's name is derived
from what it says, so every Faros process, and every restart, finds the same Event. A tug of
war with another controller therefore costs one Event object, not one per revert. Events
that expired (the API server keeps them ``--event-ttl``, one hour by default) start again at
count 1. A failure to post is logged, never raised: losing an Event must not fail a reconcile.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
from typing import Any

from faros.core import transitions
from faros.kube import client, errors

logger = logging.getLogger(__name__)

COMPONENT = "faros"
MAX_MESSAGE = 1024
ATTEMPTS = 3
_MAX_NAME = 253
_HASH = 16


def name(*, involved: dict[str, Any], kind: str, reason: str, message: str) -> str:
    """The Event's name: the object's name and a digest of what the Event says."""
    meta = involved.get("metadata", {})
    said = "\x00".join(
        (str(meta.get("uid", "")), str(involved.get("kind", "")), str(meta.get("namespace", "")),
         str(meta.get("name", "")), kind, reason, message[:MAX_MESSAGE])
    )  # fmt: skip
    digest = hashlib.sha256(said.encode()).hexdigest()[:_HASH]
    stem = str(meta.get("name") or "faros")[: _MAX_NAME - _HASH - 1]
    return f"{stem}.{digest}"


def post(
    kube: client.Kube,
    *,
    involved: dict[str, Any],
    namespace: str,
    kind: str,
    reason: str,
    message: str,
    now: datetime.datetime,
) -> None:
    """Record one Event in ``namespace`` about the object ``involved`` (a raw body).

    ``kind`` is ``Normal`` or ``Warning``. A repeat increments the existing Event.
    """
    meta = involved.get("metadata", {})
    stamp = transitions.timestamp(now)
    event_name = name(involved=involved, kind=kind, reason=reason, message=message)
    body = {
        "metadata": {"name": event_name, "namespace": namespace},
        "involvedObject": {
            "apiVersion": involved.get("apiVersion", ""),
            "kind": involved.get("kind", ""),
            "name": meta.get("name", ""),
            "namespace": meta.get("namespace", ""),
            "uid": meta.get("uid", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        },
        "reason": reason,
        "message": message[:MAX_MESSAGE],
        "type": kind,
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "firstTimestamp": stamp,
        "lastTimestamp": stamp,
        "count": 1,
    }
    collection = f"/api/v1/namespaces/{namespace}/events"
    try:
        for _ in range(ATTEMPTS):
            if _create_or_count(kube, collection, body, stamp=stamp):
                return
        logger.warning("event not counted: too many concurrent updates", extra={"reason": reason})
    except errors.ApiError as error:
        logger.warning("could not post event", extra={"reason": reason, "error": str(error)})


def _create_or_count(
    kube: client.Kube, collection: str, body: dict[str, Any], *, stamp: str
) -> bool:
    """Create the Event, or add one to the count of the existing one; False on a conflict."""
    try:
        kube.request("POST", collection, body=body)
        return True
    except errors.AlreadyExists:
        pass
    path = f"{collection}/{body['metadata']['name']}"
    try:
        existing: dict[str, Any] = kube.request("GET", path)
    except errors.NotFound:
        return False  # expired between the two requests: create it again
    existing["count"] = int(existing.get("count") or 1) + 1
    existing["lastTimestamp"] = stamp
    try:
        kube.request("PUT", path, body=existing)  # resourceVersion: a racing count conflicts
    except (errors.Conflict, errors.NotFound):
        return False
    return True
