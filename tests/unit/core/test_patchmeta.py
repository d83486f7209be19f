"""Patch metadata is read from OpenAPI v3 documents the way kubectl apply reads it."""

from __future__ import annotations

import pytest

from faros.core import patchmeta
from faros.core.patchmeta import ListType, PatchMeta, Strategy
from tests.unit.core import openapi_fixtures as oaf

MERGE_BY_NAME = PatchMeta(
    strategy=Strategy.MERGE,
    merge_key="name",
    is_list=True,
    list_type=ListType.MAP,
    list_map_keys=("name",),
)
ATOMIC_LIST = PatchMeta(is_list=True, list_type=ListType.ATOMIC)


FIELDS = [
    (oaf.DEPLOYMENT, "spec.template.spec.containers", MERGE_BY_NAME),
    (oaf.DEPLOYMENT, "spec.template.spec.containers.env", MERGE_BY_NAME),
    (
        oaf.DEPLOYMENT,
        "spec.template.spec.containers.ports",
        PatchMeta(
            strategy=Strategy.MERGE,
            merge_key="containerPort",
            is_list=True,
            list_type=ListType.MAP,
            list_map_keys=("containerPort", "protocol"),
        ),
    ),
    (
        oaf.DEPLOYMENT,
        "spec.template.spec.volumes",
        PatchMeta(
            strategy=Strategy.MERGE,
            retain_keys=True,
            merge_key="name",
            is_list=True,
            list_type=ListType.MAP,
            list_map_keys=("name",),
        ),
    ),
    (oaf.DEPLOYMENT, "spec.strategy", PatchMeta(retain_keys=True)),
    (oaf.DEPLOYMENT, "spec.replicas", PatchMeta()),
    (oaf.DEPLOYMENT, "spec.template.spec.tolerations", ATOMIC_LIST),
    (oaf.DEPLOYMENT, "spec.template.spec.containers.args", ATOMIC_LIST),
    (
        oaf.DEPLOYMENT,
        "spec.template.spec.containers.resources.claims",
        PatchMeta(is_list=True, list_type=ListType.MAP, list_map_keys=("name",)),
    ),
    (oaf.DEPLOYMENT, "spec.template.spec.containers.resources.limits.cpu", PatchMeta()),
    (
        oaf.DEPLOYMENT,
        "metadata.finalizers",
        PatchMeta(strategy=Strategy.MERGE, is_list=True, list_type=ListType.SET),
    ),
    (
        oaf.DEPLOYMENT,
        "metadata.ownerReferences",
        PatchMeta(
            strategy=Strategy.MERGE,
            merge_key="uid",
            is_list=True,
            list_type=ListType.MAP,
            list_map_keys=("uid",),
        ),
    ),
    (oaf.DEPLOYMENT, "metadata.managedFields", ATOMIC_LIST),
    (oaf.DEPLOYMENT, "metadata.managedFields.fieldsV1.f:spec", PatchMeta()),
    (oaf.DEPLOYMENT, "metadata.labels.app", PatchMeta()),
    (
        oaf.SERVICE,
        "spec.ports",
        PatchMeta(
            strategy=Strategy.MERGE,
            merge_key="port",
            is_list=True,
            list_type=ListType.MAP,
            list_map_keys=("port", "protocol"),
        ),
    ),
    (oaf.CONFIGMAP, "data.settings.yaml", PatchMeta()),
    (oaf.ROLE, "rules", ATOMIC_LIST),
    (oaf.ROLE, "rules.verbs", ATOMIC_LIST),
    (oaf.HPA, "spec.metrics", ATOMIC_LIST),
    (oaf.DEPLOYMENT, "spec.nonsense", None),
    (oaf.DEPLOYMENT, "spec.template.spec.containers.nonsense", None),
]


@pytest.mark.parametrize(
    ("gvk", "path", "expected"),
    [pytest.param(*case, id=f"{case[0].kind}.{case[1]}") for case in FIELDS],
)
def test_field_metadata_matches_the_kubernetes_schema(gvk, path, expected):
    assert oaf.schema(gvk).lookup(path.split(".")) == expected


@pytest.mark.parametrize(
    "gvk",
    [oaf.DEPLOYMENT, oaf.SERVICE, oaf.CONFIGMAP, oaf.ROLE, oaf.HPA],
    ids=lambda gvk: gvk.kind,
)
def test_built_in_kinds_take_a_strategic_merge_patch(gvk):
    schema = oaf.schema(gvk)

    assert schema.path == gvk.kind
    assert schema.field("metadata") is not None


@pytest.mark.parametrize(
    ("catalog", "gvk"),
    [
        pytest.param(("faros.pusher.com", "v1alpha1"), oaf.GITTRACK, id="custom-resource"),
        pytest.param(
            ("apps", "v1"),
            patchmeta.GroupVersionKind(group="apps", version="v1", kind="StatefulSet"),
            id="kind-not-served",
        ),
        pytest.param(
            ("apps", "v1"),
            patchmeta.GroupVersionKind(group="apps", version="v2", kind="Deployment"),
            id="other-version",
        ),
    ],
)
def test_kinds_without_strategic_merge_patch_have_no_schema(catalog, gvk):
    assert oaf.catalog(*catalog).root(gvk) is None


def test_a_schema_with_no_patch_operation_has_no_root():
    document = oaf.document(oaf.DEPLOYMENT)
    del document["paths"]

    assert patchmeta.index(document).root(oaf.DEPLOYMENT) is None


def test_a_document_that_does_not_accept_strategic_merge_patch_has_no_root():
    document = oaf.widget_document(spec={"type": "object"}, strategic=False)

    assert patchmeta.index(document).root(oaf.WIDGET) is None


def test_malformed_group_version_kind_extensions_are_ignored():
    document = oaf.widget_document(spec={"type": "object"})
    schemas = document["components"]["schemas"]
    schemas["com.example.v1.Broken"] = {patchmeta.GVK_EXTENSION: [{"kind": "Widget"}, "x"]}

    catalog = patchmeta.index(document)

    assert catalog.roots == {oaf.WIDGET: "com.example.v1.Widget"}


STRATEGIES = {
    "merge": PatchMeta(strategy=Strategy.MERGE),
    "merge,retainKeys": PatchMeta(strategy=Strategy.MERGE, retain_keys=True),
    "retainKeys,merge": PatchMeta(strategy=Strategy.MERGE, retain_keys=True),
    "retainKeys": PatchMeta(retain_keys=True),
    "replace": PatchMeta(strategy=Strategy.REPLACE),
    "unheard-of": PatchMeta(),
}


@pytest.mark.parametrize(("strategy", "expected"), STRATEGIES.items(), ids=list(STRATEGIES))
def test_patch_strategies_are_split_like_kubectl(strategy, expected):
    schema = oaf.widget({"type": "object", patchmeta.PATCH_STRATEGY_EXTENSION: strategy})

    assert schema.lookup(["spec"]) == expected


@pytest.mark.parametrize("strategy", ["merge,replace", "merge,retainKeys,replace"])
def test_impossible_patch_strategies_are_schema_errors(strategy):
    schema = oaf.widget({"type": "object", patchmeta.PATCH_STRATEGY_EXTENSION: strategy})

    with pytest.raises(patchmeta.SchemaError, match=r"unexpected patch strategy .* Widget\.spec"):
        schema.field("spec")


def test_a_dangling_reference_is_a_schema_error():
    schema = oaf.widget(oaf.ref("com.example.v1.Missing"))

    with pytest.raises(patchmeta.SchemaError, match="unable to resolve"):
        schema.field("spec")


def test_recursive_schemas_are_resolved_lazily():
    document = oaf.widget_document(spec=oaf.ref("com.example.v1.Node"))
    document["components"]["schemas"]["com.example.v1.Node"] = {
        "type": "object",
        "properties": {
            "children": {
                "type": "array",
                "items": oaf.ref("com.example.v1.Node"),
                patchmeta.PATCH_STRATEGY_EXTENSION: "merge",
                patchmeta.PATCH_MERGE_KEY_EXTENSION: "id",
            },
        },
    }
    root = patchmeta.index(document).root(oaf.WIDGET)
    assert root is not None

    meta = root.lookup(["spec", "children", "children", "children"])

    assert meta == PatchMeta(strategy=Strategy.MERGE, merge_key="id", is_list=True)


def test_field_paths_name_where_a_schema_sits():
    found = oaf.schema(oaf.DEPLOYMENT).field("spec")
    assert found is not None
    template = found.schema.field("template")
    assert template is not None

    assert template.schema.path == "Deployment.spec.template"
