"""Build a GitTrack's status from what its sync learnt, and tell whether it changed.

The four conditions, spec section 1.2, always listed in the original's first order
(FilesParsed, FilesFetched, ChildrenGarbageCollected, ChildrenUpToDate); a True
condition has an empty message, a False one the reason and the errors:

- FilesFetched: ``GitFetchSuccess``, or ``ErrorFetchingFiles`` with the Git error;
- FilesParsed: ``FileParseSuccess``, or ``ErrorParsingFiles`` with the per-file errors
  ``<path>: unable to parse '<path>': <reason>\\n`` joined with ``",\\n"``;
- ChildrenUpToDate: ``ChildUpdateSuccess``, or ``ErrorUpdatingChildren`` with the
  errors of the failed objects joined with ``",\\n"``;
- ChildrenGarbageCollected: ``GCSuccess``, or ``ErrorDeletingChildren`` with the
  failed deletes.

Fixes of the original ([QUIRK]s, spec sections 1.2 and 2.2):

- a step the sync did not reach was recorded as True with an empty reason. Here it
  keeps its previous status, reason and transition time - they describe the last
  sync that ran it - and its message says why it did not run this time; with no
  previous condition it is False with the step's False reason and that message;
- a Git error zeroed the counters and ``ignoredFiles``. Here they keep their
  previous values, and the messages of the steps not run say they are stale;
- condition messages are always current (see ``faros.core.transitions``).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from faros.api import conditions, types
from faros.core import manifests, redact, synccalc, transitions

_FETCHED = conditions.GitTrackConditionType.FILES_FETCHED
_PARSED = conditions.GitTrackConditionType.FILES_PARSED
_UP_TO_DATE = conditions.GitTrackConditionType.CHILDREN_UP_TO_DATE
_GC = conditions.GitTrackConditionType.CHILDREN_GARBAGE_COLLECTED
ORDER = (_PARSED, _FETCHED, _GC, _UP_TO_DATE)
"""The order of the conditions in the status: the original's order after a first sync."""
NOT_FETCHED = (
    "not run in the latest sync because the files could not be fetched (see FilesFetched); "
    "the counters and ignoredFiles are from the last sync that fetched them"
)
_SEPARATOR = ",\n"
COUNTERS = ("objectsDiscovered", "objectsApplied", "objectsIgnored", "objectsInSync")
"""The four counters every GitTrack status holds (the CRD requires them)."""


@dataclasses.dataclass(frozen=True, slots=True)
class SyncReport:
    """What one sync learnt. ``source_error`` set means it stopped there (a Git error)."""

    source_error: str | None = None
    files: tuple[manifests.FileResult, ...] = ()
    results: tuple[synccalc.ObjectResult, ...] = ()
    gc: synccalc.GcPlan = dataclasses.field(default_factory=synccalc.GcPlan)
    gc_errors: tuple[str, ...] = ()
    revision: str | None = None
    """The commit the files came from (ours: ``status.revision``)."""


_Setting = tuple[conditions.ConditionStatus, str, str]
"""A condition's (status, reason, message)."""


def for_gittrack(
    *, previous: types.GitTrackStatus | None, report: SyncReport, now: datetime.datetime
) -> types.GitTrackStatus:
    """Return the status a GitTrack has after the sync described by ``report``."""
    old: types.GitTrackStatus = previous or {
        "objectsDiscovered": 0,
        "objectsApplied": 0,
        "objectsIgnored": 0,
        "objectsInSync": 0,
    }
    current = list(old.get("conditions", []))
    for condition_type, (status, reason, message) in _outcomes(report, current).items():
        current = transitions.set_condition(
            current,
            condition_type=condition_type,
            status=status,
            reason=reason,
            message=message,
            now=now,
        )
    if report.source_error is None:
        new = _counted(synccalc.count(files=report.files, results=report.results))
        ignored = synccalc.ignored_files(files=report.files, results=report.results)
        revision = report.revision or old.get("revision")
    else:
        new = _counted(_counters_of(old))
        ignored = dict(old.get("ignoredFiles", {}))
        revision = old.get("revision")
    if ignored:
        new["ignoredFiles"] = ignored
    if revision:
        new["revision"] = revision
    if "observedGeneration" in old:
        new["observedGeneration"] = old["observedGeneration"]
    new["conditions"] = _ordered(current)
    return new


def _outcomes(
    report: SyncReport, current: Sequence[types.Condition]
) -> dict[conditions.GitTrackConditionType, _Setting]:
    if report.source_error is not None:
        return {
            _FETCHED: _result(_FETCHED, [report.source_error]),
            _PARSED: _not_run(current, _PARSED, why=NOT_FETCHED),
            _UP_TO_DATE: _not_run(current, _UP_TO_DATE, why=NOT_FETCHED),
            _GC: _not_run(current, _GC, why=NOT_FETCHED),
        }
    return {
        _FETCHED: _result(_FETCHED, []),
        _PARSED: _result(_PARSED, synccalc.parse_errors(report.files)),
        _UP_TO_DATE: _result(_UP_TO_DATE, synccalc.failures(report.results)),
        _GC: _collected(report, current),
    }


def _collected(report: SyncReport, current: Sequence[types.Condition]) -> _Setting:
    """ChildrenGarbageCollected: skipped, failed, partly waiting for discovery, or done."""
    if report.gc.skipped:
        return _not_run(current, _GC, why=report.gc.skipped)
    reason, message = report.gc.blocked
    if reason:
        return (conditions.ConditionStatus.FALSE, reason, redact.message(message))
    waiting = report.gc.waiting_message
    if report.gc_errors:
        return _result(_GC, [*report.gc_errors, waiting] if waiting else report.gc_errors)
    if waiting:
        return _not_run(current, _GC, why=waiting)
    return _result(_GC, [])


def _result(condition_type: conditions.GitTrackConditionType, errors: Sequence[str]) -> _Setting:
    """True with an empty message, or False with the errors joined as the original did."""
    success, failure = conditions.GITTRACK_REASONS[condition_type]
    if errors:
        return (conditions.ConditionStatus.FALSE, failure, redact.message(_SEPARATOR.join(errors)))
    return (conditions.ConditionStatus.TRUE, success, "")


def _not_run(
    current: Sequence[types.Condition],
    condition_type: conditions.GitTrackConditionType,
    *,
    why: str,
) -> _Setting:
    """The previous status and reason with ``why`` as message; False when there is none."""
    old = transitions.find(current, condition_type)
    status = old.get("status") if old else None
    if old is None or status not in set(conditions.ConditionStatus):
        return (
            conditions.ConditionStatus.FALSE,
            conditions.GITTRACK_REASONS[condition_type][1],
            why,
        )
    return (conditions.ConditionStatus(status), old.get("reason", ""), why)


def _counters_of(status: Mapping[str, Any]) -> synccalc.Counters:
    return synccalc.Counters(
        discovered=int(status.get("objectsDiscovered", 0)),
        applied=int(status.get("objectsApplied", 0)),
        ignored=int(status.get("objectsIgnored", 0)),
        in_sync=int(status.get("objectsInSync", 0)),
    )


def _counted(counters: synccalc.Counters) -> types.GitTrackStatus:
    return {
        "objectsDiscovered": counters.discovered,
        "objectsApplied": counters.applied,
        "objectsIgnored": counters.ignored,
        "objectsInSync": counters.in_sync,
    }


def _ordered(current: Sequence[types.Condition]) -> list[types.Condition]:
    """Ours in ``ORDER``, then any other type as it was."""
    rank = {str(condition_type): index for index, condition_type in enumerate(ORDER)}
    return sorted(current, key=lambda condition: rank.get(condition["type"], len(rank)))


def status_changed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """True when writing ``new`` over ``old`` would change what the status says.

    ``lastUpdateTime`` alone does not count, and a missing ``ignoredFiles`` equals an
    empty one: a sync that learnt nothing new writes nothing.
    """
    return old is None or _comparable(old) != _comparable(new)


def _comparable(status: Mapping[str, Any]) -> dict[str, Any]:
    comparable = {key: value for key, value in status.items() if value not in (None, {}, [])}
    comparable["conditions"] = transitions.without_update_times(status.get("conditions", []))
    return comparable
