"""Release the child of a prune-protected GitTrackObject (``faros.core.prune``).

The child loses the GitTrackObject's owner reference (so the Kubernetes garbage collector
leaves it in place when the GitTrackObject goes), an Event says so, and the GitTrackObject's
``RELEASE_FINALIZER`` is removed. Used by a sync whose commit no longer names the object, and
by the apply task when a GitTrackObject holding the finalizer is being deleted (its GitTrack
was deleted). Each step is idempotent: a release interrupted anywhere is finished by the next.
"""

from __future__ import annotations

import logging
from typing import Any

from faros.api import conditions
from faros.core import errors, prune
from faros.kube import client, discovery
from faros.kube import errors as kube_errors
from faros.tasks import report, runtime

logger = logging.getLogger(__name__)

RELEASED = conditions.ControlEvent.CHILD_RELEASED
DELETED = conditions.ControlEvent.CHILD_DELETED
ATTEMPTS = 5


def release(
    rt: runtime.Runtime, gto: dict[str, Any], reporter: report.Reporter, *, why: str,
    kube: client.Kube | None = None,
) -> None:  # fmt: skip
    """Release ``gto``'s child, announce it, and drop the finalizer (``why``: the cause, for
    the Event). The child is patched through ``kube`` (the GitTrack's service account; default
    the controller's connection). Raises the API error of a step that failed (the caller's
    policy decides)."""
    meta = gto["metadata"]
    child = prune.held_key(gto)
    if child is not None:
        resource = rt.discovery.resource(
            f"{child.group}/{child.version}" if child.group else child.version, child.kind
        )
        if resource is None:
            raise errors.KindNotServed(api_version=child.api_version, kind=child.kind)
        path = resource.path(namespace=child.namespace, name=child.name)
        if _unlink(kube or rt.kube, path, owner_uid=str(meta["uid"])):
            what = prune.label(child, fallback=str(meta["name"]))
            reporter.event(
                RELEASED,
                f"Released {what} ({prune.PRUNE_ANNOTATION}: {prune.PRUNE_DISABLED}): {why}; "
                "it stays in the cluster, no longer managed by Faros",
                always=True,
            )
    _drop_finalizer(rt.kube, gto)


def _unlink(kube: client.Kube, path: str, *, owner_uid: str) -> bool:
    """Remove the owner reference to ``owner_uid`` from the object at ``path``; True when one
    was removed now (False: absent, or no such reference)."""
    for _ in range(ATTEMPTS):
        try:
            live: dict[str, Any] = kube.request("GET", path)
        except kube_errors.NotFound:
            return False
        patch = prune.release_patch(live, owner_uid=owner_uid)
        if patch is None:
            return False
        try:
            kube.request("PATCH", path, body=patch, content_type=client.JSON_PATCH)
        except (kube_errors.Invalid, kube_errors.Conflict):
            continue  # the list changed since it was read (the patch's test failed): again
        except kube_errors.NotFound:
            return False
        return True
    raise errors.TransientError(message=f"owner references of {path} kept changing")


def _drop_finalizer(kube: client.Kube, gto: dict[str, Any]) -> None:
    """Remove ``RELEASE_FINALIZER`` from the GitTrackObject (tested against its list)."""
    meta = gto["metadata"]
    resource = discovery.own(str(gto["kind"]))
    path = resource.path(namespace=str(meta.get("namespace", "")), name=str(meta["name"]))
    for _ in range(ATTEMPTS):
        current = list(meta.get("finalizers") or [])
        kept = prune.finalizers(current, protected=False)
        if kept == current:
            return
        patch = [
            {"op": "test", "path": "/metadata/finalizers", "value": current},
            {"op": "replace", "path": "/metadata/finalizers", "value": kept},
        ]
        try:
            kube.request("PATCH", path, body=patch, content_type=client.JSON_PATCH)
            return
        except kube_errors.NotFound:
            return
        except (kube_errors.Invalid, kube_errors.Conflict):
            try:
                meta = kube.request("GET", path)["metadata"]
            except kube_errors.NotFound:
                return
    raise errors.TransientError(message=f"finalizers of {path} kept changing")


def announce_deletion(reporter: report.Reporter, *, what: str, gto: str, commit: str) -> None:
    """The Event of every deletion a sync causes: the object, and the commit it left."""
    reporter.event(
        DELETED,
        f"Deleting {what} (GitTrackObject {gto}): it is no longer in commit {commit}",
        always=True,
    )
