"""Post Kubernetes Events (core/v1) about an object; a failure to post is logged, never raised."""

from __future__ import annotations

import datetime
import logging
from typing import Any

from faros.kube import client, errors

logger = logging.getLogger(__name__)

COMPONENT = "faros"
MAX_MESSAGE = 1024


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

    ``kind`` is ``Normal`` or ``Warning``. Events are best effort: losing one must never
    fail a reconcile.
    """
    meta = involved.get("metadata", {})
    stamp = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {
        "metadata": {"generateName": f"{meta.get('name', 'faros')}.", "namespace": namespace},
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
    try:
        kube.request("POST", f"/api/v1/namespaces/{namespace}/events", body=body)
    except errors.ApiError as error:
        logger.warning("could not post event", extra={"reason": reason, "error": str(error)})
