"""Whether a GitTrack may manage an object: ignore and scope rules, then ownership.

Ignore rules, spec section 2.6 step 2 and the scope table of section 1.7, checked in
this order; the first that matches gives the reason (an ignored object is counted
and listed in ``ignoredFiles``, it is not an error):

1. namespaced, Faros restricted with ``--namespace``, another namespace:
   ``namespace `<ns>` is not managed by this Faros``
2. the resource is in ``--ignore-resource`` (exact resource, group and version as
   discovery resolves the manifest's apiVersion):
   ``resource `<resource>.<group>/<version>` ignored globally by flag``
3. namespaced, owner a GitTrack, another namespace (or none):
   ``namespace `<ns>` is not managed by this GitTrack``
4. namespaced, owner a ClusterGitTrack in mode ExcludeNamespaced:
   ``namespaced resources cannot be managed by ClusterGitTrack``
5. cluster-scoped, owner a GitTrack: ``a GitTrack cannot manage a cluster-scoped resource``

Ours, after those: 6. namespaced without a namespace, owner a ClusterGitTrack in mode
IncludeNamespaced: ``a namespaced resource without metadata.namespace cannot be managed
by ClusterGitTrack`` (the original tried to create a GitTrackObject with no namespace
and failed on every sync; we do not guess a namespace, see issue #83). Between rules
2 and 3, a ClusterGitTrack reaching the rules while ClusterGitTracks are disabled gets
``ClusterGitTracks are disabled by --clustergittrack-mode`` (the original panicked).

Ownership, spec section 2.6 step 6, "first owner wins". [BUG] fixed: the original only
looked at owners of its own kind, so a GitTrack and a ClusterGitTrack producing the
same GitTrackObject took it from each other on every sync. We refuse a GitTrackObject
that another GitTrack or ClusterGitTrack, or any other controller, owns.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from faros.api import names, types
from faros.core import identity

OWNED_BY_ANOTHER = "child is owned by another controller"
"""The ``ignoredFiles`` reason of an object whose GitTrackObject another owner holds."""

_FAROS_OWNERS = frozenset({names.GITTRACK, names.CLUSTERGITTRACK})


@dataclasses.dataclass(frozen=True, slots=True)
class Owner:
    """The GitTrack or ClusterGitTrack a sync is for (``namespace`` "" for a ClusterGitTrack)."""

    kind: str
    namespace: str
    name: str
    uid: str


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """The flags the ignore rules read: ``--namespace``, ``--ignore-resource`` and the mode."""

    namespace: str = ""
    ignored_resources: Collection[tuple[str, str, str]] = frozenset()
    """(resource, group, version) triples; group "" is the core group."""
    clustergittrack_mode: names.ClusterGitTrackMode = names.ClusterGitTrackMode.INCLUDE_NAMESPACED


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    """Allowed, or ignored with the reason shown in ``ignoredFiles``."""

    allowed: bool
    reason: str = ""


ALLOWED = Decision(allowed=True)


def decide(
    *, key: identity.ObjectKey, resource: str, namespaced: bool, owner: Owner, policy: Policy
) -> Decision:
    """Apply the ignore rules (module docstring) to the child ``key`` of ``owner``.

    ``resource`` (plural) and ``namespaced`` come from discovery for ``key``'s kind.
    """
    reason = _scope(key=key, namespaced=namespaced, owner=owner, policy=policy, resource=resource)
    return Decision(allowed=False, reason=reason) if reason else ALLOWED


def _scope(
    *, key: identity.ObjectKey, namespaced: bool, owner: Owner, policy: Policy, resource: str
) -> str:
    gittrack = owner.kind == names.GITTRACK
    mode = policy.clustergittrack_mode
    if namespaced and policy.namespace and key.namespace != policy.namespace:
        return f"namespace `{key.namespace}` is not managed by this Faros"
    if (resource, key.group, key.version) in policy.ignored_resources:
        return f"resource `{resource}.{key.group}/{key.version}` ignored globally by flag"
    if not gittrack and mode is names.ClusterGitTrackMode.DISABLED:
        return "ClusterGitTracks are disabled by --clustergittrack-mode"
    if namespaced and gittrack and key.namespace != owner.namespace:
        return f"namespace `{key.namespace}` is not managed by this GitTrack"
    if namespaced and mode is names.ClusterGitTrackMode.EXCLUDE_NAMESPACED and not gittrack:
        return "namespaced resources cannot be managed by ClusterGitTrack"
    if not namespaced and gittrack:
        return "a GitTrack cannot manage a cluster-scoped resource"
    if namespaced and not key.namespace:
        return (
            "a namespaced resource without metadata.namespace cannot be managed by ClusterGitTrack"
        )
    return ""


class Ownership(enum.StrEnum):
    """Who holds an existing GitTrackObject, seen from the owner of a sync."""

    ADOPT = "adopt"
    """No GitTrack and no controller owns it: take it (set our owner reference)."""
    OURS = "ours"
    OTHER = "other"
    """Another GitTrack, ClusterGitTrack or controller owns it: leave it alone."""


@dataclasses.dataclass(frozen=True, slots=True)
class OwnerCheck:
    """Result of ``check_owner``; ``other`` names the other owner when there is one."""

    ownership: Ownership
    other: str = ""

    @property
    def decision(self) -> Decision:
        """The object's Decision: ignored with ``OWNED_BY_ANOTHER`` when another owns it."""
        if self.ownership is Ownership.OTHER:
            return Decision(allowed=False, reason=OWNED_BY_ANOTHER)
        return ALLOWED

    def event_message(self, *, gto_name: str) -> str:
        """The ``ControllerMismatch`` Event message (spec section 2.8)."""
        return (
            f"Child '{gto_name}' is owned by another controller: "
            f"child object is owned by '{self.other}'"
        )


def check_owner(*, owner_references: Iterable[Mapping[str, Any]], owner: Owner) -> OwnerCheck:
    """Decide whether ``owner`` may write an existing GitTrackObject (module docstring).

    ``owner_references`` is the GitTrackObject's ``metadata.ownerReferences``. A reference
    is another owner when its UID differs from ours and it is a controller reference or
    names a GitTrack or ClusterGitTrack of our API group, of either kind.
    """
    references = list(owner_references)
    for reference in references:
        if reference.get("uid") != owner.uid and _claims(reference):
            return OwnerCheck(Ownership.OTHER, other=str(reference.get("name", "")))
    if any(reference.get("uid") == owner.uid for reference in references):
        return OwnerCheck(Ownership.OURS)
    return OwnerCheck(Ownership.ADOPT)


def _claims(reference: Mapping[str, Any]) -> bool:
    ours = str(reference.get("apiVersion", "")).partition("/")[0] == names.GROUP
    return reference.get("controller") is True or (ours and reference.get("kind") in _FAROS_OWNERS)


def is_controlled_by(owner_references: Iterable[Mapping[str, Any]], *, uid: str) -> bool:
    """True when the controller reference among ``owner_references`` has ``uid``.

    How a sync finds the GitTrackObjects it owns (spec section 2.2 step 8).
    """
    return any(
        reference.get("controller") is True and reference.get("uid") == uid
        for reference in owner_references
    )


def owner_reference(owner: Owner) -> types.OwnerReference:
    """Return the controller reference a GitTrackObject gets to its owner (spec section 1.5)."""
    return {
        "apiVersion": names.API_VERSION,
        "kind": owner.kind,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }
