"""Watch events -> work: which task to queue for which key, and when (controller predicates).

A GitTrack or GitTrackObject is queued when it is new or its spec changed (generation),
never for its own status writes; a child is routed to the GitTrackObject that controls it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from faros.api import conditions, names
from faros.core import breakglass, delivery, identity, syncplan

GTO_KINDS = (names.GITTRACKOBJECT, names.CLUSTERGITTRACKOBJECT)


def key_of(obj: Mapping[str, Any]) -> identity.ObjectKey:
    """The key of one of our own objects (GitTrack, GitTrackObject, and their cluster kinds)."""
    meta = obj.get("metadata", {})
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    if obj.get("kind") in GTO_KINDS:
        return identity.gto_key(namespace=namespace, name=name)
    return identity.gittrack_key(namespace=namespace, name=name)


def generation(obj: Mapping[str, Any]) -> int:
    """``metadata.generation``: it moves with the spec, never with status writes."""
    return int(obj.get("metadata", {}).get("generation") or 0)


def spec_observed(gittrack: Mapping[str, Any]) -> bool:
    """Whether a sync has seen the GitTrack's spec as it is: ``status.observedGeneration`` is
    its ``metadata.generation`` (every sync writes it, whatever it found)."""
    observed = (gittrack.get("status") or {}).get("observedGeneration")
    return observed is not None and observed == generation(gittrack)


def owning_gto(child: Mapping[str, Any]) -> identity.ObjectKey | None:
    """The GitTrackObject (or ClusterGitTrackObject) controlling ``child``, if any."""
    meta = child.get("metadata", {})
    for ref in meta.get("ownerReferences") or []:
        ours = str(ref.get("apiVersion", "")).partition("/")[0] == names.GROUP
        if ref.get("controller") is True and ours and ref.get("kind") in GTO_KINDS:
            namespace = (
                str(meta.get("namespace", "")) if ref["kind"] == names.GITTRACKOBJECT else ""
            )
            return identity.gto_key(namespace=namespace, name=str(ref.get("name", "")))
    return None


def owning_gittrack(gto: Mapping[str, Any]) -> identity.ObjectKey | None:
    """The GitTrack (or ClusterGitTrack) controlling the GitTrackObject ``gto``, if any."""
    meta = gto.get("metadata", {})
    for ref in meta.get("ownerReferences") or []:
        ours = str(ref.get("apiVersion", "")).partition("/")[0] == names.GROUP
        kind = ref.get("kind")
        if ref.get("controller") is True and ours and kind in (names.GITTRACK,
                                                                names.CLUSTERGITTRACK):  # fmt: skip
            namespace = str(meta.get("namespace", "")) if kind == names.GITTRACK else ""
            return identity.gittrack_key(namespace=namespace, name=str(ref.get("name", "")))
    return None


def progress(gto: Mapping[str, Any]) -> tuple[str, str]:
    """What a GitTrackObject's status says of its child: (ObjectInSync, Healthy) statuses.

    A change of either is what its GitTrack's readiness and counters follow.
    """
    found = {c.get("type"): c for c in (gto.get("status") or {}).get("conditions", [])}
    in_sync = found.get(conditions.GitTrackObjectConditionType.OBJECT_IN_SYNC) or {}
    healthy = found.get(conditions.HEALTHY) or {}
    applied = "applied" if delivery.is_generation_applied(gto) else str(in_sync.get("status"))
    return applied, str(healthy.get("status", ""))


def child_kind(gto: Mapping[str, Any]) -> tuple[str, str] | None:
    """The (apiVersion, kind) of the child a GitTrackObject holds: a kind to watch."""
    child = syncplan.held_child(gto)
    return None if child is None else (child.api_version, child.kind)


def is_managed(obj: Mapping[str, Any], *, gittrack: bool, cluster_mode: names.ClusterGitTrackMode,
               namespace: str = "") -> bool:  # fmt: skip
    """Whether a GitTrack/ClusterGitTrack is handled under the modes (spec 2.1) and scope."""
    if obj.get("kind") == names.GITTRACK:
        in_scope = not namespace or obj.get("metadata", {}).get("namespace") == namespace
        return gittrack and in_scope
    return cluster_mode is not names.ClusterGitTrackMode.DISABLED


def child_meta(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the watchers keep of an object of a child kind: for a child of a GitTrackObject,
    its identity, version and controller reference, and its break-glass annotation, never its
    content (a Secret's data stays with the API server); nothing of the objects Faros does not
    manage."""
    if owning_gto(obj) is None:
        return None
    meta = obj.get("metadata") or {}
    kept = {key: meta[key] for key in ("namespace", "name", "uid", "resourceVersion",
                                       "deletionTimestamp") if key in meta}  # fmt: skip
    _share_identity(kept, meta)
    paused = breakglass.annotation(obj)
    if paused is not None:  # one short annotation: the gauge of paused objects reads it
        kept["annotations"] = {breakglass.PAUSE_ANNOTATION: paused[:64]}
    return {"metadata": kept}


_GTO_METADATA = ("namespace", "name", "generation", "resourceVersion", "deletionTimestamp",
                 "finalizers")  # fmt: skip
_CONDITION_FIELDS = ("type", "status", "reason")


def gto_kept(obj: Mapping[str, Any]) -> dict[str, Any]:
    """What the watchers hold of a GitTrackObject: what the routing, the re-check and the
    status metrics read, nothing else. Of its metadata: namespace, name, generation,
    resourceVersion, deletion, finalizers and controller reference; of its spec: the child's
    kind and name, and ``spec.data`` cut down to the child's identity (apiVersion, kind, name,
    namespace; an unreadable one is kept as it is); of its status: observedGeneration and the
    conditions' type, status and reason. The watchers' memory then grows with the number of
    objects, not with their size (about a sixth of a whole GitTrackObject), and a Secret's
    data held in a GitTrackObject is not kept."""
    meta = obj.get("metadata") or {}
    kept_meta = {key: meta[key] for key in _GTO_METADATA if key in meta}
    _share_identity(kept_meta, meta)
    spec = obj.get("spec") or {}
    kept_spec = {key: spec[key] for key in ("name", "kind", "data") if key in spec}
    if "kind" in kept_spec:
        kept_spec["kind"] = _shared(kept_spec["kind"])
    child = syncplan.held_child(obj)
    if child is not None:
        where = {"namespace": child.namespace} if child.namespace else {}
        identity_only = {"apiVersion": child.api_version, "kind": child.kind,
                         "metadata": {"name": child.name, **where}}  # fmt: skip
        kept_spec["data"] = syncplan.encode(identity_only)
    status = obj.get("status") or {}
    kept_status: dict[str, Any] = {
        "conditions": [
            {key: _shared(c[key]) for key in _CONDITION_FIELDS if key in c}
            for c in status.get("conditions") or []
        ]
    }
    if "observedGeneration" in status:
        kept_status["observedGeneration"] = status["observedGeneration"]
    return {"apiVersion": _shared(obj.get("apiVersion")), "kind": _shared(obj.get("kind")),
            "metadata": kept_meta, "spec": kept_spec, "status": kept_status}  # fmt: skip


def _share_identity(kept: dict[str, Any], meta: Mapping[str, Any]) -> None:
    """Set in ``kept`` the namespace and the controller reference of ``meta``, their strings
    shared with every other object held."""
    if "namespace" in kept:
        kept["namespace"] = _shared(kept["namespace"])
    controller = [
        {key: _shared(value) for key, value in reference.items()}
        for reference in meta.get("ownerReferences") or []
        if reference.get("controller") is True
    ]
    if controller:
        kept["ownerReferences"] = controller


def _shared(value: Any) -> Any:
    """One copy of a string many objects hold (a namespace, a kind, an owner, a reason)."""
    return sys.intern(value) if isinstance(value, str) and len(value) <= 64 else value


def own_kept(obj: dict[str, Any]) -> dict[str, Any]:
    """What is held of an object of Faros's own kinds (GitTracks, GitTrackObjects) read from a
    list or a watch: all of it but ``metadata.managedFields``, which no sync, re-check or metric
    reads, and which at 10,000 GitTrackObjects is a third of what a sync would hold. Changes
    ``obj`` in place and returns it."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    return obj
