"""The three-way strategic merge patch that ``kubectl apply`` sends for built-in kinds.

A port of ``CreateThreeWayMergePatch`` with ``overwrite=true`` from k8s.io/apimachinery
``pkg/util/strategicpatch/patch.go``: the patch is the difference current -> modified keeping
additions and changes, merged (client side: parallel lists are carried, not applied) with the
difference original -> modified keeping deletions. Field behaviour comes from
:mod:`faros.core.patchmeta`: ``merge`` lists are matched by their merge key (removed elements
become ``{"<key>": v, "$patch": "delete"}``, removed scalars go to
``$deleteFromPrimitiveList/<field>``, order to ``$setElementOrder/<field>``), ``retainKeys``
adds ``$retainKeys``, and every other list is replaced wholesale.

Left out on purpose: ``$patch`` directives written in the manifests themselves, and a
``replace``-strategy map is only sent when it differs (kubectl always sends it; no built-in
kind uses that strategy).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from faros.core.patchmeta import Field, Schema, Strategy

DIRECTIVE = "$patch"
DELETE = "delete"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"

Object = dict[str, Any]


class DiffError(ValueError):
    """The objects cannot be diffed with their schema (kubectl fails the same way)."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Options:
    ignore_changes: bool = False
    ignore_deletions: bool = False
    retain_keys: bool = False


def three_way(*, original: Object, modified: Object, current: Object, schema: Schema) -> Object:
    """Return the strategic merge patch taking ``current`` to ``modified``; ``{}`` if none.

    Fields in ``modified`` win over ``current``; fields in ``original`` but not in
    ``modified`` are deleted; fields only in ``current`` are left alone.
    """
    original, modified, current = copy.deepcopy((original, modified, current))
    delta = _diff_maps(current, modified, schema, _Options(ignore_deletions=True))
    deletions = _diff_maps(original, modified, schema, _Options(ignore_changes=True))
    return _merge_maps(deletions, delta, schema)


# --- diff (diffMaps, diffLists) ---------------------------------------------------------------


def _diff_maps(original: Object, modified: Object, schema: Schema, opts: _Options) -> Object:
    patch: Object = {}
    for key, new in modified.items():
        if key not in original:
            if not opts.ignore_changes:
                patch[key] = new
            continue
        old = original[key]
        if type(old) is not type(new):
            if not opts.ignore_changes:
                patch[key] = new
        elif isinstance(old, dict):
            _diff_map_field(key, old, new, patch=patch, schema=schema, opts=opts)
        elif isinstance(old, list):
            _diff_list_field(key, old, new, patch=patch, schema=schema, opts=opts)
        elif not opts.ignore_changes and old != new:
            patch[key] = new
    if not opts.ignore_deletions:
        patch.update({key: None for key in original if key not in modified})
    if opts.retain_keys:
        kept = [key for key, value in modified.items() if value is not None]
        dropped = any(v is not None and k not in modified for k, v in original.items())
        if kept and (patch or dropped):
            patch[RETAIN_KEYS] = sorted(kept)
    return patch


def _diff_map_field(
    key: str, old: Object, new: Object, *, patch: Object, schema: Schema, opts: _Options
) -> None:
    field = _field_to_diff(schema, key, old, new)
    if field is None:
        return
    if field.meta.strategy is Strategy.REPLACE:
        if not opts.ignore_changes and not _equal(old, new):
            patch[key] = new
        return
    inner = dataclasses.replace(opts, retain_keys=field.meta.retain_keys)
    value = _diff_maps(old, new, field.schema, inner)
    if value:
        patch[key] = value


def _diff_list_field(
    key: str, old: list[Any], new: list[Any], *, patch: Object, schema: Schema, opts: _Options
) -> None:
    field = _field_to_diff(schema, key, old, new)
    if field is None:
        return
    if field.meta.strategy is not Strategy.MERGE:
        if not opts.ignore_changes and not _equal(old, new):
            patch[key] = new
        return
    inner = dataclasses.replace(opts, retain_keys=field.meta.retain_keys)
    deleted: list[Any] = []
    order: list[Any] = []
    if not old:
        changed = [] if opts.ignore_changes else new
    elif _element_type(old + new, schema=field.schema) is dict:
        changed, order = _diff_map_lists(old, new, field=field, opts=inner)
    else:
        changed, deleted, order = _diff_scalar_lists(old, new, opts=inner)
    if changed:
        patch[key] = changed
    if deleted:
        patch[f"{DELETE_FROM_PRIMITIVE_LIST}/{key}"] = deleted
    if order:
        patch[f"{SET_ELEMENT_ORDER}/{key}"] = order


def _field_to_diff(schema: Schema, key: str, old: Any, new: Any) -> Field | None:
    """Look ``key`` up; an undeclared field is an error only when its values differ."""
    field = schema.field(key)
    if field is None and not _equal(old, new):
        raise DiffError(f"unable to find api field {key!r} in {schema.path}")
    return field


def _diff_map_lists(
    old: list[Object], new: list[Object], *, field: Field, opts: _Options
) -> tuple[list[Any], list[Any]]:
    """Return the changed elements then the deletions, and the ``$setElementOrder`` list."""
    key, schema = field.meta.merge_key, field.schema
    olds, news = _sort_by_key(old, key, schema), _sort_by_key(new, key, schema)
    changed: list[Any] = []
    deleted: list[Any] = []
    i = j = 0
    while i < len(olds) or j < len(news):
        if i < len(olds) and j < len(news) and olds[i][0] == news[j][0]:
            value = _diff_maps(olds[i][1], news[j][1], schema, opts)
            if value:
                value[key] = news[j][1][key]
                changed.append(value)
            i, j = i + 1, j + 1
        elif i == len(olds) or (j < len(news) and olds[i][0] > news[j][0]):
            if not opts.ignore_changes:
                changed.append(news[j][1])
            j += 1
        else:
            if not opts.ignore_deletions:
                deleted.append({key: olds[i][1][key], DIRECTIVE: DELETE})
            i += 1
    changed = _normalize_order(changed, new, key) + deleted
    same_order = len(old) == len(new) and all(
        _equal(a[key], b[key]) for a, b in zip(old, new, strict=True)
    )
    wanted = (not opts.ignore_changes and (changed or not same_order)) or (
        not opts.ignore_deletions and changed
    )
    return changed, ([{key: item[key]} for item in new] if wanted else [])


def _diff_scalar_lists(
    old: list[Any], new: list[Any], *, opts: _Options
) -> tuple[list[Any], list[Any], list[Any]]:
    """Return additions, deletions and the ``$setElementOrder`` list of a merged scalar list."""
    olds, news = sorted(old, key=_go_string), sorted(new, key=_go_string)
    added: list[Any] = []
    deleted: list[Any] = []
    i = j = 0
    while i < len(olds) or j < len(news):
        a = _go_string(olds[i]) if i < len(olds) else None
        b = _go_string(news[j]) if j < len(news) else None
        if a is not None and a == b:
            i, j = i + 1, j + 1
        elif a is None or (b is not None and a > b):
            if not opts.ignore_changes:
                added.append(news[j])
            j += 1
        else:
            if not opts.ignore_deletions:
                deleted.append(olds[i])
            i += 1
    deleted = _dedupe(deleted)
    wanted = (not opts.ignore_deletions and deleted) or (
        not opts.ignore_changes and not _equal(old, new)
    )
    return _normalize_order(added, new, ""), deleted, (list(new) if wanted else [])


def _sort_by_key(items: list[Object], key: str, schema: Schema) -> list[tuple[str, Object]]:
    """Sort by the merge key's text, equal keys last-first (Go's insertion sort with ``<=``)."""
    for item in items:
        if key not in item:
            raise DiffError(f"an element of {schema.path} has no merge key {key!r}")
    ranked = sorted(enumerate(items), key=lambda pair: (_go_string(pair[1][key]), -pair[0]))
    return [(_go_string(item[key]), item) for _, item in ranked]


def _element_type(items: list[Any], *, schema: Schema) -> type:
    kinds = {type(item) for item in items}
    if list in kinds:
        raise DiffError(f"lists of lists cannot be merged at {schema.path}")
    if len(kinds) > 1:
        raise DiffError(f"list element types are not identical at {schema.path}")
    return kinds.pop()


# --- merge of the two patches (mergeMap with MergeParallelList=false) ------------------------


def _merge_maps(original: Object, patch: Object, schema: Schema) -> Object:
    if RETAIN_KEYS in patch:
        # Both patches build $retainKeys from the keys of modified: they are equal.
        original.setdefault(RETAIN_KEYS, patch.pop(RETAIN_KEYS))
    _merge_ordered_lists(original, patch, schema)
    for key, value in patch.items():
        old: Any = original.get(key)
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST) or type(old) is not type(value):
            original[key] = value
        elif isinstance(value, dict):
            field = _declared(schema, key)
            replace = field.meta.strategy is Strategy.REPLACE
            original[key] = value if replace else _merge_maps(old, value, field.schema)
        elif isinstance(value, list):
            field = _declared(schema, key)
            original[key] = _merge_field_lists(old, value, field=field)
        else:
            original[key] = value
    return original


def _merge_ordered_lists(original: Object, patch: Object, schema: Schema) -> None:
    """Merge each list that has a ``$setElementOrder`` and put it in that order."""
    prefix = f"{SET_ELEMENT_ORDER}/"
    for directive in [key for key in patch if key.startswith(prefix)]:
        order = patch.pop(directive)
        original.setdefault(directive, order)  # equal when in both: made from modified
        name = directive.removeprefix(prefix)
        old, new = original.get(name), patch.pop(name, None)
        if old is None and new is None:
            continue
        field = _declared(schema, name)
        if old is not None and new is not None:
            merged = _merge_field_lists(old, new, field=field)
        else:
            merged = new if old is None else old
        key = field.meta.merge_key
        ordered, rest = _partition(merged, order, key)
        original[name] = _normalize_element_order(ordered, rest, order, old or [], key)


def _merge_field_lists(old: list[Any], new: list[Any], *, field: Field) -> list[Any]:
    """Merge one field's list from both patches (``mergeSlice``), matching by merge key.

    Only merge lists of maps get here: the deletions patch holds no other list (removed
    scalars travel in ``$deleteFromPrimitiveList``), and the diff has already checked that
    every element carries its merge key.
    """
    key, schema = field.meta.merge_key, field.schema
    merged = list(old)
    for item in new:
        at = next((n for n, o in enumerate(merged) if _equal(o[key], item[key])), None)
        if at is None:
            merged.append(item)
        else:
            merged[at] = _merge_maps(merged[at], item, schema)
    ordered, rest = _partition(merged, new, key)
    return _normalize_element_order(ordered, rest, new, old, key)


def _declared(schema: Schema, key: str) -> Field:
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
    left = _normalize_order(rest, server_order, key)
    right = _normalize_order(ordered, order, key)
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


def _normalize_order(items: list[Any], order: list[Any], key: str) -> list[Any]:
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


def _dedupe(values: list[Any]) -> list[Any]:
    """Drop repeated scalars the way ``deduplicateScalars`` does (it moves the last one in)."""
    items = list(values)
    last = len(items) - 1
    i = 0
    while i < last:
        j = i + 1
        while j <= last:
            if _equal(items[i], items[j]):
                items[j] = items[last]
                del items[last]
                last -= 1
                j -= 1
            j += 1
        i += 1
    return items


def _equal(a: Any, b: Any) -> bool:
    """JSON equality where types matter, like Go's ``reflect.DeepEqual`` (1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _go_string(value: Any) -> str:
    """Format a scalar as Go's ``%v`` does; kubectl sorts and matches list items by this text."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return str(value)
