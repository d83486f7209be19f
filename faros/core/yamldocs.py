"""Read the documents of a YAML stream as the JSON values kubectl reads, refusing bombs.

kubectl is the reference (tests/unit/core/test_yaml_kubectl.py runs it). PyYAML only
composes nodes; values follow go-yaml v2 (``resolve.go``, ``decode.go``), then
sigs.k8s.io/yaml (``convertToJSONableObject``) and apimachinery's JSON decoding:

- a plain scalar is null (empty, ``~``, ``null``), a YAML 1.1 bool (``y``, ``n``, ``yes``,
  ``off``...), an integer as Go's ``ParseInt(_, 0, 64)`` reads it with every ``_`` removed
  (``0x1F``, ``0o17``, ``017``, ``0b101``, ``1_000``), a float (``1e3``, ``.5``, ``08``),
  else a string (timestamps, ``12:30``, ``=``, ``0x``, ``1e400``). Quoted and block scalars
  are strings. ``!!bool``/``!!int``/``!!float``/``!!null``/``!!timestamp`` must read as
  their type, ``!!binary`` is decoded to text, other tags are ignored;
- integers within int64 stay exact; larger ones and floats are float64, an integer when
  integral and under 1e21 (``1.0`` -> 1); ``.inf`` and ``.nan`` are refused;
- keys become strings (``n`` -> ``false``, ``1e6`` -> ``1e+06`` via float32); null keys and
  integer keys past int64 are refused;
- ``<<`` merges where it stands: earlier keys are overridden, later keys override.

Git files are untrusted: each document's node graph is measured first, every alias counted
as a full copy, in time linear in the file, and refused past ``max_nodes`` ("billion
laughs", merge doubling), with an alias inside its own node, or nested thousands deep.
Messages quote no value (at most one character): the document may be a Secret.
"""

from __future__ import annotations

import base64
import decimal
import functools
import itertools
import math
import re
import struct
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import yaml

DEFAULT_MAX_NODES = 1_000_000
"""Most nodes one document may have once its aliases are expanded."""

PREFIX = "error converting YAML to JSON: "
"""How kubectl's (and the original controller's) messages about unreadable YAML start."""

T = TypeVar("T")
_INT64 = 2**63
_UINT64 = 2**64
_TAG = "tag:yaml.org,2002:"
_STR, _BINARY, _MERGE = f"{_TAG}str", f"{_TAG}binary", f"{_TAG}merge"
_BOOL, _INT, _FLOAT, _NULL = f"{_TAG}bool", f"{_TAG}int", f"{_TAG}float", f"{_TAG}null"
_TIMESTAMP = f"{_TAG}timestamp"
_PLAIN = "!faros/plain"
"""Our tag for an untagged plain scalar: go-yaml resolves only those by their text."""


class DocumentError(ValueError):
    """A document cannot be read; ``str()`` is the reason, without the file name."""


class _Unsigned(int):
    """An integer go-yaml reads as uint64 (past int64): a float in JSON, refused as a key."""


class _Composer(yaml.SafeLoader):
    """PyYAML's composer; a scalar's tag is as written, or ``_PLAIN`` if plain and untagged."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return f"{_TAG}seq" if kind is yaml.SequenceNode else f"{_TAG}map"

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event = None
        if self.check_event(yaml.ScalarEvent, yaml.CollectionStartEvent):
            event = self.current_event
            self.anchors.pop(event.anchor, None)  # go-yaml lets an anchor be defined again
        node = super().compose_node(parent, index)
        if event is not None and isinstance(node, yaml.ScalarNode):
            if event.tag == "!":
                node.tag = "!"
            if node.style == '"' and _SURROGATE.search(node.value):
                raise yaml.composer.ComposerError(
                    None, None, "found invalid Unicode character escape code", node.start_mark
                )
        return node


def documents(data: bytes, *, max_nodes: int = DEFAULT_MAX_NODES) -> Iterator[Any]:
    """Yield each document of ``data`` as a JSON value (``None`` for an empty document).

    Documents are yielded as they are read, so those before a broken one are kept.

    Raises:
        DocumentError: at the first document that cannot be read, with the reason.
    """
    composer = _step(functools.partial(_Composer, data))
    try:
        while _step(composer.check_node):
            node = _step(composer.get_node)
            if node is None:  # only at the end of the stream, which check_node ruled out
                return
            _check_size(node, max_nodes=max_nodes)
            yield _step(functools.partial(_json, node))
    finally:
        composer.dispose()


def single(data: bytes, *, max_nodes: int = DEFAULT_MAX_NODES) -> Any:
    """Return the only document of ``data`` as a JSON value (``None`` when there is none).

    Raises:
        DocumentError: the document cannot be read, or ``data`` has more than one.
    """
    found = list(itertools.islice(documents(data, max_nodes=max_nodes), 2))
    if len(found) > 1:
        raise DocumentError(f"{PREFIX}yaml: the data has more than one document")
    return found[0] if found else None


def _step(read: Callable[[], T]) -> T:
    """Run one step of reading, turning every way it can fail into a DocumentError."""
    try:
        return read()
    except DocumentError:
        raise
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        what = "; ".join(text for text in (problem.context, problem.problem) if text)
        raise DocumentError(f"{PREFIX}yaml: {where}{what}") from None
    except yaml.YAMLError as problem:  # the reader: bad encoding, control characters
        text = " ".join(str(problem).replace('in "<byte string>", ', "").split())
        raise DocumentError(f"{PREFIX}yaml: {text}") from None
    except RecursionError:
        raise DocumentError(f"{PREFIX}yaml: the document is nested too deeply") from None
    except ValueError as problem:  # the scanner: an escape beyond U+10FFFF
        raise DocumentError(f"{PREFIX}yaml: a value cannot be read: {problem}") from None


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


def _json(node: yaml.Node) -> Any:
    """The JSON value of ``node`` (size already checked: aliases are built as copies)."""
    if isinstance(node, yaml.SequenceNode):
        return [_json(child) for child in node.value]
    if isinstance(node, yaml.MappingNode):
        found: dict[str, Any] = {}
        _fill(found, node)
        return found
    value = _scalar(node)
    if isinstance(value, float | _Unsigned):
        return _json_number(float(value))
    return value


def _fill(found: dict[str, Any], node: yaml.MappingNode) -> None:
    """Set the pairs of ``node`` in ``found`` in order, merging ``<<`` where it stands."""
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            raise DocumentError(f"{PREFIX}yaml: invalid map key: a mapping or a sequence")
        if key.value == "<<" and key.tag in (_PLAIN, "!", _MERGE):
            # go-yaml: the sources are merged last to first, so the first one wins.
            sources = value.value[::-1] if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise DocumentError(
                        f"{PREFIX}yaml: map merge requires map or sequence of maps as the value"
                    )
                _fill(found, source)
        else:
            # Interned: a repository of 10,000 objects holds "metadata" 10,000 times, not
            # 10,000 copies of it (about a quarter of its parsed size).
            found[sys.intern(_json_key(_scalar(key)))] = _json(value)


def _json_number(number: float) -> float | int:
    """A float64 as kubectl reads back what Go's JSON encoder writes for it."""
    if not math.isfinite(number):
        name = "NaN" if math.isnan(number) else f"{'+' if number > 0 else '-'}Inf"
        raise DocumentError(f"{PREFIX}json: unsupported value: {name}")
    if number.is_integer() and abs(number) < 1e21:  # Go writes these without "." or "e"
        return int(decimal.Decimal(repr(number)))  # the shortest digits, as Go writes them
    return number


def _json_key(key: Any) -> str:
    """A key as sigs.k8s.io/yaml writes it in JSON."""
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, _Unsigned):
        raise DocumentError(f"{PREFIX}unsupported map key of type: uint64")
    if isinstance(key, int):
        return str(key)
    if isinstance(key, float):
        return _float32_text(key)
    raise DocumentError(f"{PREFIX}unsupported map key of type: <nil>")


# --- Scalars: go-yaml v2 resolve.go and decoder.scalar ---------------------------------

# go-yaml's hint from the first character; a text without one is a string.
_HINTS = dict.fromkeys("+-", "sign") | dict.fromkeys("0123456789", "digit") | {".": "dot"}
_HINTS |= dict.fromkeys("yYnNtTfFoO~", "word")
_WORDS: dict[str, tuple[str, Any]] = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"], (_BOOL, True)),
    **dict.fromkeys(["true", "True", "TRUE"], (_BOOL, True)),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "off", "Off", "OFF"], (_BOOL, False)),
    **dict.fromkeys(["false", "False", "FALSE"], (_BOOL, False)),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], (_NULL, None)),
    **dict.fromkeys([".nan", ".NaN", ".NAN"], (_FLOAT, math.nan)),
    **dict.fromkeys([".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"], (_FLOAT, math.inf)),
    **dict.fromkeys(["-.inf", "-.Inf", "-.INF"], (_FLOAT, -math.inf)),
}
_TYPED = {_BOOL, _INT, _FLOAT, _NULL, _TIMESTAMP}
# strconv.ParseUint(s, 0, 64) after a sign: a base prefix, or a leading 0 for octal.
_GO_UINT = re.compile(r"0[bB]([01]+)|0[oO]([0-7]+)|0[xX]([0-9a-fA-F]+)|0([0-7]*)|([1-9][0-9]*)")
_GO_BASES = (2, 8, 16, 8, 10)
# go-yaml's yamlStyleFloat, and what strconv.ParseFloat takes from a text starting with ".".
_GO_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_DOT_FLOAT = re.compile(r"\.[0-9](?:_?[0-9])*(?:[eE][-+]?[0-9](?:_?[0-9])*)?")
_SIGNED_BINARY = re.compile(r"0b([-+]?[01]+)")
# The layouts go-yaml gives time.Parse: 2006-1-2T15:4:5.999999999Z07:00 (also "t"),
# "2006-1-2 15:4:5.999999999" (one or more spaces) and 2006-1-2.
_GO_TIME = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})"
    r"(?:(?P<sep>[Tt]| +)(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{1,2}):(?P<second>[0-9]{1,2})"
    r"(?:[.,][0-9]+)?(?P<zone>Z|[-+](?P<zh>[0-9]{2}):(?P<zm>[0-9]{2}))?)?"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED = re.compile("[\udc80-\udcff]")


def _scalar(node: yaml.Node) -> Any:
    """The value go-yaml v2 decodes ``node`` to (a timestamp is its text)."""
    tag, text = node.tag, node.value
    if tag == _PLAIN:
        return _resolve(text)[1]
    if tag == _BINARY:
        return _binary(text)
    if tag not in _TYPED:
        return text  # !!str, a quoted or block scalar, or a tag go-yaml does not know
    if tag == _TIMESTAMP and _is_timestamp(text):
        return text
    found, value = _resolve(text)
    if found == tag:
        return value
    if tag == _FLOAT and found == _INT and not isinstance(value, _Unsigned):
        return float(value)
    short = found.replace(_TAG, "!!")
    raise DocumentError(f"{PREFIX}yaml: cannot decode {short} as a {tag.replace(_TAG, '!!')}")


def _resolve(text: str) -> tuple[str, Any]:
    """The tag and value go-yaml v2 resolves an untagged plain scalar's text to."""
    hint = _HINTS.get(text[:1]) if text else "word"
    if hint is None:
        return _STR, text
    if text in _WORDS:
        return _WORDS[text]
    if hint == "dot" and _DOT_FLOAT.fullmatch(text):
        number = float(text.replace("_", ""))
        if not math.isinf(number):
            return _FLOAT, number
    if hint in ("sign", "digit"):
        return _number(text.replace("_", "")) or (_STR, text)
    return _STR, text


def _number(plain: str) -> tuple[str, Any] | None:
    """A number from ``plain`` (no ``_``) as go-yaml tries them, or None for a string."""
    integer = _go_int(plain, signed=True)
    if integer is not None:
        return _INT, integer
    unsigned = _go_int(plain, signed=False)
    if unsigned is not None:
        return _INT, _Unsigned(unsigned)
    if _GO_FLOAT.fullmatch(plain):
        number = float(plain)
        if not math.isinf(number):  # strconv.ParseFloat fails with ErrRange
            return _FLOAT, number
    binary = _SIGNED_BINARY.fullmatch(plain)  # go-yaml's own fallback: "0b-1" is -1
    if binary is not None and -_INT64 <= int(binary[1], 2) < _INT64:
        return _INT, int(binary[1], 2)
    return None


def _go_int(text: str, *, signed: bool) -> int | None:
    """``strconv.ParseInt(text, 0, 64)``, or ``ParseUint`` unless ``signed``; None if it fails."""
    sign = text[:1] if signed and text[:1] in ("-", "+") else ""
    match = _GO_UINT.fullmatch(text[len(sign) :])
    if match is None:
        return None
    base, digits = next(
        (b, d) for b, d in zip(_GO_BASES, match.groups(), strict=True) if d is not None
    )
    digits = digits.lstrip("0") or "0"
    if len(digits) > 64:  # past 64 bits in any base; also keeps int() from long texts
        return None
    value = int(sign + digits, base)
    return value if (-_INT64 <= value < _INT64 if signed else value < _UINT64) else None


def _is_timestamp(text: str) -> bool:
    """Whether go-yaml accepts ``text`` as an explicit ``!!timestamp``."""
    match = _GO_TIME.fullmatch(text)
    if match is None or (match["sep"] in ("T", "t")) != (match["zone"] is not None):
        return False
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    clock = [int(match[name] or 0) for name in ("hour", "minute", "second", "zh", "zm")]
    in_range = all(value < top for value, top in zip(clock, (24, 60, 60, 25, 61), strict=True))
    return 1 <= month <= 12 and 1 <= day <= days[month - 1] and in_range


def _binary(text: str) -> str:
    """A ``!!binary`` value: its bytes as Go's JSON encoder writes them (bad UTF-8 -> U+FFFD)."""
    try:
        data = base64.b64decode(text.replace("\r", "").replace("\n", ""), validate=True)
    except ValueError:
        raise DocumentError(f"{PREFIX}yaml: !!binary value contains invalid base64 data") from None
    return _ESCAPED.sub("\ufffd", data.decode("utf-8", "surrogateescape"))


def _float32_text(number: float) -> str:
    """A float key as Go's ``FormatFloat(number, 'g', -1, 32)``; go-yaml's names for inf, nan."""
    if math.isnan(number):
        return ".nan"
    try:
        single: float = struct.unpack("<f", struct.pack("<f", number))[0]
    except OverflowError:
        single = math.copysign(math.inf, number)
    if math.isinf(single):
        return ".inf" if single > 0 else "-.inf"
    if single == 0:
        return "-0" if math.copysign(1.0, single) < 0 else "0"
    shortest = _shortest32(abs(single)).copy_sign(decimal.Decimal(single))
    if -4 <= shortest.adjusted() < 6:
        return f"{shortest:f}"
    mantissa, exponent = f"{shortest:e}".split("e")
    return f"{mantissa}e{int(exponent):+03d}"


def _shortest32(single: float) -> decimal.Decimal:
    """The shortest decimal that reads back as the float32 ``single`` > 0, as Go finds it.

    Among the candidates with the fewest digits inside the rounding interval (its ends
    included when the mantissa is even), the nearest, rounding half to even.
    """
    bits = struct.unpack("<I", struct.pack("<f", single))[0]
    fraction, biased = bits & 0x7FFFFF, bits >> 23
    with decimal.localcontext(prec=200):
        exact = decimal.Decimal(single)
        ulp = decimal.Decimal(2) ** (max(biased, 1) - 150)
        low = exact - ulp / (4 if fraction == 0 and biased > 1 else 2)
        high = exact + ulp / 2
        for count in range(1, 10):
            unit = decimal.Decimal(1).scaleb(exact.adjusted() - count + 1)
            below = (exact / unit).to_integral_value(decimal.ROUND_FLOOR) * unit
            inside = [
                candidate
                for candidate in (below, below + unit)
                if low < candidate < high or (bits % 2 == 0 and candidate in (low, high))
            ]
            if inside:  # the nearest; at a tie, the one with an even last digit
                best = min(inside, key=lambda near: (abs(near - exact), near / unit % 2))
                return best.normalize()
    raise AssertionError("a float32 needs at most 9 digits")  # pragma: no cover
