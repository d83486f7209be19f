"""Merge the deletions patch and the changes patch of a three-way strategic merge patch into one,
as k8s.io/apimachinery ``pkg/util/strategicpatch/patch.go`` does in ``mergeMap`` with
``MergeParallelList=false`` (with ``applyRetainKeysDirective``, ``mergePatchIntoOriginal``,
``validatePatchWithSetOrderList``, ``mergeSlice``, ``normalizeElementOrder``,
``removeDirectives`` and ``deduplicateScalars``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from faros.core import patchmeta

DIRECTIVE = "$patch"
DELETE = "delete"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

Object = dict[str, Any]


class DiffError(ValueError):
    """The objects cannot be diffed with their schema (kubectl fails the same way)."""


def combine(deletions: Object, delta: Object, *, schema: patchmeta.Schema) -> Object:
    """Merge ``delta`` into ``deletions`` (both change in place) and return the result."""
    return _merge_maps(deletions, delta, schema, _Slices())


# --- merge of the two patches (mergeMap with MergeParallelList=false) ------------------------


class _Slices:
    """Which lists Go holds in a slice with no room to spare.

    ``mergeSlice`` de-duplicates ``append(original, patch...)`` in place. When the original
    slice has room for the patch, the appended slice shares its array, so the de-duplication
    rewrites the original's elements, which then order the merged list. A slice made by
    ``normalizeElementOrder`` is full; any other (decoded JSON, ``removeDirectives``) was
    grown by single appends.
    """

    def __init__(self) -> None:
        self._full: dict[int, list[Any]] = {}  # keeps each list alive, so its id stays its own

    def full(self, items: list[Any]) -> list[Any]:
        self._full[id(items)] = items
        return items

    def has_room(self, items: list[Any], *, extra: int) -> bool:
        capacity = len(items) if id(items) in self._full else _append_capacity(len(items))
        return capacity >= len(items) + extra


def _merge_maps(
    original: Object, patch: Object, schema: patchmeta.Schema, slices: _Slices
) -> Object:
    if RETAIN_KEYS in patch:
        _take_directive(original, patch, RETAIN_KEYS, schema=schema)
    _merge_ordered_lists(original, patch, schema, slices)
    for key, value in patch.items():
        old: Any = original.get(key)
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            original[key] = value
        elif type(old) is not type(value):
            original[key] = _without_directives(value)
        elif isinstance(value, dict):
            field = _declared(schema, key)
            replace = field.meta.strategy is patchmeta.Strategy.REPLACE
            original[key] = value if replace else _merge_maps(old, value, field.schema, slices)
        elif isinstance(value, list):
            field = _declared(schema, key)
            original[key] = _merge_field_lists(old, value, field=field, slices=slices)
        else:
            original[key] = value
    return original


def _merge_ordered_lists(
    original: Object, patch: Object, schema: patchmeta.Schema, slices: _Slices
) -> None:
    """Merge each list that has a ``$setElementOrder`` and put it in that order."""
    prefix = f"{SET_ELEMENT_ORDER}/"
    for directive in [key for key in patch if key.startswith(prefix)]:
        order = _take_directive(original, patch, directive, schema=schema)
        name = directive.removeprefix(prefix)
        old, new = _list_at(original, name, schema), _list_at(patch, name, schema)
        patch.pop(name, None)
        if old is None and new is None:
            continue
        field = _declared(schema, name)
        key = field.meta.merge_key
        _check_order(new or [], order, key=key, path=f"{schema.path}.{name}")
        if old is not None and new is not None:
            merged = _merge_field_lists(old, new, field=field, slices=slices)
        else:
            merged = _without_directives(new) if old is None else old
        element_type((old or []) + (new or []), schema=field.schema)
        ordered, rest = _partition(merged, order, key)
        ordered = _normalize_element_order(ordered, rest, order, old or [], key)
        original[name] = slices.full(ordered)


def _merge_field_lists(
    old: list[Any], new: list[Any], *, field: patchmeta.Field, slices: _Slices
) -> list[Any]:
    """Merge one field's list from both patches (``mergeSliceHandler``, ``mergeSlice``).

    Only a ``merge`` list is merged, any other is taken from ``new``. Maps are matched by
    merge key (the first equal one), scalars are concatenated and de-duplicated. A list is
    in both patches only when elements of a merge list share a merge key: each of them is
    merged into the same element of the deletions patch in turn.
    """
    if field.meta.strategy is not patchmeta.Strategy.MERGE:
        return new
    if not old and not new:
        return old
    key, schema = field.meta.merge_key, field.schema
    if element_type(old + new, schema=schema) is not dict:
        both = old + new
        size = dedupe_in_place(both)
        if slices.has_room(old, extra=len(new)):  # append reused old's array: Go sees this
            old[:] = both[: len(old)]
        merged = both[:size]
    elif not key:
        raise DiffError(f"cannot merge lists without merge key at {schema.path}")
    else:
        merged = list(old)
        for item in new:
            found = (n for n, o in enumerate(merged) if key in o and equal(o[key], item[key]))
            at = next(found, None)
            if at is None:
                merged.append(item)
            else:
                merged[at] = _merge_maps(merged[at], item, schema, slices)
    ordered, rest = _partition(merged, new, key)
    return slices.full(_normalize_element_order(ordered, rest, new, old, key))


def _check_order(items: list[Any], order: list[Any], *, key: str, path: str) -> None:
    """Fail unless ``items`` follow ``order`` (``validatePatchWithSetOrderList``).

    Deletions are skipped. Only repeated merge keys or scalars can break the order: the
    diff sorts each element by the first place of its key in ``order``.
    """
    kept = [item for item in items if not isinstance(item, dict) or DIRECTIVE not in item]
    at = 0
    for wanted in order:
        if at == len(kept):
            return
        if _token(kept[at], key) == _token(wanted, key):
            at += 1
    if at < len(kept):
        raise DiffError(f"the patch list at {path} does not follow its {SET_ELEMENT_ORDER} list")


def _take_directive(original: Object, patch: Object, key: str, *, schema: patchmeta.Schema) -> Any:
    """Move directive ``key`` from ``patch`` to ``original``; both patches must agree on it.

    They agree unless a merge list has duplicate merge keys, which pairs an element of one
    patch with another element of the other; kubectl fails then too.
    """
    value = patch.pop(key)
    if key in original and not equal(original[key], value):
        mine, theirs = json.dumps(original[key]), json.dumps(value)
        raise DiffError(f"conflicting {key} at {schema.path}: {mine} and {theirs}")
    return original.setdefault(key, value)


def _without_directives(value: Any) -> Any:
    """Return ``value`` without the maps that hold ``$patch``, as ``removeDirectives`` does.

    Like Go, rebuild every list and change maps in place: :class:`_Slices` tells lists apart
    by identity. ``value`` itself is never such a map here: no merge adds a directive.
    """
    if isinstance(value, dict):
        for key in [key for key, item in value.items() if _has_directive(item)]:
            del value[key]
        for key, item in list(value.items()):
            value[key] = _without_directives(item)
        return value
    if isinstance(value, list):
        return [_without_directives(item) for item in value if not _has_directive(item)]
    return value


def _has_directive(value: Any) -> bool:
    return isinstance(value, dict) and DIRECTIVE in value


def _list_at(obj: Object, key: str, schema: patchmeta.Schema) -> list[Any] | None:
    if key not in obj:
        return None
    value = obj[key]
    if not isinstance(value, list):
        raise DiffError(f"{schema.path}.{key} is {json.dumps(value)} in one patch, not a list")
    return value


def _declared(schema: patchmeta.Schema, key: str) -> patchmeta.Field:
    """Look up a field both patches hold; the diff has found it already, so it exists."""
    field = schema.field(key)
    if field is None:
        raise DiffError(f"unable to find api field {key!r} in {schema.path}")
    return field


# --- ordering (normalizeElementOrder, mergeSortedSlice) --------------------------------------


def _normalize_element_order(
    ordered: list[Any], rest: list[Any], order: list[Any], server_order: list[Any], key: str
) -> list[Any]:
    """Sort patch items by ``order`` and the others by ``server_order``, then interleave."""
    left = normalize_order(rest, server_order, key)
    right = normalize_order(ordered, order, key)
    positions = _positions(server_order, key)
    merged: list[Any] = []
    i = j = 0
    while i < len(left) and j < len(right):
        a, b = positions.get(_token(left[i], key)), positions.get(_token(right[j], key))
        if a is not None and b is not None and a < b:
            merged.append(left[i])
            i += 1
        else:
            merged.append(right[j])
            j += 1
    return merged + left[i:] + right[j:]


def normalize_order(items: list[Any], order: list[Any], key: str) -> list[Any]:
    """Stable-sort ``items`` by their place in ``order``; ``$patch: delete`` items go last."""
    deletes = [item for item in items if _is_delete(item)]
    kept = [item for item in items if not _is_delete(item)]
    positions = _positions(order, key)
    kept.sort(key=lambda item: positions.get(_token(item, key), len(order)))
    return kept + deletes


def _is_delete(item: Any) -> bool:
    return isinstance(item, dict) and item.get(DIRECTIVE) == DELETE


def _partition(items: list[Any], by: list[Any], key: str) -> tuple[list[Any], list[Any]]:
    wanted = {_token(item, key) for item in by}
    inside = [item for item in items if _token(item, key) in wanted]
    return inside, [item for item in items if _token(item, key) not in wanted]


def _positions(items: Iterable[Any], key: str) -> dict[tuple[type, str], int]:
    positions: dict[tuple[type, str], int] = {}
    for at, item in enumerate(items):
        positions.setdefault(_token(item, key), at)
    return positions


def _token(item: Any, key: str) -> tuple[type, str]:
    """A hashable identity of a list element: its merge key value, or itself for scalars."""
    value = item.get(key) if key and isinstance(item, dict) else item
    return type(value), json.dumps(value, sort_keys=True)


# --- values -----------------------------------------------------------------------------------


def dedupe_in_place(items: list[Any]) -> int:
    """Run ``deduplicateScalars`` on ``items`` as on a Go array; return the length it keeps.

    Items past that length keep what Go leaves there.
    """
    last = len(items) - 1
    i = 0
    while i < last:
        j = i + 1
        while j <= last:
            if equal(items[i], items[j]):
                items[j] = items[last]
                last -= 1
                j -= 1
            j += 1
        i += 1
    return last + 1


def _append_capacity(length: int) -> int:
    """The capacity of a Go slice grown by ``length`` single appends from empty.

    Exact up to 512 items, where Go doubles; past that it grows more slowly.
    """
    return 0 if length == 0 else 1 << (length - 1).bit_length()


def equal(a: Any, b: Any) -> bool:
    """JSON equality where types matter, like Go's ``reflect.DeepEqual`` (1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def element_type(items: list[Any], *, schema: patchmeta.Schema) -> type:
    """Return the one type of the elements of a merge list (``sliceElementType``)."""
    kinds = {type(item) for item in items}
    if not kinds:
        raise DiffError(f"no elements in the lists at {schema.path}")
    if list in kinds:
        raise DiffError(f"lists of lists cannot be merged at {schema.path}")
    if len(kinds) > 1:
        raise DiffError(f"list element types are not identical at {schema.path}")
    return kinds.pop()
