"""--apply-strategy=server-side: the same create, drift and no-write behaviour via SSA."""

from __future__ import annotations

import dataclasses

import pytest

from faros import config
from faros.api import names
from faros.kube import client
from tests.harness import cluster as cluster_harness
from tests.harness.gtos import Objects
from tests.integration.test_apply import deployment, get_deployment


@pytest.fixture
def objects(kube, rt, monkeypatch):
    server_side = dataclasses.replace(rt.settings, apply_strategy=config.ApplyStrategy.SERVER_SIDE)
    monkeypatch.setattr(rt, "settings", server_side)
    return Objects(kube, rt)


def test_child_is_created_by_server_side_apply(objects, kube, namespace):
    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))

    child = get_deployment(kube, namespace)
    managers = {
        entry["manager"]: entry["operation"] for entry in child["metadata"]["managedFields"]
    }
    assert managers[names.FIELD_MANAGER] == "Apply"
    assert child["metadata"]["ownerReferences"][0]["uid"] == gto["metadata"]["uid"]
    assert objects.in_sync(gto) == ("True", "ChildAppliedSuccess", "")


def test_drift_is_reverted_and_removed_fields_are_removed(objects, kube, namespace):
    with_label = deployment(namespace)
    with_label["metadata"]["labels"] = {"team": "a"}
    gto = objects.apply(objects.put(with_label, namespace=namespace))
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/nginx"
    kube.request("PATCH", path, content_type=client.STRATEGIC_MERGE_PATCH,
                 body={"spec": {"replicas": 7}})  # fmt: skip

    objects.apply(gto)
    assert get_deployment(kube, namespace)["spec"]["replicas"] == 1

    objects.apply(objects.put(deployment(namespace), namespace=namespace))
    assert "team" not in get_deployment(kube, namespace)["metadata"].get("labels", {})


def test_in_sync_object_makes_no_write(objects, cluster, namespace):
    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))
    objects.apply(gto)
    mark = cluster_harness.audit_lines(cluster)

    for _ in range(20):
        objects.apply(gto)

    assert cluster_harness.writes_since(cluster, mark) == []
