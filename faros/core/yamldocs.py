"""Read the documents of a YAML stream as JSON values, refusing what could exhaust a worker.

A file from Git is untrusted input. PyYAML's ``SafeLoader`` builds no Python objects
but plain data, yet two things still need a guard:

- aliases: a "billion laughs" file (``&a [x, x]``, ``&b [*a, *a]``, ...) is a few
  hundred bytes whose expansion has billions of nodes, and merge keys (``<<: *a``)
  can double a mapping per level the same way. Each document's node graph is
  measured with every alias counted as a full copy, in time linear in the file, and
  refused past ``max_nodes`` *before* anything is constructed or expanded; a
  document whose alias refers to itself is refused too;
- nesting: PyYAML composes recursively; a document nested thousands of levels deep
  is refused instead of crashing.

Scalars are read the way the original controller's YAML library (go-yaml v2 via
sigs.k8s.io/yaml) read them where PyYAML's YAML 1.1 differs in ways that matter for
Kubernetes manifests: timestamps stay strings (``2019-04-03``), ``12:30`` is a string
and not the base-60 number 750, ``=`` is a string, and a float with an integral
value is written as an integer (``1.0`` -> ``1``), as Go's JSON encoder writes it.
"""

from __future__ import annotations

import base64
import functools
import math
import re
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import yaml

DEFAULT_MAX_NODES = 1_000_000
"""Most nodes one document may have once its aliases are expanded."""

PREFIX = "error converting YAML to JSON: "
"""How the original controller's messages about unreadable YAML start."""

_INT64 = 2**64
T = TypeVar("T")


class DocumentError(ValueError):
    """A document cannot be read; ``str()`` is the reason, without the file name."""


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` with go-yaml v2's reading of timestamps, base-60 numbers and ``=``."""


_DROPPED = {
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:value",
}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# PyYAML's own int and float patterns without their base-60 alternatives.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> str:
    """Read an explicit ``!!timestamp`` as its text, as implicit timestamps are read."""
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(
            None, None, "a timestamp must be a scalar", node.start_mark
        )
    return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def documents(data: bytes, *, max_nodes: int = DEFAULT_MAX_NODES) -> Iterator[Any]:
    """Yield each document of ``data`` as a JSON value (``None`` for an empty document).

    Documents are yielded as they are read, so those before a broken one are kept.

    Raises:
        DocumentError: at the first document that cannot be read, with the reason.
    """
    loader = _step(functools.partial(_Loader, data))
    try:
        while _step(loader.check_node):
            node = _step(loader.get_node)
            if node is None:  # only at the end of the stream, which check_node ruled out
                return
            _check_size(node, max_nodes=max_nodes)
            value = _step(functools.partial(loader.construct_document, node))
            yield _step(functools.partial(to_json, value))
    finally:
        loader.dispose()


def _step(read: Callable[[], T]) -> T:
    """Run one step of the loader, turning every way it can fail into a DocumentError."""
    try:
        return read()
    except DocumentError:
        raise
    except yaml.MarkedYAMLError as problem:
        raise DocumentError(_marked(problem)) from None
    except yaml.YAMLError as problem:  # the reader: bad encoding, control characters
        text = " ".join(str(problem).replace('in "<byte string>", ', "").split())
        raise DocumentError(f"{PREFIX}yaml: {text}") from None
    except RecursionError:
        raise DocumentError(f"{PREFIX}yaml: the document is nested too deeply") from None
    # PyYAML's constructors raise these for explicitly tagged scalars they cannot read
    # (``!!int abc``, ``!!bool maybe``, an integer of more than 4300 digits).
    except (ValueError, LookupError, TypeError) as problem:
        raise DocumentError(f"{PREFIX}yaml: cannot read a tagged value: {problem}") from None


def _marked(problem: yaml.MarkedYAMLError) -> str:
    mark = problem.problem_mark or problem.context_mark
    where = f"line {mark.line + 1}: " if mark is not None else ""
    what = "; ".join(text for text in (problem.context, problem.problem) if text)
    return f"{PREFIX}yaml: {where}{what}"


def _check_size(root: yaml.Node, *, max_nodes: int) -> None:
    """Refuse a node graph larger than ``max_nodes`` once expanded, or with a cycle."""
    sizes: dict[int, int] = {}
    ancestors: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            ancestors.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[id(node)] > max_nodes:
                raise DocumentError(
                    f"{PREFIX}yaml: the document has more than {max_nodes} nodes once its "
                    "aliases are expanded"
                )
        elif id(node) in ancestors:
            raise DocumentError(f"{PREFIX}yaml: an alias refers to a node that contains it")
        elif id(node) not in sizes:
            ancestors.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [child for pair in node.value for child in pair]
    return []


def to_json(value: Any) -> Any:
    """Return ``value`` (as PyYAML constructs it) as plain JSON data: str keys, no NaN."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -_INT64 < value < _INT64:
            raise DocumentError(f"{PREFIX}a number is out of range")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DocumentError(f"{PREFIX}json: unsupported value: {value}")
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {_key(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, bytes):  # !!binary: keep it base64, as a Secret's data wants it
        return base64.b64encode(value).decode("ascii")
    raise DocumentError(f"{PREFIX}unsupported {type(value).__name__} value")


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return "null" if key is None else str(key).lower()
    if isinstance(key, int | float):
        return str(to_json(key))
    raise DocumentError(f"{PREFIX}unsupported {type(key).__name__} key")
