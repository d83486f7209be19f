"""What a GitTrack sync should write: one GitTrackObject per allowed object (spec 2.6).

Given the parsed objects, what discovery knows of their kinds, the GitTrackObjects that
already exist and the owner, decide for each object: ignored (with its reason), or the
GitTrackObject it needs and whether that means a create, an update or nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from faros.api import names, types
from faros.core import delivery, identity, ignore, prune, rules, synccalc


@dataclasses.dataclass(frozen=True, slots=True)
class Kind:
    """What discovery says of a manifest's kind; None of it is known for an unknown kind."""

    plural: str
    namespaced: bool


class Action(enum.StrEnum):
    """The write one GitTrackObject needs."""

    CREATE = "create"
    UPDATE = "update"
    NOTHING = "nothing"


@dataclasses.dataclass(frozen=True, slots=True)
class Step:
    """One allowed object: its GitTrackObject and the write it needs."""

    child: identity.ObjectKey
    gto: identity.ObjectKey
    body: dict[str, Any]
    action: Action
    in_sync: bool
    """The existing GitTrackObject already says ObjectInSync=True."""
    finalizers: tuple[str, ...] | None = None
    """An update's new ``metadata.finalizers`` (prune protection came or went); None: kept."""


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """Steps for allowed objects, results for the others, and ControllerMismatch events."""

    steps: tuple[Step, ...]
    ignored: tuple[synccalc.ObjectResult, ...]
    """Objects not written: ignored by a rule, defined twice, or of a kind not served."""
    mismatches: tuple[tuple[str, str], ...]
    """(``ignoredFiles`` key, Event message) per object whose GitTrackObject another owns."""
    unresolved: frozenset[tuple[str, str]] = frozenset()
    """(group, kind) of every manifest whose kind discovery could not resolve this sync."""
    waits: tuple[str, ...] = ()
    """What objects held back this sync wait for (``waiting for Namespace team ...``)."""


def plan(
    *,
    objects: Sequence[Mapping[str, Any]],
    kinds: Mapping[tuple[str, str], Kind | None],
    existing: Mapping[identity.ObjectKey, Mapping[str, Any]],
    owner: rules.Owner,
    policy: rules.Policy,
    stamp: Mapping[str, str] | None = None,
    origins: Sequence[str] = (),
    pending_namespaces: frozenset[str] = frozenset(),
    pending_kinds: frozenset[tuple[str, str]] = frozenset(),
    ignore_rules: Sequence[ignore.Rule] = (),
) -> Plan:
    """Decide, for every parsed object, what the sync writes.

    ``kinds`` maps (apiVersion, kind) to discovery's answer. ``existing`` maps the key of
    every GitTrackObject that exists in scope (whoever owns it) to its body. ``origins`` names
    the file of each object (same order), for the messages about objects defined twice.
    ``stamp`` holds annotations written with a GitTrackObject whenever it is created or its
    data changes (the commit time and repository, for time-to-deploy); they alone never
    cause a write.

    An object defined twice (same group, kind, namespace and name) is taken from its first
    file in path order; the others are reported as failed, naming both files. A kind
    discovery cannot resolve now (a CRD not established yet, a served version switched off,
    an API server restarting) is never guessed over what exists: when a GitTrackObject
    already holds an object of that group, kind and name, it is kept exactly as it is (same
    scope, same data) and the object is reported as waiting; only a new object's
    GitTrackObject is written, namespaced when the manifest names a namespace, so that a
    CRD and its resources can be applied from one repository.

    Order within the sync: an object whose Namespace is defined in this sync and not Active
    yet (``pending_namespaces``), or whose kind is defined by a CRD of this sync that is not
    served yet (``pending_kinds``, (group, kind)), is held back, without error, until they
    are: the sync runs again shortly (``waits`` says what for).
    """
    held = {key: held_child(body) for key, body in existing.items()}
    waits: set[str] = set()
    children: list[tuple[identity.ObjectKey, Mapping[str, Any], Kind | None, str]] = []
    waiting: list[synccalc.ObjectResult] = []
    unresolved: set[tuple[str, str]] = set()
    for index, manifest in enumerate(objects):
        origin = origins[index] if index < len(origins) else ""
        kind = kinds.get((str(manifest["apiVersion"]), str(manifest["kind"])))
        blocker = _blocker(manifest, kind, pending_namespaces, pending_kinds)
        if blocker:
            guess = identity.child_key(manifest, namespaced=bool(manifest["metadata"].get(
                "namespace")))  # fmt: skip
            key = _holding(held, guess) or identity.gto_key(
                namespace=guess.namespace, name=identity.gto_name(guess)
            )
            waits.add(blocker)
            waiting.append(synccalc.ObjectResult(key, synccalc.Outcome.WAITING, blocker))
            continue
        if kind is None:
            child = identity.child_key(manifest, namespaced=True)
            unresolved.add((child.group, child.kind))
            kept = _holding(held, child)
            if kept is not None:
                waiting.append(_waiting(kept, manifest))
                continue
        namespaced = kind.namespaced if kind else bool(manifest["metadata"].get("namespace"))
        children.append(
            (identity.child_key(manifest, namespaced=namespaced), manifest, kind, origin)
        )
    children, twice = _first_definitions(children)
    keys = identity.gto_keys(
        [child for child, _, _, _ in children],
        existing={key: child for key, child in held.items() if child is not None},
    )
    steps: list[Step] = []
    common = _Common.of(owner, stamp)  # one copy for every body (10,000 bodies: about 9 MiB)
    ignored: list[synccalc.ObjectResult] = [*waiting]
    mismatches: list[tuple[str, str]] = []
    for child, manifest, kind, _ in children:
        gto = keys[child]
        namespaced = kind.namespaced if kind else bool(child.namespace)
        decision = rules.decide(
            key=child, resource=kind.plural if kind else "", namespaced=namespaced,
            owner=owner, policy=policy,
        )  # fmt: skip
        current = existing.get(gto)
        if decision.allowed and current is not None:
            check = rules.check_owner(
                owner_references=current.get("metadata", {}).get("ownerReferences", []),
                owner=owner,
            )
            decision = check.decision
            if not decision.allowed:
                mismatches.append((gto.namespaced_name, check.event_message(gto_name=gto.name)))
        if not decision.allowed:
            ignored.append(synccalc.ObjectResult(gto, synccalc.Outcome.IGNORED, decision.reason))
            continue
        body = gto_body(gto=gto, manifest=manifest, owner=owner, common=common,
                        ignored=ignore.for_object(ignore_rules, child))  # fmt: skip
        steps.append(
            Step(
                child=child,
                gto=gto,
                body=body,
                action=write_needed(current, body),
                in_sync=current is not None and is_in_sync(current),
                finalizers=_finalizers(current, protected=prune.is_protected(manifest)),
            )
        )
    ignored += [
        synccalc.ObjectResult(keys[first], synccalc.Outcome.FAILED, message)
        for first, message in twice
    ]
    return Plan(tuple(steps), tuple(ignored), tuple(mismatches), frozenset(unresolved),
                tuple(sorted(waits)))  # fmt: skip


def inputs(*, generation: int, settings: Sequence[object], version: str) -> str:
    """What a sync's result depends on besides the commit: the GitTrack's generation, the
    settings that shape a sync, and Faros's version. With the commit it makes the note that
    lets a later sync of the same inputs skip everything (``<inputs>@<commit>``)."""
    digest = hashlib.sha256(repr((tuple(map(str, settings)), version)).encode()).hexdigest()
    return f"{generation}/{digest[:16]}"


CRD_GROUP = "apiextensions.k8s.io"


def prerequisites(
    objects: Sequence[Mapping[str, Any]],
) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """The Namespaces and the CRDs' (group, kind) that ``objects`` define: what the sync
    makes ready before the objects that need them."""
    namespaces: set[str] = set()
    defined: set[tuple[str, str]] = set()
    for manifest in objects:
        group = str(manifest["apiVersion"]).rpartition("/")[0]
        if group == "" and manifest["kind"] == "Namespace":
            namespaces.add(str(manifest["metadata"]["name"]))
        elif group == CRD_GROUP and manifest["kind"] == "CustomResourceDefinition":
            spec = manifest.get("spec") or {}
            kind = (spec.get("names") or {}).get("kind")
            if isinstance(spec.get("group"), str) and isinstance(kind, str):
                defined.add((spec["group"], kind))
    return frozenset(namespaces), frozenset(defined)


def _blocker(
    manifest: Mapping[str, Any],
    kind: Kind | None,
    pending_namespaces: frozenset[str],
    pending_kinds: frozenset[tuple[str, str]],
) -> str:
    """What ``manifest`` must wait for this sync ("" when nothing)."""
    group = str(manifest["apiVersion"]).rpartition("/")[0]
    if kind is None and (group, str(manifest["kind"])) in pending_kinds:
        return (
            f"waiting for the CustomResourceDefinition of {manifest['kind']}.{group} to be served"
        )
    namespace = manifest["metadata"].get("namespace")
    namespaced = kind.namespaced if kind else bool(namespace)
    if namespaced and namespace in pending_namespaces:
        return f"waiting for Namespace {namespace} to be Active"
    return ""


_Child = tuple[identity.ObjectKey, Mapping[str, Any], "Kind | None", str]


def _first_definitions(
    children: Sequence[_Child],
) -> tuple[list[_Child], list[tuple[identity.ObjectKey, str]]]:
    """Keep the first definition of each object; a message for each later one."""
    first: dict[tuple[str, str, str, str], _Child] = {}
    twice: list[tuple[identity.ObjectKey, str]] = []
    for entry in children:
        child, manifest, _, origin = entry
        if child.identity not in first:
            first[child.identity] = entry
            continue
        kept = first[child.identity]
        where = f"{child.namespace}/{child.name}" if child.namespace else child.name
        twice.append(
            (
                kept[0],
                f"{manifest['kind']} {where} is defined more than once: in '{kept[3]}' and in "
                f"'{origin}'; the definition in '{kept[3]}' (first in path order) is applied",
            )
        )
    return list(first.values()), twice


def _holding(
    held: Mapping[identity.ObjectKey, identity.ObjectKey | None], child: identity.ObjectKey
) -> identity.ObjectKey | None:
    """The GitTrackObject holding an object of ``child``'s group, kind and name, in the
    manifest's namespace or cluster-scoped (the scope discovery could not tell)."""
    found = [
        gto
        for gto, held_key in held.items()
        if held_key is not None
        and (held_key.group, held_key.kind, held_key.name) == (child.group, child.kind, child.name)
        and held_key.namespace in (child.namespace, "")
    ]
    return min(found) if found else None


def _waiting(gto: identity.ObjectKey, manifest: Mapping[str, Any]) -> synccalc.ObjectResult:
    message = (
        f"kind {manifest['kind']} in {manifest['apiVersion']} is not served by the API server "
        f"now; GitTrackObject '{gto.name}' is kept as it is until discovery finds the kind"
    )
    return synccalc.ObjectResult(gto, synccalc.Outcome.FAILED, message)


@dataclasses.dataclass(frozen=True, slots=True)
class _Common:
    """The metadata every GitTrackObject of one owner and sync carries: shared, never
    changed (the bodies are serialised, not edited)."""

    labels: dict[str, str]
    references: list[types.OwnerReference]
    annotations: dict[str, str] | None

    @classmethod
    def of(cls, owner: rules.Owner, annotations: Mapping[str, str] | None) -> _Common:
        return cls({names.OWNER_LABEL: owner.uid}, [rules.owner_reference(owner)],
                   dict(annotations) if annotations else None)  # fmt: skip


def gto_body(
    *,
    gto: identity.ObjectKey,
    manifest: Mapping[str, Any],
    owner: rules.Owner,
    annotations: Mapping[str, str] | None = None,
    ignored: Sequence[Mapping[str, Any]] = (),
    common: _Common | None = None,
) -> dict[str, Any]:
    """The GitTrackObject (or ClusterGitTrackObject) holding ``manifest`` (spec 1.4, 1.5), and
    the ``ignoreDifferences`` rules that select it (``ignored``; none: no field). ``common``,
    when given, stands for ``owner`` and ``annotations``: their labels, owner reference and
    annotations, made once for many bodies."""
    common = common or _Common.of(owner, annotations)
    metadata: dict[str, Any] = {
        "name": gto.name,
        "labels": common.labels,
        "ownerReferences": common.references,
    }
    if gto.namespace:
        metadata["namespace"] = gto.namespace
    if prune.is_protected(manifest):
        metadata["finalizers"] = [prune.RELEASE_FINALIZER]
    if common.annotations:
        metadata["annotations"] = common.annotations
    return {
        "apiVersion": names.API_VERSION,
        "kind": gto.kind,
        "metadata": metadata,
        "spec": {
            "name": str(manifest["metadata"]["name"]),
            "kind": str(manifest["kind"]),
            "data": encode(manifest),
            **({"ignoreDifferences": [dict(rule) for rule in ignored]} if ignored else {}),
        },
    }


def encode(manifest: Mapping[str, Any]) -> str:
    """``spec.data``: the manifest as compact JSON with sorted keys, base64-encoded."""
    text = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def held_child(body: Mapping[str, Any]) -> identity.ObjectKey | None:
    """The child a GitTrackObject holds, read from its ``spec.data``; None if unreadable."""
    try:
        manifest = json.loads(base64.b64decode(body.get("spec", {}).get("data", "")))
        namespace = body.get("metadata", {}).get("namespace", "")
        return identity.child_key(manifest, namespaced=bool(namespace))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def is_in_sync(body: Mapping[str, Any]) -> bool:
    """True when a GitTrackObject's status says ObjectInSync=True for its current spec.

    A status written for an older generation says nothing about the current one: the apply
    of the new spec may not have run (a lost task, a killed worker).
    """
    return delivery.is_generation_applied(body)


def update_patch(
    body: Mapping[str, Any], *, finalizers: Sequence[str] | None = None
) -> dict[str, Any]:
    """The merge patch that makes an existing GitTrackObject equal to ``body``'s spec and owner
    (its other labels and annotations are left alone), and sets ``finalizers`` when given."""
    metadata = {
        "labels": body["metadata"]["labels"],
        "ownerReferences": body["metadata"]["ownerReferences"],
    }
    if "annotations" in body["metadata"]:
        metadata["annotations"] = body["metadata"]["annotations"]
    if finalizers is not None:
        metadata["finalizers"] = list(finalizers)
    return {"metadata": metadata, "spec": body["spec"]}


def _finalizers(current: Mapping[str, Any] | None, *, protected: bool) -> tuple[str, ...] | None:
    """The finalizers an existing GitTrackObject needs when prune protection came or went."""
    if current is None:
        return None
    have = list((current.get("metadata") or {}).get("finalizers") or [])
    want = prune.finalizers(have, protected=protected)
    return None if want == have else tuple(want)


def write_needed(current: Mapping[str, Any] | None, body: Mapping[str, Any]) -> Action:
    """The write that makes the GitTrackObject ``current`` (None: absent) hold ``body``."""
    if current is None:
        return Action.CREATE
    meta = current.get("metadata", {})
    owned = meta.get("ownerReferences", []) == body["metadata"]["ownerReferences"]
    labels = meta.get("labels") or {}
    labelled = all(labels.get(key) == value for key, value in body["metadata"]["labels"].items())
    finalizing = prune.RELEASE_FINALIZER in (meta.get("finalizers") or [])
    protected = prune.RELEASE_FINALIZER in body["metadata"].get("finalizers", [])
    same = owned and labelled and current.get("spec") == body["spec"]
    return Action.NOTHING if same and finalizing == protected else Action.UPDATE


def is_inventory_complete(previous: Mapping[str, Any] | None, *, labelled: int) -> bool:
    """Whether the GitTrackObjects found by ``names.OWNER_LABEL`` (``labelled`` of them) can be
    all a GitTrack owns: not when its last sync applied more objects than that, as when
    GitTrackObjects written before the label existed (by the Go controller, or an older
    Faros) are still unlabelled. Then the sync reads its whole scope once and labels them."""
    return labelled >= int((previous or {}).get("objectsApplied") or 0)
