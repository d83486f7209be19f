"""``spec.dependsOn``: which GitTracks must be Ready first, and the cycles among them.

A GitTrack (or ClusterGitTrack) that depends on others applies nothing until each is Ready
for its current generation; its own readiness then says what it waits for. A cycle of
dependencies would wait forever, so it is found and reported as Stalled instead.
Defaults: a GitTrack's entry names a GitTrack of its own namespace unless it gives a
namespace or the kind ClusterGitTrack; a ClusterGitTrack's entry names a ClusterGitTrack
unless it gives the kind GitTrack and a namespace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from faros.api import conditions, names
from faros.core import identity, readiness

MAX_DEPTH = 64
"""Most GitTracks a dependency walk visits (the CRD allows 64 entries per GitTrack)."""

Reason = conditions.ReadinessReason
TRUE, FALSE = conditions.ConditionStatus.TRUE, conditions.ConditionStatus.FALSE


def refs(gittrack: Mapping[str, Any]) -> list[identity.ObjectKey]:
    """The GitTracks ``gittrack`` depends on, in order, defaults applied (module docstring)."""
    own_namespace = str((gittrack.get("metadata") or {}).get("namespace", ""))
    found: list[identity.ObjectKey] = []
    for entry in (gittrack.get("spec") or {}).get("dependsOn") or []:
        if not isinstance(entry, Mapping) or not entry.get("name"):
            continue
        kind = entry.get("kind") or (names.GITTRACK if own_namespace else names.CLUSTERGITTRACK)
        namespace = str(entry.get("namespace") or own_namespace) if kind == names.GITTRACK else ""
        if kind == names.GITTRACK and not namespace:
            continue  # a ClusterGitTrack's GitTrack entry needs a namespace (the CRD says so)
        key = identity.gittrack_key(namespace=namespace, name=str(entry["name"]))
        if key not in found:
            found.append(key)
    return found


def cycle(
    start: identity.ObjectKey, edges: Mapping[identity.ObjectKey, Sequence[identity.ObjectKey]]
) -> list[identity.ObjectKey]:
    """A path ``start -> ... -> start`` through ``edges`` (dependsOn), or [] when none."""
    stack: list[tuple[identity.ObjectKey, list[identity.ObjectKey]]] = [(start, [start])]
    seen: set[identity.ObjectKey] = set()
    while stack:
        node, path = stack.pop()
        for nxt in edges.get(node, ()):
            if nxt == start:
                return [*path, start]
            if nxt not in seen and len(path) < MAX_DEPTH:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return []


def is_ready(gittrack: Mapping[str, Any] | None) -> bool:
    """True when ``gittrack`` says Ready=True for its current generation."""
    if not gittrack:
        return False
    status = gittrack.get("status") or {}
    if status.get("observedGeneration") != (gittrack.get("metadata") or {}).get("generation"):
        return False
    return any(
        c.get("type") == conditions.ReadinessConditionType.READY and c.get("status") == TRUE
        for c in status.get("conditions", [])
    )


def _label(key: identity.ObjectKey) -> str:
    return f"{key.kind} {key.namespaced_name}"


def waiting(dependencies: Mapping[identity.ObjectKey, Mapping[str, Any] | None]) -> str:
    """Why the dependencies hold a GitTrack back ("" when every one is Ready)."""
    blocking = [
        f"{_label(key)} {'is not Ready' if body else 'does not exist'}"
        for key, body in dependencies.items()
        if not is_ready(body)
    ]
    return f"waiting for {'; '.join(blocking)}" if blocking else ""


def waiting_readiness(message: str) -> readiness.Readiness:
    """Readiness of a GitTrack held back by its dependencies."""
    return readiness.Readiness(
        ready=(FALSE, Reason.DEPENDENCIES_NOT_READY, message),
        reconciling=(TRUE, Reason.DEPENDENCIES_NOT_READY, message),
        stalled=(FALSE, Reason.SUCCEEDED, ""),
        in_sync=None, healthy=None,
    )  # fmt: skip


def cycle_readiness(path: Sequence[identity.ObjectKey]) -> readiness.Readiness:
    """Readiness of a GitTrack whose dependencies loop back to it: Stalled, never waiting."""
    message = "dependency cycle: " + " -> ".join(_label(key) for key in path)
    return readiness.Readiness(
        ready=(FALSE, Reason.DEPENDENCY_CYCLE, message),
        reconciling=(FALSE, Reason.DEPENDENCY_CYCLE, ""),
        stalled=(TRUE, Reason.DEPENDENCY_CYCLE, message),
        in_sync=None, healthy=None,
    )  # fmt: skip


def held_back(status: Mapping[str, Any]) -> bool:
    """True when the status says the sync held the GitTrack back for its dependencies (then
    only a sync changes its readiness)."""
    return any(
        c.get("type") == conditions.ReadinessConditionType.READY
        and c.get("reason") in (Reason.DEPENDENCIES_NOT_READY, Reason.DEPENDENCY_CYCLE)
        for c in status.get("conditions", [])
    )
