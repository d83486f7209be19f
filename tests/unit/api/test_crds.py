"""The chart's CRDs keep the original API (spec section 1) and are structural apiextensions/v1."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from faros.api import names

KINDS = [names.GITTRACK, names.CLUSTERGITTRACK, names.GITTRACKOBJECT, names.CLUSTERGITTRACKOBJECT]
GITTRACK_KINDS = [names.GITTRACK, names.CLUSTERGITTRACK]
OBJECT_KINDS = [names.GITTRACKOBJECT, names.CLUSTERGITTRACKOBJECT]

GITTRACK_COLUMNS = [
    ("Repository", ".spec.repository", "string", 1),
    ("Reference", ".spec.reference", "string", 0),
    ("Children Created", ".status.objectsApplied", "integer", 0),
    ("Resources Discovered", ".status.objectsDiscovered", "integer", 0),
    ("Resources Ignored", ".status.objectsIgnored", "integer", 0),
    ("Children In Sync", ".status.objectsInSync", "integer", 0),
    ("Ready", '.status.conditions[?(@.type=="Ready")].status', "string", 0),
    ("Revision", ".status.revision", "string", 1),
    ("Age", ".metadata.creationTimestamp", "date", 0),
]
OBJECT_COLUMNS = [
    ("In Sync", '.status.conditions[?(@.type=="ObjectInSync")].status', "string", 0),
    ("Healthy", '.status.conditions[?(@.type=="Healthy")].status', "string", 0),
    ("Age", ".metadata.creationTimestamp", "date", 0),
]
COUNTERS = ["objectsDiscovered", "objectsApplied", "objectsIgnored", "objectsInSync"]


def _version(crd: dict[str, Any]) -> dict[str, Any]:
    (version,) = crd["spec"]["versions"]
    return dict(version)


def _nodes(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _nodes(child, f"{path}.{name}")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _nodes(schema["additionalProperties"], f"{path}.*")
    if "items" in schema:
        yield from _nodes(schema["items"], f"{path}[]")


def test_chart_has_one_file_per_crd(crd_dir):
    files = sorted(path.name for path in crd_dir.iterdir())
    assert files == sorted(f"{plural}.yaml" for plural in names.PLURALS.values())
    for path in crd_dir.glob("*.yaml"):
        assert len(list(yaml.safe_load_all(path.read_text(encoding="utf-8")))) == 1, path.name


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_crd_names_and_scope_match_the_api(crds, kind):
    crd = crds[kind]
    plural = names.PLURALS[kind]
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["metadata"]["name"] == f"{plural}.{names.GROUP}"
    assert crd["metadata"]["labels"] == {"controller-tools.k8s.io": "1.0"}
    assert crd["spec"]["group"] == names.GROUP
    assert crd["spec"]["names"] == {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
    }
    assert crd["spec"]["scope"] == ("Namespaced" if names.NAMESPACED[kind] else "Cluster")


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_one_served_storage_version_with_status_subresource(crds, kind):
    version = _version(crds[kind])
    assert version["name"] == names.VERSION
    assert version["served"] is True
    assert version["storage"] is True
    assert version["subresources"] == {"status": {}}


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_schema_is_structural(schemas, kind):
    for path, node in _nodes(schemas[kind]):
        assert node.get("type") or node.get("x-kubernetes-int-or-string"), f"{kind}{path}: no type"
        assert not ("properties" in node and "additionalProperties" in node), f"{kind}{path}"
        assert "x-kubernetes-preserve-unknown-fields" not in node, f"{kind}{path}"
        if node.get("type") == "array":
            assert "items" in node, f"{kind}{path}: array without items"
    assert set(schemas[kind]["properties"]) == {"apiVersion", "kind", "metadata", "spec", "status"}
    assert schemas[kind]["properties"]["metadata"] == {"type": "object"}
    assert schemas[kind]["required"] == ["spec"]


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_every_spec_and_status_field_is_described(schemas, kind):
    for part in ("spec", "status"):
        for path, node in _nodes(schemas[kind]["properties"][part], part):
            assert node.get("description") or path.endswith("*") or "[]" in path, path


@pytest.mark.parametrize(
    ("kind", "columns"),
    [(kind, GITTRACK_COLUMNS) for kind in GITTRACK_KINDS]
    + [(kind, OBJECT_COLUMNS) for kind in OBJECT_KINDS],
    ids=KINDS,
)
def test_printer_columns_match_the_original(crds, kind, columns):
    found = [
        (column["name"], column["jsonPath"], column["type"], column.get("priority", 0))
        for column in _version(crds[kind])["additionalPrinterColumns"]
    ]
    assert found == columns


@pytest.mark.parametrize(
    ("namespaced", "cluster"),
    [(names.GITTRACK, names.CLUSTERGITTRACK), (names.GITTRACKOBJECT, names.CLUSTERGITTRACKOBJECT)],
    ids=["gittrack", "gittrackobject"],
)
def test_cluster_twin_has_the_same_spec_and_status(schemas, namespaced, cluster):
    for part in ("spec", "status"):
        assert schemas[cluster]["properties"][part] == schemas[namespaced]["properties"][part]


@pytest.mark.parametrize("kind", GITTRACK_KINDS, ids=GITTRACK_KINDS)
def test_gittrack_spec_fields(schemas, kind):
    spec = schemas[kind]["properties"]["spec"]
    assert spec["required"] == ["reference", "repository"]
    assert set(spec["properties"]) == {
        "reference", "repository", "subPath", "deployKey", "webhookSecretRef", "dependsOn",
        "suspend", "prune", "ignoreDifferences", "serviceAccountName", "serviceAccountRef",
    }  # fmt: skip
    for field in ("reference", "repository", "subPath"):
        assert spec["properties"][field]["type"] == "string"


@pytest.mark.parametrize("kind", GITTRACK_KINDS, ids=GITTRACK_KINDS)
def test_deploy_key_accepts_the_empty_strings_go_clients_send(schemas, kind):
    deploy_key = schemas[kind]["properties"]["spec"]["properties"]["deployKey"]
    assert deploy_key["required"] == ["secretName", "key"]
    fields = deploy_key["properties"]
    assert set(fields) == {"secretName", "secretNamespace", "key", "type"}
    for name, field in fields.items():
        assert field["type"] == "string"
        assert "minLength" not in field, name
        assert "pattern" not in field, name
    assert fields["type"]["enum"] == ["", *names.DeployKeyType]
    assert fields["type"]["enum"] == ["", "SSH", "HTTPBasicAuth"]


@pytest.mark.parametrize("kind", GITTRACK_KINDS, ids=GITTRACK_KINDS)
def test_webhook_secret_ref_is_optional_and_names_a_secret_key(schemas, kind):
    spec = schemas[kind]["properties"]["spec"]
    ref = spec["properties"]["webhookSecretRef"]
    assert "webhookSecretRef" not in spec["required"]  # additive: old GitTracks stay valid
    assert ref["type"] == "object"
    assert ref["required"] == ["name", "key"]
    assert set(ref["properties"]) == {"name", "namespace", "key"}
    assert all(field["type"] == "string" for field in ref["properties"].values())


@pytest.mark.parametrize(
    ("sub_path", "accepted"),
    [
        ("", True),
        ("foo/bar-1.x", True),
        ("/deploy/", True),
        ("../x", True),  # the pattern restricts characters only; the Git adapter refuses escapes
        ("UPPER/lower/0.9", True),
        ("../x y", False),
        ("a_b", False),
        ("a*", False),
        ("café", False),
        ("a\nb", False),
    ],
    ids=[
        "empty",
        "nested",
        "slashes",
        "dotdot",
        "mixed",
        "space",
        "underscore",
        "glob",
        "accent",
        "newline",
    ],
)
def test_sub_path_pattern(schemas, sub_path, accepted):
    for kind in GITTRACK_KINDS:
        pattern = schemas[kind]["properties"]["spec"]["properties"]["subPath"]["pattern"]
        assert pattern == r"^[a-zA-Z0-9/\-.]*$"
        assert (re.search(pattern, sub_path) is not None) is accepted


@pytest.mark.parametrize("kind", GITTRACK_KINDS, ids=GITTRACK_KINDS)
def test_gittrack_status_fields(schemas, kind):
    status = schemas[kind]["properties"]["status"]
    assert status["required"] == COUNTERS
    fields = status["properties"]
    for name in [*COUNTERS, "observedGeneration"]:
        assert (fields[name]["type"], fields[name]["format"]) == ("integer", "int64"), name
    assert fields["revision"]["type"] == "string"
    assert fields["ignoredFiles"]["type"] == "object"
    assert fields["ignoredFiles"]["additionalProperties"] == {"type": "string"}
    assert set(fields) == {
        *COUNTERS,
        "observedGeneration",
        "revision",
        "objectsHealthy",
        "ignoredFiles",
        "conditions",
        "lastHandledRequestedAt",
    }


@pytest.mark.parametrize("kind", OBJECT_KINDS, ids=OBJECT_KINDS)
def test_gittrackobject_spec_and_status_fields(schemas, kind):
    spec = schemas[kind]["properties"]["spec"]
    assert spec["required"] == ["name", "kind", "data"]
    assert spec["properties"]["data"] | {"description": ""} == {
        "type": "string",
        "format": "byte",
        "description": "",
    }
    assert spec["properties"]["name"]["type"] == spec["properties"]["kind"]["type"] == "string"
    status = schemas[kind]["properties"]["status"]
    assert "required" not in status
    assert set(status["properties"]) == {"observedGeneration", "conditions"}
    assert status["properties"]["observedGeneration"]["format"] == "int64"


@pytest.mark.parametrize("kind", KINDS, ids=KINDS)
def test_conditions_are_a_list_keyed_by_type(schemas, kind):
    conditions = schemas[kind]["properties"]["status"]["properties"]["conditions"]
    assert conditions["type"] == "array"
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    item = conditions["items"]
    assert item["required"] == ["type", "status"]
    assert set(item["properties"]) == {
        "type",
        "status",
        "lastUpdateTime",
        "lastTransitionTime",
        "reason",
        "message",
    }
    for name in ("lastUpdateTime", "lastTransitionTime"):
        assert item["properties"][name]["format"] == "date-time"
