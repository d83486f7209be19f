"""The three-way merge of ``kubectl apply``: the last-applied annotation and the patch to send.

Spec section 3.4. ``original`` is the configuration recorded in the live object's
``faros.pusher.com/last-applied-configuration`` annotation, ``modified`` the desired object
from Git with that annotation set to its new value, ``current`` the live object. Fields
present in ``modified`` win, fields dropped from ``modified`` since ``original`` are deleted,
and fields never applied (set by the API server, other controllers, an HPA) are left alone.
Built-in kinds get a strategic merge patch (:mod:`faros.core.smp`), custom resources an
RFC 7386 JSON merge patch (k8s.io/apimachinery ``jsonmergepatch.CreateThreeWayJSONMergePatch``
with kubectl's preconditions). Both return ``{}`` when there is nothing to send.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import json
from collections.abc import Mapping
from typing import Any

from faros.api import names
from faros.core import patchmeta, smp

ANNOTATION = names.LAST_APPLIED_ANNOTATION
PRECONDITION_FAILED = "At least one of apiVersion, kind and name was changed"
SERVER_FIELDS = (
    "resourceVersion",
    "uid",
    "selfLink",
    "generation",
    "creationTimestamp",
    "managedFields",
)
# Go's encoding/json escapes these in strings; escaping them too keeps the annotation text
# the same as Go's json.Marshal of the same object.
_GO_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}

Object = dict[str, Any]


class MergeError(ValueError):
    """No patch can be computed for this object; the message says why."""


class PatchType(enum.StrEnum):
    """The content type a patch is sent with."""

    STRATEGIC = patchmeta.STRATEGIC_MERGE_PATCH
    MERGE = "application/merge-patch+json"


@dataclasses.dataclass(frozen=True, slots=True)
class Patch:
    """A patch to send, and how; an empty ``body`` means there is nothing to send."""

    content_type: PatchType
    body: Object

    @property
    def is_empty(self) -> bool:
        return not self.body


def last_applied(obj: Mapping[str, Any]) -> str:
    """Return the annotation value recording ``obj`` as applied (sorted, compact JSON).

    The value leaves out the annotation itself, the server-populated metadata
    (:data:`SERVER_FIELDS`) and ``status``; ``obj`` is not changed.
    """
    text = json.dumps(_stripped(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in _GO_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def modified_of(desired: Mapping[str, Any], *, recorded: Mapping[str, Any] | None = None) -> Object:
    """Return the object to apply: ``desired`` stripped as in :func:`last_applied`, annotated
    with ``recorded`` (default: ``desired``) as last applied."""
    obj = _stripped(desired)
    annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[ANNOTATION] = last_applied(desired if recorded is None else recorded)
    return obj


def original_of(live: Mapping[str, Any]) -> Object | None:
    """Return the configuration last applied to ``live``, or None when none is recorded.

    Raises:
        MergeError: the annotation is not a JSON object.
    """
    value = (live.get("metadata") or {}).get("annotations", {}).get(ANNOTATION)
    if not value:
        return None
    try:
        decoded = json.loads(value)
    except ValueError as exc:
        raise MergeError(f"annotation {ANNOTATION} is not valid JSON: {exc}") from exc
    if not isinstance(decoded, dict):
        raise MergeError(f"annotation {ANNOTATION} is not a JSON object")
    return decoded


def three_way(
    *,
    original: Mapping[str, Any] | None,
    modified: Mapping[str, Any],
    current: Mapping[str, Any],
    meta: patchmeta.Schema | None,
) -> Patch:
    """Return the patch kubectl would send: strategic when the kind has ``meta``, else merge.

    ``meta`` is :meth:`faros.core.patchmeta.Catalog.root` of the kind, None for a custom
    resource.

    Raises:
        MergeError: see :func:`three_way_strategic` and :func:`three_way_json_merge`.
    """
    if meta is None:
        body = three_way_json_merge(original=original, modified=modified, current=current)
        return Patch(content_type=PatchType.MERGE, body=body)
    body = three_way_strategic(original=original, modified=modified, current=current, meta=meta)
    return Patch(content_type=PatchType.STRATEGIC, body=body)


def three_way_strategic(
    *,
    original: Mapping[str, Any] | None,
    modified: Mapping[str, Any],
    current: Mapping[str, Any],
    meta: patchmeta.Schema,
) -> Object:
    """Return kubectl's strategic merge patch from ``current`` to ``modified`` (``{}``: none).

    ``meta`` is the kind's schema from :meth:`faros.core.patchmeta.Catalog.root`.

    Raises:
        MergeError: a differing field is not in the schema, a merge list element lacks its
            merge key, or list elements are of mixed types.
    """
    try:
        return smp.three_way(
            original=dict(original or {}),
            modified=dict(modified),
            current=dict(current),
            schema=meta,
        )
    except (smp.DiffError, patchmeta.SchemaError) as exc:
        raise MergeError(str(exc)) from exc


def three_way_json_merge(
    *, original: Mapping[str, Any] | None, modified: Mapping[str, Any], current: Mapping[str, Any]
) -> Object:
    """Return kubectl's RFC 7386 merge patch from ``current`` to ``modified`` (``{}``: none).

    Lists are replaced wholesale; deleted fields are ``null``.

    Raises:
        MergeError: the patch would change ``apiVersion``, ``kind`` or ``metadata.name``.
    """
    old, new, live = copy.deepcopy((dict(original or {}), dict(modified), dict(current)))
    changes = _keep_changes(_json_diff(live, new))
    deletions = _keep_deletions(_json_diff(old, new))
    # The two cannot conflict: changes only name keys of modified, deletions only keys that
    # modified lacks or sets to null, so kubectl's conflict check is not repeated here.
    patch = _merge_patches(deletions, changes)
    metadata = patch.get("metadata")
    if (
        "apiVersion" in patch
        or "kind" in patch
        or (isinstance(metadata, dict) and "name" in metadata)
    ):
        raise MergeError(PRECONDITION_FAILED)
    return patch


def apply_json_merge(target: Any, patch: Any) -> Any:
    """Return ``target`` with the RFC 7386 merge ``patch`` applied; neither is changed."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = copy.deepcopy(dict(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_json_merge(result.get(key), value)
    return result


def _stripped(obj: Mapping[str, Any]) -> Object:
    clean = copy.deepcopy(dict(obj))
    clean.pop("status", None)
    metadata = clean.get("metadata")
    if isinstance(metadata, dict):
        for name in SERVER_FIELDS:
            metadata.pop(name, None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            annotations.pop(ANNOTATION, None)
            if not annotations:
                del metadata["annotations"]
    return clean


# --- JSON merge patch (evanphx/json-patch v4 CreateMergePatch and MergePatch) ----------------


def _json_diff(old: Object, new: Object) -> Object:
    patch: Object = {}
    for key, value in new.items():
        if key not in old or _json_type(old[key]) != _json_type(value):
            patch[key] = value
        elif isinstance(value, dict):
            inner = _json_diff(old[key], value)
            if inner:
                patch[key] = inner
        elif not _json_equal(old[key], value):
            patch[key] = value
    patch.update({key: None for key in old if key not in new})
    return patch


def _keep_changes(patch: Object) -> Object:
    """Drop the nulls (deletions); an explicitly empty map stays a value."""
    kept: Object = {}
    for key, value in patch.items():
        if isinstance(value, dict) and value:
            inner = _keep_changes(value)
            if inner:
                kept[key] = inner
        elif value is not None:
            kept[key] = value
    return kept


def _keep_deletions(patch: Object) -> Object:
    """Keep only the nulls (deletions)."""
    kept: Object = {}
    for key, value in patch.items():
        if value is None:
            kept[key] = None
        elif isinstance(value, dict):
            inner = _keep_deletions(value)
            if inner:
                kept[key] = inner
    return kept


def _merge_patches(doc: Object, patch: Object) -> Object:
    for key, value in patch.items():
        # Where both hold a key, both hold a map: each comes from modified's value there.
        current = doc.get(key)
        if isinstance(current, dict):
            _merge_patches(current, value)
        else:
            doc[key] = _pruned(value)
    return doc


def _pruned(value: Any) -> Any:
    """Drop null members of maps inside a value added whole (json-patch v4 ``pruneNulls``).

    Null list items stay, as they do in json-patch v4.12.
    """
    if isinstance(value, dict):
        return {key: _pruned(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_pruned(item) for item in value]
    return value


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality where 1 equals 1.0 (json-patch decodes every number as float64)."""
    if _json_type(a) != _json_type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
