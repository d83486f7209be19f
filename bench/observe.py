"""What the bench reads back: children by list calls or watches, writes from the audit log.

While Faros is measured, the bench follows the children with watches (:class:`Live`) instead of
listing them again and again: a full list of 10,000 objects every 0.1 s loaded the API server
that Faros shares, while the kubectl baseline, timed by its own exit, got no such load.
"""

from __future__ import annotations

import collections
import functools
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from bench import manifests
from faros.kube import client, watch
from tests.harness import cluster as cluster_harness

#: The User-Agent of the bench's own API client, so that its writes are not counted as Faros's.
BENCH_AGENT = "faros-bench"

LIST_PATHS = {
    "ConfigMap": "/api/v1/namespaces/{namespace}/configmaps",
    "Deployment": "/apis/apps/v1/namespaces/{namespace}/deployments",
    "Service": "/api/v1/namespaces/{namespace}/services",
}


class BenchError(RuntimeError):
    """A measured run did not reach the state it waits for, or a process died."""


def live(kube: client.Kube, *, namespace: str) -> dict[manifests.Key, str]:
    """Fingerprints of every child in ``namespace``: one list call per kind."""
    found: dict[manifests.Key, str] = {}
    for kind, path in LIST_PATHS.items():
        answer = kube.request("GET", path.format(namespace=namespace))
        for item in answer.get("items", []):
            found[(kind, item["metadata"]["name"])] = manifests.fingerprint(item, kind=kind)
    return found


def missing(kube: client.Kube, *, namespace: str, want: Mapping[manifests.Key, str]) -> int:
    """How many of ``want`` are not (yet) in ``namespace`` with the wanted data."""
    have = live(kube, namespace=namespace)
    return sum(1 for key, print_ in want.items() if have.get(key) != print_)


Summary = Callable[[str, Mapping[str, Any]], str]
"""What the bench compares of one child: (kind, object) -> a string."""


class Live:
    """The children of one namespace as their watches last reported them: each child's
    summary (default: :func:`manifests.fingerprint`), kept current by one watch per kind.

    Use as a context manager: entering it lists every kind once and starts the watches;
    leaving it stops them.
    """

    def __init__(
        self, kube: client.Kube, *, namespace: str, kinds: tuple[str, ...] = tuple(LIST_PATHS),
        summary: Summary = lambda kind, obj: manifests.fingerprint(obj, kind=kind),
    ) -> None:  # fmt: skip
        self.summary = summary
        self.seen: dict[manifests.Key, str] = {}
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._watchers = [
            watch.Watcher(
                kube,
                LIST_PATHS[kind].format(namespace=namespace),
                on_event=functools.partial(self._on_event, kind),
                stop=self._stop,
                keep=functools.partial(self._keep, kind),
                name=f"bench-{kind}",
            )
            for kind in kinds
        ]
        self._threads = [
            threading.Thread(target=w.run, name=f"bench-watch-{w.name}", daemon=True)
            for w in self._watchers
        ]

    def __enter__(self) -> Live:
        for thread in self._threads:
            thread.start()
        wait_for(lambda: all(w.synced for w in self._watchers), what="the bench's watches",
                 timeout=60.0, alive=self._alive)  # fmt: skip
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=10.0)

    def missing(self, want: Mapping[manifests.Key, str]) -> int:
        """How many of ``want`` are not (yet) seen with the wanted summary."""
        self._alive()
        with self._guard:
            return sum(1 for key, summary in want.items() if self.seen.get(key) != summary)

    def count(self, summary: str) -> int:
        """How many children are seen with ``summary``."""
        self._alive()
        with self._guard:
            return sum(1 for found in self.seen.values() if found == summary)

    def _alive(self) -> None:
        if not all(thread.is_alive() for thread in self._threads):
            raise BenchError("a watch of the bench's observer ended")

    def _keep(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        metadata = obj.get("metadata") or {}
        return {"metadata": {"namespace": metadata.get("namespace", ""),
                             "name": metadata.get("name", "")},
                "summary": self.summary(kind, obj)}  # fmt: skip

    def _on_event(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        if event == watch.SYNCED:
            return
        key = (kind, str((obj.get("metadata") or {}).get("name", "")))
        with self._guard:
            if event == watch.DELETED:
                self.seen.pop(key, None)
            else:  # a list reports what ``_keep`` held; a watch event the whole object
                held = obj.get("summary")
                self.seen[key] = held if isinstance(held, str) else self.summary(kind, obj)


def wait_for(
    check: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    interval: float = 0.1,
    alive: Callable[[], None] = lambda: None,
) -> None:
    """Poll ``check`` until it is true; ``alive`` raises when a process under test died."""
    deadline = time.monotonic() + timeout
    while not check():
        alive()
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def writes(
    cluster: cluster_harness.Cluster, *, mark: int, namespace: str, by: Callable[[str], bool]
) -> dict[str, int]:
    """Writes in ``namespace`` since ``mark`` whose User-Agent ``by`` accepts, per resource."""
    counted: collections.Counter[str] = collections.Counter()
    for entry in cluster_harness.writes_since(cluster, mark):
        ref: dict[str, Any] = entry.get("objectRef") or {}
        if ref.get("namespace") == namespace and by(str(entry.get("userAgent", ""))):
            resource = "/".join(filter(None, [ref.get("resource"), ref.get("subresource")]))
            counted[f"{entry.get('verb')} {resource}"] += 1
    return dict(sorted(counted.items()))


def is_kubectl(agent: str) -> bool:
    """kubectl's requests."""
    return agent.startswith("kubectl")


def is_faros(agent: str) -> bool:
    """Requests of neither kubectl nor the bench itself: Faros's processes."""
    return not agent.startswith(("kubectl", BENCH_AGENT))


def settled(
    cluster: cluster_harness.Cluster, *, mark: int, namespace: str, quiet: float, timeout: float
) -> dict[str, int]:
    """Faros's writes since ``mark``, once none came for ``quiet`` seconds (or at ``timeout``)."""
    deadline = time.monotonic() + timeout
    last = writes(cluster, mark=mark, namespace=namespace, by=is_faros)
    still_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - still_since < quiet:
        time.sleep(0.2)
        now = writes(cluster, mark=mark, namespace=namespace, by=is_faros)
        if now != last:
            last, still_since = now, time.monotonic()
    return last


def percentiles(values: list[float], *, prefix: str) -> dict[str, float | None]:
    """``<prefix>_p50`` and ``<prefix>_p99`` of ``values`` (None when there are none; with
    few values the p99 is the worst)."""
    if not values:
        return {f"{prefix}_p50": None, f"{prefix}_p99": None}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {f"{prefix}_p50": statistics.median(ordered), f"{prefix}_p99": p99}
