"""Strategic-merge-patch metadata of a kind, read from the API server's OpenAPI v3 document.

Mirrors what kubectl apply reads (k8s.io/kubectl ``apply/patcher.go``
``gvkSupportsPatchOpenAPIV3`` and ``buildStrategicMergePatchFromOpenAPIV3``; k8s.io/apimachinery
``strategicpatch.PatchMetaFromOpenAPIV3``): a kind gets a strategic merge patch only when the
group-version document has a PATCH operation for it that accepts
``application/strategic-merge-patch+json`` - custom resources do not, so :meth:`Catalog.root`
answers ``None`` and the caller uses a JSON merge patch. A field's metadata is the
``x-kubernetes-patch-strategy`` and ``x-kubernetes-patch-merge-key`` written on the property
itself, before ``allOf``/``$ref`` are followed; ``x-kubernetes-list-type`` and
``x-kubernetes-list-map-keys`` are reported too, though kubectl's patch ignores them.

Schemas are resolved lazily, so recursive types (``JSONSchemaProps``) cost nothing. Index each
document once with :func:`index` and keep the :class:`Catalog`; the caller must not mutate the
document afterwards.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Mapping, Sequence
from typing import Any

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
GVK_EXTENSION = "x-kubernetes-group-version-kind"
PATCH_STRATEGY_EXTENSION = "x-kubernetes-patch-strategy"
PATCH_MERGE_KEY_EXTENSION = "x-kubernetes-patch-merge-key"
LIST_TYPE_EXTENSION = "x-kubernetes-list-type"
LIST_MAP_KEYS_EXTENSION = "x-kubernetes-list-map-keys"
RETAIN_KEYS_STRATEGY = "retainKeys"
_REF_PREFIX = "#/components/schemas/"
_FREE_FORM: Mapping[str, Any] = {}


class SchemaError(ValueError):
    """The OpenAPI document carries patch metadata that kubectl would refuse."""


class Strategy(enum.StrEnum):
    """How a strategic merge patch treats a field (besides ``retainKeys``)."""

    ATOMIC = ""  # no strategy: the value is replaced wholesale when it differs
    MERGE = "merge"
    REPLACE = "replace"


class ListType(enum.StrEnum):
    """``x-kubernetes-list-type`` (server-side apply metadata)."""

    ATOMIC = "atomic"
    SET = "set"
    MAP = "map"


_STRATEGIES = {member.value: member for member in Strategy}
_LIST_TYPES = {member.value: member for member in ListType}


@dataclasses.dataclass(frozen=True, slots=True)
class GroupVersionKind:
    """A kind in one API version; ``group`` is ``""`` for the core group."""

    group: str
    version: str
    kind: str


@dataclasses.dataclass(frozen=True, slots=True)
class PatchMeta:
    """Patch metadata of one field."""

    strategy: Strategy = Strategy.ATOMIC
    retain_keys: bool = False
    merge_key: str = ""
    is_list: bool = False
    list_type: ListType | None = None
    list_map_keys: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class Field:
    """A field's metadata and the schema of its value (for a list: of its items)."""

    meta: PatchMeta
    schema: Schema


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Schema:
    """One resolved schema node of a kind's tree; ``path`` names it in error messages."""

    node: Mapping[str, Any]
    catalog: Catalog
    path: str

    def field(self, name: str) -> Field | None:
        """Return the metadata and value schema of field ``name``; None if it is not declared.

        Keys of a map (``additionalProperties``) and anything under a free-form object
        (no ``properties``) have no metadata; only a struct with ``properties`` has unknown
        fields.
        """
        path = f"{self.path}.{name}"
        properties = self.node.get("properties")
        if properties:
            prop = properties.get(name)
            if prop is None:
                return None
        else:
            extra = self.node.get("additionalProperties")
            prop = extra if isinstance(extra, Mapping) else _FREE_FORM
        meta = _meta(prop, path=path)
        target = prop.get("items", _FREE_FORM) if meta.is_list else prop
        return Field(meta=meta, schema=self._resolve(target, path=path))

    def lookup(self, path: Sequence[str]) -> PatchMeta | None:
        """Return the metadata of the field at ``path`` (list items are stepped through)."""
        schema: Schema = self
        meta: PatchMeta | None = None
        for name in path:
            found = schema.field(name)
            if found is None:
                return None
            meta, schema = found.meta, found.schema
        return meta

    def _resolve(self, node: Mapping[str, Any], *, path: str) -> Schema:
        return Schema(node=self.catalog.resolve(node), catalog=self.catalog, path=path)


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Catalog:
    """The schemas of one OpenAPI v3 group-version document, indexed by kind."""

    schemas: Mapping[str, Mapping[str, Any]]
    roots: Mapping[GroupVersionKind, str]

    def root(self, gvk: GroupVersionKind) -> Schema | None:
        """Return the schema of ``gvk`` if it takes a strategic merge patch, else None."""
        name = self.roots.get(gvk)
        if name is None:
            return None
        return Schema(node=self.schemas[name], catalog=self, path=gvk.kind)

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """Follow ``allOf[0]`` then one ``$ref``, as ``PatchMetaFromOpenAPIV3`` does."""
        all_of = node.get("allOf")
        if all_of:
            node = all_of[0]
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            target = self.schemas.get(ref.removeprefix(_REF_PREFIX))
            if target is None:
                raise SchemaError(f"unable to resolve {ref} in OpenAPI v3")
            return target
        return node


def index(document: Mapping[str, Any]) -> Catalog:
    """Index a group-version document (``/openapi/v3/apis/<group>/<version>``) by kind."""
    schemas: Mapping[str, Mapping[str, Any]] = document.get("components", {}).get("schemas", {})
    smp_kinds = _strategic_kinds(document.get("paths", {}))
    roots: dict[GroupVersionKind, str] = {}
    for name, schema in schemas.items():
        for gvk in _gvks(schema.get(GVK_EXTENSION)):
            if gvk in smp_kinds:
                roots.setdefault(gvk, name)
    return Catalog(schemas=schemas, roots=types.MappingProxyType(roots))


def _strategic_kinds(paths: Mapping[str, Any]) -> frozenset[GroupVersionKind]:
    """Kinds with a PATCH operation that accepts a strategic merge patch."""
    kinds: set[GroupVersionKind] = set()
    for item in paths.values():
        operation = item.get("patch") if isinstance(item, Mapping) else None
        if isinstance(operation, Mapping):
            content = (operation.get("requestBody") or {}).get("content") or {}
            if STRATEGIC_MERGE_PATCH in content:
                kinds.update(_gvks(operation.get(GVK_EXTENSION)))
    return frozenset(kinds)


def _gvks(value: Any) -> list[GroupVersionKind]:
    """Read ``x-kubernetes-group-version-kind``: one mapping, or a list of them."""
    items = value if isinstance(value, list) else [value]
    return [
        GroupVersionKind(group=item["group"], version=item["version"], kind=item["kind"])
        for item in items
        if isinstance(item, Mapping) and {"group", "version", "kind"} <= item.keys()
    ]


def _meta(prop: Mapping[str, Any], *, path: str) -> PatchMeta:
    strategy, retain_keys = _strategy(prop.get(PATCH_STRATEGY_EXTENSION, ""), path=path)
    list_type = prop.get(LIST_TYPE_EXTENSION)
    return PatchMeta(
        strategy=strategy,
        retain_keys=retain_keys,
        merge_key=str(prop.get(PATCH_MERGE_KEY_EXTENSION, "")),
        is_list=prop.get("type") == "array" or "items" in prop,
        list_type=_LIST_TYPES.get(str(list_type)),
        list_map_keys=tuple(prop.get(LIST_MAP_KEYS_EXTENSION, ())),
    )


def _strategy(value: str, *, path: str) -> tuple[Strategy, bool]:
    """Split ``"merge,retainKeys"`` like ``extractRetainKeysPatchStrategy``.

    An unknown single strategy is not an error there: it simply is not ``merge``.
    """
    parts = value.split(",") if value else []
    if len(parts) > 2 or (len(parts) == 2 and RETAIN_KEYS_STRATEGY not in parts):
        raise SchemaError(f"unexpected patch strategy {value!r} at {path}")
    others = [part for part in parts if part != RETAIN_KEYS_STRATEGY]
    strategy = _STRATEGIES.get(others[0], Strategy.ATOMIC) if others else Strategy.ATOMIC
    return strategy, RETAIN_KEYS_STRATEGY in parts
