"""Manifests are read as kubectl reads them: yamldocs checked against ``kubectl --local``.

kubectl needs no server here: ``label --local -o json`` prints each object as it read it
(plus the label it adds, removed before comparing). Values are compared as JSON text, so
``1`` and ``1.0`` differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from faros.core import yamldocs

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

# (id, YAML under `spec:`). Keys of one mapping must stay distinct once kubectl makes them
# strings: Go iterates maps in random order, so a collision has no single right answer.
READ = [
    ("bools", "v: [y, Y, yes, Yes, YES, on, On, ON, true, True, TRUE]"),
    ("falses", "v: [n, N, no, No, NO, off, Off, OFF, false, False, FALSE]"),
    ("not-bools", "v: [yES, tRUE, nO, oN, yess, Yes!, 'yes', \"n\"]"),
    ("bool-keys", "v: {y: 1, N: 2}"),
    ("word-keys", "v: {ON: 1, off: 2, yes please: 3}"),
    ("nulls", "a: ~\nb: null\nc: Null\nd: NULL\ne:\nf: nULL\ng: ''\nh: !!null ''"),
    ("decimal", "v: [0, -0, +1, -1, 00, 007, 1_000, 1__0, 1_, +_1, -1_0, _1]"),
    ("hex", "v: [0x1F, 0X1f, -0x10, +0x10, 0x_1F, 0x, 0xG, 0x1.8p1]"),
    ("octal", "v: [017, 0o17, 0O17, -0o17, 0o8, 0777]"),
    ("leading-zeros", "v: [08, 09, 019, 0_8, 00.5, 012e1, 0099.5]"),
    ("binary-ints", "v: [0b101, 0B11, -0b101, 0b+1, 0b-1, 0b2, 0b]"),
    (
        "int64",
        "v: [9223372036854775807, -9223372036854775808, 9007199254740993, -9007199254740993]",
    ),
    (
        "past-int64",
        "v: [9223372036854775808, -9223372036854775809, 12345678901234567890, "
        "18446744073709551615, 18446744073709551616, 123456789012345678901234, "
        "0xFFFFFFFFFFFFFFFF, 0x8000000000000000, 0x1FFFFFFFFFFFFFFFF, 0777777777777777777777777]",
    ),
    ("tagged-uint64", "v: !!int 12345678901234567890"),
    ("floats", "v: [1.5, -1.5, +1.5, 1., .5, -.5, +.5, 0.1, 1.0, 100000.0, 3.0e0]"),
    ("exponents", "v: [1e3, 1.5e3, 1E3, 1e+3, 1e-3, -1e-3, 1.5e-3, .5e3, .5E+3, 0e0, 1e-0]"),
    (
        "small-and-large",
        "v: [1e-07, 1e-7, 1e-6, 1e20, 1.5e20, 1e21, 1.5e300, 123456789012345678901]",
    ),
    ("float-underscores", "v: [1.5_5, .5_0, ._5, 1e3_0, 1_000.5, .5_]"),
    ("float-range", "v: [1e400, -1e400, 1e-400, .1e400, 1.7976931348623157e308]"),
    ("negative-zero", "v: [-0, -0.0, +0, -0x0, -0e0]"),
    ("long-mantissa", "v: 0.1000000000000000055511151231257827"),
    ("inf-nan-lookalikes", "v: [.infinity, .Nan, +.nan, -.nan, inf, nan, Infinity, +Inf, .iNF]"),
    ("dots", "v: [., .e3, .., 1.2.3, 1..2, 1e, e3, '1e3']"),
    ("plain-text", "a: 1 2\nb: 1-2\nc: +\nd: '-'\ne: this is\n  folded\nf: 1,5"),
    ("dates", "v: [2019-04-03, 2019-4-3, 2019-13-45, 20190403, 2019-04-03x]"),
    (
        "timestamps",
        "v: [2001-12-14t21:59:43.10-05:00, '2001-12-14 21:59:43.10', 2001-12-15T02:59:43.1Z, "
        "2001-12-14 21:59:43.10 -5]",
    ),
    ("times", "v: [12:30, 1:2:3, 190:20:30, 12:30:00, -12:30, 12:30.5]"),
    ("equals-and-merge-text", "v: [=, <<, '<<', ==, <<<]"),
    (
        "quoted",
        "v: ['1', \"2\", 'true', \"y\", '~', \"null\", '1e3', \"0x10\", '2019-04-03', \"\"]",
    ),
    ("block-scalars", "a: |\n  1\nb: >-\n  y\nc: |-\n  .inf"),
    (
        "tagged",
        "v: [!!int '12', !!float 1, !!float 1e3, !!float 9223372036854775807, !!str 1, !!str ~, "
        "!!bool yes, !!bool Off, !!null ~, !!int 0x1F, !!int 0b-1, !!float .5]",
    ),
    (
        "tagged-timestamps",
        "v: [!!timestamp 2001-12-14, !!timestamp 2019-1-2T1:2:3Z, "
        "!!timestamp '2019-01-02   10:11:12,5', !!timestamp 2020-02-29, !!timestamp 0000-02-29, "
        "!!timestamp 2019-01-02T10:11:12+24:60, !!timestamp 2019-01-02t10:11:12.123456789123Z]",
    ),
    (
        "unknown-tags",
        "v: [!foo bar, ! 12, !!python/object:os.system x, !!merge x, !!seq z, !!map w]",
    ),
    (
        "tagged-collections",
        "a: !!set {x, y}\nb: !!pairs [a: 1]\nc: !foo {d: 1}\nd: !!omap [f: 1]\ne: !!str [1]",
    ),
    (
        "binary-tag",
        "a: !!binary aGVsbG8=\nb: !!binary \"aGVs\\nbG8=\"\nc: !!binary ''\nd: !!binary '/+/+'\n"
        "e: !!binary 4oJB\nf: !!binary 7aCA\ng: !!binary aGVsbG9=\nh: !!binary |\n  aGVs\n  bG8=",
    ),
    ("int-keys", "v: {1: a, 0x10: b, 017: c, -1: d, 1_000: e, 9223372036854775807: f, 08: g}"),
    (
        "float-keys",
        "v: {1.5: a, 1e3: b, 1.0: c, -0.0: d, 1e-5: e, 0.0001: f, 123456.0: g, 1e6: h, "
        "1234567.0: i, 16777217.0: j, 3.14159265358979: k, .inf: l, -.inf: m, .nan: n, 0.1: o, "
        "1e-45: p, 1e-46: q, 3.4028235e38: r, 0.3: s, 2.5e-5: t, 1e5: u}",
    ),
    ("float-key-overflow", "v: {1e40: a, -1e39: b, 3.40282356e38: c}"),
    ("text-keys", "v: {2019-04-03: a, '12:30': b, =: c, 0x: d, '1': e, 1e400: f}"),
    ("binary-key", "v: {!!binary aGVsbG8=: a}"),
    (
        "merges",
        "base: &b {a: 1, b: 2}\nm1: {<<: *b, c: 3}\nm2: {a: 0, <<: *b}\nm3: {<<: *b, a: 0}\n"
        "m4: {<<: [{a: 9, z: 9}, *b]}\nm5: {'<<': *b}\nm6: {! <<: *b}\nm7: {!!merge <<: *b}\n"
        "m8: {<<: {<<: *b, d: 4}}\nm9: {<<: []}\nm10: {<<: *b, <<: {a: 5}}",
    ),
    ("anchors", "a: &x 1\nb: &x 2\nc: *x\nd: &s [1, {e: y}]\nf: *s"),
    ("escapes", 'v: ["\\x41", "\\u00e9", "\\U0001F600", "\\t", \'it\'\'s\', "\\N"]'),
    ("duplicate-keys", "v: {a: 1, a: 2}"),
]

REFUSED = [
    ("nan", "v: .nan", "json: unsupported value: NaN"),
    ("infinity", "v: -.inf", "json: unsupported value: -Inf"),
    ("tagged-infinity", "v: !!float +.INF", "json: unsupported value: +Inf"),
    ("null-key", "v: {null: 1}", "unsupported map key of type: <nil>"),
    ("tilde-key", "v: {~: 1}", "unsupported map key of type: <nil>"),
    ("uint64-key", "v: {12345678901234567890: x}", "unsupported map key of type: uint64"),
    ("sequence-key", "? [a]\n: b", "invalid map key"),
    ("mapping-key", "? {a: 1}\n: b", "invalid map key"),
    ("bad-int-tag", "v: !!int abc", "cannot decode !!str as a !!int"),
    ("bad-bool-tag", "v: !!bool maybe", "cannot decode !!str as a !!bool"),
    ("bad-null-tag", "v: !!null x", "cannot decode !!str as a !!null"),
    ("float-as-int", "v: !!int 1.5", "cannot decode !!float as a !!int"),
    ("uint64-as-float", "v: !!float 12345678901234567890", "cannot decode !!int as a !!float"),
    ("bad-date", "v: !!timestamp 2019-02-30", "cannot decode !!str as a !!timestamp"),
    ("no-zone", "v: !!timestamp 2019-01-02T10:11:12", "cannot decode !!str as a !!timestamp"),
    ("int-timestamp", "v: !!timestamp 1", "cannot decode !!int as a !!timestamp"),
    ("bad-base64", "v: !!binary aGVsbG8", "!!binary value contains invalid base64 data"),
    ("merge-scalar", "m: {<<: 1}", "map merge requires map or sequence of maps as the value"),
    ("merge-list", "m: {<<: [1]}", "map merge requires map or sequence of maps as the value"),
    ("merge-null", "m: {<<: ~}", "map merge requires map or sequence of maps as the value"),
    ("surrogate", 'v: "\\ud800"', "found invalid Unicode character escape code"),
]


def manifest(name: str, spec: str) -> str:
    body = "".join(f"  {line}\n" for line in spec.split("\n"))
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\nspec:\n{body}"


def stream() -> str:
    """Every READ case in one stream, with an empty document between objects."""
    return "---\n---\n".join(manifest(name, spec) for name, spec in READ)


def kubectl(text: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "label", "--local", "-f", "-", "-o", "json", "z=1"],
        input=text,
        capture_output=True,
        text=True,
        env={**os.environ, "KUBECONFIG": os.devnull},
        timeout=60,
        check=False,
    )


def as_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.fixture(scope="module")
def kubectl_read() -> dict[str, Any]:
    """Every READ case in one multi-document stream, as kubectl printed each object."""
    done = kubectl(stream())
    assert done.returncode == 0, done.stderr
    decoder, text, position, found = json.JSONDecoder(), done.stdout, 0, {}
    while text[position:].strip():
        while text[position].isspace():
            position += 1
        obj, position = decoder.raw_decode(text, position)
        del obj["metadata"]["labels"]
        found[obj["metadata"]["name"]] = obj
    return found


def test_every_case_is_read_by_kubectl(kubectl_read):
    assert sorted(kubectl_read) == sorted(name for name, _ in READ)


@pytest.mark.parametrize(("name", "spec"), READ, ids=[name for name, _ in READ])
def test_values_are_read_as_kubectl_reads_them(kubectl_read, name, spec):
    (ours,) = yamldocs.documents(manifest(name, spec).encode())

    assert as_text(ours) == as_text(kubectl_read[name])


def test_a_multi_document_stream_is_read_as_kubectl_reads_it(kubectl_read):
    ours = [doc for doc in yamldocs.documents(stream().encode()) if doc is not None]

    assert [as_text(doc) for doc in ours] == [as_text(kubectl_read[name]) for name, _ in READ]


@pytest.mark.parametrize(("name", "spec", "message"), REFUSED, ids=[name for name, _, _ in REFUSED])
def test_what_kubectl_refuses_is_refused(name, spec, message):
    text = manifest(name, spec)
    done = kubectl(text)

    assert done.returncode != 0
    assert "error converting YAML to JSON" in done.stderr
    with pytest.raises(yamldocs.DocumentError) as refused:
        list(yamldocs.documents(text.encode()))
    assert message in str(refused.value)
