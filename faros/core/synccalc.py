"""Fold what a GitTrack sync did into counters, ``ignoredFiles`` and a garbage-collection plan.

Counters, spec sections 1.2 and 2.7: ``objectsDiscovered`` = objects parsed;
``objectsIgnored`` = files that failed to parse + objects ignored + objects failed;
``objectsApplied`` = discovered - ignored objects - failed objects; ``objectsInSync`` =
applied objects whose GitTrackObject already said ObjectInSync=True and was not changed.
Hence ``applied + ignored == discovered + unparseable files`` and ``inSync <= applied``.

``ignoredFiles``: a file that failed to parse under its path, with the original's
text ``unable to parse '<path>': <reason>`` and trailing newline; an ignored or failed
object under ``namespace/gto-name`` (``gto-name`` when cluster-scoped). [BUG] fixed:
the original gave failed objects an empty reason; we give their error.

Garbage collection, spec section 2.2 steps 11-12: the GitTrackObjects this GitTrack
controls whose key no object produced are deleted (their children follow through the
Kubernetes garbage collector). Safety rules: nothing is deleted when any file failed
to parse (PR #174), when no file was found, or on any Git error (the sync does not get
this far). Fixes:

- [QUIRK] the original kept the GitTrackObject of an object that became *ignored*
  (a new ``--ignore-resource``, a scope rule) and went on applying its old data. We
  *release* it: the task deletes it with ``propagationPolicy: Orphan``, so the child
  stays in the cluster, no longer managed;
- an object that failed keeps every GitTrackObject of its name, in any namespace: when
  discovery could not say whether its kind is namespaced, its key may be a guess.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection, Iterable, Mapping, Sequence

from faros.core import identity, manifests


class Outcome(enum.StrEnum):
    """What the sync did with one object."""

    APPLIED = "applied"
    """Its GitTrackObject was created or changed, or is not in sync yet."""
    IN_SYNC = "inSync"
    """Its GitTrackObject was already right and says ObjectInSync=True (counts as applied)."""
    IGNORED = "ignored"
    FAILED = "failed"
    WAITING = "waiting"
    """Held back this sync until what it needs is ready (its Namespace, its CRD); counts as
    applied, is no error, and keeps its GitTrackObject."""


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectResult:
    """One parsed object: the key of its GitTrackObject, the outcome, reason or error text."""

    gto: identity.ObjectKey
    outcome: Outcome
    message: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Counters:
    """The four status counters (spec section 2.7)."""

    discovered: int = 0
    applied: int = 0
    ignored: int = 0
    in_sync: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class GcPlan:
    """GitTrackObjects to delete, to release (delete, orphaning the child), or why neither."""

    delete: tuple[identity.ObjectKey, ...] = ()
    release: tuple[identity.ObjectKey, ...] = ()
    skipped: str = ""
    """Why garbage collection does not run this sync; "" when it runs."""
    waiting: tuple[identity.ObjectKey, ...] = ()
    """Left over, but holding a kind discovery could not resolve this sync: kept for now."""
    protect: tuple[identity.ObjectKey, ...] = ()
    """Left over and prune-protected: their children are released, then they are deleted."""
    blocked: tuple[str, str] = ("", "")
    """(reason, message) when a rule stopped garbage collection this sync (the deletion
    budget): nothing is deleted or released; ("", "") when none did."""

    @property
    def waiting_message(self) -> str:
        """Why some GitTrackObjects were not collected; "" when none waited."""
        if not self.waiting:
            return ""
        names = ", ".join(key.namespaced_name for key in self.waiting[:5])
        more = f" and {len(self.waiting) - 5} more" if len(self.waiting) > 5 else ""
        return (
            f"{len(self.waiting)} GitTrackObject(s) left over were not deleted because the "
            f"API server does not serve their kind now, so their objects cannot be told "
            f"apart: {names}{more}; they are collected once discovery finds the kind again"
        )


GC_SKIPPED_PARSE = (
    "not run in the latest sync: garbage collection is skipped while a file fails to parse "
    "(see FilesParsed), so nothing was deleted"
)
GC_SKIPPED_NO_FILES = (
    "not run in the latest sync: no manifest file was found under the subPath, "
    "so nothing was deleted"
)


def count(*, files: Sequence[manifests.FileResult], results: Sequence[ObjectResult]) -> Counters:
    """Return the counters of a sync that parsed ``files`` and handled ``results``.

    Raises:
        ValueError: ``results`` does not have one entry per parsed object.
    """
    discovered = sum(len(file.objects) for file in files)
    if len(results) != discovered:
        raise ValueError(f"{len(results)} results for {discovered} parsed objects")
    outcomes = [result.outcome for result in results]
    unparsed = sum(1 for file in files if file.error is not None)
    left_out = outcomes.count(Outcome.IGNORED) + outcomes.count(Outcome.FAILED)
    return Counters(
        discovered=discovered,
        applied=discovered - left_out,
        ignored=unparsed + left_out,
        in_sync=outcomes.count(Outcome.IN_SYNC),
    )


def ignored_files(
    *, files: Iterable[manifests.FileResult], results: Iterable[ObjectResult]
) -> dict[str, str]:
    """Return ``status.ignoredFiles``: file path or object key -> reason (module docstring)."""
    found = {file.path: f"{file.error}\n" for file in files if file.error is not None}
    for result in results:
        if result.outcome in (Outcome.IGNORED, Outcome.FAILED):
            found[result.gto.namespaced_name] = result.message
    return dict(sorted(found.items()))


def parse_errors(files: Iterable[manifests.FileResult]) -> list[str]:
    """Return each file error as the FilesParsed message lists it: ``<path>: <error>\\n``."""
    return [f"{file.path}: {file.error}\n" for file in files if file.error is not None]


def failures(results: Iterable[ObjectResult]) -> list[str]:
    """Return the error of every failed object, ordered by key (ChildrenUpToDate message)."""
    failed = (result for result in results if result.outcome is Outcome.FAILED)
    return [result.message for result in sorted(failed, key=lambda result: result.gto)]


def plan_gc(
    *,
    existing: Iterable[identity.ObjectKey],
    files: Sequence[manifests.FileResult],
    results: Iterable[ObjectResult],
    held: Mapping[identity.ObjectKey, identity.ObjectKey | None] | None = None,
    unresolved: Collection[tuple[str, str]] = (),
) -> GcPlan:
    """Select what to delete among ``existing`` (the GitTrackObjects this GitTrack controls).

    Call only after the files were fetched; a Git error skips garbage collection. ``held``
    maps each GitTrackObject to the child it holds; a leftover holding a (group, kind) in
    ``unresolved`` (discovery had no answer for it this sync) waits: GC never acts on a
    guess of an object's scope.
    """
    if not files:
        return GcPlan(skipped=GC_SKIPPED_NO_FILES)
    if any(file.error is not None for file in files):
        return GcPlan(skipped=GC_SKIPPED_PARSE)
    kept: set[identity.ObjectKey] = set()
    ignored: set[identity.ObjectKey] = set()
    failed_names: set[str] = set()
    for result in results:
        (ignored if result.outcome is Outcome.IGNORED else kept).add(result.gto)
        if result.outcome is Outcome.FAILED:
            failed_names.add(result.gto.name)
    leftover = sorted(key for key in set(existing) - kept if key.name not in failed_names)
    waiting = tuple(key for key in leftover if _kind_of((held or {}).get(key)) in unresolved)
    leftover = [key for key in leftover if key not in waiting]
    return GcPlan(
        delete=tuple(key for key in leftover if key not in ignored),
        release=tuple(key for key in leftover if key in ignored),
        waiting=waiting,
    )


def _kind_of(child: identity.ObjectKey | None) -> tuple[str, str] | None:
    return None if child is None else (child.group, child.kind)


def gc_failure(*, gto: identity.ObjectKey, error: str) -> str:
    """Return the ChildrenGarbageCollected message for a failed delete (spec section 1.2)."""
    return f"failed to delete child for '{gto.namespaced_name}': '{error}'"
