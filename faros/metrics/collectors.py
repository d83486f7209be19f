"""Metrics computed when scraped: status gauges, queue depth, and the stale-series filter.

Each reads shared state (the API server, Redis) through a function the wiring passes in,
so the series of a deleted object vanish with it and N processes never disagree. Nothing
here writes anywhere.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from faros import metrics
from faros.api import names
from faros.core import brokerkeys, identity, samples

logger = logging.getLogger(__name__)

CHILD_STATUS = "faros_gittrack_child_status"
IN_SYNC = "faros_gittrackobject_in_sync"
READY = "faros_gittrack_ready"
PAUSED = "faros_paused_objects"
QUEUE_DEPTH = "faros_queue_depth"
NAMES = (CHILD_STATUS, IN_SYNC, READY, QUEUE_DEPTH, PAUSED)
"""The metrics only collectors produce (the others are in ``faros.metrics``)."""

PER_GITTRACK = (metrics.TIME_TO_DEPLOY_NAME,)
"""Recorded metrics labelled with a GitTrack's name and namespace (hidden once it is gone)."""

Lister = Callable[[str], list[dict[str, Any]]]
"""Returns every object of one Faros kind in scope (raises nothing: logs and returns [])."""


class Collector(Protocol):
    """What ``prometheus_client`` calls on scrape."""

    def collect(self) -> Iterable[Metric]: ...


class StatusCollector:
    """Gauges read from the API server at scrape time (register once per serving process)."""

    def __init__(self, lister: Lister) -> None:
        self.lister = lister

    def collect(self) -> Iterator[Metric]:
        """Yield ``faros_gittrack_child_status``, ``faros_gittrack_ready`` and
        ``faros_gittrackobject_in_sync``."""
        status = GaugeMetricFamily(
            CHILD_STATUS, "Number of children of a GitTrack by status",
            labels=["name", "namespace", "status"],
        )  # fmt: skip
        in_sync = GaugeMetricFamily(
            IN_SYNC, "Whether a GitTrackObject's child is in sync (1) or not (0)",
            labels=["kind", "name", "namespace"],
        )  # fmt: skip
        ready = GaugeMetricFamily(
            READY, "Whether a GitTrack is Ready (1): applied and every child healthy",
            labels=["name", "namespace"],
        )  # fmt: skip
        gittracks = self.lister(names.GITTRACK) + self.lister(names.CLUSTERGITTRACK)
        for labels, value in samples.child_status(gittracks):
            status.add_metric([labels["name"], labels["namespace"], labels["status"]], value)
        for labels, value in samples.ready(gittracks):
            ready.add_metric([labels["name"], labels["namespace"]], value)
        gtos = self.lister(names.GITTRACKOBJECT) + self.lister(names.CLUSTERGITTRACKOBJECT)
        for labels, value in samples.in_sync(gtos):
            in_sync.add_metric([labels["kind"], labels["name"], labels["namespace"]], value)
        yield status
        yield ready
        yield in_sync


class PausedCollector:
    """``faros_paused_objects``: managed objects whose reverts are paused (break-glass)."""

    def __init__(self, count: Callable[[], int]) -> None:
        self.count = count

    def collect(self) -> Iterator[Metric]:
        paused = GaugeMetricFamily(
            PAUSED, "Managed objects whose reverts are paused now by faros.pusher.com/pause-until"
        )
        paused.add_metric([], self.count())
        yield paused


class QueueDepthCollector:
    """``faros_queue_depth{queue}``: messages waiting in each task queue, read when scraped."""

    def __init__(self, read: Callable[[], Mapping[str, int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        """Yield one sample per queue ``read`` knows (none when it cannot tell)."""
        depth = GaugeMetricFamily(
            QUEUE_DEPTH, "Tasks waiting in a queue, not yet taken by a worker", labels=["queue"]
        )
        for queue, value in sorted(self.read().items()):
            depth.add_metric([queue], float(value))
        yield depth


def redis_depths(
    client: redis.Redis, queues: Sequence[str], *, options: Mapping[str, Any]
) -> Callable[[], dict[str, int]]:
    """Read the depth of ``queues`` from the broker: LLEN of every priority list of each
    (``options`` are the app's ``broker_transport_options``); {} when Redis is unreachable."""

    def read() -> dict[str, int]:
        keyed = {queue: brokerkeys.for_options(queue, options) for queue in queues}
        try:
            with client.pipeline(transaction=False) as pipe:
                for keys in keyed.values():
                    for key in keys:
                        pipe.llen(key)
                lengths = iter(pipe.execute())
        except redis.RedisError as error:
            logger.warning("cannot read queue depth", extra={"error": str(error)})
            return {}
        return {queue: sum(int(next(lengths)) for _ in keys) for queue, keys in keyed.items()}

    return read


class LiveGitTracks:
    """The GitTracks that exist now, read at most once per ``ttl`` seconds by ``read``
    (``listed`` or ``scheduled``), which returns their (namespace, name), or None when it
    cannot tell."""

    def __init__(
        self, read: Callable[[], frozenset[samples.GitTrackId] | None], *, ttl: float = 5.0
    ) -> None:
        self.read = read
        self.ttl = ttl
        self._guard = threading.Lock()
        self._at = -ttl
        self._live: frozenset[samples.GitTrackId] | None = None

    def get(self) -> frozenset[samples.GitTrackId] | None:
        """The (namespace, name) of every GitTrack; None when they were never read."""
        with self._guard:
            now = time.monotonic()
            if now - self._at >= self.ttl:
                try:
                    found = self.read()
                except Exception:  # keep the last answer: a failed read must not empty /metrics
                    logger.warning("cannot read which gittracks exist for metrics", exc_info=True)
                else:
                    self._live = found
                    self._at = now
            return self._live


def listed(lister: Lister) -> Callable[[], frozenset[samples.GitTrackId]]:
    """Which GitTracks exist, from ``lister`` (the watch caches of ``faros run``)."""
    return lambda: samples.gittrack_ids(lister(names.GITTRACK) + lister(names.CLUSTERGITTRACK))


def scheduled(
    client: redis.Redis, *, schedule_key: str, key_prefix: str
) -> frozenset[samples.GitTrackId]:
    """Which GitTracks exist, as the sync schedule in Redis says (one entry per GitTrack the
    watchers manage, removed when it goes): one read of a sorted set, no request to the API
    server. A worker serves the per-GitTrack series of the GitTracks scheduled."""
    found: set[samples.GitTrackId] = set()
    for raw in client.zrange(schedule_key, 0, -1):
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        if not name.startswith(key_prefix):
            continue  # another schedule's entry sharing the sorted set
        key = identity.scheduled_gittrack(name[len(key_prefix) :])
        if key is not None:
            found.add((key.namespace, key.name))
    return frozenset(found)


class LiveOnly:
    """Wraps a collector and drops the per-GitTrack series of GitTracks that are gone.

    Series of recorded metrics live on in every process (and in every multiprocess file)
    that observed them; this filter hides them at exposition, which works across processes.
    """

    def __init__(self, inner: Collector, live: LiveGitTracks) -> None:
        self.inner = inner
        self.live = live

    def collect(self) -> Iterator[Metric]:
        """Yield ``inner``'s metrics without the samples of deleted GitTracks."""
        live = self.live.get()
        for metric in self.inner.collect():
            if metric.name in PER_GITTRACK:
                metric.samples = [
                    sample
                    for sample in metric.samples
                    if samples.is_live_series(sample.labels, live=live)
                ]
            yield metric
