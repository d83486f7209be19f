"""kubectl is the oracle: the same manifest histories applied by ``kubectl apply`` in one
namespace and by Faros in another leave the same objects, step by step (design, testing).

Out-of-band edits between steps are made identically on both sides, so the three-way merge
(what to keep, what to delete, list order, retainKeys) is compared, not just the last
manifest.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import json
import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from faros.kube import errors
from tests.harness.gtos import Objects
from tests.harness.wait import eventually
from tests.scenarios import oracle_corpus as corpus

SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "generation",
    "namespace",
    "ownerReferences",
)
DROPPED_ANNOTATIONS = {
    "Deployment": ("deployment.kubernetes.io/revision",),
}
LAST_APPLIED = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "faros.pusher.com/last-applied-configuration",
)


@pytest.fixture
def namespaces(kube) -> Iterator[Callable[[], str]]:
    """Make fresh namespaces on demand; all are deleted (without waiting) afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"t-{secrets.token_hex(4)}"
        kube.request("POST", "/api/v1/namespaces", body={"metadata": {"name": name}})
        made.append(name)
        return name

    yield make
    for name in made:
        with contextlib.suppress(errors.NotFound):
            kube.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def objects(kube, rt) -> Objects:
    return Objects(kube, rt)


def normalised(obj: dict[str, Any]) -> dict[str, Any]:
    """Drop what the API server and controllers set differently per namespace or per run."""
    clean = copy.deepcopy(obj)
    clean.pop("status", None)
    metadata = clean["metadata"]
    for name in SERVER_METADATA:
        metadata.pop(name, None)
    annotations = metadata.get("annotations", {})
    for name in (*LAST_APPLIED, *DROPPED_ANNOTATIONS.get(clean["kind"], ())):
        annotations.pop(name, None)
    if not annotations:
        metadata.pop("annotations", None)
    if clean["kind"] == "Service":  # allocated per object
        clean["spec"].pop("clusterIP", None)
        clean["spec"].pop("clusterIPs", None)
    return clean


def placed(manifest: dict[str, Any], namespace: str, group: str) -> dict[str, Any]:
    """``manifest`` in ``namespace``, custom resources in the test's CRD group."""
    result = copy.deepcopy(manifest)
    result["metadata"]["namespace"] = namespace
    result["apiVersion"] = result["apiVersion"].replace(corpus.GROUP, group)
    return result


def difference(expected: dict[str, Any], actual: dict[str, Any]) -> str:
    def lines(obj: dict[str, Any]) -> list[str]:
        return json.dumps(obj, indent=1, sort_keys=True).splitlines()

    diff = difflib.unified_diff(lines(expected), lines(actual), "kubectl", "faros", lineterm="")
    return "\n".join(diff)


@contextlib.contextmanager
def crd_installed(kube, *, needed: bool, namespace: str) -> Iterator[str]:
    """Install the Widget CRD under a random group when ``needed``; yield the group."""
    if not needed:
        yield corpus.GROUP
        return
    group = f"o{secrets.token_hex(3)}.faros.test"
    crd = corpus.widget_crd(group)
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    kube.request("POST", path, body=crd)

    def served() -> None:
        try:
            kube.request("GET", f"/apis/{group}/v1/namespaces/{namespace}/widgets")
        except errors.NotFound as missing:
            raise AssertionError(f"widgets.{group} not served yet") from missing

    try:
        # Served (not only Established) before anyone asks discovery, so no backoff starts.
        eventually(served, timeout=30, interval=0.1)
        yield group
    finally:
        with contextlib.suppress(errors.NotFound):
            kube.request("DELETE", f"{path}/{crd['metadata']['name']}")


@pytest.mark.parametrize("history", corpus.HISTORIES, ids=lambda history: history.name)
def test_kubectl_and_faros_leave_the_same_object(
    history: corpus.History, cluster, kube, rt, objects, namespaces, tmp_path
):
    by_kubectl, by_faros = namespaces(), namespaces()
    with crd_installed(kube, needed=history.custom_resource, namespace=by_kubectl) as group:
        target = placed(history.target, by_kubectl, group)
        resource = rt.discovery.resource(target["apiVersion"], target["kind"])
        assert resource is not None, f"no resource for {target['kind']}"
        name = target["metadata"]["name"]
        paths = {ns: resource.path(namespace=ns, name=name) for ns in (by_kubectl, by_faros)}

        for number, step in enumerate(history.steps, start=1):
            if isinstance(step, corpus.Apply):
                cluster.kubectl(
                    f"--cache-dir={tmp_path / 'kubectl-cache'}",
                    "apply",
                    "-f",
                    "-",
                    stdin=json.dumps(placed(step.manifest, by_kubectl, group)),
                )
                gto = objects.put(placed(step.manifest, by_faros, group), namespace=by_faros)
                status = objects.in_sync(objects.apply(gto))
                assert status[0] == "True", f"{history.name} step {number}: Faros failed: {status}"
            else:
                for namespace in (by_kubectl, by_faros):
                    path = paths[namespace]
                    if step.subresource:
                        path += f"/{step.subresource}"
                    kube.request("PATCH", path, body=step.patch, content_type=step.content_type)

            expected = normalised(kube.request("GET", paths[by_kubectl]))
            actual = normalised(kube.request("GET", paths[by_faros]))
            assert actual == expected, (
                f"{history.name} step {number} ({type(step).__name__}): Faros differs from "
                f"kubectl:\n{difference(expected, actual)}"
            )
