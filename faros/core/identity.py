"""Who an object is: its key, the name of the GitTrackObject that holds it, lock keys.

GitTrackObject naming, spec section 1.6: ``lowercase(kind + "-" + name)`` with every
``:`` replaced by ``-`` (ClusterRole ``test:read-ns-pods-svcs`` -> ClusterGitTrackObject
``clusterrole-test-read-ns-pods-svcs``), placed in the child's namespace, or
cluster-scoped for a cluster-scoped child. We keep that name whenever it is a valid
object name and no other object of the same sync wants it, so GitTrackObjects written
by the original controller are found and kept. Two [QUIRK]s of the original are fixed:

- a name that is not a valid object name (a DNS-1123 subdomain: lower-case letters,
  digits, ``-`` and ``.``, at most 253 characters; e.g. a RoleBinding ``alice@example``)
  made the create fail. We replace every invalid character by ``-``, shorten it and
  append ``-`` and 10 hex digits of the SHA-256 of the child's identity
  (``rolebinding-alice-example-3f2a...``);
- two objects of one sync whose names collide (the group is not part of the name, so
  ``Certificate`` of ``cert-manager.io`` and of ``certmanager.k8s.io``; also ``Foo`` and
  ``foo``, ``a:b`` and ``a-b``) overwrote each other's GitTrackObject. One of them keeps
  the plain name - the one whose GitTrackObject already has it, otherwise the first by
  (group, kind, name) - and the others get the hash suffix. A child keeps the
  GitTrackObject it already has, so adding or removing a colliding object never
  renames the GitTrackObject of another (a rename would delete and re-create a child).
  Without a collision the plain name is used even when its GitTrackObject held
  another group before: that is how a manifest moves from ``extensions/v1beta1`` to
  ``apps/v1`` without re-creating its child, as with the original.

The identity of an object is (group, kind, namespace, name); the version is only how it
is written, so two manifests that differ only in apiVersion name the same object.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from faros.api import names

MAX_NAME_LENGTH = 253
"""Longest valid object name (a DNS-1123 subdomain)."""

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_INVALID = re.compile(r"[^a-z0-9-]")
_HASH_LENGTH = 10


@dataclasses.dataclass(frozen=True, slots=True, order=True)
class ObjectKey:
    """Where an object lives in the API: group ("" for core), version, kind, namespace, name.

    ``namespace`` is "" for a cluster-scoped object.
    """

    group: str
    version: str
    kind: str
    namespace: str
    name: str

    @property
    def api_version(self) -> str:
        """``apiVersion`` as written in a manifest (``v1``, ``apps/v1``)."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def namespaced_name(self) -> str:
        """``namespace/name``, or ``name`` when cluster-scoped (the ``ignoredFiles`` key)."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """(group, kind, namespace, name): what makes two keys the same object."""
        return (self.group, self.kind, self.namespace, self.name)


def child_key(manifest: Mapping[str, Any], *, namespaced: bool) -> ObjectKey:
    """Return the key of a manifest checked by ``faros.core.manifests.parse``.

    ``namespaced`` comes from discovery: like kubectl, a namespace written on a
    cluster-scoped object is not part of its key.
    """
    group, _, version = str(manifest["apiVersion"]).rpartition("/")
    metadata = manifest["metadata"]
    namespace = str(metadata.get("namespace") or "") if namespaced else ""
    return ObjectKey(group, version, str(manifest["kind"]), namespace, str(metadata["name"]))


def gto_key(*, namespace: str, name: str) -> ObjectKey:
    """Return the key of a GitTrackObject; of a ClusterGitTrackObject when ``namespace`` is ""."""
    kind = names.GITTRACKOBJECT if namespace else names.CLUSTERGITTRACKOBJECT
    return ObjectKey(names.GROUP, names.VERSION, kind, namespace, name)


def gittrack_key(*, namespace: str, name: str) -> ObjectKey:
    """Return the key of a GitTrack, or of a ClusterGitTrack when ``namespace`` is ""."""
    kind = names.GITTRACK if namespace else names.CLUSTERGITTRACK
    return ObjectKey(names.GROUP, names.VERSION, kind, namespace, name)


def is_valid_name(name: str) -> bool:
    """True when ``name`` is a valid name for a GitTrackObject (a DNS-1123 subdomain)."""
    return len(name) <= MAX_NAME_LENGTH and _DNS_SUBDOMAIN.fullmatch(name) is not None


def plain_name(child: ObjectKey) -> str:
    """Return the original controller's GitTrackObject name (spec 1.6), valid or not."""
    return f"{child.kind}-{child.name}".lower().replace(":", "-")


def hashed_name(child: ObjectKey) -> str:
    """Return a valid GitTrackObject name unique to the child: sanitised name + hash."""
    digest = hashlib.sha256("/".join(child.identity).encode()).hexdigest()[:_HASH_LENGTH]
    labels = (_INVALID.sub("-", label).strip("-") for label in plain_name(child).split("."))
    stem = ".".join(label for label in labels if label)
    stem = stem[: MAX_NAME_LENGTH - _HASH_LENGTH - 1].rstrip(".-")
    return f"{stem}-{digest}" if stem else digest


def gto_name(child: ObjectKey) -> str:
    """Return the child's GitTrackObject name, ignoring collisions with other children."""
    name = plain_name(child)
    return name if is_valid_name(name) else hashed_name(child)


def gto_keys(
    children: Iterable[ObjectKey], *, existing: Mapping[ObjectKey, ObjectKey] | None = None
) -> dict[ObjectKey, ObjectKey]:
    """Map each child to the key of the GitTrackObject that holds it (module docstring).

    ``existing`` maps the key of each GitTrackObject that already exists to the child it
    holds (read from its ``spec.data``). A child keeps the GitTrackObject it already has
    (plain or hashed), so a name never moves from one object to another while both exist.
    """
    children = list(children)
    held = {child.identity: gto for gto, child in (existing or {}).items()}
    chosen: dict[tuple[str, str, str, str], ObjectKey] = {}
    contenders: dict[ObjectKey, list[ObjectKey]] = {}
    for child in {child.identity: child for child in children}.values():
        plain = gto_key(namespace=child.namespace, name=gto_name(child))
        if held.get(child.identity) in (plain, _hashed_key(child)):
            chosen[child.identity] = held[child.identity]
        else:
            contenders.setdefault(plain, []).append(child)
    claimed = set(chosen.values())
    for plain, rivals in contenders.items():
        winner = None if plain in claimed else min(rivals, key=_precedence)
        for child in rivals:
            chosen[child.identity] = plain if child is winner else _hashed_key(child)
    return {child: chosen[child.identity] for child in children}


def _hashed_key(child: ObjectKey) -> ObjectKey:
    return gto_key(namespace=child.namespace, name=hashed_name(child))


def _precedence(child: ObjectKey) -> tuple[str, str, str]:
    return (child.group, child.kind, child.name)


def schedule_entry(key: ObjectKey) -> str:
    """The name of the sync schedule's entry of a GitTrack (or ClusterGitTrack) ``key``:
    ``gittrack:<namespace>/<name>`` or ``clustergittrack:<name>``."""
    return f"{key.kind.lower()}:{key.namespaced_name}"


def scheduled_gittrack(entry: str) -> ObjectKey | None:
    """The GitTrack (or ClusterGitTrack) a schedule entry named ``entry`` syncs; None for a
    name of any other form."""
    kind, colon, rest = entry.partition(":")
    namespace, _, name = rest.rpartition("/")
    if not colon or not name or kind not in _SCHEDULED_KINDS:
        return None
    if (kind == names.CLUSTERGITTRACK.lower()) != (namespace == ""):
        return None
    return gittrack_key(namespace=namespace, name=name)


_SCHEDULED_KINDS = (names.GITTRACK.lower(), names.CLUSTERGITTRACK.lower())


def lock_key(key: ObjectKey) -> str:
    """Return the Redis key of the per-object lock: ``faros:lock:<group>/<kind>/<ns>/<name>``.

    The version is left out: two versions of one object share one lock.
    """
    return f"faros:lock:{key.group}/{key.kind}/{key.namespace}/{key.name}"


def dedup_key(key: ObjectKey, *, task: str = "") -> str:
    """Return the de-duplication ("dirty") key of work on ``key``: ``faros:dirty:...``.

    The key's kind says which task the work is (GitTrack: sync, GitTrackObject: apply);
    ``task`` names another one (``refresh``: ``faros:dirty:refresh:...``).
    """
    scope = f"{task}:" if task else ""
    return f"faros:dirty:{scope}{key.group}/{key.kind}/{key.namespace}/{key.name}"


def seen_key(key: ObjectKey) -> str:
    """Return the key under which the resourceVersion of a GitTrackObject's child is noted
    when an apply left it in sync: ``faros:seen:<group>/<kind>/<ns>/<name>`` of the GTO."""
    return f"faros:seen:{key.group}/{key.kind}/{key.namespace}/{key.name}"


def in_place_key(key: ObjectKey) -> str:
    """Return the key a sync marks before it writes a GitTrackObject whose child it applies
    itself: ``faros:in-place:<group>/<kind>/<ns>/<name>`` of the GTO."""
    return f"faros:in-place:{key.group}/{key.kind}/{key.namespace}/{key.name}"


def synced_key(key: ObjectKey) -> str:
    """Return the key under which the inputs of a GitTrack's last clean sync are noted:
    ``faros:synced:<group>/<kind>/<ns>/<name>``."""
    return f"faros:synced:{key.group}/{key.kind}/{key.namespace}/{key.name}"
