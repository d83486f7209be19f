"""The GitTracks a push is for, and the Secret each one's own webhook secret is in.

A GitTrack is a candidate for a delivery when it is handled under the modes and scope
(``routing.is_managed``) and its repository is one the delivery names (``repourls``). A push
then wakes a candidate when it moved, without deleting it, the reference the GitTrack follows:
``main`` or ``refs/heads/main`` for a branch, ``v1`` or ``refs/tags/v1`` for a tag. A GitTrack
pinned to a full commit SHA follows no reference and is never woken.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from faros.api import names
from faros.core import identity, routing
from faros.core.webhooks import payloads, repourls

_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")


@dataclasses.dataclass(frozen=True, slots=True)
class SecretRef:
    """One key of one Secret."""

    namespace: str
    name: str
    key: str


@dataclasses.dataclass(frozen=True, slots=True)
class Scope:
    """Which GitTracks this process handles: the ``--gittrack-mode``, ``--clustergittrack-mode``
    and ``--namespace`` flags, as the watchers read them."""

    gittracks: bool = True
    cluster_mode: names.ClusterGitTrackMode = names.ClusterGitTrackMode.INCLUDE_NAMESPACED
    namespace: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Candidate:
    """A handled GitTrack following a repository a delivery names."""

    key: identity.ObjectKey
    reference: str
    secret: SecretRef | None


def candidates(
    tracks: Iterable[Mapping[str, Any]], *, repositories: Sequence[str], scope: Scope
) -> list[Candidate]:
    """The GitTracks and ClusterGitTracks in ``tracks`` that follow one of ``repositories``."""
    wanted = {named for url in repositories if (named := repourls.normalise(url))}
    if not wanted:
        return []
    found: list[Candidate] = []
    for track in tracks:
        spec = track.get("spec") or {}
        repository = spec.get("repository")
        if not isinstance(repository, str) or repourls.normalise(repository) not in wanted:
            continue
        if not routing.is_managed(
            track, gittrack=scope.gittracks, cluster_mode=scope.cluster_mode,
            namespace=scope.namespace,
        ):  # fmt: skip
            continue
        reference = spec.get("reference")
        found.append(
            Candidate(
                key=routing.key_of(track),
                reference=reference if isinstance(reference, str) else "",
                secret=secret_ref(track),
            )
        )
    return sorted(found, key=lambda candidate: candidate.key)


def is_woken(reference: str, changes: Iterable[payloads.RefChange]) -> bool:
    """Whether a push that made ``changes`` moved the reference a GitTrack follows."""
    if not reference or is_pinned(reference):
        return False
    if reference.startswith("refs/"):
        wanted = {reference}
    else:
        wanted = {payloads.BRANCHES + reference, payloads.TAGS + reference}
    return any(change.ref in wanted and not change.deleted for change in changes)


def is_pinned(reference: str) -> bool:
    """A full commit SHA (SHA-1 or SHA-256): no push ever moves it."""
    return _FULL_SHA.fullmatch(reference) is not None


def secret_ref(track: Mapping[str, Any]) -> SecretRef | None:
    """Where a GitTrack's own webhook secret is (``spec.webhookSecretRef``), or None.

    A GitTrack reads only its own namespace (another namespace is ignored); a ClusterGitTrack
    must name the namespace.
    """
    ref = (track.get("spec") or {}).get("webhookSecretRef")
    if not isinstance(ref, dict):
        return None
    name, key, namespace = (str(ref.get(field) or "") for field in ("name", "key", "namespace"))
    own = str((track.get("metadata") or {}).get("namespace") or "")
    if track.get("kind") == names.GITTRACK:
        if namespace and namespace != own:
            return None
        namespace = own
    if not (name and key and namespace):
        return None
    return SecretRef(namespace=namespace, name=name, key=key)
