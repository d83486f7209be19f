"""The last-applied annotation and three-way patches behave like kubectl apply (spec 3.4)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faros.core import merge, patchmeta
from tests.unit.core import openapi_fixtures as oaf
from tests.unit.core.openapi_fixtures import ctr, deploy, live

ANNOTATION = "faros.pusher.com/last-applied-configuration"
SERVER_META = {
    "uid": "u-1",
    "resourceVersion": "7",
    "selfLink": "/apis/x",
    "generation": 3,
    "creationTimestamp": None,
    "managedFields": [{"manager": "kubectl"}],
}


def test_last_applied_is_sorted_compact_json_without_server_fields():
    obj = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "c", **SERVER_META, "annotations": {ANNOTATION: "old", "a": "b"}},
        "data": {"z": "1", "k": "<&>é"},
        "status": {"phase": "whatever"},
    }
    before = copy.deepcopy(obj)

    value = merge.last_applied(obj)

    assert value == (
        '{"apiVersion":"v1","data":{"k":"\\u003c\\u0026\\u003eé","z":"1"},"kind":"ConfigMap",'
        '"metadata":{"annotations":{"a":"b"},"name":"c"}}'
    )
    assert json.loads(value)["data"]["k"] == "<&>é"
    assert obj == before


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        pytest.param({"annotations": {ANNOTATION: "old"}}, {}, id="only-ours-dropped"),
        pytest.param({"annotations": {}}, {}, id="empty-dropped"),
        pytest.param({"annotations": {"x": "1"}}, {"annotations": {"x": "1"}}, id="others-kept"),
        pytest.param(SERVER_META, {}, id="server-fields"),
    ],
)
def test_last_applied_metadata(metadata, expected):
    value = merge.last_applied({"kind": "Secret", "metadata": metadata})

    assert json.loads(value) == {"kind": "Secret", "metadata": expected}


def test_modified_object_carries_its_own_last_applied_annotation():
    desired = {"kind": "ConfigMap", "metadata": {"name": "c", "uid": "u"}, "status": {}}

    modified = merge.modified_of(desired)

    assert modified == {
        "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {ANNOTATION: merge.last_applied(desired)}},
    }
    assert desired == {"kind": "ConfigMap", "metadata": {"name": "c", "uid": "u"}, "status": {}}


@pytest.mark.parametrize(
    ("live_obj", "expected"),
    [
        pytest.param({"kind": "X"}, None, id="no-metadata"),
        pytest.param({"metadata": {"name": "x"}}, None, id="no-annotations"),
        pytest.param({"metadata": {"annotations": {ANNOTATION: ""}}}, None, id="empty"),
        pytest.param({"metadata": {"annotations": {ANNOTATION: '{"a":1}'}}}, {"a": 1}, id="set"),
    ],
)
def test_original_is_read_from_the_live_object(live_obj, expected):
    assert merge.original_of(live_obj) == expected


@pytest.mark.parametrize("value", ["{not json", "[1]"], ids=["invalid", "not-an-object"])
def test_a_broken_annotation_is_a_merge_error(value):
    with pytest.raises(merge.MergeError, match=ANNOTATION):
        merge.original_of({"metadata": {"annotations": {ANNOTATION: value}}})


def test_a_full_apply_updates_the_annotation_and_then_has_nothing_to_do():
    v1, v2 = deploy(ctr("app"), replicas=2), deploy(ctr("app", "nginx:2"))
    current = live(merge.modified_of(v1))
    schema = oaf.schema(oaf.DEPLOYMENT)

    def patch_for(desired: dict[str, Any]) -> dict[str, Any]:
        return merge.three_way_strategic(
            original=merge.original_of(current),
            modified=merge.modified_of(desired),
            current=current,
            meta=schema,
        )

    assert patch_for(v1) == {}
    assert patch_for(v2) == {
        "metadata": {"annotations": {ANNOTATION: merge.last_applied(v2)}},
        "spec": {
            "replicas": None,
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "app"}],
                    "containers": [{"name": "app", "image": "nginx:2"}],
                }
            },
        },
    }


def test_no_recorded_original_only_adds_and_changes():
    current = live(deploy(ctr("app"), replicas=2), {"metadata": {"labels": {"x": "y"}}})

    patch = merge.three_way_strategic(
        original=None,
        modified=deploy(ctr("app", "nginx:2")),
        current=current,
        meta=oaf.schema(oaf.DEPLOYMENT),
    )

    assert patch == {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "app"}],
                    "containers": [{"name": "app", "image": "nginx:2"}],
                }
            }
        }
    }


def cr(spec: Any, **meta: Any) -> dict[str, Any]:
    metadata = {"name": "w", "namespace": "default", **meta}
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": metadata, "spec": spec}


# (id, original, modified, drift on the live object, expected); the patches with an original
# were checked against kubectl (a CRD with x-kubernetes-preserve-unknown-fields).
JSON_CASES = [
    ("nothing", cr({"a": 1}), cr({"a": 1}), None, {}),
    ("nested changes and deletions", cr({"a": {"b": 1, "c": [1, 2], "d": {"e": "x"}}, "keep": 1}),
     cr({"a": {"b": 2, "c": [3]}, "new": {"x": {}}}), None,
     {"spec": {"a": {"b": 2, "c": [3], "d": None}, "keep": None, "new": {"x": {}}}}),
    ("lists replaced wholesale", cr({"l": [{"x": 1}, {"y": 2}]}), cr({"l": [{"x": 1}]}), None,
     {"spec": {"l": [{"x": 1}]}}),
    ("drift reverted, others kept", cr({"a": {"b": 1}, "l": [{"x": 1}]}),
     cr({"a": {"b": 1}, "l": [{"x": 1}]}), {"spec": {"a": {"b": 5, "o": 1}, "l": [2], "z": 1}},
     {"spec": {"a": {"b": 1}, "l": [{"x": 1}]}}),
    ("emptied map", cr({"a": {"b": 1}}), cr({"a": {}}), None, {"spec": {"a": {"b": None}}}),
    ("new empty map", cr({"a": 1}), cr({"a": 1, "m": {}}), None, {"spec": {"m": {}}}),
    ("nulls in new values", cr({"a": 1}),
     cr({"a": 1, "m": {"x": None, "y": 1}, "l": [{"x": None, "y": 1}, None]}), None,
     {"spec": {"m": {"x": None, "y": 1}, "l": [{"y": 1}, None]}}),
    ("an integer equals its float", cr({"a": 1}), cr({"a": 1.0}), None, {}),
    ("type changed", cr({"a": {"b": 1}}), cr({"a": "b"}), None, {"spec": {"a": "b"}}),
    ("labels", cr({}, labels={"x": "1"}), cr({}, labels={"y": "1"}), None,
     {"metadata": {"labels": {"x": None, "y": "1"}}}),
    ("no original", None, cr({"a": 2}), {"spec": {"z": 1}}, {"spec": {"a": 2}}),
    ("namespace may change", cr({}), cr({}, namespace="other"), None,
     {"metadata": {"namespace": "other"}}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("original", "modified", "drift", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in JSON_CASES],
)
def test_json_merge_patch_is_what_kubectl_sends(original, modified, drift, expected):
    current = merge.apply_json_merge(original or cr({}), {"metadata": SERVER_META, **(drift or {})})
    before = copy.deepcopy((original, modified, current))

    patch = merge.three_way_json_merge(original=original, modified=modified, current=current)

    assert patch == expected
    assert (original, modified, current) == before


@pytest.mark.parametrize(
    "modified",
    [
        pytest.param({**cr({}), "apiVersion": "example.com/v2"}, id="apiVersion"),
        pytest.param({**cr({}), "kind": "Gadget"}, id="kind"),
        pytest.param(cr({}, name="renamed"), id="name"),
        pytest.param({"kind": "Widget", "metadata": cr({})["metadata"]}, id="apiVersion-removed"),
    ],
)
def test_json_merge_patch_refuses_identity_changes(modified):
    with pytest.raises(merge.MergeError, match=f"^{re.escape(merge.PRECONDITION_FAILED)}$"):
        merge.three_way_json_merge(original=cr({}), modified=modified, current=cr({}))


# RFC 7386 appendix A
@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        ({"a": "b"}, {"a": "c"}, {"a": "c"}),
        ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
        ({"a": "b"}, {"a": None}, {}),
        ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
        ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
        ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
        ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
        ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
        (["a", "b"], ["c", "d"], ["c", "d"]),
        ({"a": "b"}, ["c"], ["c"]),
        ({"a": "foo"}, None, None),
        ({"a": "foo"}, "bar", "bar"),
        ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
        ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
        ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ],
    ids=[f"rfc7386-{number}" for number in range(1, 16)],
)
def test_apply_json_merge_follows_rfc_7386(target, patch, expected):
    before = copy.deepcopy(target)

    assert merge.apply_json_merge(target, patch) == expected
    assert target == before


SCALARS = (
    st.booleans() | st.integers(-3, 3) | st.floats(-2, 2, width=16) | st.text("ab", max_size=2)
)
KEYS = st.sampled_from(["a", "b", "c", "spec", "data"])


def json_values(scalars: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
        max_leaves=10,
    )


OBJECTS = st.dictionaries(KEYS, json_values(st.none() | SCALARS), max_size=4)
NULL_FREE = st.dictionaries(KEYS, json_values(SCALARS), max_size=4)


@given(obj=OBJECTS)
def test_json_merge_of_one_object_thrice_is_empty(obj):
    assert merge.three_way_json_merge(original=obj, modified=obj, current=obj) == {}


def covers(result: Any, modified: Any) -> bool:
    """Whether ``result`` has every field of ``modified`` with the same JSON value."""
    if isinstance(modified, dict):
        return isinstance(result, dict) and all(
            key in result and covers(result[key], value) for key, value in modified.items()
        )
    if isinstance(modified, list):
        return (
            isinstance(result, list)
            and len(result) == len(modified)
            and all(covers(a, b) and covers(b, a) for a, b in zip(result, modified, strict=True))
        )
    return isinstance(result, bool) == isinstance(modified, bool) and result == modified


@given(original=OBJECTS, modified=NULL_FREE, current=OBJECTS)
def test_applying_a_json_merge_patch_gives_the_modified_fields(original, modified, current):
    patch = merge.three_way_json_merge(original=original, modified=modified, current=current)

    assert covers(merge.apply_json_merge(current, patch), modified)


@pytest.mark.parametrize(
    ("obj", "meta", "content_type"),
    [
        pytest.param(
            deploy(ctr("app")),
            oaf.schema(oaf.DEPLOYMENT),
            "application/strategic-merge-patch+json",
            id="built-in",
        ),
        pytest.param(cr({"a": 1}), None, "application/merge-patch+json", id="custom-resource"),
    ],
)
def test_three_way_picks_the_patch_type_like_kubectl(obj, meta, content_type):
    changed = copy.deepcopy(obj)
    changed["metadata"]["labels"] = {"new": "label"}

    patch = merge.three_way(original=obj, modified=changed, current=obj, meta=meta)
    unchanged = merge.three_way(original=obj, modified=obj, current=obj, meta=meta)

    assert patch.content_type == content_type
    assert patch.body == {"metadata": {"labels": {"new": "label"}}}
    assert not patch.is_empty
    assert unchanged.is_empty


# A Widget whose spec has a pod's topologySpreadConstraints: a merge list keyed by topologyKey
# that the API server accepts with a key twice (the pair with whenUnsatisfiable is unique).
# Its elements hold an atomic list of scalars, and here a merged one too, like finalizers.
SPREAD_SPEC = {
    "type": "object",
    "properties": {
        "topologySpreadConstraints": {
            "type": "array",
            patchmeta.PATCH_STRATEGY_EXTENSION: "merge",
            patchmeta.PATCH_MERGE_KEY_EXTENSION: "topologyKey",
            "items": {
                "type": "object",
                "properties": {
                    "topologyKey": {"type": "string"},
                    "whenUnsatisfiable": {"type": "string"},
                    "nodeTaintsPolicy": {"type": "string"},
                    "matchLabelKeys": {"type": "array", "items": {"type": "string"}},
                    "finalizers": {
                        "type": "array",
                        "items": {"type": "string"},
                        patchmeta.PATCH_STRATEGY_EXTENSION: "merge",
                    },
                },
            },
        },
    },
}
HOST = "kubernetes.io/hostname"


def spread(*constraints: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": "w", "namespace": "default"}
    spec = {"topologySpreadConstraints": list(constraints)}
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta, "spec": spec}


def test_a_topology_key_twice_gets_kubectls_patch():
    hard = {"topologyKey": HOST, "whenUnsatisfiable": "DoNotSchedule"}
    soft = {"topologyKey": HOST, "whenUnsatisfiable": "ScheduleAnyway"}
    keys = {"matchLabelKeys": ["pod-template-hash"]}
    applied = spread({**hard, "nodeTaintsPolicy": "Honor"}, soft)

    patch = merge.three_way(
        original=applied,
        modified=spread({**hard, **keys}, {**soft, **keys}),
        current=applied,
        meta=oaf.widget(SPREAD_SPEC),
    )

    # What kubectl sends (apimachinery v0.34.4, the real Deployment type): both new elements
    # are merged into the one element of the deletions patch, as the API server will too.
    order = [{"topologyKey": HOST}, {"topologyKey": HOST}]
    changed = {"topologyKey": HOST, "nodeTaintsPolicy": None, **keys}
    expected = {
        "$setElementOrder/topologySpreadConstraints": order,
        "topologySpreadConstraints": [changed],
    }
    assert patch == merge.Patch(merge.PatchType.STRATEGIC, {"spec": expected})


NAMES_TWICE = st.lists(st.sampled_from("ab"), max_size=3)
CONSTRAINTS = st.lists(
    st.fixed_dictionaries(
        {"topologyKey": st.sampled_from([HOST, "zone"])},
        optional={
            "nodeTaintsPolicy": st.sampled_from(["Honor", "Ignore"]),
            "matchLabelKeys": NAMES_TWICE,
            "finalizers": NAMES_TWICE,
        },
    ),
    min_size=1,
    max_size=3,
)


@given(original=CONSTRAINTS, modified=CONSTRAINTS, current=CONSTRAINTS)
def test_repeated_merge_keys_give_a_patch_or_a_merge_error(original, modified, current):
    objects = {"original": spread(*original), "modified": spread(*modified)}
    try:
        patch = merge.three_way(**objects, current=spread(*current), meta=oaf.widget(SPREAD_SPEC))
    except merge.MergeError:
        return
    assert patch.content_type is merge.PatchType.STRATEGIC
