"""The baseline: ``kubectl apply -f <dir>`` of the same manifests, on the same cluster."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench import manifests, observe
from bench.context import Context
from tests.harness import cluster as cluster_harness

Result = dict[str, float | None]


def measure(ctx: Context) -> tuple[Result, dict[str, int] | None]:
    """Create, no-op and update by kubectl: seconds per step, and the no-op's writes."""
    namespace = ctx.new_namespace("kubectl")
    folder = ctx.workdir / "kubectl-manifests"
    _write(folder, files=manifests.files(count=ctx.count, namespace=namespace, updated=False))
    create = _apply(ctx, folder=folder)
    _verify(ctx, namespace=namespace, updated=False)
    mark = cluster_harness.audit_lines(ctx.cluster) if ctx.counts_writes else 0
    noop = _apply(ctx, folder=folder)
    found = None
    if ctx.counts_writes:
        found = observe.writes(ctx.cluster, mark=mark, namespace=namespace, by=observe.is_kubectl)
    _write(folder, files=manifests.update_files(count=ctx.count, namespace=namespace))
    update = _apply(ctx, folder=folder)
    _verify(ctx, namespace=namespace, updated=True)
    writes = None if found is None else sum(found.values())
    result = {"create": create, "noop": noop, "noop_writes": writes, "update": update}
    return {**result, "drift": None}, found


def _write(folder: Path, *, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_text(content)


def _apply(ctx: Context, *, folder: Path) -> float:
    """Seconds one ``kubectl apply -f folder`` takes (it returns once every write is done)."""
    command = ["kubectl", f"--kubeconfig={ctx.cluster.kubeconfig}", "apply", "-f", str(folder)]
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          timeout=ctx.timeout)  # fmt: skip
    elapsed = time.monotonic() - began
    if done.returncode != 0:
        raise observe.BenchError(f"kubectl apply failed: {done.stderr.strip()}")
    return elapsed


def _verify(ctx: Context, *, namespace: str, updated: bool) -> None:
    want = manifests.wanted(count=ctx.count, namespace=namespace, updated=updated)
    left = observe.missing(ctx.kube, namespace=namespace, want=want)
    if left:
        raise observe.BenchError(f"kubectl apply left {left} objects not as wanted")
