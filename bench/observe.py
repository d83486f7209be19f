"""What the bench reads back: children by list calls, and writes from the audit log."""

from __future__ import annotations

import collections
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from bench import manifests
from faros.kube import client
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
