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
    # kubectl's messages (test_yaml_kubectl.py), without the value they quote.
    ("nan", b"a: .nan\n", "json: unsupported value: NaN"),
    ("infinity", b"a: -.inf\n", "json: unsupported value: -Inf"),
    ("bad-int-tag", b"a: !!int abc\n", "yaml: cannot decode !!str as a !!int"),
    ("bad-bool-tag", b"a: !!bool maybe\n", "yaml: cannot decode !!str as a !!bool"),
    ("null-key", b"~: x\n", "unsupported map key of type: <nil>"),
    ("key-over-64-bits", b"18446744073709551615: x\n", "unsupported map key of type: uint64"),
    ("unhashable-key", b"? [a]\n: b\n", "invalid map key"),
    ("bad-base64", b"a: !!binary aGVsbG8\n", "!!binary value contains invalid base64 data"),
    ("merge-scalar", b"a: {<<: 1}\n", "map merge requires map or sequence of maps"),
    ("surrogate", b'a: "\\udc80"\n', "line 1: found invalid Unicode character escape code"),
    ("control-character", b"a: \x01\n", "special characters are not allowed"),
    ("bad-utf8", b"a: \xe9\n", "unacceptable character"),
    ("bad-timestamp", b"a: !!timestamp 2019-02-30\n", "cannot decode !!str as a !!timestamp"),
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
    ("yaml-1.1-short-bool", b"n", False),
    ("exponent-without-dot", b"1e3", 1000),
    ("small-float", b"1e-07", 1e-07),
    ("leading-zero-not-octal", b"08", 8),
    ("int64", b"9007199254740993", 9007199254740993),
    ("past-int64-is-a-float", b"12345678901234567890", 12345678901234567000),
    ("past-uint64-is-a-float", b"9" * 30, 1e30),
    ("past-float64-is-text", b"9" * 5000, "9" * 5000),
    # Tags go-yaml does not know are ignored; !!binary is decoded.
    ("binary-tag", b"!!binary aGVsbG8=", "hello"),
    ("pairs", b"!!pairs [a: 1]", [{"a": 1}]),
    ("set", b"!!set {a, b}", {"a": None, "b": None}),
    ("python-tag", b"!!python/object:os.system x", "x"),
    ("sequence-timestamp", b"!!timestamp [1]", [1]),
]


@pytest.mark.parametrize(("text", "value"), [s[1:] for s in SCALARS], ids=[s[0] for s in SCALARS])
def test_scalars_read_like_the_original(text, value):
    assert read(b"v: " + text + b"\n") == [{"v": value}]


def test_keys_become_strings():
    assert read(b"1: a\ny: b\n1.5: c\nfalse: d\n1e6: e\n? !!binary aGVsbG8=\n: f\n") == [
        {"1": "a", "true": "b", "1.5": "c", "false": "d", "1e+06": "e", "hello": "f"}
    ]


def test_a_merge_applies_where_it_stands():
    assert read(b"b: &b {p: 1, q: 1}\nm: {p: 0, <<: *b, q: 2}\n")[0]["m"] == {"p": 1, "q": 2}


def test_an_anchor_may_be_defined_again():
    assert read(b"a: &x 1\nb: &x 2\nc: *x\n") == [{"a": 1, "b": 2, "c": 2}]


@pytest.mark.parametrize(
    ("data", "value"),
    [(b"a: 1\n", {"a": 1}), (b"", None), (b"# only a comment\n", None), (b"--- 1\n", 1)],
)
def test_single_reads_the_only_document(data, value):
    assert yamldocs.single(data) == value


def test_single_refuses_more_than_one_document():
    with pytest.raises(yamldocs.DocumentError, match="the data has more than one document"):
        yamldocs.single(b"a: 1\n---\nb: 2\n")


def test_documents_before_a_broken_one_are_yielded():
    assert read(b"a: 1\n---\n---\n# comment\n---\nb: [\n---\nc: 3\n") == [
        {"a": 1},
        None,
        None,
        "error: error converting YAML to JSON: yaml: line 7: while parsing a flow node; "
        "expected the node content, but found '<document start>'",
    ]
