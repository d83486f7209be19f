"""Events are aggregated as Kubernetes clients aggregate them: a repeat counts, it is not new.

A tug of war with another controller (here: a test that changes the child again and again)
used to write a new Event per revert into etcd.
"""

from __future__ import annotations

from faros.kube import client
from tests.harness.gtos import Objects
from tests.integration.test_apply import deployment, get_deployment


def test_repeated_reverts_count_up_one_event(kube, rt, namespace):
    objects = Objects(kube, rt)
    gto = objects.apply(objects.put(deployment(namespace), namespace=namespace))
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/nginx"

    for revert in range(3):
        kube.request("PATCH", path, body={"spec": {"replicas": 5 + revert}},
                     content_type=client.MERGE_PATCH)  # fmt: skip
        objects.apply(gto)
        assert get_deployment(kube, namespace)["spec"]["replicas"] == 1

    selector = f"involvedObject.uid={gto['metadata']['uid']},reason=UpdateSuccessful"
    listing = kube.request("GET", f"/api/v1/namespaces/{namespace}/events",
                           query={"fieldSelector": selector})  # fmt: skip
    (event,) = listing["items"]
    assert event["count"] == 3
    assert event["lastTimestamp"] >= event["firstTimestamp"]
    assert event["message"] == f"Successfully updated child Deployment {namespace}/nginx"
