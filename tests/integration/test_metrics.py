"""The status gauges are read from the cluster at scrape time; deleted objects vanish."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from faros import metrics
from faros.tasks import apply as apply_task


def scrape(rt) -> str:
    registry = CollectorRegistry()
    registry.register(metrics.StatusCollector(rt.list_faros))
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
