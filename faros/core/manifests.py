"""Turn one repository file into Kubernetes objects, or a per-file error (spec section 2.5).

A file is a YAML stream (JSON is YAML). Every document is one object, except a
document with an ``items`` array (``kind: List``, ``ConfigMapList``...): each item
must be an object and becomes one object; items that give neither ``kind`` nor
``apiVersion`` take the list's apiVersion and its kind without the ``List`` suffix,
as the original's decoder did. Reading stops at the first bad document: the objects
before it are kept, the rest of the file is dropped, and the file gets the error
``unable to parse '<path>': <reason>`` (``ignoredFiles`` adds the original's trailing
newline). A document without ``kind`` fails with the original's leading text
``unable to unmarshal JSON: Object 'Kind' is missing in ...``.

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
- a message never quotes the document, where the original quoted it whole as JSON:
  it names the document by its 1-based place in the file (``document 2``, or
  ``items[3] of the ConfigMapList in document 1``) and the object by its kind and
  name when they are known (``(kind Secret, name db)``). The message reaches the
  GitTrack's status and Events, readable by anyone who can read GitTracks, and the
  document may be a Secret; kind and name are cut at 253 characters, so one bad file
  cannot push the status past the API server's size limit either;
- line numbers in YAML errors count from the start of the file, not of the chunk.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeGuard

from faros.core import errors, yamldocs

_UNMARSHAL = "unable to unmarshal JSON: "
_MAX_LABEL = 253  # the longest valid object name (a DNS subdomain)


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
        documents = yamldocs.documents(data, max_nodes=max_nodes)
        for number, document in enumerate(documents, start=1):
            objects.extend(_objects(document, number=number))
    except yamldocs.DocumentError as problem:
        error = errors.ManifestError(path=path, reason=str(problem))
        return FileResult(path, tuple(objects), error)
    return FileResult(path, tuple(objects))


def _objects(document: Any, *, number: int) -> list[dict[str, Any]]:
    """Return the objects of document ``number``: none, itself, or the items of a list."""
    if document is None:
        return []
    if not isinstance(document, dict):
        raise yamldocs.DocumentError(
            f"{_UNMARSHAL}a manifest must be an object, but document {number} is "
            f"{_json_type(document)}"
        )
    where = f"document {number}"
    _check_type(document, where=where)
    items = document.get("items")
    if not isinstance(items, list):
        _check_name(document, where=where)
        return [document]
    found = []
    for index, item in enumerate(items):
        item_where = f"items[{index}] of the {_label(document['kind'])} in {where}"
        if not isinstance(item, dict):
            raise yamldocs.DocumentError(
                f"{_UNMARSHAL}{item_where} is not an object but {_json_type(item)}"
            )
        found.append(_item(item, of=document, where=item_where))
    return found


def _item(item: dict[str, Any], *, of: Mapping[str, Any], where: str) -> dict[str, Any]:
    if "kind" not in item and "apiVersion" not in item:
        item = {"apiVersion": of["apiVersion"], "kind": of["kind"].removesuffix("List"), **item}
    _check_type(item, where=where)
    _check_name(item, where=where)
    return item


def _check_type(document: Mapping[str, Any], *, where: str) -> None:
    """Require ``kind`` (the original's message) and an ``apiVersion`` of ``[group/]version``."""
    if not _is_text(document.get("kind")):
        raise _invalid("Object 'Kind' is missing", document, where=where)
    api_version = document.get("apiVersion")
    if not _is_text(api_version):
        raise _invalid("Object 'apiVersion' is missing", document, where=where)
    group, _, version = str(api_version).rpartition("/")
    if not version or "/" in group or (group == "" and "/" in str(api_version)):
        raise _invalid("apiVersion is not <group>/<version> or <version>", document, where=where)


def _check_name(document: Mapping[str, Any], *, where: str) -> None:
    metadata = document.get("metadata")
    if not isinstance(metadata, dict) or not _is_text(metadata.get("name")):
        raise _invalid("Object 'metadata.name' is missing", document, where=where)
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise _invalid("Object 'metadata.namespace' is not a string", document, where=where)


def _invalid(problem: str, document: Mapping[str, Any], *, where: str) -> yamldocs.DocumentError:
    """Say what is wrong and where, naming the object by kind and name only.

    Nothing else of the document is quoted: the message reaches the GitTrack's status and
    Events, which anyone who can read GitTracks sees, and the document may be a Secret.
    """
    metadata = document.get("metadata")
    known = [
        f"{field} {_label(value)}"
        for field, value in (
            ("kind", document.get("kind")),
            ("name", metadata.get("name") if isinstance(metadata, dict) else None),
        )
        if _is_text(value)
    ]
    identity = f" ({', '.join(known)})" if known else ""
    return yamldocs.DocumentError(f"{_UNMARSHAL}{problem} in {where}{identity}")


def _label(text: str) -> str:
    """Cut a kind or name to the longest valid name, so one file cannot bloat the status."""
    return text if len(text) <= _MAX_LABEL else f"{text[:_MAX_LABEL]}..."


def _is_text(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value != ""


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
