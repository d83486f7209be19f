"""The baselines: ``kubectl apply -f <dir>`` of the same manifests, on the same cluster,
client-side (Faros's default strategy) and ``--server-side``."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from bench import manifests, observe
from bench.context import Context
from tests.harness import cluster as cluster_harness

Result = dict[str, float | None]


def measure(ctx: Context, *, server_side: bool = False) -> tuple[Result, dict[str, int] | None]:
    """Create, no-op and update by kubectl (create alone with ``ctx.create_only``): seconds per
    step, and the no-op's writes."""
    label = "kubectl-ss" if server_side else "kubectl"
    namespace = ctx.new_namespace(label)
    folder = ctx.workdir / f"{label}-manifests"
    _write(folder, files=manifests.files(count=ctx.count, namespace=namespace, updated=False))
    create = _apply(ctx, folder=folder, server_side=server_side)
    _verify(ctx, namespace=namespace, updated=False)
    if ctx.create_only:
        return {"create": create}, None
    mark = cluster_harness.audit_lines(ctx.cluster) if ctx.counts_writes else 0
    noop = _apply(ctx, folder=folder, server_side=server_side)
    found = None
    if ctx.counts_writes:
        found = observe.writes(ctx.cluster, mark=mark, namespace=namespace, by=observe.is_kubectl)
    _write(folder, files=manifests.update_files(count=ctx.count, namespace=namespace))
    update = _apply(ctx, folder=folder, server_side=server_side)
    _verify(ctx, namespace=namespace, updated=True)
    writes = None if found is None else sum(found.values())
    return {"create": create, "noop": noop, "noop_writes": writes, "update": update}, found


def _write(folder: Path, *, files: dict[str, str]) -> None:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content)


def _apply(ctx: Context, *, folder: Path, server_side: bool) -> float:
    """Seconds one ``kubectl apply -R -f folder`` takes (it returns once every write is done)."""
    command = ["kubectl", f"--kubeconfig={ctx.cluster.kubeconfig}", "apply", "-R", "-f",
               str(folder), *(["--server-side"] if server_side else [])]  # fmt: skip
    began = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          timeout=ctx.timeout)  # fmt: skip
    elapsed = time.monotonic() - began
    if done.returncode != 0:
        raise observe.BenchError(f"kubectl apply failed: {done.stderr.strip()}")
    return elapsed


def apply_folder(ctx: Context, *, folder: Path, files: dict[str, str], server_side: bool) -> float:
    """Seconds kubectl takes to apply ``files`` (relative path -> content) written to
    ``folder``: the baseline of other benchmarks."""
    _write(folder, files=files)
    return _apply(ctx, folder=folder, server_side=server_side)


def _verify(ctx: Context, *, namespace: str, updated: bool) -> None:
    want = manifests.wanted(count=ctx.count, namespace=namespace, updated=updated)
    left = observe.missing(ctx.kube, namespace=namespace, want=want)
    if left:
        raise observe.BenchError(f"kubectl apply left {left} objects not as wanted")
