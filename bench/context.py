"""What every measured run shares: the cluster, an API client, a work folder, N."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from faros.api import names
from faros.kube import client, errors
from tests.harness import cluster as cluster_harness

RETIRED = (
    "/api/v1/namespaces/{namespace}/configmaps",
    "/apis/apps/v1/namespaces/{namespace}/deployments",
    f"/apis/{names.API_VERSION}/namespaces/{{namespace}}/gittrackobjects",
    f"/apis/{names.API_VERSION}/namespaces/{{namespace}}/gittracks",
)
"""What a retired namespace's collections are emptied of, children before their owners
(Services have no collection delete: the namespace takes them)."""


@dataclasses.dataclass
class Context:
    """The cluster under test and the bench's own resources on it."""

    cluster: cluster_harness.Cluster
    kube: client.Kube
    workdir: Path
    count: int
    faros_flags: tuple[str, ...] = ()
    """Flags every Faros process of the run gets besides the shape's own (e.g. ``--events``)."""
    create_only: bool = False
    """Measure the cold create (and memory) only: no no-op, update, drift or push steps."""
    namespaces: list[str] = dataclasses.field(default_factory=list)

    @property
    def counts_writes(self) -> bool:
        """True when the API server's audit log is readable (no-op writes are counted)."""
        return self.cluster.audit_log is not None

    @property
    def timeout(self) -> float:
        """How long one measured step may take before the bench gives up."""
        return 120.0 + 2.0 * self.count

    @property
    def git_root(self) -> Path:
        """Where the bench's bare repositories live (served as file:// URLs)."""
        return self.workdir / "git"

    def new_namespace(self, label: str) -> str:
        """Create a fresh namespace ``bench-<label>-<hex>``, deleted by :meth:`cleanup`."""
        name = f"bench-{label}-{secrets.token_hex(3)}"
        self.kube.request("POST", "/api/v1/namespaces", body={"metadata": {"name": name}})
        self.namespaces.append(name)
        return name

    @contextlib.contextmanager
    def column(self) -> Iterator[None]:
        """Measure one Faros column: the namespaces it creates are deleted, and waited for,
        when it ends, so the next column's watchers neither sync nor hold its objects."""
        first = len(self.namespaces)
        try:
            yield
        finally:
            for name in list(self.namespaces[first:]):
                self.retire(name)

    def retire(self, name: str) -> None:
        """Delete the namespace ``name`` and wait until it is gone, and the garbage collector
        with it: a Faros column's GitTracks and objects must not stay for the next column's
        watchers to sync and hold, nor its collection load the API server the next one uses.

        Children go first, then their owners (the column's Faros processes have stopped): an
        owner deleted while its dependents exist queues each of them in the collector, which
        looks them up at its client's rate limit long after the namespace is gone."""
        for collection in RETIRED:
            with contextlib.suppress(errors.ApiError):  # a kind without deletecollection
                self.kube.request("DELETE", collection.format(namespace=name), timeout=300)
        with contextlib.suppress(errors.NotFound):
            self.kube.request("DELETE", f"/api/v1/namespaces/{name}")
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                self.kube.request("GET", f"/api/v1/namespaces/{name}")
            except errors.NotFound:
                if name in self.namespaces:
                    self.namespaces.remove(name)
                cluster_harness.wait_collector_caught_up(self.kube, timeout=self.timeout)
                return
            time.sleep(1.0)
        raise TimeoutError(f"namespace {name} still exists after {self.timeout:.0f}s")

    def cleanup(self) -> None:
        """Delete every namespace the bench created (without waiting for them to go)."""
        for name in self.namespaces:
            with contextlib.suppress(errors.ApiError):
                self.kube.request("DELETE", f"/api/v1/namespaces/{name}")
        self.namespaces.clear()
