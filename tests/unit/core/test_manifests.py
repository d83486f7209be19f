"""Files to objects: documents, lists, per-file errors in the original's words (spec 2.5)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faros.core import manifests

MAX = 1024 * 1024

DEPLOYMENT = b"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: default
spec:
  replicas: 3
"""
SERVICE = b"""apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: default
"""
# From the upstream fixture repository (spec 6.1): invalid_file.yaml at 936b7ee.
INVALID_FILE = b'I: a;m an "invalid Kubernetes manifest.) \n'
# daemonset.yaml at f1d8485, shortened: the ConfigMap's name is broken flow YAML.
DAEMONSET_BROKEN = b"""---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: fluentd
  namespace: default
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: { fluentd-config ]
  namespace: default
---
apiVersion: v1
kind: Service
metadata:
  name: fluentd
  namespace: default
"""
# The upstream decoder test: an indented "---" inside a block scalar does not split.
CONFIGMAP_WITH_SEPARATOR = b"""apiVersion: v1
kind: ConfigMap
metadata:
  name: config
data:
  file: |
    first
    ---
    second
"""
ROLEBINDING = b"""apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: read
  namespace: default
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read}
"""
PDB = b"""apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: pdb, namespace: default}
"""
LIST = b"""apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {apiVersion: v1, kind: Secret, metadata: {name: b}}
"""
BROKEN = b"kind: [\n"


def names(result: manifests.FileResult) -> list[tuple[str, str]]:
    return [(obj["kind"], obj["metadata"]["name"]) for obj in result.objects]


GOOD = [
    ("single", ROLEBINDING, [("RoleBinding", "read")]),
    (
        "two-documents",
        ROLEBINDING + b"---\n" + PDB,
        [("RoleBinding", "read"), ("PodDisruptionBudget", "pdb")],
    ),
    ("leading-separator", b"---\n" + DEPLOYMENT, [("Deployment", "nginx")]),
    ("trailing-separator", DEPLOYMENT + b"---\n", [("Deployment", "nginx")]),
    ("separator-in-block-scalar", CONFIGMAP_WITH_SEPARATOR, [("ConfigMap", "config")]),
    (
        "crlf",
        DEPLOYMENT.replace(b"\n", b"\r\n") + b"---\r\n" + SERVICE.replace(b"\n", b"\r\n"),
        [("Deployment", "nginx"), ("Service", "nginx")],
    ),
    (
        "separator-with-comment",
        DEPLOYMENT + b"--- # next\n" + SERVICE,
        [("Deployment", "nginx"), ("Service", "nginx")],
    ),
    (
        "comment-only-document",
        DEPLOYMENT + b"---\n# nothing here\n---\n" + SERVICE,
        [("Deployment", "nginx"), ("Service", "nginx")],
    ),
    ("empty-file", b"", []),
    ("whitespace-file", b"  \n\n", []),
    ("comment-file", b"# just a comment\n", []),
    (
        "json",
        json.dumps(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "test"}}
        ).encode(),
        [("Namespace", "test")],
    ),
    ("list", LIST, [("ConfigMap", "a"), ("Secret", "b")]),
    ("empty-list", b"apiVersion: v1\nkind: List\nitems: []\n", []),
    (
        "typed-list",
        b"apiVersion: v1\nkind: ConfigMapList\nitems:\n- metadata: {name: c}\n",
        [("ConfigMap", "c")],
    ),
    ("utf8-bom", b"\xef\xbb\xbf" + SERVICE, [("Service", "nginx")]),
]


@pytest.mark.parametrize(("data", "expected"), [g[1:] for g in GOOD], ids=[g[0] for g in GOOD])
def test_good_files_give_their_objects_and_no_error(data, expected):
    result = manifests.parse("file.yaml", data, max_bytes=MAX)
    assert result.error is None
    assert names(result) == expected


BAD = [
    (
        "missing-kind-original-text",
        "invalid_file.yaml",
        INVALID_FILE,
        [],
        "unable to parse 'invalid_file.yaml': unable to unmarshal JSON: Object 'Kind' is missing "
        """in '{"I":"a;m an \\"invalid Kubernetes manifest.)"}'""",
    ),
    (
        "broken-in-the-middle-keeps-earlier",
        "daemonset.yaml",
        DAEMONSET_BROKEN,
        [("DaemonSet", "fluentd")],
        "unable to parse 'daemonset.yaml': error converting YAML to JSON: yaml: line 11: "
        "while parsing a flow mapping; expected ',' or '}', but got ']'",
    ),
    ("broken-first", "f.yaml", BROKEN + b"---\n" + SERVICE, [], None),
    (
        "broken-last",
        "f.yaml",
        ROLEBINDING + b"---\n" + PDB + b"---\n" + BROKEN,
        [("RoleBinding", "read"), ("PodDisruptionBudget", "pdb")],
        None,
    ),
    (
        "list-item-not-an-object",
        "l.yaml",
        b"apiVersion: v1\nkind: List\nitems: [1]\n",
        [],
        "unable to parse 'l.yaml': unable to unmarshal JSON: "
        "items[0] of the List is not an object: '1'",
    ),
    (
        "list-item-without-kind",
        "l.yaml",
        b"apiVersion: v1\nkind: List\nitems: [{metadata: {name: x}}]\n",
        [],
        "unable to parse 'l.yaml': unable to unmarshal JSON: Object 'Kind' is missing in "
        """'{"apiVersion":"v1","kind":"","metadata":{"name":"x"}}'""",
    ),
    (
        "missing-api-version",
        "m.yaml",
        b"kind: ConfigMap\nmetadata: {name: x}\n",
        [],
        "unable to parse 'm.yaml': unable to unmarshal JSON: Object 'apiVersion' is missing in "
        """'{"kind":"ConfigMap","metadata":{"name":"x"}}'""",
    ),
    (
        "missing-name",
        "m.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n",
        [],
        "unable to parse 'm.yaml': unable to unmarshal JSON: Object 'metadata.name' is missing in "
        """'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"generateName":"x-"}}'""",
    ),
    (
        "bad-api-version",
        "m.yaml",
        b"apiVersion: a/b/c\nkind: X\nmetadata: {name: x}\n",
        [],
        "unable to parse 'm.yaml': unable to unmarshal JSON: apiVersion 'a/b/c' is not "
        "<group>/<version> or <version> in "
        """'{"apiVersion":"a/b/c","kind":"X","metadata":{"name":"x"}}'""",
    ),
    (
        "namespace-not-a-string",
        "m.yaml",
        b"apiVersion: v1\nkind: X\nmetadata: {name: x, namespace: 1}\n",
        [],
        "unable to parse 'm.yaml': unable to unmarshal JSON: Object 'metadata.namespace' is not "
        """a string in '{"apiVersion":"v1","kind":"X","metadata":{"name":"x","namespace":1}}'""",
    ),
    (
        "scalar-document",
        "s.yaml",
        b"just text\n",
        [],
        "unable to parse 's.yaml': unable to unmarshal JSON: a manifest must be an object, "
        """not a string: '"just text"'""",
    ),
    (
        "number-document",
        "s.yaml",
        b"42\n",
        [],
        "unable to parse 's.yaml': unable to unmarshal JSON: a manifest must be an object, "
        "not a number: '42'",
    ),
    (
        "boolean-document",
        "s.yaml",
        b"true\n",
        [],
        "unable to parse 's.yaml': unable to unmarshal JSON: a manifest must be an object, "
        "not a boolean: 'true'",
    ),
    (
        "sequence-document",
        "s.yaml",
        b"- 1\n",
        [],
        "unable to parse 's.yaml': unable to unmarshal JSON: a manifest must be an object, "
        "not an array: '[1]'",
    ),
]


@pytest.mark.parametrize(
    ("path", "data", "kept", "text"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_bad_files_keep_earlier_objects_and_say_why(path, data, kept, text):
    result = manifests.parse(path, data, max_bytes=MAX)
    assert result.error is not None
    assert result.error.path == path
    assert names(result) == kept
    assert str(result.error).startswith(f"unable to parse '{path}': ")
    if text is not None:
        assert str(result.error) == text


def test_a_file_over_the_limit_is_refused_before_parsing():
    result = manifests.parse("big.yaml", SERVICE, max_bytes=10)
    assert result.objects == ()
    assert str(result.error) == (
        f"unable to parse 'big.yaml': the file has {len(SERVICE)} bytes, more than the limit of 10"
    )


def test_quoted_objects_are_html_escaped_and_cut():
    data = b"apiVersion: v1\nmetadata: {name: '<&>'}\nzz: '" + b"y" * 3000 + b"'\n"
    text = str(manifests.parse("q.yaml", data, max_bytes=MAX).error)
    assert "\\u003c\\u0026\\u003e" in text
    assert text.endswith("...'")
    assert len(text) < 1200


def test_values_are_read_as_the_original_read_them():
    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n" + (
        b"data: {date: 2019-04-03, time: 12:30, eq: =, one: 1.0, hex: 0x1f, on: yes}\n"
    )
    (obj,) = manifests.parse("c.yaml", data, max_bytes=MAX).objects
    assert obj["data"] == {
        "date": "2019-04-03",
        "time": "12:30",
        "eq": "=",
        "one": 1,
        "hex": 31,
        "true": True,
    }


YAMLISH = st.lists(
    st.sampled_from(
        [
            b"---\n",
            b"apiVersion: v1\n",
            b"kind: X\n",
            b"metadata:\n",
            b"  name: x\n",
            b"items:\n",
            b"- 1\n",
            b"- {a: *a}\n",
            b"&a [1]\n",
            b"  - b\n",
            b"# c\n",
            b": :\n",
            b"!!int x\n",
            b"{[\n",
            b"\t\n",
            b"\xff",
            b"\x00",
            b"? [a]\n: b\n",
            b"<<: *a\n",
        ]
    ),
    max_size=20,
).map(b"".join)


@settings(max_examples=300)
@given(st.one_of(st.binary(max_size=512), YAMLISH))
def test_parse_never_raises(data):
    result = manifests.parse("any.yaml", data, max_bytes=MAX)
    assert result.path == "any.yaml"
    for obj in result.objects:
        json.dumps(obj, allow_nan=False)
        assert obj["kind"]
        assert obj["apiVersion"]
        assert obj["metadata"]["name"]
