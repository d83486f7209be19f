"""The three-way strategic merge patch that ``kubectl apply`` sends for built-in kinds.

A port of ``CreateThreeWayMergePatch`` with ``overwrite=true`` from k8s.io/apimachinery
``pkg/util/strategicpatch/patch.go``: the patch is the difference current -> modified keeping
additions and changes, merged (client side: parallel lists are carried, not applied) with the
difference original -> modified keeping deletions. Field behaviour comes from
:mod:`faros.core.patchmeta`: ``merge`` lists are matched by their merge key (removed elements
become ``{"<key>": v, "$patch": "delete"}``, removed scalars go to
``$deleteFromPrimitiveList/<field>``, order to ``$setElementOrder/<field>``), ``retainKeys``
adds ``$retainKeys``, and every other list is replaced wholesale.

Elements sharing a merge key (or repeated scalars) are handled as kubectl handles them: each
such element of one patch is merged in turn into the first match in the other, where kubectl
fails :class:`DiffError` is raised, and the order that Go's reuse of slices gives is kept
(see :class:`faros.core.smpmerge._Slices`).

Left out on purpose: ``$patch`` directives written in the manifests themselves, and a
``replace``-strategy map is only sent when it differs (kubectl always sends it; no built-in
kind uses that strategy).
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from faros.core import patchmeta, smpmerge

Object = smpmerge.Object
# Both halves raise it; callers keep catching ``smp.DiffError``.
DiffError = smpmerge.DiffError


@dataclasses.dataclass(frozen=True, slots=True)
class _Options:
    ignore_changes: bool = False
    ignore_deletions: bool = False
    retain_keys: bool = False


def three_way(
    *, original: Object, modified: Object, current: Object, schema: patchmeta.Schema
) -> Object:
    """Return the strategic merge patch taking ``current`` to ``modified``; ``{}`` if none.

    Fields in ``modified`` win over ``current``; fields in ``original`` but not in
    ``modified`` are deleted; fields only in ``current`` are left alone.
    """
    original, modified, current = copy.deepcopy((original, modified, current))
    delta = _diff_maps(current, modified, schema, _Options(ignore_deletions=True))
    deletions = _diff_maps(original, modified, schema, _Options(ignore_changes=True))
    return smpmerge.combine(deletions, delta, schema=schema)


# --- diff (diffMaps, diffLists) ---------------------------------------------------------------


def _diff_maps(
    original: Object, modified: Object, schema: patchmeta.Schema, opts: _Options
) -> Object:
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
            patch[smpmerge.RETAIN_KEYS] = sorted(kept)
    return patch


def _diff_map_field(
    key: str, old: Object, new: Object, *, patch: Object, schema: patchmeta.Schema, opts: _Options
) -> None:
    field = _field_to_diff(schema, key, old, new)
    if field is None:
        return
    if field.meta.strategy is patchmeta.Strategy.REPLACE:
        if not opts.ignore_changes and not smpmerge.equal(old, new):
            patch[key] = new
        return
    inner = dataclasses.replace(opts, retain_keys=field.meta.retain_keys)
    value = _diff_maps(old, new, field.schema, inner)
    if value:
        patch[key] = value


def _diff_list_field(
    key: str,
    old: list[Any],
    new: list[Any],
    *,
    patch: Object,
    schema: patchmeta.Schema,
    opts: _Options,
) -> None:
    field = _field_to_diff(schema, key, old, new)
    if field is None:
        return
    if field.meta.strategy is not patchmeta.Strategy.MERGE:
        if not opts.ignore_changes and not smpmerge.equal(old, new):
            patch[key] = new
        return
    inner = dataclasses.replace(opts, retain_keys=field.meta.retain_keys)
    deleted: list[Any] = []
    order: list[Any] = []
    if not old:
        changed = [] if opts.ignore_changes else new
    elif smpmerge.element_type(old + new, schema=field.schema) is dict:
        changed, order = _diff_map_lists(old, new, field=field, opts=inner)
    else:
        changed, deleted, order = _diff_scalar_lists(old, new, opts=inner)
    if changed:
        patch[key] = changed
    if deleted:
        patch[f"{smpmerge.DELETE_FROM_PRIMITIVE_LIST}/{key}"] = deleted
    if order:
        patch[f"{smpmerge.SET_ELEMENT_ORDER}/{key}"] = order


def _field_to_diff(
    schema: patchmeta.Schema, key: str, old: Any, new: Any
) -> patchmeta.Field | None:
    """Look ``key`` up; an undeclared field is an error only when its values differ."""
    field = schema.field(key)
    if field is None and not smpmerge.equal(old, new):
        raise DiffError(f"unable to find api field {key!r} in {schema.path}")
    return field


def _diff_map_lists(
    old: list[Object], new: list[Object], *, field: patchmeta.Field, opts: _Options
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
                deleted.append({key: olds[i][1][key], smpmerge.DIRECTIVE: smpmerge.DELETE})
            i += 1
    changed = smpmerge.normalize_order(changed, new, key) + deleted
    same_order = len(old) == len(new) and all(
        smpmerge.equal(a[key], b[key]) for a, b in zip(old, new, strict=True)
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
        not opts.ignore_changes and not smpmerge.equal(old, new)
    )
    # ``new`` itself, as in Go: merging may rewrite it in place (see smpmerge._Slices)
    return smpmerge.normalize_order(added, new, ""), deleted, (new if wanted else [])


def _sort_by_key(
    items: list[Object], key: str, schema: patchmeta.Schema
) -> list[tuple[str, Object]]:
    """Sort by the merge key's text, equal keys last-first (Go's insertion sort with ``<=``)."""
    for item in items:
        if key not in item:
            raise DiffError(f"an element of {schema.path} has no merge key {key!r}")
    ranked = sorted(enumerate(items), key=lambda pair: (_go_string(pair[1][key]), -pair[0]))
    return [(_go_string(item[key]), item) for _, item in ranked]


# --- values -----------------------------------------------------------------------------------


def _dedupe(values: list[Any]) -> list[Any]:
    """Drop repeated scalars the way ``deduplicateScalars`` does (it moves the last one in)."""
    items = list(values)
    return items[: smpmerge.dedupe_in_place(items)]


def _go_string(value: Any) -> str:
    """Format a scalar as Go's ``%v`` does; kubectl sorts and matches list items by this text."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    return str(value)
