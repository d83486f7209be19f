"""Paths to fields of an object: RFC 6901 JSON pointers, ``managedFields`` (FieldsV1), and
reading, writing and comparing the values they lead to.

A path is a tuple of segments: a ``str`` is a map key, an ``int`` a list index, and a
``dict`` a list item found by its key fields (FieldsV1's ``k:{"name":"web"}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

Segment = str | int | dict[str, Any]
Path = tuple[Segment, ...]
MISSING: Any = object()
"""What :func:`get` returns when the path leads nowhere."""


class PointerError(ValueError):
    """A string is not an RFC 6901 JSON pointer."""


def parse_pointer(pointer: str) -> Path:
    """``/spec/replicas`` -> ("spec", "replicas"); ``~1`` is ``/`` and ``~0`` is ``~``;
    a token of digits may index a list (decided when the path is followed).

    Raises:
        PointerError: not empty and not starting with "/", or a bad ``~`` escape.
    """
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise PointerError(f"JSON pointer {pointer!r} must start with '/' (RFC 6901)")
    segments: list[Segment] = []
    for token in pointer[1:].split("/"):
        if "~" in token.replace("~0", "").replace("~1", ""):
            raise PointerError(f"JSON pointer {pointer!r} has a '~' not followed by 0 or 1")
        segments.append(token.replace("~1", "/").replace("~0", "~"))
    return tuple(segments)


def managed_paths(fields: Mapping[str, Any] | None) -> list[Path]:
    """The fields a ``managedFields`` entry's ``fieldsV1`` owns, as paths (leaves and the
    nodes it owns as a whole, marked ``"."``). Set members (``v:``) end their path at the
    list."""
    found: list[Path] = []

    def walk(node: Mapping[str, Any], prefix: Path) -> None:
        children = [key for key in node if key != "."]
        if ("." in node or not children) and prefix:
            found.append(prefix)
        for key in children:
            segment = _segment(key)
            if segment is None:
                if prefix:
                    found.append(prefix)
                continue
            below = node[key]
            walk(below if isinstance(below, Mapping) else {}, (*prefix, segment))

    walk(fields or {}, ())
    return _dedupe(found)


def _dedupe(paths: list[Path]) -> list[Path]:
    seen: set[str] = set()
    kept: list[Path] = []
    for path in paths:
        mark = json.dumps(path, sort_keys=True, default=str)
        if mark not in seen:
            seen.add(mark)
            kept.append(path)
    return kept


def _segment(key: str) -> Segment | None:
    prefix, _, rest = key.partition(":")
    if prefix == "f":
        return rest
    if prefix == "k":
        try:
            item = json.loads(rest)
        except ValueError:
            return None
        return item if isinstance(item, dict) else None
    if prefix == "i":
        return int(rest) if rest.isdigit() else None
    return None  # "v:" (a set member) and anything unknown: the list as a whole


def get(obj: Any, path: Path) -> Any:
    """The value at ``path`` in ``obj``; ``MISSING`` when it leads nowhere."""
    node = obj
    for segment in path:
        node = _step(node, segment)
        if node is MISSING:
            return MISSING
    return node


def _step(node: Any, segment: Segment) -> Any:
    if isinstance(segment, dict):
        if not isinstance(node, list):
            return MISSING
        return next((item for item in node if _matches(item, segment)), MISSING)
    if isinstance(node, Mapping):
        return node.get(segment, MISSING) if isinstance(segment, str) else MISSING
    if isinstance(node, list):
        index = segment if isinstance(segment, int) else _index(segment)
        return node[index] if index is not None and 0 <= index < len(node) else MISSING
    return MISSING


def _index(segment: Segment) -> int | None:
    return int(segment) if isinstance(segment, str) and segment.isdigit() else None


def _matches(item: Any, key: Mapping[str, Any]) -> bool:
    return isinstance(item, Mapping) and all(item.get(k) == v for k, v in key.items())


def put(obj: Any, path: Path, value: Any) -> bool:
    """Set ``path`` in ``obj`` to ``value`` in place (creating maps on the way); True when
    done. A list index or item that does not exist is not created."""
    if not path:
        return False
    node = obj
    for segment in path[:-1]:
        child = _step(node, segment)
        if child is MISSING:
            if not (isinstance(node, dict) and isinstance(segment, str)):
                return False
            child = node[segment] = {}
        node = child
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        node[last] = value
        return True
    if isinstance(node, list):
        target = _position(node, last)
        if target is not None:
            node[target] = value
            return True
    return False


def remove(obj: Any, path: Path) -> bool:
    """Remove ``path`` from ``obj`` in place; True when something was removed."""
    if not path:
        return False
    parent = get(obj, path[:-1])
    last = path[-1]
    if isinstance(parent, dict) and isinstance(last, str) and last in parent:
        del parent[last]
        return True
    if isinstance(parent, list):
        target = _position(parent, last)
        if target is not None:
            del parent[target]
            return True
    return False


def _position(items: list[Any], segment: Segment) -> int | None:
    if isinstance(segment, dict):
        return next((i for i, item in enumerate(items) if _matches(item, segment)), None)
    index = segment if isinstance(segment, int) else _index(segment)
    return index if index is not None and 0 <= index < len(items) else None


def render(path: Path) -> str:
    """A path for people: ``spec.template.spec.containers[name=web].image``."""
    text = ""
    for segment in path:
        if isinstance(segment, dict):
            text += "[" + ",".join(f"{k}={v}" for k, v in sorted(segment.items())) + "]"
        elif isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else segment
    return text


def covers(owned: Path, path: Path) -> bool:
    """True when ``owned`` is ``path``, an ancestor of it, or a descendant of it."""
    shorter = min(len(owned), len(path))
    return all(_same(a, b) for a, b in zip(owned[:shorter], path[:shorter], strict=True))


def _same(a: Segment, b: Segment) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return all(b.get(k) == v for k, v in a.items()) or all(a.get(k) == v for k, v in b.items())
    return a == b or (_index(a) is not None and _index(a) == b) or (
        _index(b) is not None and _index(b) == a)  # fmt: skip


LIST_KEYS = ("name", "containerPort", "port", "mountPath", "devicePath", "ip", "type", "key")
"""Fields that identify an item of a list of objects (as strategic merge's merge keys do)."""


def differences(desired: Any, live: Any, prefix: Path = ()) -> Iterator[Path]:
    """Paths where ``live`` differs from ``desired``, over the fields ``desired`` sets: maps
    key by key, lists of objects item by item when their items share a key field
    (``LIST_KEYS``), any other list or value as a whole."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            yield prefix
            return
        for key, value in desired.items():
            yield from differences(value, live.get(key, MISSING), (*prefix, key))
        return
    if isinstance(desired, list) and isinstance(live, list) and desired != live:
        key = _list_key(desired)
        if key is None:
            yield prefix
            return
        for item in desired:
            segment = {key: item[key]}
            found = next((x for x in live if _matches(x, segment)), MISSING)
            yield from differences(item, found, (*prefix, segment))
        return
    if desired != live:
        yield prefix


def _list_key(items: Sequence[Any]) -> str | None:
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    for key in LIST_KEYS:
        values = [item.get(key) for item in items]
        if all(v is not None and not isinstance(v, dict | list) for v in values) and len(
            set(map(str, values))
        ) == len(values):
            return key
    return None
