"""Decide what applying one GitTrackObject means for its child (spec sections 3.3-3.6, 3.9).

Pure: given the GitTrackObject, the live child (or None) and the child kind's patch schema,
return the child to write and the action. The task executes the action; a dry-run and
conflict retries happen there.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import enum
import json
from collections.abc import Mapping, Sequence
from typing import Any

from faros.api import conditions, names
from faros.core import errors, merge, patchmeta, yamldocs

Reason = conditions.GitTrackObjectReason
APPLY_PATCH = "application/apply-patch+yaml"


class Action(enum.StrEnum):
    """What the task does with the child."""

    CREATE = "create"
    PATCH = "patch"
    APPLY = "apply"
    """Server-side apply (creates or updates); the body is the desired object."""
    ADOPT = "adopt"
    NOTHING = "nothing"


class ApplyError(errors.InputError):
    """The GitTrackObject cannot be applied as it is (bad input, terminal); ``reason`` is its
    ObjectInSync reason."""

    def __init__(self, reason: conditions.GitTrackObjectReason, message: str) -> None:
        super().__init__(reason=reason, message=message)
        self.reason = reason
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.message))

    def __str__(self) -> str:
        return self.message


@dataclasses.dataclass(frozen=True, slots=True)
class Child:
    """The child a GitTrackObject describes, with our controller reference added."""

    desired: dict[str, Any]
    strategy: names.UpdateStrategy | None
    """None when the annotation holds an unknown value (reported on update only)."""
    strategy_text: str
    recorded: dict[str, Any] | None = None
    """What the last-applied annotation records when not ``desired``: the object as Git has it,
    when ``spec.ignoreDifferences`` made ``desired`` take live values (a change of an ignored
    field then changes no annotation, and causes no write)."""


@dataclasses.dataclass(frozen=True, slots=True)
class ApplyPlan:
    """The action and, for CREATE, PATCH and ADOPT, the body and its content type."""

    action: Action
    body: dict[str, Any] = dataclasses.field(default_factory=dict)
    content_type: str = merge.PatchType.MERGE


def decode(gto: Mapping[str, Any]) -> Child:
    """Read the child from ``spec.data`` (JSON or single-document YAML) and own it.

    Raises ``ApplyError`` with the original's reasons and messages.
    """
    spec = gto.get("spec", {})
    label = f"{spec.get('kind', '')} {spec.get('name', '')}"
    try:
        data = base64.b64decode(str(spec.get("data", "")), validate=True)
        try:  # JSON as the sync writes it, numbers exact (int() refuses NaN and Infinity)
            manifest = json.loads(data.decode("utf-8"), parse_constant=int)
        except (ValueError, RecursionError):  # else one YAML document, read as files are
            manifest = yamldocs.single(data)
    except (binascii.Error, yamldocs.DocumentError) as error:  # neither quotes the data
        raise ApplyError(
            Reason.ERROR_UNMARSHALLING_DATA,
            f"error reading child {label}: unable to unmarshal data: {_one_line(error)}",
        ) from None
    if not isinstance(manifest, dict) or not manifest.get("kind") or not manifest.get("apiVersion"):
        raise ApplyError(
            Reason.ERROR_UNMARSHALLING_DATA,
            f"error reading child {label}: unable to unmarshal data: "
            "not a Kubernetes object (apiVersion and kind are required)",
        )
    metadata = manifest.setdefault("metadata", {})
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise ApplyError(
            Reason.ERROR_GETTING_CHILD,
            f"error reading child {label}: unable to get child: name cannot be empty",
        )
    manifest = _owned(manifest, gto)
    text_strategy = str(
        (metadata.get("annotations") or {}).get(names.UPDATE_STRATEGY_ANNOTATION, "")
    )
    try:
        strategy: names.UpdateStrategy | None = names.UpdateStrategy(text_strategy or "update")
    except ValueError:
        strategy = None
    return Child(desired=manifest, strategy=strategy, strategy_text=text_strategy)


def _owned(manifest: dict[str, Any], gto: Mapping[str, Any]) -> dict[str, Any]:
    meta = gto["metadata"]
    ours = {
        "apiVersion": names.API_VERSION,
        "kind": str(gto.get("kind", names.GITTRACKOBJECT)),
        "name": str(meta["name"]),
        "uid": str(meta["uid"]),
        "controller": True,
        "blockOwnerDeletion": True,
    }
    references = list(manifest["metadata"].get("ownerReferences") or [])
    _refuse_other_controller(manifest, references, ours_uid=str(meta["uid"]))
    result = copy.deepcopy(manifest)
    result["metadata"]["ownerReferences"] = [
        r for r in references if r.get("uid") != ours["uid"]
    ] + [ours]
    return result


def plan(
    *,
    child: Child,
    live: Mapping[str, Any] | None,
    meta: patchmeta.Schema | None,
    server_side: bool = False,
) -> ApplyPlan:
    """Decide the write for one child (spec 3.3 steps 4-5, 3.6).

    With ``server_side`` the desired object is sent as a server-side apply (the API server
    merges, field manager ``faros``) instead of a client-side three-way patch.
    """
    desired = child.desired
    if live is None and server_side:
        return ApplyPlan(Action.APPLY, copy.deepcopy(desired), APPLY_PATCH)
    if live is None:
        return ApplyPlan(Action.CREATE, merge.modified_of(desired, recorded=child.recorded),
                         "application/json")  # fmt: skip
    _check_controller(desired, live)
    kind, name = desired["kind"], desired["metadata"]["name"]
    if child.strategy is None:
        raise ApplyError(
            Reason.ERROR_UPDATING_CHILD,
            f"error updating child {kind} {name}: unable to get update strategy: "
            f"invalid update strategy: {child.strategy_text}",
        )
    if child.strategy is names.UpdateStrategy.NEVER:
        return _adopt(desired, live)
    if server_side:
        return ApplyPlan(Action.APPLY, copy.deepcopy(desired), APPLY_PATCH)
    try:
        patch = merge.three_way(
            original=merge.original_of(live),
            modified=merge.modified_of(desired, recorded=child.recorded),
            current=live,
            meta=meta,
        )
    except (merge.MergeError, patchmeta.SchemaError) as error:
        raise ApplyError(
            Reason.ERROR_UPDATING_CHILD,
            f"error updating child {kind} {name}: unable to update child: {error}",
        ) from None
    if patch.is_empty:
        return ApplyPlan(Action.NOTHING)
    return ApplyPlan(Action.PATCH, patch.body, str(patch.content_type))


def creates_blind(gto: Mapping[str, Any], *, summary: bool, server_side: bool) -> bool:
    """Whether an apply's first attempt creates the child without reading it first: with
    ``--events=summary`` and client-side applies, for a GitTrackObject no apply has reported
    on yet (a sync just wrote it). Its child is almost always absent; if it exists after all,
    the create fails with AlreadyExists (nothing written, no Event) and the next attempt reads
    it and plans as usual. A cold sync saves a GET per object."""
    status = gto.get("status") or {}
    return summary and not server_side and not status.get("conditions")


def _adopt(desired: Mapping[str, Any], live: Mapping[str, Any]) -> ApplyPlan:
    """``never``: add only our controller reference; the content is never changed."""
    ours = desired["metadata"]["ownerReferences"][-1]
    references = list(live.get("metadata", {}).get("ownerReferences") or [])
    if any(r.get("uid") == ours["uid"] for r in references):
        return ApplyPlan(Action.NOTHING)
    body = {
        "metadata": {
            "ownerReferences": [*references, ours],
            "resourceVersion": live["metadata"]["resourceVersion"],
        }
    }
    return ApplyPlan(Action.ADOPT, body)


def _check_controller(desired: Mapping[str, Any], live: Mapping[str, Any]) -> None:
    """Refuse a live object another controller owns: it is never stolen."""
    ours = desired["metadata"]["ownerReferences"][-1]
    live_references = live.get("metadata", {}).get("ownerReferences") or []
    _refuse_other_controller(desired, live_references, ours_uid=ours["uid"])


def _refuse_other_controller(
    manifest: Mapping[str, Any], references: Sequence[Mapping[str, Any]], *, ours_uid: str
) -> None:
    """Raise ``ErrorAddingOwnerReference`` when a reference names a controller other than us."""
    for reference in references:
        if reference.get("controller") is True and reference.get("uid") != ours_uid:
            raise ApplyError(
                Reason.ERROR_ADDING_OWNER_REFERENCE,
                f"unable to add owner reference to child {manifest['kind']} "
                f"{manifest['metadata']['name']}: Object {_where(manifest)} is already owned by "
                f"another {reference.get('kind', '')} controller {reference.get('name', '')}",
            )


def place(child: Child, *, gto_namespace: str, namespaced: bool) -> Child:
    """Put a namespaced child in its GitTrackObject's namespace; refuse illegal ownership.

    Kubernetes forbids owner references across namespaces and namespaced owners of
    cluster-scoped objects (the garbage collector deletes such dependents, upstream #143).
    """
    desired = copy.deepcopy(child.desired)
    metadata = desired["metadata"]
    where = f"{desired['kind']} {metadata['name']}"
    if not namespaced:
        metadata.pop("namespace", None)
        if gto_namespace:
            raise ApplyError(
                Reason.ERROR_ADDING_OWNER_REFERENCE,
                f"unable to add owner reference to child {where}: a namespaced "
                "GitTrackObject cannot own a cluster-scoped object",
            )
        return dataclasses.replace(child, desired=desired)
    metadata.setdefault("namespace", gto_namespace)
    if not gto_namespace or metadata["namespace"] != gto_namespace:
        raise ApplyError(
            Reason.ERROR_ADDING_OWNER_REFERENCE,
            f"unable to add owner reference to child {where}: the child's namespace "
            f"'{metadata['namespace']}' differs from its GitTrackObject's '{gto_namespace}'",
        )
    return dataclasses.replace(child, desired=desired)


def same_object(dry_run: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """True when a dry-run result equals the live object (no update needed, spec 3.5)."""
    return _comparable(dry_run) == _comparable(live)


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    result = copy.deepcopy(dict(obj))
    metadata = result.get("metadata", {})
    for key in ("resourceVersion", "managedFields", "generation"):
        metadata.pop(key, None)
    return result


def label(desired: Mapping[str, Any]) -> str:
    """``<Kind> <namespace>/<name>`` as the Events write it."""
    return f"{desired['kind']} {_where(desired)}"


def _where(obj: Mapping[str, Any]) -> str:
    metadata = obj["metadata"]
    return f"{metadata.get('namespace', '')}/{metadata['name']}"


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())
