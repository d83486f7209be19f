"""API group, kinds, plurals, annotations and modes of the Faros API (constants only).

These strings are the compatibility contract with the original Go controller
(spec section 1); they must never change.
"""

import enum

GROUP = "faros.pusher.com"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

GITTRACK = "GitTrack"
CLUSTERGITTRACK = "ClusterGitTrack"
GITTRACKOBJECT = "GitTrackObject"
CLUSTERGITTRACKOBJECT = "ClusterGitTrackObject"

GITTRACKS = "gittracks"
CLUSTERGITTRACKS = "clustergittracks"
GITTRACKOBJECTS = "gittrackobjects"
CLUSTERGITTRACKOBJECTS = "clustergittrackobjects"

PLURALS: dict[str, str] = {
    GITTRACK: GITTRACKS,
    CLUSTERGITTRACK: CLUSTERGITTRACKS,
    GITTRACKOBJECT: GITTRACKOBJECTS,
    CLUSTERGITTRACKOBJECT: CLUSTERGITTRACKOBJECTS,
}
NAMESPACED: dict[str, bool] = {
    GITTRACK: True,
    CLUSTERGITTRACK: False,
    GITTRACKOBJECT: True,
    CLUSTERGITTRACKOBJECT: False,
}

LAST_APPLIED_ANNOTATION = "faros.pusher.com/last-applied-configuration"
UPDATE_STRATEGY_ANNOTATION = "faros.pusher.com/update-strategy"

COMMIT_TIME_ANNOTATION = "faros.pusher.com/commit-time"
"""On a GitTrackObject: committer time of the commit its data last changed at (ours)."""
REPOSITORY_ANNOTATION = "faros.pusher.com/repository"
"""On a GitTrackObject: the repository URL its data came from, credentials removed (ours)."""
SYNCED_AT_ANNOTATION = "faros.pusher.com/synced-at"
"""On a GitTrackObject: when the sync that wrote its current data ran (UTC, ours)."""

PUSHED_AT_ANNOTATION = "faros.pusher.com/pushed-at"
"""On a GitTrack: when the webhook receiver took the push it queued a sync for (UTC, ours);
the sync copies it onto the GitTrackObjects whose data it changes (push-to-applied latency)."""

OWNER_LABEL = "faros.pusher.com/owner-uid"
"""On a GitTrackObject: the UID of the GitTrack that controls it, so a sync lists only its
own GitTrackObjects (ours; GitTrackObjects without it are found and labelled once)."""

FIELD_MANAGER = "faros"


class GitTrackMode(enum.StrEnum):
    """How GitTracks are handled (flag ``--gittrack-mode``)."""

    DISABLED = "Disabled"
    ENABLED = "Enabled"


class ClusterGitTrackMode(enum.StrEnum):
    """How ClusterGitTracks are handled (flag ``--clustergittrack-mode``)."""

    DISABLED = "Disabled"
    INCLUDE_NAMESPACED = "IncludeNamespaced"
    EXCLUDE_NAMESPACED = "ExcludeNamespaced"


class DeployKeyType(enum.StrEnum):
    """Credential kinds a GitTrack's ``deployKey`` may name (empty means SSH)."""

    SSH = "SSH"
    HTTP_BASIC_AUTH = "HTTPBasicAuth"


class UpdateStrategy(enum.StrEnum):
    """Values of the ``faros.pusher.com/update-strategy`` annotation (spec section 3.6)."""

    UPDATE = "update"
    NEVER = "never"
    RECREATE = "recreate"
