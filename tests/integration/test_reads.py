"""Bulk reads of Faros's own kinds: page by page, each object reduced as its page arrives."""

from __future__ import annotations

from faros.api import names
from faros.kube import discovery, reads
from tests.harness import cluster as cluster_harness


def test_objects_are_read_in_pages_and_reduced_as_they_arrive(
    kube, cluster, tracks, namespace, monkeypatch
):
    made = sorted(tracks.create(reference="master", namespace=namespace).name for _ in range(5))
    monkeypatch.setattr(reads, "PAGE", 2)
    mark = cluster_harness.audit_lines(cluster)
    seen: list[int] = []

    def keep(obj):
        seen.append(len(obj))  # each whole object passes through once
        return obj["metadata"]["name"]

    found = reads.read_own(kube, names.GITTRACK, keep, namespace=namespace)

    assert sorted(found) == made  # only what keep returned is held
    assert len(seen) == 5
    lists = cluster_harness.lists_since(cluster, mark)
    assert len(lists) == 3, lists  # 2 + 2 + 1
    assert all("limit=2" in uri for uri in lists)
    assert sum("continue=" in uri for uri in lists) == 2
    # list_own is the same read, keeping each object but its managedFields
    whole = reads.list_own(kube, names.GITTRACK, namespace=namespace)
    assert sorted(obj["metadata"]["name"] for obj in whole) == made
    assert all("managedFields" not in obj["metadata"] for obj in whole)


def test_a_read_by_name_is_audited_so_tests_can_count_it(kube, cluster, tracks, namespace):
    key = tracks.create(reference="master", namespace=namespace)
    mark = cluster_harness.audit_lines(cluster)

    kube.request("GET", discovery.own(key.kind).path(namespace=namespace, name=key.name))
    kube.request("GET", f"/api/v1/namespaces/{namespace}")  # not one of Faros's kinds

    assert cluster_harness.gets_since(cluster, mark) == [
        f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks/{key.name}"
    ]
