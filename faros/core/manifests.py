"""Turn one repository file into Kubernetes objects, or a per-file error (spec section 2.5).

A file is a YAML stream (JSON is YAML). Every document is one object, except a
document with an ``items`` array (``kind: List``, ``ConfigMapList``...): each item
must be an object and becomes one object; items that give neither ``kind`` nor
``apiVersion`` take the list's apiVersion and its kind without the ``List`` suffix,
as the original's decoder did. Reading stops at the first bad document: the objects
before it are kept, the rest of the file is dropped, and the file gets the error
``unable to parse '<path>': <reason>`` (``ignoredFiles`` adds the original's trailing
newline). A document without ``kind`` fails with the original's text
``unable to unmarshal JSON: Object 'Kind' is missing in '<json>'``.

Deliberate differences from the original:

- documents are split where YAML starts one, which includes every line ``---`` the
  original split on; ``--- `` with trailing blanks or a comment and CRLF line endings
  also split, where the original silently kept only the first document of the chunk;
- an empty or comment-only document is skipped, not an error (common and harmless,
  e.g. a trailing ``---`` or a commented-out object);
- ``apiVersion`` and ``metadata.name`` are checked here, with a message naming what
  is missing, instead of failing later when the GitTrackObject is created;
- files over ``max_bytes`` and documents that expand past ``max_nodes`` (alias
  bombs) or nest too deeply are refused with a per-file error;
- the object quoted in a message is cut after 1024 characters, so one bad file
  cannot push the GitTrack's status past the API server's size limit;
- line numbers in YAML errors count from the start of the file, not of the chunk.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from faros.core import errors, yamldocs

_UNMARSHAL = "unable to unmarshal JSON: "
_MAX_QUOTED = 1024
_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"}


@dataclasses.dataclass(frozen=True, slots=True)
class FileResult:
    """What one file gave: the objects read before any error, and the error or None."""

    path: str
    objects: tuple[dict[str, Any], ...]
    error: errors.ManifestError | None = None


def parse(
    path: str, data: bytes, *, max_bytes: int, max_nodes: int = yamldocs.DEFAULT_MAX_NODES
) -> FileResult:
    """Read every object of the file at ``path`` (repository-relative) whose bytes are ``data``.

    Never raises: whatever is wrong with the file ends up in ``FileResult.error``.
    """
    if len(data) > max_bytes:
        reason = f"the file has {len(data)} bytes, more than the limit of {max_bytes}"
        return FileResult(path, (), errors.ManifestError(path=path, reason=reason))
    objects: list[dict[str, Any]] = []
    try:
        for document in yamldocs.documents(data, max_nodes=max_nodes):
            objects.extend(_objects(document))
    except yamldocs.DocumentError as problem:
        error = errors.ManifestError(path=path, reason=str(problem))
        return FileResult(path, tuple(objects), error)
    return FileResult(path, tuple(objects))


def _objects(document: Any) -> list[dict[str, Any]]:
    """Return the objects of one document: none, itself, or the items of a list."""
    if document is None:
        return []
    if not isinstance(document, dict):
        raise yamldocs.DocumentError(
            f"{_UNMARSHAL}a manifest must be an object, not {_json_type(document)}: "
            f"'{quote(document)}'"
        )
    _check_type(document)
    items = document.get("items")
    if not isinstance(items, list):
        _check_name(document)
        return [document]
    found = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise yamldocs.DocumentError(
                f"{_UNMARSHAL}items[{index}] of the {document['kind']} is not an object: "
                f"'{quote(item)}'"
            )
        found.append(_item(item, of=document))
    return found


def _item(item: dict[str, Any], *, of: Mapping[str, Any]) -> dict[str, Any]:
    if "kind" not in item and "apiVersion" not in item:
        item = {"apiVersion": of["apiVersion"], "kind": of["kind"].removesuffix("List"), **item}
    _check_type(item)
    _check_name(item)
    return item


def _check_type(document: Mapping[str, Any]) -> None:
    """Require ``kind`` (the original's message) and an ``apiVersion`` of ``[group/]version``."""
    if not _is_text(document.get("kind")):
        raise yamldocs.DocumentError(f"{_UNMARSHAL}Object 'Kind' is missing in '{quote(document)}'")
    api_version = document.get("apiVersion")
    if not _is_text(api_version):
        raise yamldocs.DocumentError(
            f"{_UNMARSHAL}Object 'apiVersion' is missing in '{quote(document)}'"
        )
    group, _, version = str(api_version).rpartition("/")
    if not version or "/" in group or (group == "" and "/" in str(api_version)):
        raise yamldocs.DocumentError(
            f"{_UNMARSHAL}apiVersion '{api_version}' is not <group>/<version> or <version> "
            f"in '{quote(document)}'"
        )


def _check_name(document: Mapping[str, Any]) -> None:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or not _is_text(metadata.get("name")):
        raise yamldocs.DocumentError(
            f"{_UNMARSHAL}Object 'metadata.name' is missing in '{quote(document)}'"
        )
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise yamldocs.DocumentError(
            f"{_UNMARSHAL}Object 'metadata.namespace' is not a string in '{quote(document)}'"
        )


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def quote(value: Any) -> str:
    """Return ``value`` as Go's JSON encoder writes it (sorted keys, HTML-safe), cut at 1024."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for character, escape in _HTML_ESCAPES.items():
        text = text.replace(character, escape)
    return text if len(text) <= _MAX_QUOTED else f"{text[:_MAX_QUOTED]}..."
