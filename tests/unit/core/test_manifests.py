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
        "in document 1",
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
        "items[0] of the List in document 1 is not an object but a number",
    ),
    (
        "list-item-without-kind",
        "l.yaml",
        b"apiVersion: v1\nkind: List\nitems: [{metadata: {name: x}}]\n",
        [],
        "unable to parse 'l.yaml': unable to unmarshal JSON: Object 'Kind' is missing in "
        "items[0] of the List in document 1 (name x)",
    ),
    (
        "missing-api-version",
        "m.yaml",
        b"kind: ConfigMap\nmetadata: {name: x}\n",
        [],
        "unable to parse 'm.yaml': unable to unmarshal JSON: Object 'apiVersion' is missing in "
        "document 1 (kind ConfigMap, name x)",
    ),
    (
        "missing-name",
        "m.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-}\n",
        [],
        "unable to parse 'm.yaml': unable to unmarshal JSON: Object 'metadata.name' is missing in "
        "document 1 (kind ConfigMap)",
    ),
    (
        "bad-api-version",
        "m.yaml",
        b"apiVersion: a/b/c\nkind: X\nmetadata: {name: x}\n",
        [],
        "unable to parse 'm.yaml': unable to unmarshal JSON: apiVersion is not "
        "<group>/<version> or <version> in document 1 (kind X, name x)",
    ),
    (
        "namespace-not-a-string",
        "m.yaml",
        b"apiVersion: v1\nkind: X\nmetadata: {name: x, namespace: 1}\n",
        [],
        "unable to parse 'm.yaml': unable to unmarshal JSON: Object 'metadata.namespace' is not "
        "a string in document 1 (kind X, name x)",
    ),
    (
        "scalar-document",
        "s.yaml",
        b"just text\n",
        [],
        "unable to parse 's.yaml': unable to unmarshal JSON: a manifest must be an object, "
        "but document 1 is a string",
    ),
    (
        "number-document",
        "s.yaml",
        b"42\n",
        [],
        "unable to parse 's.yaml': unable to unmarshal JSON: a manifest must be an object, "
        "but document 1 is a number",
    ),
    (
        "boolean-document",
        "s.yaml",
        b"true\n",
        [],
        "unable to parse 's.yaml': unable to unmarshal JSON: a manifest must be an object, "
        "but document 1 is a boolean",
    ),
    (
        "sequence-document",
        "s.yaml",
        b"- 1\n",
        [],
        "unable to parse 's.yaml': unable to unmarshal JSON: a manifest must be an object, "
        "but document 1 is an array",
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


SECRET_VALUE = "hunter2-SECRET"
CONFIGMAP = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n"
SECRET = (
    b"apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2-SECRET}\n"
)
NAMELESS_SECRET = SECRET.replace(b"{name: db}", b"{labels: {app: db}}")

# Parse errors reach status.ignoredFiles, the FilesParsed condition and an Event, which
# anyone who can read GitTracks sees: they name the file, document, kind and name only.
LEAKY = [
    (
        "secret-without-name",
        CONFIGMAP + b"---\n" + NAMELESS_SECRET,
        [("ConfigMap", "settings")],
        "Object 'metadata.name' is missing in document 2 (kind Secret)",
    ),
    (
        "secret-without-kind",
        SECRET.replace(b"kind: Secret\n", b""),
        [],
        "Object 'Kind' is missing in document 1 (name db)",
    ),
    (
        "secret-without-api-version",
        SECRET.replace(b"apiVersion: v1\n", b""),
        [],
        "Object 'apiVersion' is missing in document 1 (kind Secret, name db)",
    ),
    (
        "bad-api-version",
        SECRET.replace(b"apiVersion: v1", b"apiVersion: v1/hunter2-SECRET/x"),
        [],
        "apiVersion is not <group>/<version> or <version> in document 1 (kind Secret, name db)",
    ),
    (
        "namespace-not-a-string",
        SECRET.replace(b"{name: db}", b"{name: db, namespace: [hunter2-SECRET]}"),
        [],
        "Object 'metadata.namespace' is not a string in document 1 (kind Secret, name db)",
    ),
    (
        "list-with-a-nameless-item",
        b"apiVersion: v1\nkind: SecretList\nitems:\n"
        b"- {metadata: {name: a}}\n- {metadata: {}, stringData: {password: hunter2-SECRET}}\n",
        [],
        "Object 'metadata.name' is missing in items[1] of the SecretList in document 1 "
        "(kind Secret)",
    ),
    (
        "list-with-a-scalar-item",
        b"apiVersion: v1\nkind: SecretList\nitems: [hunter2-SECRET]\n",
        [],
        "items[0] of the SecretList in document 1 is not an object but a string",
    ),
    (
        "list-with-a-null-item",
        b"apiVersion: v1\nkind: SecretList\nitems: [{metadata: {name: a}}, ~]\n",
        [],
        "items[1] of the SecretList in document 1 is not an object but null",
    ),
    (
        "sequence-document",
        CONFIGMAP + b"---\n- {password: hunter2-SECRET}\n",
        [("ConfigMap", "settings")],
        "a manifest must be an object, but document 2 is an array",
    ),
    (
        "scalar-document",
        b"hunter2-SECRET\n",
        [],
        "a manifest must be an object, but document 1 is a string",
    ),
    (
        "counted-after-an-empty-document",
        CONFIGMAP + b"---\n# nothing\n---\n" + NAMELESS_SECRET,
        [("ConfigMap", "settings")],
        "Object 'metadata.name' is missing in document 3 (kind Secret)",
    ),
]


@pytest.mark.parametrize(
    ("data", "kept", "reason"), [case[1:] for case in LEAKY], ids=[case[0] for case in LEAKY]
)
def test_errors_name_the_document_and_never_quote_its_values(data, kept, reason):
    result = manifests.parse("secrets/db.yaml", data, max_bytes=MAX)
    assert names(result) == kept
    assert str(result.error) == (
        f"unable to parse 'secrets/db.yaml': unable to unmarshal JSON: {reason}"
    )
    assert SECRET_VALUE not in str(result.error)
    assert SECRET_VALUE not in repr(result.error)


@pytest.mark.parametrize(
    "data",
    [
        SECRET.replace(b"hunter2-SECRET}", b"hunter2-SECRET ]"),
        SECRET.replace(b"{password: hunter2-SECRET}", b'\n  password: "hunter2-SECRET'),
        SECRET.replace(b"{password: hunter2-SECRET}", b"\n  password: hunter2-SECRET: x"),
        SECRET.replace(b"{password: hunter2-SECRET}", b"\n\tpassword: hunter2-SECRET"),
        SECRET + b"\x00",
    ],
    ids=["flow", "unclosed-quote", "mapping-in-value", "tab", "nul"],
)
def test_yaml_errors_give_a_line_not_the_text(data):
    error = manifests.parse("secrets/db.yaml", data, max_bytes=MAX).error
    assert str(error).startswith(
        "unable to parse 'secrets/db.yaml': error converting YAML to JSON: yaml: "
    )
    assert "hunter2" not in str(error)


def test_long_kinds_and_names_are_cut():
    data = b"apiVersion: v1\nkind: " + b"K" * 3000 + b"\nmetadata: {name: " + b"n" * 3000 + b"}\n"
    text = str(manifests.parse("q.yaml", data + b"items: [1]\n", max_bytes=MAX).error)
    assert text.endswith(
        f"items[0] of the {'K' * 253}... in document 1 is not an object but a number"
    )
    text = str(manifests.parse("q.yaml", data.replace(b"v1", b"a/b/c"), max_bytes=MAX).error)
    assert text.endswith(f"(kind {'K' * 253}..., name {'n' * 253}...)")


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
