"""OpenAPI v3 documents for the patch tests: cuts of real Kubernetes v1.34 ones, and hand-made.

The JSON files in ``fixtures/`` were cut from what a v1.34.4 kube-apiserver serves at
``/openapi/v3/apis/apps/v1``, ``/openapi/v3/api/v1``, ``.../rbac.authorization.k8s.io/v1``,
``.../autoscaling/v2`` and, for a custom resource, ``.../faros.pusher.com/v1alpha1``: each
schema keeps only the properties the tests use, descriptions are dropped, and the
``x-kubernetes-*`` extensions and ``allOf``/``$ref`` wrappers are exactly as served; ``paths``
keeps each kind's PATCH operation with the content types it accepts.

The object builders at the end make manifests and the live objects an API server returns.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from faros.core import merge, patchmeta

FIXTURES = Path(__file__).resolve().parent / "fixtures"

DEPLOYMENT = patchmeta.GroupVersionKind(group="apps", version="v1", kind="Deployment")
SERVICE = patchmeta.GroupVersionKind(group="", version="v1", kind="Service")
CONFIGMAP = patchmeta.GroupVersionKind(group="", version="v1", kind="ConfigMap")
ROLE = patchmeta.GroupVersionKind(group="rbac.authorization.k8s.io", version="v1", kind="Role")
HPA = patchmeta.GroupVersionKind(group="autoscaling", version="v2", kind="HorizontalPodAutoscaler")
GITTRACK = patchmeta.GroupVersionKind(group="faros.pusher.com", version="v1alpha1", kind="GitTrack")
WIDGET = patchmeta.GroupVersionKind(group="example.com", version="v1", kind="Widget")

_FILES = {
    ("apps", "v1"): "apps_v1.json",
    ("", "v1"): "core_v1.json",
    ("rbac.authorization.k8s.io", "v1"): "rbac_v1.json",
    ("autoscaling", "v2"): "autoscaling_v2.json",
    ("faros.pusher.com", "v1alpha1"): "faros_v1alpha1.json",
}


def document(gvk: patchmeta.GroupVersionKind) -> dict[str, Any]:
    """Return a fresh copy of the cut document serving ``gvk``'s group-version."""
    text = (FIXTURES / _FILES[gvk.group, gvk.version]).read_text(encoding="utf-8")
    return dict(json.loads(text))


@functools.cache
def catalog(group: str, version: str) -> patchmeta.Catalog:
    return patchmeta.index(document(patchmeta.GroupVersionKind(group, version, "")))


def schema(gvk: patchmeta.GroupVersionKind) -> patchmeta.Schema:
    """Return the root schema of a built-in kind from the cut documents."""
    root = catalog(gvk.group, gvk.version).root(gvk)
    assert root is not None, gvk
    return root


def ref(name: str) -> dict[str, Any]:
    """A property referring to a component schema, wrapped in ``allOf`` as Kubernetes does."""
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}], "default": {}}


def widget_document(*, spec: dict[str, Any], strategic: bool = True) -> dict[str, Any]:
    """A hand-made group-version serving one kind, Widget, whose ``spec`` is given."""
    gvk = {"group": WIDGET.group, "version": WIDGET.version, "kind": WIDGET.kind}
    content = ["application/merge-patch+json"]
    if strategic:
        content.append(patchmeta.STRATEGIC_MERGE_PATCH)
    return {
        "openapi": "3.0.0",
        "paths": {
            "/apis/example.com/v1/namespaces/{namespace}/widgets/{name}": {
                "patch": {
                    "requestBody": {"content": {kind: {} for kind in content}},
                    patchmeta.GVK_EXTENSION: gvk,
                },
            },
        },
        "components": {
            "schemas": {
                "com.example.v1.Widget": {
                    "type": "object",
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": spec,
                    },
                    patchmeta.GVK_EXTENSION: [gvk],
                },
            },
        },
    }


def widget(spec: dict[str, Any]) -> patchmeta.Schema:
    """Return the root schema of a Widget whose ``spec`` schema is given."""
    root = patchmeta.index(widget_document(spec=spec)).root(WIDGET)
    assert root is not None
    return root


GVKS = {gvk.kind: gvk for gvk in (DEPLOYMENT, SERVICE, CONFIGMAP, ROLE, HPA)}

MERGE_BY_ID = {
    patchmeta.PATCH_STRATEGY_EXTENSION: "merge",
    patchmeta.PATCH_MERGE_KEY_EXTENSION: "id",
}


# --- objects ---------------------------------------------------------------------------------

SERVER: dict[str, Any] = {
    "metadata": {
        "uid": "9f6c1a2e-0000-4000-8000-000000000001",
        "resourceVersion": "4711",
        "generation": 2,
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "managedFields": [{"manager": "faros", "operation": "Update", "fieldsV1": {"f:spec": {}}}],
    },
}
CONTAINER_DEFAULTS = {
    "imagePullPolicy": "IfNotPresent",
    "resources": {},
    "terminationMessagePath": "/dev/termination-log",
}
ROLLING = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}


def ctr(name: str, image: str = "nginx:1", **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": image, **fields}


def env(**values: str) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in values.items()]


def deploy(*containers: dict[str, Any], pod: Any = None, meta: Any = None, **spec: Any):
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", **(meta or {})},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            **spec,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": list(containers), **(pod or {})},
            },
        },
    }


def live(applied: dict[str, Any], drift: dict[str, Any] | None = None) -> dict[str, Any]:
    """The object as the API server returns it after ``applied``, then someone's ``drift``."""
    obj = merge.apply_json_merge(applied, SERVER)
    spec = obj.get("spec", {})
    if obj["kind"] == "Deployment":
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy["type"] == "RollingUpdate":
            strategy.setdefault("rollingUpdate", ROLLING["rollingUpdate"])
        pod = spec["template"]["spec"]
        pod["containers"] = [{**CONTAINER_DEFAULTS, **item} for item in pod["containers"]]
        for volume in pod.get("volumes", []):
            for source in ("configMap", "secret"):
                if source in volume:
                    volume[source].setdefault("defaultMode", 420)
        obj["status"] = {"replicas": spec["replicas"], "observedGeneration": 2}
    if obj["kind"] == "Service":
        spec.update(clusterIP="10.0.0.7", type="ClusterIP")
        spec["ports"] = [
            {"protocol": "TCP", "targetPort": port["port"], **port} for port in spec["ports"]
        ]
    drifted: dict[str, Any] = merge.apply_json_merge(obj, drift or {})
    return drifted
