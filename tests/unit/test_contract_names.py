"""Pin the compatibility surface against literal strings copied from the spec.

Changing any of these breaks GitTracks, alerts or dashboards written for the Go
controller: a failure here means "do not", not "update the test".
"""

import enum

import pytest

from faros.api import conditions, names


def _values(enum_class: type[enum.StrEnum]) -> list[str]:
    return [member.value for member in enum_class]


def test_group_and_version():
    assert names.GROUP == "faros.pusher.com"
    assert names.VERSION == "v1alpha1"
    assert names.API_VERSION == "faros.pusher.com/v1alpha1"


def test_kinds_plurals_and_scopes():
    assert names.PLURALS == {
        "GitTrack": "gittracks",
        "ClusterGitTrack": "clustergittracks",
        "GitTrackObject": "gittrackobjects",
        "ClusterGitTrackObject": "clustergittrackobjects",
    }
    assert names.NAMESPACED == {
        "GitTrack": True,
        "ClusterGitTrack": False,
        "GitTrackObject": True,
        "ClusterGitTrackObject": False,
    }
    assert (
        names.GITTRACK,
        names.CLUSTERGITTRACK,
        names.GITTRACKOBJECT,
        names.CLUSTERGITTRACKOBJECT,
    ) == ("GitTrack", "ClusterGitTrack", "GitTrackObject", "ClusterGitTrackObject")


def test_annotations():
    assert names.LAST_APPLIED_ANNOTATION == "faros.pusher.com/last-applied-configuration"
    assert names.UPDATE_STRATEGY_ANNOTATION == "faros.pusher.com/update-strategy"
    assert names.SYNCED_AT_ANNOTATION == "faros.pusher.com/synced-at"


ENUM_STRINGS: list[tuple[type[enum.StrEnum], list[str]]] = [
    (names.UpdateStrategy, ["update", "never", "recreate"]),
    (names.DeployKeyType, ["SSH", "HTTPBasicAuth"]),
    (names.GitTrackMode, ["Disabled", "Enabled"]),
    (names.ClusterGitTrackMode, ["Disabled", "IncludeNamespaced", "ExcludeNamespaced"]),
    (
        conditions.GitTrackConditionType,
        ["FilesFetched", "FilesParsed", "ChildrenUpToDate", "ChildrenGarbageCollected"],
    ),
    (
        conditions.GitTrackReason,
        [
            "GitFetchSuccess",
            "ErrorFetchingFiles",
            "FileParseSuccess",
            "ErrorParsingFiles",
            "ChildUpdateSuccess",
            "ErrorUpdatingChildren",
            "GCSuccess",
            "ErrorDeletingChildren",
        ],
    ),
    (conditions.GitTrackObjectConditionType, ["ObjectInSync"]),
    (
        conditions.GitTrackObjectReason,
        [
            "ChildAppliedSuccess",
            "ErrorUnmarshallingData",
            "ErrorGettingChild",
            "ErrorWatchingChild",
            "ErrorAddingOwnerReference",
            "ErrorCreatingChild",
            "ErrorUpdatingChild",
        ],
    ),
    (conditions.ConditionStatus, ["True", "False", "Unknown"]),
    (conditions.EventType, ["Normal", "Warning"]),
    (
        conditions.EventReason,
        [
            "CheckoutStarted",
            "CheckoutFailed",
            "CheckoutSuccessful",
            "CreateStarted",
            "CreateFailed",
            "CreateSuccessful",
            "ControllerMismatch",
            "UpdateFailed",
            "UpdateSuccessful",
            "CleanupFailed",
            "UnmarshalFailed",
        ],
    ),
]


@pytest.mark.parametrize(
    ("enum_class", "expected"),
    ENUM_STRINGS,
    ids=[enum_class.__name__ for enum_class, _ in ENUM_STRINGS],
)
def test_enum_strings(enum_class, expected):
    assert _values(enum_class) == expected


def test_gittrack_condition_reasons_pair_true_and_false():
    assert {
        str(kind): (str(ok), str(failed))
        for kind, (ok, failed) in conditions.GITTRACK_REASONS.items()
    } == {
        "FilesFetched": ("GitFetchSuccess", "ErrorFetchingFiles"),
        "FilesParsed": ("FileParseSuccess", "ErrorParsingFiles"),
        "ChildrenUpToDate": ("ChildUpdateSuccess", "ErrorUpdatingChildren"),
        "ChildrenGarbageCollected": ("GCSuccess", "ErrorDeletingChildren"),
    }


def test_event_types():
    warnings = {str(reason) for reason, kind in conditions.EVENT_TYPES.items() if kind == "Warning"}
    assert set(conditions.EVENT_TYPES) == set(conditions.EventReason)
    assert warnings == {
        "CheckoutFailed",
        "CreateFailed",
        "ControllerMismatch",
        "UpdateFailed",
        "CleanupFailed",
        "UnmarshalFailed",
    }
