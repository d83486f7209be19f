"""Condition types, condition reasons and Event reasons of the Faros API (strings only).

The strings are the compatibility contract with the original Go controller
(spec sections 1.2, 1.4, 2.8 and 3.3); users and alerts match on them, so they
must never change. Which reason goes with which outcome is decided in ``faros.core``.
"""

import enum
from collections.abc import Mapping
from types import MappingProxyType


class ConditionStatus(enum.StrEnum):
    """Values of a condition's ``status`` (Faros writes only True and False)."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class GitTrackConditionType(enum.StrEnum):
    """Condition types of a GitTrack or ClusterGitTrack (spec section 1.2)."""

    FILES_FETCHED = "FilesFetched"
    FILES_PARSED = "FilesParsed"
    CHILDREN_UP_TO_DATE = "ChildrenUpToDate"
    CHILDREN_GARBAGE_COLLECTED = "ChildrenGarbageCollected"


class ReadinessConditionType(enum.StrEnum):
    """kstatus's conditions a GitTrack or ClusterGitTrack also carries (ours, additive):
    ``Ready`` for ``kubectl wait`` and pipelines, ``Reconciling`` and ``Stalled`` for tools that
    read kstatus (``Ready`` True only when the current revision is applied and every child is
    healthy)."""

    READY = "Ready"
    RECONCILING = "Reconciling"
    STALLED = "Stalled"


class ReadinessReason(enum.StrEnum):
    """Reasons of the readiness conditions (ours)."""

    SUCCEEDED = "Succeeded"
    PROGRESSING = "Progressing"
    CHILDREN_NOT_READY = "ChildrenNotReady"
    CHILDREN_FAILED = "ChildrenFailed"
    SYNC_FAILED = "SyncFailed"
    DEPENDENCIES_NOT_READY = "DependencyNotReady"
    DEPENDENCY_CYCLE = "DependencyCycle"
    WAITING = "Waiting"


class GitTrackReason(enum.StrEnum):
    """Reasons of GitTrack conditions (spec section 1.2).

    ``CHILD_UPDATE_SUCCESS`` is singular on purpose: it is the original string.
    """

    GIT_FETCH_SUCCESS = "GitFetchSuccess"
    ERROR_FETCHING_FILES = "ErrorFetchingFiles"
    FILE_PARSE_SUCCESS = "FileParseSuccess"
    ERROR_PARSING_FILES = "ErrorParsingFiles"
    CHILD_UPDATE_SUCCESS = "ChildUpdateSuccess"
    ERROR_UPDATING_CHILDREN = "ErrorUpdatingChildren"
    GC_SUCCESS = "GCSuccess"
    ERROR_DELETING_CHILDREN = "ErrorDeletingChildren"


GITTRACK_REASONS: Mapping[GitTrackConditionType, tuple[GitTrackReason, GitTrackReason]] = (
    MappingProxyType(
        {
            GitTrackConditionType.FILES_FETCHED: (
                GitTrackReason.GIT_FETCH_SUCCESS,
                GitTrackReason.ERROR_FETCHING_FILES,
            ),
            GitTrackConditionType.FILES_PARSED: (
                GitTrackReason.FILE_PARSE_SUCCESS,
                GitTrackReason.ERROR_PARSING_FILES,
            ),
            GitTrackConditionType.CHILDREN_UP_TO_DATE: (
                GitTrackReason.CHILD_UPDATE_SUCCESS,
                GitTrackReason.ERROR_UPDATING_CHILDREN,
            ),
            GitTrackConditionType.CHILDREN_GARBAGE_COLLECTED: (
                GitTrackReason.GC_SUCCESS,
                GitTrackReason.ERROR_DELETING_CHILDREN,
            ),
        }
    )
)
"""For each GitTrack condition type, its (True reason, False reason)."""


class GitTrackObjectConditionType(enum.StrEnum):
    """Condition types of a GitTrackObject or ClusterGitTrackObject (spec section 1.4)."""

    OBJECT_IN_SYNC = "ObjectInSync"


HEALTHY = "Healthy"
"""A GitTrackObject's condition of ours: whether its child works (kstatus's status of the live
child: True for Current), its reason kstatus's or the child's own (``ProgressDeadlineExceeded``).
``ObjectInSync`` keeps its original meaning (applied)."""


class GitTrackObjectReason(enum.StrEnum):
    """Reasons of the ``ObjectInSync`` condition (spec sections 1.4 and 3.9).

    ``CHILD_APPLIED_SUCCESS`` goes with True; every other reason goes with False.
    """

    CHILD_APPLIED_SUCCESS = "ChildAppliedSuccess"
    ERROR_UNMARSHALLING_DATA = "ErrorUnmarshallingData"
    ERROR_GETTING_CHILD = "ErrorGettingChild"
    ERROR_WATCHING_CHILD = "ErrorWatchingChild"
    ERROR_ADDING_OWNER_REFERENCE = "ErrorAddingOwnerReference"
    ERROR_CREATING_CHILD = "ErrorCreatingChild"
    ERROR_UPDATING_CHILD = "ErrorUpdatingChild"


class EventType(enum.StrEnum):
    """Kubernetes Event types."""

    NORMAL = "Normal"
    WARNING = "Warning"


class EventReason(enum.StrEnum):
    """Reasons of the Events Faros posts (spec section 2.8 for GitTracks, 3.3 for GTOs).

    The create and update reasons are shared: a GitTrack posts them about the
    GitTrackObjects it writes, a GitTrackObject about the child it applies.
    """

    CHECKOUT_STARTED = "CheckoutStarted"
    CHECKOUT_FAILED = "CheckoutFailed"
    CHECKOUT_SUCCESSFUL = "CheckoutSuccessful"
    CREATE_STARTED = "CreateStarted"
    CREATE_FAILED = "CreateFailed"
    CREATE_SUCCESSFUL = "CreateSuccessful"
    CONTROLLER_MISMATCH = "ControllerMismatch"
    UPDATE_FAILED = "UpdateFailed"
    UPDATE_SUCCESSFUL = "UpdateSuccessful"
    CLEANUP_FAILED = "CleanupFailed"
    UNMARSHAL_FAILED = "UnmarshalFailed"


SYNCED = "Synced"
"""Reason of our own Normal Event with ``--events=summary``: what one sync created, updated
and deleted (the per-object Events of the original are then posted for failures only)."""

EVENT_TYPES: Mapping[EventReason, EventType] = MappingProxyType(
    {
        EventReason.CHECKOUT_STARTED: EventType.NORMAL,
        EventReason.CHECKOUT_FAILED: EventType.WARNING,
        EventReason.CHECKOUT_SUCCESSFUL: EventType.NORMAL,
        EventReason.CREATE_STARTED: EventType.NORMAL,
        EventReason.CREATE_FAILED: EventType.WARNING,
        EventReason.CREATE_SUCCESSFUL: EventType.NORMAL,
        EventReason.CONTROLLER_MISMATCH: EventType.WARNING,
        EventReason.UPDATE_FAILED: EventType.WARNING,
        EventReason.UPDATE_SUCCESSFUL: EventType.NORMAL,
        EventReason.CLEANUP_FAILED: EventType.WARNING,
        EventReason.UNMARSHAL_FAILED: EventType.WARNING,
    }
)
"""The Event type each reason is always posted with (spec sections 2.8 and 3.3)."""


class ControlEvent(enum.StrEnum):
    """Reasons of our own Events about the operator controls (suspend, prune protection, the
    deletion budget, break-glass). Not the original's: additive."""

    CHILD_DELETED = "ChildDeleted"
    """Garbage collection deletes a child: names it and the commit it left."""
    CHILD_RELEASED = "ChildReleased"
    """A prune-protected child was released (left in the cluster, no longer managed)."""
    DELETION_BUDGET_EXCEEDED = "DeletionBudgetExceeded"
    SUSPENDED = "Suspended"
    RESUMED = "Resumed"
    PAUSED = "Paused"
    """Break-glass: a child's reverts are paused by its ``pause-until`` annotation."""
    PAUSE_ENDED = "PauseEnded"
    """Break-glass: the pause expired (or its annotation went): the child is reverted."""
    PAUSE_REFUSED = "PauseRefused"
    """Break-glass: a ``pause-until`` that is not a time, or too far ahead, was refused."""
    DRIFT_REVERTED = "DriftReverted"
    """A drifted child was put back: which fields, and who last wrote them."""


CONTROL_EVENT_TYPES: Mapping[ControlEvent, EventType] = MappingProxyType(
    {
        ControlEvent.CHILD_DELETED: EventType.NORMAL,
        ControlEvent.CHILD_RELEASED: EventType.NORMAL,
        ControlEvent.DELETION_BUDGET_EXCEEDED: EventType.WARNING,
        ControlEvent.SUSPENDED: EventType.NORMAL,
        ControlEvent.RESUMED: EventType.NORMAL,
        ControlEvent.PAUSED: EventType.NORMAL,
        ControlEvent.PAUSE_ENDED: EventType.NORMAL,
        ControlEvent.PAUSE_REFUSED: EventType.WARNING,
        ControlEvent.DRIFT_REVERTED: EventType.NORMAL,
    }
)
