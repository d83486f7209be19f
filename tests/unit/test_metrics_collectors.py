"""Scrape-time collectors: stale per-GitTrack series hidden, queue depth, beat health."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from faros import metrics
from faros.beat import scheduler
from faros.metrics import collectors


def recorded() -> CollectorRegistry:
    registry = CollectorRegistry()
    deploy = Histogram(metrics.TIME_TO_DEPLOY_NAME, "t", ["name", "namespace", "repository"],
                       registry=registry)  # fmt: skip
    deploy.labels(name="kept", namespace="ns", repository="r").observe(1)
    deploy.labels(name="gone", namespace="ns", repository="r").observe(1)
    deploy.labels(name="cluster", namespace="", repository="r").observe(1)
    Counter("faros_task_runs_total", "t", ["task", "result"], registry=registry).labels(
        task="sync", result="done"
    ).inc()
    return registry


def exposed(inner: CollectorRegistry, read) -> str:
    registry = CollectorRegistry()
    registry.register(collectors.LiveOnly(inner, collectors.LiveGitTracks(read, ttl=60)))
    return generate_latest(registry).decode()


def listing(items: dict[str, list[dict[str, Any]]]):
    calls: list[str] = []

    def lister(kind: str) -> list[dict[str, Any]]:
        calls.append(kind)
        return items.get(kind, [])

    return lister, calls


def test_series_of_deleted_gittracks_are_hidden_and_others_kept():
    lister, _ = listing({
        "GitTrack": [{"metadata": {"name": "kept", "namespace": "ns"}}],
        "ClusterGitTrack": [{"metadata": {"name": "cluster"}}],
    })  # fmt: skip

    text = exposed(recorded(), collectors.listed(lister))

    assert 'name="kept"' in text
    assert 'name="cluster"' in text
    assert 'name="gone"' not in text
    assert 'faros_task_runs_total{result="done",task="sync"} 1.0' in text


def test_gittracks_are_read_once_per_ttl():
    lister, calls = listing({})
    live = collectors.LiveGitTracks(collectors.listed(lister), ttl=60)

    live.get()
    live.get()

    assert calls == ["GitTrack", "ClusterGitTrack"]


def test_a_failed_read_keeps_every_series():
    def broken() -> frozenset[tuple[str, str]]:
        raise RuntimeError("redis down")

    text = exposed(recorded(), broken)

    assert 'name="gone"' in text
    assert 'name="kept"' in text


def test_unknown_gittracks_keep_every_series():
    text = exposed(recorded(), lambda: None)  # e.g. nothing scheduled yet

    assert 'name="gone"' in text
    assert 'name="kept"' in text


def test_queue_depth_has_one_sample_per_queue():
    registry = CollectorRegistry()
    registry.register(collectors.QueueDepthCollector(lambda: {"sync": 2, "apply": 0}))

    text = generate_latest(registry).decode()

    assert 'faros_queue_depth{queue="sync"} 2.0' in text
    assert 'faros_queue_depth{queue="apply"} 0.0' in text


def test_queue_depth_without_an_answer_has_no_samples():
    registry = CollectorRegistry()
    registry.register(collectors.QueueDepthCollector(dict))

    assert "faros_queue_depth{" not in generate_latest(registry).decode()


def test_beat_is_healthy_while_it_ticks():
    assert scheduler.is_healthy(last_tick=100.0, now=110.0, broker_ok=False)
    assert not scheduler.is_healthy(last_tick=100.0, now=100.0 + scheduler.TICK_GRACE,
                                    broker_ok=True)  # fmt: skip


def test_a_beat_that_never_ticked_is_healthy_while_it_reaches_the_broker():
    assert scheduler.is_healthy(last_tick=None, now=1000.0, broker_ok=True)
    assert not scheduler.is_healthy(last_tick=None, now=1000.0, broker_ok=False)
