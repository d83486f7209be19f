"""What a GitTrack sync should write: one GitTrackObject per allowed object (spec 2.6).

Given the parsed objects, what discovery knows of their kinds, the GitTrackObjects that
already exist and the owner, decide for each object: ignored (with its reason), or the
GitTrackObject it needs and whether that means a create, an update or nothing.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

from faros.api import conditions, names
from faros.core import identity, rules, synccalc


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


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """Steps for allowed objects, results for ignored ones, and ControllerMismatch events."""

    steps: tuple[Step, ...]
    ignored: tuple[synccalc.ObjectResult, ...]
    mismatches: tuple[tuple[str, str], ...]
    """(``ignoredFiles`` key, Event message) per object whose GitTrackObject another owns."""


def plan(
    *,
    objects: Sequence[Mapping[str, Any]],
    kinds: Mapping[tuple[str, str], Kind | None],
    existing: Mapping[identity.ObjectKey, Mapping[str, Any]],
    owner: rules.Owner,
    policy: rules.Policy,
    stamp: Mapping[str, str] | None = None,
) -> Plan:
    """Decide, for every parsed object, what the sync writes.

    ``kinds`` maps (apiVersion, kind) to discovery's answer; an unknown kind (a CRD not
    established yet) is taken as namespaced when the manifest names a namespace, and its
    GitTrackObject is written anyway: applying it waits for the kind. ``existing`` maps the
    key of every GitTrackObject that exists in scope (whoever owns it) to its body.
    ``stamp`` holds annotations written with a GitTrackObject whenever it is created or its
    data changes (the commit time and repository, for time-to-deploy); they alone never
    cause a write.
    """
    children: list[tuple[identity.ObjectKey, Mapping[str, Any], Kind | None]] = []
    for manifest in objects:
        kind = kinds.get((str(manifest["apiVersion"]), str(manifest["kind"])))
        namespaced = kind.namespaced if kind else bool(manifest["metadata"].get("namespace"))
        children.append((identity.child_key(manifest, namespaced=namespaced), manifest, kind))
    held = {key: held_child(body) for key, body in existing.items()}
    keys = identity.gto_keys(
        [child for child, _, _ in children],
        existing={key: child for key, child in held.items() if child is not None},
    )
    steps: list[Step] = []
    ignored: list[synccalc.ObjectResult] = []
    mismatches: list[tuple[str, str]] = []
    for child, manifest, kind in children:
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
        body = gto_body(gto=gto, manifest=manifest, owner=owner, annotations=stamp)
        steps.append(
            Step(
                child=child,
                gto=gto,
                body=body,
                action=_action(current, body),
                in_sync=current is not None and is_in_sync(current),
            )
        )
    return Plan(tuple(steps), tuple(ignored), tuple(mismatches))


def gto_body(
    *,
    gto: identity.ObjectKey,
    manifest: Mapping[str, Any],
    owner: rules.Owner,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The GitTrackObject (or ClusterGitTrackObject) holding ``manifest`` (spec 1.4, 1.5)."""
    metadata: dict[str, Any] = {"name": gto.name, "ownerReferences": [rules.owner_reference(owner)]}
    if gto.namespace:
        metadata["namespace"] = gto.namespace
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {
        "apiVersion": names.API_VERSION,
        "kind": gto.kind,
        "metadata": metadata,
        "spec": {
            "name": str(manifest["metadata"]["name"]),
            "kind": str(manifest["kind"]),
            "data": encode(manifest),
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
    """True when a GitTrackObject's status says ObjectInSync=True."""
    for condition in body.get("status", {}).get("conditions", []):
        if condition.get("type") == conditions.GitTrackObjectConditionType.OBJECT_IN_SYNC:
            return bool(condition.get("status") == conditions.ConditionStatus.TRUE)
    return False


def update_patch(body: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that makes an existing GitTrackObject equal to ``body``'s spec and owner."""
    metadata = {"ownerReferences": body["metadata"]["ownerReferences"]}
    if "annotations" in body["metadata"]:
        metadata["annotations"] = body["metadata"]["annotations"]
    return {"metadata": metadata, "spec": body["spec"]}


def _action(current: Mapping[str, Any] | None, body: Mapping[str, Any]) -> Action:
    if current is None:
        return Action.CREATE
    references = current.get("metadata", {}).get("ownerReferences", [])
    owned = references == body["metadata"]["ownerReferences"]
    return Action.NOTHING if owned and current.get("spec") == body["spec"] else Action.UPDATE
