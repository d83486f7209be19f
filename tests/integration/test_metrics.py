"""The status gauges are read from the cluster at scrape time; deleted objects vanish."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest

from faros.kube import reads
from faros.metrics import collectors
from faros.tasks import apply as apply_task
from faros.tasks import sync as sync_task


def scrape(rt) -> str:
    registry = CollectorRegistry()
    registry.register(collectors.StatusCollector(reads.lister(rt.kube)))
    return generate_latest(registry).decode()


def test_child_status_follows_the_gittrack(tracks, rt, kube):
    key = tracks.create(reference="a144436")
    tracks.sync(key)

    text = scrape(rt)

    assert (
        f'faros_gittrack_child_status{{name="{key.name}",namespace="default",status="applied"}} 2.0'
        in text
    )
    tracks.cleanup()
    assert key.name not in scrape(rt)


def test_in_sync_gauge_per_gittrackobject(tracks, rt):
    key = tracks.create(reference="a144436")
    tracks.sync(key)
    apply_task.run(rt, namespace="default", name="service-nginx")

    assert 'faros_gittrackobject_in_sync{kind="Service",name="nginx",namespace="default"} 1.0' in (
        scrape(rt)
    )


def test_time_to_deploy_is_observed_only_when_a_child_changes(tracks, rt):
    key = tracks.create(reference="a144436")
    labels = {"name": key.name, "namespace": "default", "repository": tracks.default_url}

    def count() -> float:
        value = REGISTRY.get_sample_value("faros_gittrack_time_to_deploy_seconds_count", labels)
        return value or 0.0

    def apply_all() -> None:
        for name in ("deployment-nginx", "service-nginx"):
            apply_task.run(rt, namespace="default", name=name)

    tracks.sync(key)
    apply_all()
    assert count() == 2
    apply_all()
    tracks.sync(key)
    apply_all()
    assert count() == 2  # nothing changed: no observation (the original observed each resync)

    tracks.update(key, reference="448b39a")  # only the Deployment changes
    tracks.sync(key)
    apply_all()

    assert count() == 3
    assert (
        REGISTRY.get_sample_value(
            "faros_gittrack_time_to_deploy_seconds_bucket", {**labels, "le": "+Inf"}
        )
        == 3
    )

    tracks.cleanup()
    sync_task.run(rt, namespace=key.namespace, name=key.name)  # gone: its series go too
    assert count() == 0
