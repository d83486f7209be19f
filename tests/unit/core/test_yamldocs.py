"""YAML streams to JSON values: alias and merge bombs refused early, scalars read like go-yaml."""

from typing import Any

import pytest

from faros.core import yamldocs


def read(data: bytes, **limits: int) -> list[Any]:
    found: list[Any] = []
    try:
        found.extend(yamldocs.documents(data, **limits))
    except yamldocs.DocumentError as problem:
        found.append(f"error: {problem}")
    return found


def laughs(levels: int, width: int) -> bytes:
    lines = [b'l0: &l0 ["lol"]']
    for level in range(1, levels + 1):
        refs = b", ".join([b"*l%d" % (level - 1)] * width)
        lines.append(b"l%d: &l%d [%s]" % (level, level, refs))
    return b"\n".join(lines) + b"\n"


def merges(levels: int) -> bytes:
    lines = [b"m0: &m0 {a: 1, b: 2}"]
    for level in range(1, levels + 1):
        lines.append(b"m%d: &m%d {<<: [*m%d, *m%d]}" % (level, level, level - 1, level - 1))
    return b"\n".join(lines) + b"\n"


REFUSED = [
    ("billion-laughs", laughs(10, 10), "more than 1000000 nodes once its aliases are expanded"),
    ("merge-key-doubling", merges(40), "more than 1000000 nodes once its aliases are expanded"),
    ("self-reference", b"a: &a [1, *a]\n", "an alias refers to a node that contains it"),
    ("self-merge", b"a: &a {<<: *a}\n", "an alias refers to a node that contains it"),
    ("deep-nesting", b"[" * 2000 + b"]" * 2000, "the document is nested too deeply"),
    ("nan", b"a: .nan\n", "json: unsupported value: nan"),
    ("infinity", b"a: -.inf\n", "json: unsupported value: -inf"),
    ("bad-int-tag", b"a: !!int abc\n", "cannot read a tagged value"),
    ("bad-bool-tag", b"a: !!bool maybe\n", "cannot read a tagged value"),
    ("huge-int", b"a: " + b"9" * 5000 + b"\n", "cannot read a tagged value"),
    ("int-over-64-bits", b"a: " + b"9" * 30 + b"\n", "a number is out of range"),
    ("set", b"a: !!set {x, y}\n", "unsupported set value"),
    ("binary-key", b"? !!binary aGVsbG8=\n: x\n", "unsupported bytes key"),
    ("python-tag", b"a: !!python/object:os.system x\n", "could not determine a constructor"),
    ("unhashable-key", b"? [a]\n: b\n", "found unhashable key"),
    ("control-character", b"a: \x01\n", "special characters are not allowed"),
    ("bad-utf8", b"a: \xe9\n", "unacceptable character"),
    ("sequence-timestamp", b"a: !!timestamp [1]\n", "a timestamp must be a scalar"),
]


@pytest.mark.parametrize(("data", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_dangerous_or_unreadable_documents_are_refused(data, message):
    (problem,) = read(data)
    assert problem.startswith("error: error converting YAML to JSON: ")
    assert message in problem


def test_the_node_limit_is_a_parameter():
    assert read(laughs(3, 3), max_nodes=100) == [
        "error: error converting YAML to JSON: yaml: the document has more than 100 nodes "
        "once its aliases are expanded"
    ]
    (value,) = read(laughs(3, 3), max_nodes=1000)
    assert value["l3"] == [[[["lol"]] * 3] * 3] * 3


def test_ordinary_aliases_and_merge_keys_work():
    data = b"base: &base {app: web}\nfirst: {<<: *base, tier: a}\nsecond: *base\n"
    assert read(data) == [
        {"base": {"app": "web"}, "first": {"app": "web", "tier": "a"}, "second": {"app": "web"}}
    ]


SCALARS = [
    ("timestamp-stays-text", b"2019-04-03T10:11:54+01:00", "2019-04-03T10:11:54+01:00"),
    ("tagged-timestamp", b"!!timestamp 2001-12-14", "2001-12-14"),
    ("base-60-stays-text", b"12:30", "12:30"),
    ("equals", b"=", "="),
    ("integral-float", b"1.0", 1),
    ("big-integral-float", b"1.0e+22", 1e22),
    ("float", b"0.5", 0.5),
    ("octal", b"017", 15),
    ("hex", b"0x1F", 31),
    ("binary", b"0b101", 5),
    ("underscores", b"1_000", 1000),
    ("yaml-1.1-bool", b"on", True),
    ("null", b"~", None),
    ("binary-tag", b"!!binary aGVsbG8=", "aGVsbG8="),
    ("pairs", b"!!pairs [a: 1]", [["a", 1]]),
]


@pytest.mark.parametrize(("text", "value"), [s[1:] for s in SCALARS], ids=[s[0] for s in SCALARS])
def test_scalars_read_like_the_original(text, value):
    assert read(b"v: " + text + b"\n") == [{"v": value}]


def test_keys_become_strings():
    assert read(b"1: a\nnull: b\n1.5: c\nfalse: d\n") == [
        {"1": "a", "null": "b", "1.5": "c", "false": "d"}
    ]


def test_documents_before_a_broken_one_are_yielded():
    assert read(b"a: 1\n---\n---\n# comment\n---\nb: [\n---\nc: 3\n") == [
        {"a": 1},
        None,
        None,
        "error: error converting YAML to JSON: yaml: line 7: while parsing a flow node; "
        "expected the node content, but found '<document start>'",
    ]
