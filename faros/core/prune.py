"""What garbage collection may delete: prune protection and the deletion budget (ours).

- **Prune protection.** A manifest annotated ``faros.pusher.com/prune: disabled`` is never
  deleted by Faros. Its GitTrackObject carries the finalizer ``RELEASE_FINALIZER``; when the
  object leaves Git, or the GitTrackObject is deleted with its GitTrack, the child is released
  first (the GitTrackObject's owner reference removed from it, so the Kubernetes garbage
  collector leaves it in place), then the finalizer goes.
- **The deletion budget.** ``spec.prune.maxDeletions`` of a GitTrack (or the controller's
  ``--max-deletions``): a count, or a percentage of the GitTrack's objects (``"10%"``, rounded
  down). A sync that would delete more collects nothing, says so in ChildrenGarbageCollected
  (reason ``DeletionBudgetExceeded``), and waits until the operator approves that commit with
  the annotation ``faros.pusher.com/approve-deletions: <commit SHA>`` or raises the budget.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from faros.core import identity, synccalc

PRUNE_ANNOTATION = "faros.pusher.com/prune"
"""On a manifest: ``disabled`` keeps its object in the cluster when Faros lets go of it."""
PRUNE_DISABLED = "disabled"
RELEASE_FINALIZER = "faros.pusher.com/release-child"
"""On the GitTrackObject of a prune-protected manifest: released before it goes."""
APPROVE_ANNOTATION = "faros.pusher.com/approve-deletions"
"""On a GitTrack: the commit SHA whose deletions the operator approved past the budget."""
BUDGET_EXCEEDED = "DeletionBudgetExceeded"
"""ChildrenGarbageCollected's reason, and the Warning Event's, when the budget stops GC."""
BUDGET_INVALID = "InvalidDeletionBudget"
"""ChildrenGarbageCollected's reason when ``spec.prune.maxDeletions`` cannot be read."""
SHOWN = 5
"""Objects a budget message names (then "and N more")."""

_PERCENT = re.compile(r"(0|[1-9][0-9]{0,2})%")
_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def is_protected(manifest: Mapping[str, Any] | None) -> bool:
    """True when ``manifest`` is annotated ``faros.pusher.com/prune: disabled``."""
    annotations = ((manifest or {}).get("metadata") or {}).get("annotations") or {}
    value = annotations.get(PRUNE_ANNOTATION) if isinstance(annotations, Mapping) else None
    return isinstance(value, str) and value.strip().lower() == PRUNE_DISABLED


def held_manifest(gto: Mapping[str, Any]) -> dict[str, Any] | None:
    """The manifest a GitTrackObject holds (its ``spec.data``); None when unreadable."""
    data = (gto.get("spec") or {}).get("data")
    if not isinstance(data, str):
        return None
    try:
        manifest = json.loads(base64.b64decode(data, validate=True))
    except (ValueError, binascii.Error):
        return None
    return manifest if isinstance(manifest, dict) else None


def held_key(gto: Mapping[str, Any]) -> identity.ObjectKey | None:
    """The key of the child a GitTrackObject holds; None when unreadable."""
    manifest = held_manifest(gto)
    if manifest is None:
        return None
    namespace = str((gto.get("metadata") or {}).get("namespace", ""))
    try:
        key = identity.child_key(manifest, namespaced=bool(namespace))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None
    if namespace and not key.namespace:
        key = dataclasses.replace(key, namespace=namespace)
    return key


def finalizers(current: Sequence[str], *, protected: bool) -> list[str]:
    """``current`` with ``RELEASE_FINALIZER`` added (``protected``) or removed, others kept."""
    kept = [name for name in current if name != RELEASE_FINALIZER]
    return [*kept, RELEASE_FINALIZER] if protected else kept


def needs_release(gto: Mapping[str, Any]) -> bool:
    """True when a GitTrackObject is being deleted and still holds ``RELEASE_FINALIZER``."""
    meta = gto.get("metadata") or {}
    return bool(meta.get("deletionTimestamp")) and RELEASE_FINALIZER in (
        meta.get("finalizers") or []
    )


def release_patch(child: Mapping[str, Any], *, owner_uid: str) -> list[dict[str, Any]] | None:
    """The JSON patch removing the owner reference to ``owner_uid`` from ``child`` (tested
    against the list as read, so a concurrent change makes it fail rather than lose an
    entry); None when the child holds no such reference."""
    references = list((child.get("metadata") or {}).get("ownerReferences") or [])
    kept = [ref for ref in references if ref.get("uid") != owner_uid]
    if len(kept) == len(references):
        return None
    return [
        {"op": "test", "path": "/metadata/ownerReferences", "value": references},
        {"op": "replace", "path": "/metadata/ownerReferences", "value": kept},
    ]


class BudgetError(ValueError):
    """``maxDeletions`` is neither a count nor a percentage."""


@dataclasses.dataclass(frozen=True, slots=True)
class Budget:
    """At most ``count`` deletions, or ``percent`` % of the GitTrack's objects (rounded down)."""

    count: int | None = None
    percent: int | None = None
    source: str = ""
    """Where it came from, for messages (``spec.prune.maxDeletions: 10%``)."""

    def allowed(self, total: int) -> int:
        """Deletions allowed to a GitTrack that controls ``total`` objects."""
        if self.count is not None:
            return self.count
        return total * (self.percent or 0) // 100


def parse_budget(value: object, *, source: str) -> Budget | None:
    """Read a budget: an integer >= 0, its decimal string, or ``"N%"`` with 0 <= N <= 100;
    None or "" means no budget.

    Raises:
        BudgetError: anything else (the message names ``source`` and the value).
    """
    if value is None or value == "":
        return None
    where = f"{source}: {value!r}"
    if isinstance(value, bool):
        raise BudgetError(f"invalid deletion budget {where}: expected a count or a percentage")
    if isinstance(value, int):
        if value < 0:
            raise BudgetError(f"invalid deletion budget {where}: must not be negative")
        return Budget(count=value, source=where)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return Budget(count=int(text), source=where)
        match = _PERCENT.fullmatch(text)
        if match and int(match.group(1)) <= 100:
            return Budget(percent=int(match.group(1)), source=where)
    raise BudgetError(
        f"invalid deletion budget {where}: expected a count (e.g. 10) or a percentage of the "
        'GitTrack\'s objects from 0% to 100% (e.g. "10%")'
    )


def budget_of(gittrack: Mapping[str, Any], *, default: Budget | None) -> Budget | None:
    """The GitTrack's budget (``spec.prune.maxDeletions``), else the controller's ``default``.

    Raises:
        BudgetError: the GitTrack's value cannot be read.
    """
    prune = (gittrack.get("spec") or {}).get("prune") or {}
    value = prune.get("maxDeletions") if isinstance(prune, Mapping) else None
    if value is None:
        return default
    return parse_budget(value, source="spec.prune.maxDeletions")


def approved(gittrack: Mapping[str, Any], *, commit: str) -> bool:
    """True when the GitTrack's ``approve-deletions`` annotation names ``commit`` (in full)."""
    annotations = (gittrack.get("metadata") or {}).get("annotations") or {}
    value = str(annotations.get(APPROVE_ANNOTATION) or "").strip().lower()
    return bool(_SHA.fullmatch(value)) and value == commit.lower()


def over_budget(
    doomed: Sequence[identity.ObjectKey],
    *,
    children: Mapping[identity.ObjectKey, str],
    total: int,
    budget: Budget | None,
    commit: str,
) -> str:
    """Why the deletions ``doomed`` (GitTrackObject keys) must wait: "" when within the budget.

    ``children`` describes each GitTrackObject's child (``ConfigMap team/a``), ``total`` is the
    number of objects the GitTrack controls before this sync.
    """
    if budget is None:
        return ""
    limit = budget.allowed(total)
    if len(doomed) <= limit:
        return ""
    shown = ", ".join(children.get(key, key.namespaced_name) for key in doomed[:SHOWN])
    more = f" and {len(doomed) - SHOWN} more" if len(doomed) > SHOWN else ""
    return (
        f"garbage collection stopped: commit {commit} would delete {len(doomed)} objects, "
        f"more than the deletion budget allows ({limit}, {budget.source}): "
        f"{shown}{more}. Nothing was deleted. To go ahead, annotate the GitTrack with "
        f"{APPROVE_ANNOTATION}={commit}, or raise the budget"
    )


def label(child: identity.ObjectKey | None, *, fallback: str) -> str:
    """``Kind namespace/name`` (``Kind name`` when cluster-scoped) of a child, for Events and
    messages; ``fallback`` when not known."""
    return fallback if child is None else f"{child.kind} {child.namespaced_name}"


def gate(
    gc: synccalc.GcPlan,
    *,
    bodies: Mapping[identity.ObjectKey, Mapping[str, Any]],
    budget: Budget | None,
    approval: bool,
    commit: str,
) -> synccalc.GcPlan:
    """Apply prune protection and the deletion budget to a garbage-collection plan.

    ``bodies`` holds the GitTrackObjects the GitTrack controls (their count is its total).
    A leftover whose manifest is protected, or that carries ``RELEASE_FINALIZER``, moves from
    ``delete`` to ``protect``. When the remaining deletions exceed ``budget`` and the commit is
    not approved (``approval``), the plan is blocked: nothing is deleted or released.
    """
    if gc.skipped:
        return gc
    protect = tuple(key for key in gc.delete if _protected(bodies.get(key) or {}))
    delete = tuple(key for key in gc.delete if key not in protect)
    children = {key: label(held_key(bodies.get(key) or {}), fallback=key.namespaced_name)
                for key in delete}  # fmt: skip
    why = "" if approval else over_budget(
        delete, children=children, total=len(bodies), budget=budget, commit=commit
    )  # fmt: skip
    if why:
        return synccalc.GcPlan(waiting=gc.waiting, blocked=(BUDGET_EXCEEDED, why))
    return dataclasses.replace(gc, delete=delete, protect=protect)


def _protected(gto: Mapping[str, Any]) -> bool:
    finalizing = RELEASE_FINALIZER in ((gto.get("metadata") or {}).get("finalizers") or [])
    return finalizing or is_protected(held_manifest(gto))
