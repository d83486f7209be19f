"""The Faros CRDs are served by the API server with their schemas and printer columns."""

from __future__ import annotations

import pytest

from faros.api import names
from faros.kube import client, errors
from tests.harness.cluster import Cluster


def gittrack(name: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": names.API_VERSION,
        "kind": names.GITTRACK,
        "metadata": {"name": name},
        "spec": spec,
    }


def gittracks_path(namespace: str) -> str:
    return f"/apis/{names.API_VERSION}/namespaces/{namespace}/{names.GITTRACKS}"


def test_valid_gittrack_round_trips(kube: client.Kube, namespace: str):
    spec = {
        "repository": "https://example.com/org/repo.git",
        "reference": "master",
        "subPath": "deploy/prod",
        "deployKey": {"secretName": "creds", "key": "id_rsa", "type": "SSH"},
    }
    kube.request("POST", gittracks_path(namespace), body=gittrack("app", **spec))

    stored = kube.request("GET", f"{gittracks_path(namespace)}/app")

    assert stored["spec"] == spec


def test_go_client_style_empty_deploykey_is_accepted(kube: client.Kube, namespace: str):
    empty = {"secretName": "", "secretNamespace": "", "key": "", "type": ""}
    body = gittrack("go", repository="file:///r", reference="main", deployKey=empty)

    kube.request("POST", gittracks_path(namespace), body=body)

    assert kube.request("GET", f"{gittracks_path(namespace)}/go")["spec"]["deployKey"] == empty


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"reference": "master"}, "spec.repository"),
        ({"repository": "https://h/r.git"}, "spec.reference"),
        (
            {"repository": "https://h/r.git", "reference": "m",
             "deployKey": {"secretName": "s", "key": "k", "type": "Token"}},
            "spec.deployKey.type",
        ),
        ({"repository": "https://h/r.git", "reference": "m", "subPath": "a b"}, "spec.subPath"),
        ({"repository": "https://h/r.git", "reference": "m", "subPath": "x;rm"}, "spec.subPath"),
    ],
    ids=["no-repository", "no-reference", "bad-deploykey-type", "subpath-space", "subpath-semi"],
)  # fmt: skip
def test_invalid_gittrack_is_rejected(kube: client.Kube, namespace: str, spec, field):
    with pytest.raises(errors.Invalid) as rejected:
        kube.request("POST", gittracks_path(namespace), body=gittrack("bad", **spec))

    assert field in str(rejected.value)


FULL_STATUS = {
    "observedGeneration": 1,
    "revision": "0123456789abcdef0123456789abcdef01234567",
    "objectsDiscovered": 3,
    "objectsApplied": 2,
    "objectsIgnored": 1,
    "objectsInSync": 2,
    "ignoredFiles": {"broken.yaml": "unable to parse 'broken.yaml': yaml: line 1"},
    "conditions": [
        {
            "type": "FilesFetched",
            "status": "True",
            "lastUpdateTime": "2026-01-01T00:00:00Z",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
            "reason": "GitFetchSuccess",
            "message": "",
        }
    ],
}


def test_status_is_a_subresource(kube: client.Kube, namespace: str):
    path = gittracks_path(namespace)
    created = kube.request("POST", path, body=gittrack("s", repository="file:///r", reference="m"))
    created["status"] = FULL_STATUS

    kube.request("PUT", f"{path}/s", body=created)  # the main resource ignores status
    assert "status" not in kube.request("GET", f"{path}/s")
    kube.request("PUT", f"{path}/s/status", body=created)

    assert kube.request("GET", f"{path}/s")["status"] == FULL_STATUS


def test_kubectl_shows_printer_columns(cluster: Cluster, kube: client.Kube, namespace: str):
    body = gittrack("cols", repository="https://example.com/r.git", reference="v1.2.3")
    kube.request("POST", gittracks_path(namespace), body=body)

    table = cluster.kubectl("get", "gittracks", "-n", namespace)
    wide = cluster.kubectl("get", "gittracks", "-n", namespace, "-o", "wide")

    header = table.splitlines()[0].split()
    assert header == ["NAME", "REFERENCE", "CHILDREN", "CREATED", "RESOURCES", "DISCOVERED",
                      "RESOURCES", "IGNORED", "CHILDREN", "IN", "SYNC", "READY", "AGE"]  # fmt: skip
    assert "v1.2.3" in table.splitlines()[1]
    assert "REPOSITORY" in wide.splitlines()[0]
    assert "REVISION" in wide.splitlines()[0]
    assert "https://example.com/r.git" in wide


@pytest.mark.parametrize(
    ("kind", "plural", "namespaced"),
    [
        (names.GITTRACK, names.GITTRACKS, True),
        (names.CLUSTERGITTRACK, names.CLUSTERGITTRACKS, False),
        (names.GITTRACKOBJECT, names.GITTRACKOBJECTS, True),
        (names.CLUSTERGITTRACKOBJECT, names.CLUSTERGITTRACKOBJECTS, False),
    ],
    ids=["gittrack", "clustergittrack", "gittrackobject", "clustergittrackobject"],
)
def test_every_kind_is_served_with_its_scope(kube: client.Kube, kind, plural, namespaced):
    resources = kube.request("GET", f"/apis/{names.API_VERSION}")["resources"]
    served = {r["name"]: r for r in resources}

    assert served[plural]["kind"] == kind
    assert served[plural]["namespaced"] is namespaced
    assert f"{plural}/status" in served


def test_gittrackobject_data_must_be_base64(kube: client.Kube, namespace: str):
    path = f"/apis/{names.API_VERSION}/namespaces/{namespace}/{names.GITTRACKOBJECTS}"
    body = {"apiVersion": names.API_VERSION, "kind": names.GITTRACKOBJECT,
            "metadata": {"name": "configmap-x"},
            "spec": {"name": "x", "kind": "ConfigMap", "data": "not base64!"}}  # fmt: skip

    with pytest.raises(errors.Invalid) as rejected:
        kube.request("POST", path, body=body)

    assert "spec.data" in str(rejected.value)
