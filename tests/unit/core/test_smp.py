"""Strategic merge patches for built-in kinds are the ones kubectl apply sends.

Every expected patch in ``CASES`` was checked against the PATCH body ``kubectl apply`` (v1.32)
sent to a v1.34 API server for the same original, modified and live objects. The Widget
tests use hand-made schemas for what the built-in kinds never show.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faros.core import merge, patchmeta
from tests.unit.core import openapi_fixtures as oaf
from tests.unit.core.openapi_fixtures import ROLLING, ctr, deploy, env, live

ORDER, DELETE = "$setElementOrder", {"$patch": "delete"}


def pod_patch(**fields: Any) -> dict[str, Any]:
    return {"spec": {"template": {"spec": fields}}}


def app_patch(*items: dict[str, Any], order: tuple[str, ...] = ("app",)) -> dict[str, Any]:
    return pod_patch(
        **{f"{ORDER}/containers": [{"name": name} for name in order], "containers": list(items)}
    )


def service(*ports: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": "web", "namespace": "default"}
    spec = {"selector": {"app": "web"}, "ports": list(ports)}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def configmap(**data: str) -> dict[str, Any]:
    meta = {"name": "cfg", "namespace": "default"}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def role(*rules: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": "reader", "namespace": "default"}
    kind = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role"}
    return {**kind, "metadata": meta, "rules": list(rules)}


def hpa(maximum: int, utilization: int) -> dict[str, Any]:
    target = {"type": "Utilization", "averageUtilization": utilization}
    spec = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
        "minReplicas": 1,
        "maxReplicas": maximum,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}],
    }
    meta = {"name": "web", "namespace": "default"}
    kind = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler"}
    return {**kind, "metadata": meta, "spec": spec}


CFG = {"name": "cfg", "configMap": {"name": "x"}}
RULE = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}
FIN = {"finalizers": ["a.io/x", "b.io/y"]}

# (id, original, modified, drift applied to the live object, expected patch)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any] | None, Any]] = [
    ("no change", deploy(ctr("app")), deploy(ctr("app")), None, {}),
    ("image changed", deploy(ctr("app")), deploy(ctr("app", "nginx:2")), None,
     app_patch({"name": "app", "image": "nginx:2"})),
    ("container added", deploy(ctr("app")), deploy(ctr("app"), ctr("side")), None,
     app_patch(ctr("side"), order=("app", "side"))),
    ("container removed", deploy(ctr("app"), ctr("side")), deploy(ctr("app")), None,
     app_patch({"name": "side", **DELETE})),
    ("containers reordered", deploy(ctr("app"), ctr("side")), deploy(ctr("side"), ctr("app")),
     None, pod_patch(**{f"{ORDER}/containers": [{"name": "side"}, {"name": "app"}]})),
    ("containers changed and removed", deploy(ctr("app"), ctr("side"), ctr("z")),
     deploy(ctr("app", "nginx:3")), None,
     app_patch({"name": "app", "image": "nginx:3"}, {"name": "side", **DELETE},
               {"name": "z", **DELETE})),
    ("env added changed removed", deploy(ctr("app", env=env(A="1", B="2"))),
     deploy(ctr("app", env=env(B="3", C="4"))), None,
     app_patch({"name": "app", f"{ORDER}/env": [{"name": "B"}, {"name": "C"}],
                "env": [*env(B="3", C="4"), {"name": "A", **DELETE}]})),
    ("ports by container port",
     deploy(ctr("app", ports=[{"containerPort": 80}, {"containerPort": 9090, "name": "m"}])),
     deploy(ctr("app", ports=[{"containerPort": 8080}, {"containerPort": 9090, "name": "x"}])),
     None,
     app_patch({"name": "app", f"{ORDER}/ports": [{"containerPort": 8080}, {"containerPort": 9090}],
                "ports": [{"containerPort": 8080}, {"containerPort": 9090, "name": "x"},
                          {"containerPort": 80, **DELETE}]})),
    ("deleted ports sorted as text",
     deploy(ctr("app", ports=[{"containerPort": port} for port in (9, 10, 100)])),
     deploy(ctr("app", ports=[{"containerPort": 11}])), None,
     app_patch({"name": "app", f"{ORDER}/ports": [{"containerPort": 11}],
                "ports": [{"containerPort": 11}, {"containerPort": 10, **DELETE},
                          {"containerPort": 100, **DELETE}, {"containerPort": 9, **DELETE}]})),
    ("nested deletions interleaved",
     deploy(ctr("a", env=env(X="v", Y="v")), ctr("b", env=env(X="v")), ctr("c"), ctr("d")),
     deploy(ctr("e"), ctr("d", "nginx:2"), ctr("b", env=env(Z="v")), ctr("a", env=env(Y="v"))),
     None,
     app_patch(ctr("e"), {"name": "d", "image": "nginx:2"},
               {"name": "b", f"{ORDER}/env": [{"name": "Z"}],
                "env": [*env(Z="v"), {"name": "X", **DELETE}]},
               {"name": "a", f"{ORDER}/env": [{"name": "Y"}], "env": [{"name": "X", **DELETE}]},
               {"name": "c", **DELETE}, order=("e", "d", "b", "a"))),
    ("partial deletions around a change",
     deploy(ctr("x", env=env(A="v", B="v")), ctr("y", env=env(A="v", B="v"))),
     deploy(ctr("x", env=env(A="v")), ctr("y", "nginx:2", env=env(B="v"))), None,
     app_patch({"name": "x", f"{ORDER}/env": [{"name": "A"}], "env": [{"name": "B", **DELETE}]},
               {"name": "y", "image": "nginx:2", f"{ORDER}/env": [{"name": "B"}],
                "env": [{"name": "A", **DELETE}]}, order=("x", "y"))),
    ("volume source switched",
     deploy(ctr("app"), pod={"volumes": [CFG, {"name": "tmp", "emptyDir": {}}]}),
     deploy(ctr("app"), pod={"volumes": [{"name": "cfg", "secret": {"secretName": "s"}}]}), None,
     pod_patch(**{f"{ORDER}/volumes": [{"name": "cfg"}],
                  "volumes": [{"$retainKeys": ["name", "secret"], "configMap": None, "name": "cfg",
                               "secret": {"secretName": "s"}}, {"name": "tmp", **DELETE}]})),
    ("volume source changed", deploy(ctr("app"), pod={"volumes": [CFG]}),
     deploy(ctr("app"), pod={"volumes": [{"name": "cfg", "configMap": {"name": "y"}}]}), None,
     pod_patch(**{f"{ORDER}/volumes": [{"name": "cfg"}],
                  "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "y"},
                               "name": "cfg"}]})),
    ("defaulted volume unchanged", deploy(ctr("app"), pod={"volumes": [CFG]}),
     deploy(ctr("app"), pod={"volumes": [CFG]}), None, {}),
    ("whole list removed", deploy(ctr("app"), pod={"volumes": [CFG]}), deploy(ctr("app")), None,
     pod_patch(volumes=None)),
    ("strategy type changed", deploy(ctr("app"), strategy={"type": "RollingUpdate"}),
     deploy(ctr("app"), strategy={"type": "Recreate"}), None,
     {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
    ("strategy unchanged but defaulted", deploy(ctr("app"), strategy={"type": "RollingUpdate"}),
     deploy(ctr("app"), strategy={"type": "RollingUpdate"}), None,
     {"spec": {"strategy": {"$retainKeys": ["type"]}}}),
    ("rolling update removed from git", deploy(ctr("app"), strategy=ROLLING),
     deploy(ctr("app"), strategy={"type": "Recreate"}), None,
     {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": None, "type": "Recreate"}}}),
    ("replicas owned by an HPA", deploy(ctr("app")), deploy(ctr("app", "nginx:2")),
     {"spec": {"replicas": 5}}, app_patch({"name": "app", "image": "nginx:2"})),
    ("replicas removed from git", deploy(ctr("app"), replicas=3), deploy(ctr("app")), None,
     {"spec": {"replicas": None}}),
    ("replicas drift reverted", deploy(ctr("app"), replicas=3), deploy(ctr("app"), replicas=3),
     {"spec": {"replicas": 7}}, {"spec": {"replicas": 3}}),
    ("explicit null in git", deploy(ctr("app"), replicas=2), deploy(ctr("app"), replicas=None),
     None, {"spec": {"replicas": None}}),
    ("label set by another controller", deploy(ctr("app")), deploy(ctr("app")),
     {"metadata": {"labels": {"team": "x"}}}, {}),
    ("injected sidecar left alone", deploy(ctr("app")), deploy(ctr("app", "nginx:2")),
     pod_patch(containers=[ctr("app"), ctr("injected", "envoy")]),
     app_patch({"name": "app", "image": "nginx:2"})),
    ("env drift reverted", deploy(ctr("app", env=env(A="1"))), deploy(ctr("app", env=env(A="1"))),
     pod_patch(containers=[ctr("app", env=env(A="9", X="x"))]),
     app_patch({"name": "app", f"{ORDER}/env": [{"name": "A"}], "env": env(A="1")})),
    ("args replaced", deploy(ctr("app", args=["a", "b"])), deploy(ctr("app", args=["b"])), None,
     app_patch({"name": "app", "args": ["b"]})),
    ("resource limit removed",
     deploy(ctr("app", resources={"limits": {"cpu": "1", "memory": "1Gi"}})),
     deploy(ctr("app", resources={"limits": {"cpu": "2"}})), None,
     app_patch({"name": "app", "resources": {"limits": {"cpu": "2", "memory": None}}})),
    ("claims replaced (list-type map, no strategy)",
     deploy(ctr("app", resources={"claims": [{"name": "a"}, {"name": "b"}]})),
     deploy(ctr("app", resources={"claims": [{"name": "b"}]})), None,
     app_patch({"name": "app", "resources": {"claims": [{"name": "b"}]}})),
    ("tolerations replaced",
     deploy(ctr("app"), pod={"tolerations": [{"key": "a", "operator": "Exists"}]}),
     deploy(ctr("app"), pod={"tolerations": [{"key": "b", "operator": "Exists"}]}), None,
     pod_patch(tolerations=[{"key": "b", "operator": "Exists"}])),
    ("image pull secrets",
     deploy(ctr("app"), pod={"imagePullSecrets": [{"name": "a"}, {"name": "b"}]}),
     deploy(ctr("app"), pod={"imagePullSecrets": [{"name": "b"}, {"name": "c"}]}), None,
     pod_patch(**{f"{ORDER}/imagePullSecrets": [{"name": "b"}, {"name": "c"}],
                  "imagePullSecrets": [{"name": "c"}, {"name": "a", **DELETE}]})),
    ("finalizers added and removed", deploy(ctr("app"), meta=FIN),
     deploy(ctr("app"), meta={"finalizers": ["c.io/z", "a.io/x"]}), None,
     {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b.io/y"],
                   f"{ORDER}/finalizers": ["c.io/z", "a.io/x"], "finalizers": ["c.io/z"]}}),
    ("pull secrets removed out of band",
     deploy(ctr("app"), pod={"imagePullSecrets": [{"name": "a"}, {"name": "b"}]}),
     deploy(ctr("app"), pod={"imagePullSecrets": [{"name": "c"}, {"name": "a"}]}),
     pod_patch(imagePullSecrets=None),
     pod_patch(**{f"{ORDER}/imagePullSecrets": [{"name": "c"}, {"name": "a"}],
                  "imagePullSecrets": [{"name": "c"}, {"name": "a"}, {"name": "b", **DELETE}]})),
    ("finalizers removed out of band", deploy(ctr("app"), meta=FIN),
     deploy(ctr("app"), meta={"finalizers": ["c.io/z", "a.io/x"]}),
     {"metadata": {"finalizers": None}},
     {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b.io/y"],
                   f"{ORDER}/finalizers": ["c.io/z", "a.io/x"],
                   "finalizers": ["c.io/z", "a.io/x"]}}),
    ("finalizers emptied", deploy(ctr("app"), meta=FIN),
     deploy(ctr("app"), meta={"finalizers": []}), None,
     {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.io/x", "b.io/y"]}}),
    ("finalizers reordered", deploy(ctr("app"), meta=FIN),
     deploy(ctr("app"), meta={"finalizers": ["b.io/y", "a.io/x"]}), None,
     {"metadata": {f"{ORDER}/finalizers": ["b.io/y", "a.io/x"]}}),
    ("finalizer of another controller kept", deploy(ctr("app"), meta={"finalizers": ["a.io/x"]}),
     deploy(ctr("app"), meta={"finalizers": ["a.io/x", "n.io/new"]}),
     {"metadata": {"finalizers": ["o.io/other", "a.io/x"]}},
     {"metadata": {f"{ORDER}/finalizers": ["a.io/x", "n.io/new"], "finalizers": ["n.io/new"]}}),
    ("service ports by port",
     service({"port": 80, "targetPort": 8080, "name": "http"}, {"port": 443, "name": "https"}),
     service({"port": 80, "targetPort": 9090, "name": "http"}, {"port": 8443, "name": "alt"}), None,
     {"spec": {f"{ORDER}/ports": [{"port": 80}, {"port": 8443}],
               "ports": [{"port": 80, "targetPort": 9090}, {"name": "alt", "port": 8443},
                         {"port": 443, **DELETE}]}}),
    ("service unchanged", service({"port": 80}), service({"port": 80}), None, {}),
    ("configmap keys added and removed", configmap(a="1", b="2"), configmap(a="1", c="3"), None,
     {"data": {"b": None, "c": "3"}}),
    ("configmap drift reverted", configmap(a="1"), configmap(a="1"),
     {"data": {"a": "x", "z": "someone else's"}}, {"data": {"a": "1"}}),
    ("rbac rules replaced", role(RULE),
     role({**RULE, "verbs": ["get", "list"]}, {**RULE, "apiGroups": ["apps"]}), None,
     {"rules": [{**RULE, "verbs": ["get", "list"]}, {**RULE, "apiGroups": ["apps"]}]}),
    ("hpa metrics replaced", hpa(3, 50), hpa(5, 60), None,
     {"spec": {"maxReplicas": 5, "metrics": hpa(5, 60)["spec"]["metrics"]}}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("original", "modified", "drift", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_patch_is_what_kubectl_sends(original, modified, drift, expected):
    current = live(original, drift)
    gvk = oaf.GVKS[modified["kind"]]

    patch = merge.three_way_strategic(
        original=original, modified=modified, current=current, meta=oaf.schema(gvk)
    )

    assert patch == expected


WIDGET_SPEC = {
    "type": "object",
    "properties": {
        "items": {"type": "array", "items": {"type": "object"}, **oaf.MERGE_BY_ID},
        "whole": {"type": "object", patchmeta.PATCH_STRATEGY_EXTENSION: "replace"},
        "odd": {"type": "object", patchmeta.PATCH_STRATEGY_EXTENSION: "a,b"},
        "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            patchmeta.PATCH_STRATEGY_EXTENSION: "merge",
        },
    },
}


@pytest.mark.parametrize(
    ("original", "modified", "message"),
    [
        pytest.param(
            {}, {"spec": {"bogus": {"a": 1}}}, "api field 'bogus' in Widget.spec", id="field"
        ),
        pytest.param({}, {"spec": {"items": [{"id": 1}, {"x": 2}]}}, "no merge key 'id'", id="key"),
        pytest.param({}, {"spec": {"items": [{"id": 1}, 2]}}, "not identical", id="mixed"),
        pytest.param({}, {"spec": {"items": [[1]]}}, "lists of lists", id="list-of-lists"),
        pytest.param({}, {"spec": {"odd": {"a": 2}}}, "unexpected patch strategy", id="strategy"),
    ],
)
def test_patches_kubectl_cannot_compute_are_merge_errors(original, modified, message):
    current = {"spec": {"bogus": {"a": 0}, "items": [{"id": 1}], "odd": {"a": 1}}}

    with pytest.raises(merge.MergeError, match=message):
        merge.three_way_strategic(
            original=original, modified=modified, current=current, meta=oaf.widget(WIDGET_SPEC)
        )


@pytest.mark.parametrize(
    ("current", "modified", "expected"),
    [
        pytest.param({"bogus": {"a": 1}}, {"bogus": {"a": 1}}, {}, id="unknown-but-equal"),
        pytest.param({"whole": {"a": 1}}, {"whole": {"a": 1}}, {}, id="replace-equal"),
        pytest.param({"whole": {"a": 1}}, {"whole": {"b": 2}}, {"whole": {"b": 2}}, id="replace"),
        pytest.param(
            {"free": {"a": {"b": 1, "c": [1]}}},
            {"free": {"a": {"b": 2, "c": [2]}}},
            {"free": {"a": {"b": 2, "c": [2]}}},
            id="free-form",
        ),
        pytest.param(
            {"items": []}, {"items": [{"id": 1}]}, {"items": [{"id": 1}]}, id="from-empty"
        ),
        pytest.param({"bogus": [1]}, {"bogus": [1]}, {}, id="unknown-list-but-equal"),
        pytest.param(
            {"free": {"a": [1]}}, {"free": {"a": ["1"]}}, {"free": {"a": ["1"]}}, id="1-'1'"
        ),
        pytest.param(
            {"items": [{"id": key} for key in (None, True, 10.0, 9.5, "a", 1e21)]},
            {"items": []},
            {"items": [{"id": key, **DELETE} for key in (10.0, 1e21, 9.5, None, "a", True)]},
            id="deletions-sorted-as-go-text",
        ),
        pytest.param(
            {"tags": ["a", "a", "b", "c"]},
            {"tags": []},
            {"$deleteFromPrimitiveList/tags": ["a", "c", "b"]},
            id="duplicates-dropped-like-kubectl",
        ),
    ],
)
def test_widget_fields(current, modified, expected):
    patch = merge.three_way_strategic(
        original={"spec": current},
        modified={"spec": modified},
        current={"spec": current},
        meta=oaf.widget(WIDGET_SPEC),
    )

    assert patch == ({"spec": expected} if expected else {})


STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
MERGED_STRINGS = {**STRINGS, patchmeta.PATCH_STRATEGY_EXTENSION: "merge"}
DUPS_SPEC = {
    "type": "object",
    "properties": {
        "tags": MERGED_STRINGS,
        "dups": {
            "type": "array",
            **oaf.MERGE_BY_ID,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "tags": MERGED_STRINGS,  # like metadata.finalizers
                    "args": STRINGS,  # atomic, like a container's args
                    "rules": {"type": "array", "items": {"type": "object"}},  # atomic, of maps
                },
            },
        },
    },
}
ONES = [{"id": 1}, {"id": 1}]
DROP_A = {"$deleteFromPrimitiveList/tags": ["a"]}


def dups(*items: dict[str, Any]) -> dict[str, Any]:
    return {"dups": list(items)}


def one(key: int = 1, /, **fields: Any) -> dict[str, Any]:
    return {"id": key, **fields}


# Elements of ``dups`` sharing a merge key: (id, original, modified, current, expected patch of
# spec), each the patch strategicpatch.CreateThreeWayMergePatch (apimachinery v0.34.4) makes.
DUPLICATE_KEYS: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any], Any]] = [
    ("scalar merge lists merged", dups(one(tags=["a"])), dups(one(tags=["a"]), one(tags=["b"])),
     dups(one(tags=["a"])),
     {f"{ORDER}/dups": ONES,
      "dups": [{**DROP_A, f"{ORDER}/tags": ["b"], "id": 1, "tags": ["a", "b"]}]}),
    ("merged scalars deduplicated", dups(one(2)), dups(one(tags=[]), one(tags=["c", "c"])),
     dups(one(2), one(2)),
     {f"{ORDER}/dups": ONES, "dups": [one(tags=["c"]), one(2, **DELETE)]}),
    ("merged scalars in the order of Go's reused slice", dups(one(name="p")),
     dups(one(tags=["c"]), one(tags=["a", "a", "b"])), dups(one(name="p")),
     {f"{ORDER}/dups": ONES, "dups": [one(name=None, tags=["a", "c", "b"])]}),
    ("atomic lists replaced in turn", dups(one(name="p", args=["a"])),
     dups(one(args=["b"]), one(args=["c"])), dups(one(name="p", args=["a"])),
     {f"{ORDER}/dups": ONES, "dups": [one(name=None, args=["b"])]}),
    ("atomic lists of maps replaced in turn", dups(one(name="p")),
     dups(one(rules=[{"r": 1}]), one(rules=[{"r": 2}])), dups(one(name="p")),
     {f"{ORDER}/dups": ONES, "dups": [one(name=None, rules=[{"r": 1}])]}),
    ("duplicates in current too", dups(one(2, name="p")),
     dups(one(2, tags=["b", "a"]), one(2, tags=[])), dups(one(2), one(2)),
     {f"{ORDER}/dups": [{"id": 2}, {"id": 2}], "dups": [one(2, name=None, tags=["b", "a"])]}),
    ("duplicates in original too", dups(one(), one(name="p")),
     dups(one(2, tags=["c"]), one(2, tags=["a"])), dups(one()),
     {f"{ORDER}/dups": [{"id": 2}, {"id": 2}],
      "dups": [one(2, tags=["c", "a"]), one(**DELETE), one(**DELETE)]}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("original", "modified", "current", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in DUPLICATE_KEYS],
)
def test_duplicate_merge_keys_are_merged_like_kubectl(original, modified, current, expected):
    patch = merge.three_way_strategic(
        original={"spec": original},
        modified={"spec": modified},
        current={"spec": current},
        meta=oaf.widget(DUPS_SPEC),
    )

    assert patch == {"spec": expected}


# Where kubectl fails on repeated merge keys or scalars: (id, original, modified, current, error).
DUPLICATE_FAILURES = [
    ("list null in one patch, ordered in the other", dups(one(tags=["a"])),
     dups(one(tags=["b"]), one()), dups(one(tags=["a"]), one()), "tags is null in one patch"),
    ("orders differ", dups(one(name="p")), dups(one(tags=["a"]), one(tags=["b"])),
     dups(one(tags=["c"]), one(tags=["c"])), r'conflicting \$setElementOrder/tags'),
    ("ordered list with no elements", dups(one(name="p")), dups(one(tags=["c", "b"]), one(tags=[])),
     dups(one(tags=["b", "c"]), one()), "no elements in the lists at Widget.spec.dups.tags"),
    ("repeated keys apart", dups(one(args=[])), dups(one(name="p"), one(2), one(name="q")),
     dups(one()), "list at Widget.spec.dups does not follow"),
    ("repeated scalars apart", {"tags": ["c"]}, {"tags": ["a", "b", "a"]}, {"tags": ["c"]},
     "list at Widget.spec.tags does not follow"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("original", "modified", "current", "message"),
    [pytest.param(*case[1:], id=case[0]) for case in DUPLICATE_FAILURES],
)
def test_duplicates_kubectl_cannot_merge_are_merge_errors(original, modified, current, message):
    with pytest.raises(merge.MergeError, match=message):
        merge.three_way_strategic(
            original={"spec": original},
            modified={"spec": modified},
            current={"spec": current},
            meta=oaf.widget(DUPS_SPEC),
        )


NAMES = st.sampled_from(["app", "side", "init"])
ENV = st.lists(
    st.fixed_dictionaries({"name": st.sampled_from("ABC"), "value": st.text("xy", max_size=2)}),
    unique_by=lambda item: item["name"],
    max_size=3,
)
PORTS = st.lists(
    st.fixed_dictionaries({"containerPort": st.integers(1, 12)}),
    unique_by=lambda item: item["containerPort"],
    max_size=3,
)
CONTAINERS = st.lists(
    st.fixed_dictionaries(
        {"name": NAMES, "image": st.sampled_from(["nginx:1", "nginx:2"])},
        optional={"env": ENV, "ports": PORTS, "args": st.lists(st.text("ab", max_size=2))},
    ),
    unique_by=lambda item: item["name"],
    min_size=1,
    max_size=3,
)
VOLUMES = st.lists(
    st.builds(
        lambda name, source: {"name": name, **source},
        NAMES,
        st.sampled_from([{"emptyDir": {}}, {"configMap": {"name": "c"}}, {"secret": {}}]),
    ),
    unique_by=lambda item: item["name"],
    max_size=3,
)
DEPLOYMENTS = st.builds(
    lambda containers, volumes, finalizers, replicas: deploy(
        *containers, pod={"volumes": volumes}, meta={"finalizers": finalizers}, replicas=replicas
    ),
    CONTAINERS,
    VOLUMES,
    st.lists(st.sampled_from(["a.io/x", "b.io/y", "c.io/z"]), unique=True),
    st.none() | st.integers(0, 3),
)


@given(obj=DEPLOYMENTS)
def test_strategic_merge_of_one_object_thrice_is_empty(obj):
    schema = oaf.schema(oaf.DEPLOYMENT)

    assert merge.three_way_strategic(original=obj, modified=obj, current=obj, meta=schema) == {}


@given(original=DEPLOYMENTS, modified=DEPLOYMENTS)
def test_strategic_merge_with_no_drift_is_empty_only_without_change(original, modified):
    schema = oaf.schema(oaf.DEPLOYMENT)

    patch = merge.three_way_strategic(
        original=original, modified=modified, current=original, meta=schema
    )

    assert (patch == {}) == (original == modified)
