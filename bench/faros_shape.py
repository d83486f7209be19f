"""Faros in one shape: create, no-op resync, update, drifts and pushes, on its own namespace and
repo; writes per object and the processes' peak memory."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from bench import manifests, observe, report, shapes, webhooks
from bench.context import Context
from faros.api import names
from faros.kube import client
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos, processes

Result = dict[str, float | None]
Alive = shapes.Running
#: No write for this long after a resync: the resync (and any apply it queued) is over.
QUIET = 2.0


def gittracks(namespace: str) -> str:
    """The collection path of GitTracks in ``namespace``."""
    return f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"


DRIFTS = 20
"""Drift reverts timed per shape (fewer for a repository of fewer ConfigMaps)."""


def measure(
    ctx: Context, *, shape: str, broker_url: str | None
) -> tuple[Result, dict[str, int] | None]:
    """Every Faros scenario under ``shape``: seconds per step, writes per object, memory.
    Its namespace (and warm-up namespace) are gone when it returns."""
    with ctx.column():
        return _measure(ctx, shape=shape, broker_url=broker_url,
                        namespace=ctx.new_namespace(shape))  # fmt: skip


def _measure(
    ctx: Context, *, shape: str, broker_url: str | None, namespace: str
) -> tuple[Result, dict[str, int] | None]:
    files = manifests.files(count=ctx.count, namespace=namespace, updated=False)
    repo = gitrepos.make_repo(ctx.git_root, f"{shape}-{secrets.token_hex(3)}", [files])
    workdir = ctx.workdir / f"faros-{shape}"
    hook = shapes.Hook(port=processes.free_port(), secret=_hook_secret(ctx.kube, namespace))
    with shapes.started(
        shape=shape, kubeconfig=ctx.cluster.kubeconfig, broker_url=broker_url, workdir=workdir,
        hook=hook, extra=ctx.faros_flags,
    ) as alive, observe.Live(ctx.kube, namespace=namespace) as live:  # fmt: skip
        _warm_up(ctx, shape=shape, alive=alive)
        create, created = _counted(
            ctx, namespace,
            lambda: _create(ctx, namespace=namespace, repo=repo, alive=alive, live=live),
        )  # fmt: skip
        if ctx.create_only:
            return {"create": create, "create_writes": _per(created, ctx.count),
                    **report.memory_rows(alive.peak_rss())}, None  # fmt: skip
        noop, found = _noop(ctx, namespace=namespace, sha=repo.commits[0], alive=alive)
        update, updated = _counted(
            ctx, namespace,
            lambda: _update(ctx, namespace=namespace, repo=repo, alive=alive, live=live),
        )  # fmt: skip
        drifts = _drifts(ctx, namespace=namespace, alive=alive)
        pushes = webhooks.latencies(ctx, namespace=namespace, repo=repo, port=hook.port,
                                    secret=HOOK_SECRET, alive=alive)  # fmt: skip
        memory = alive.peak_rss()
    changed = len(manifests.changed(ctx.count))
    result: Result = {
        "create": create, "create_writes": _per(created, ctx.count),
        "noop": noop, "noop_writes": None if found is None else sum(found.values()),
        "update": update, "update_writes": _per(updated, changed),
        **observe.percentiles(drifts, prefix="drift"),
        **observe.percentiles(pushes, prefix="push"),
        **report.memory_rows(memory),
    }  # fmt: skip
    return result, found


def _counted(ctx: Context, namespace: str, step: Callable[[], float]) -> tuple[float, int | None]:
    """Run ``step``; its seconds, and Faros's writes in ``namespace`` until they settled."""
    mark = cluster_harness.audit_lines(ctx.cluster) if ctx.counts_writes else 0
    elapsed = step()
    if not ctx.counts_writes:
        return elapsed, None
    found = observe.settled(
        ctx.cluster, mark=mark, namespace=namespace, quiet=QUIET, timeout=ctx.timeout
    )
    return elapsed, sum(found.values())


def _per(writes: int | None, objects: int) -> float | None:
    return None if writes is None or not objects else writes / objects


HOOK_SECRET = secrets.token_hex(16)


def _hook_secret(kube: client.Kube, namespace: str) -> str:
    """The receiver's shared secret for the generic endpoint, as a Secret; NAMESPACE/NAME."""
    kube.request("POST", f"/api/v1/namespaces/{namespace}/secrets",
                 body={"metadata": {"name": "faros-hooks"},
                       "stringData": {"generic": HOOK_SECRET}})  # fmt: skip
    return f"{namespace}/faros-hooks"


def _track(kube: client.Kube, *, namespace: str, repo: gitrepos.Repo) -> None:
    kube.request("POST", gittracks(namespace), body={
        "apiVersion": names.API_VERSION, "kind": "GitTrack", "metadata": {"name": "bench"},
        "spec": {"repository": repo.path.as_uri(), "reference": repo.branch},
    })  # fmt: skip


def _warm_up(ctx: Context, *, shape: str, alive: Alive) -> None:
    """One GitTrack of one object, untimed: every process is up and watching afterwards."""
    namespace = ctx.new_namespace(f"warmup-{shape}")
    files = manifests.files(count=1, namespace=namespace, updated=False)
    repo = gitrepos.make_repo(ctx.git_root, f"warmup-{shape}-{secrets.token_hex(3)}", [files])
    want = manifests.wanted(count=1, namespace=namespace, updated=False)
    with observe.Live(ctx.kube, namespace=namespace) as live:
        _track(ctx.kube, namespace=namespace, repo=repo)
        _until_applied(ctx, live=live, want=want, alive=alive, what="the warm-up")


def _create(
    ctx: Context, *, namespace: str, repo: gitrepos.Repo, alive: Alive, live: observe.Live
) -> float:
    """Seconds from the GitTrack's creation until all N children hold their data."""
    want = manifests.wanted(count=ctx.count, namespace=namespace, updated=False)
    began = time.monotonic()
    _track(ctx.kube, namespace=namespace, repo=repo)
    _until_applied(ctx, live=live, want=want, alive=alive, what="the create")
    return time.monotonic() - began


def _noop(
    ctx: Context, *, namespace: str, sha: str, alive: Alive
) -> tuple[float, dict[str, int] | None]:
    """A full resync of the same commit (``spec.reference`` -> its SHA): seconds and writes."""
    mark = cluster_harness.audit_lines(ctx.cluster) if ctx.counts_writes else 0
    began = time.monotonic()
    generation = _set_reference(ctx.kube, namespace=namespace, reference=sha)
    observe.wait_for(
        lambda: _observed(ctx.kube, namespace=namespace) >= generation,
        what="the no-op resync", timeout=ctx.timeout, alive=alive,
    )  # fmt: skip
    elapsed = time.monotonic() - began
    if not ctx.counts_writes:
        return elapsed, None
    found = observe.settled(
        ctx.cluster, mark=mark, namespace=namespace, quiet=QUIET, timeout=ctx.timeout
    )
    return elapsed, found


def _update(
    ctx: Context, *, namespace: str, repo: gitrepos.Repo, alive: Alive, live: observe.Live
) -> float:
    """Seconds from pointing the GitTrack at a commit changing 10 % until those children hold it."""
    sha = repo.commit(manifests.update_files(count=ctx.count, namespace=namespace))
    want = manifests.wanted(
        count=ctx.count, namespace=namespace, updated=True, indices=manifests.changed(ctx.count)
    )
    began = time.monotonic()
    _set_reference(ctx.kube, namespace=namespace, reference=sha)
    _until_applied(ctx, live=live, want=want, alive=alive, what="the update")
    return time.monotonic() - began


def _drifts(ctx: Context, *, namespace: str, alive: Alive) -> list[float]:
    """Seconds from a hand edit of a ConfigMap until Faros put its data back, one at a time."""
    configmaps = [i for i in range(ctx.count) if manifests.kind_of(i) == "ConfigMap"]
    return [_drift(ctx, namespace=namespace, index=i, alive=alive) for i in configmaps[:DRIFTS]]


def _drift(ctx: Context, *, namespace: str, index: int, alive: Alive) -> float:
    """Seconds from a hand edit of ConfigMap ``index`` until Faros has put its data back."""
    name = manifests.name_of(index)
    path = f"/api/v1/namespaces/{namespace}/configmaps/{name}"
    want = manifests.wanted(count=ctx.count, namespace=namespace, updated=True, indices=[index])
    began = time.monotonic()
    ctx.kube.request("PATCH", path, body={"data": {"version": "drifted"}},
                     content_type=client.MERGE_PATCH)  # fmt: skip

    def reverted() -> bool:
        found = ctx.kube.request("GET", path)
        return manifests.fingerprint(found, kind="ConfigMap") == want[("ConfigMap", name)]

    observe.wait_for(reverted, what="the drift revert", timeout=ctx.timeout, interval=0.05,
                     alive=alive)  # fmt: skip
    return time.monotonic() - began


def _until_applied(
    ctx: Context, *, live: observe.Live, want: dict[manifests.Key, str], alive: Alive, what: str
) -> None:
    observe.wait_for(lambda: live.missing(want) == 0, what=what, timeout=ctx.timeout,
                     alive=alive)  # fmt: skip


def _set_reference(kube: client.Kube, *, namespace: str, reference: str) -> int:
    """Point the GitTrack at ``reference``; return its new generation."""
    answer: dict[str, Any] = kube.request(
        "PATCH", f"{gittracks(namespace)}/bench", body={"spec": {"reference": reference}},
        content_type=client.MERGE_PATCH,
    )  # fmt: skip
    return int(answer["metadata"]["generation"])


def _observed(kube: client.Kube, *, namespace: str) -> int:
    status = kube.request("GET", f"{gittracks(namespace)}/bench").get("status") or {}
    return int(status.get("observedGeneration") or 0)
