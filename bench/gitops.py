"""GitOps benchmark: Faros (per shape) against ``kubectl apply -f <dir>`` of the same manifests.

    python -m bench.gitops [--objects N] [--out FILE] [--kubeconfig PATH] [--shapes run,distributed]
        [--events all|summary] [--create-only]

Without ``--kubeconfig`` it starts its own control plane (and counts writes from its audit
log); the distributed shape always gets the bench's own redis-server. Prints a table and writes
JSON (default ``bench/results/latest.json``). See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from bench import baseline, faros_shape, limit, manifests, observe, report, shapes
from bench.context import Context
from faros.kube import client
from faros.testing import controlplane
from tests.harness import cluster as cluster_harness
from tests.harness.redis_server import RedisServer

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "bench" / "results" / "latest.json"
CRD_DIR = REPO / "helm" / "faros" / "crds"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.gitops", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--objects", type=int, default=200, help="objects in the repository (default 200)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help="JSON output (default bench/results/latest.json)",
    )
    parser.add_argument(
        "--kubeconfig", type=Path, help="use this cluster (CRDs installed) instead of starting one"
    )
    parser.add_argument(
        "--audit-log",
        type=Path,
        help="with --kubeconfig: its API server's audit log, to count writes",
    )
    parser.add_argument(
        "--shapes", default=",".join(shapes.SHAPES), help="comma-separated: run,distributed"
    )
    shapes.add_events_flag(parser)
    parser.add_argument(
        "--create-only", action="store_true",
        help="the cold create and memory only (kubectl's too): no no-op, update, drift, push",
    )  # fmt: skip
    args = parser.parse_args(argv)
    chosen = [s for s in args.shapes.split(",") if s]
    if not chosen or set(chosen) - set(shapes.SHAPES):
        parser.error(f"--shapes: choose among {','.join(shapes.SHAPES)}")
    if args.objects < 1:
        parser.error("--objects must be at least 1")
    if args.audit_log and not args.kubeconfig:
        parser.error("--audit-log goes with --kubeconfig (a started control plane has its own)")
    args.shapes = chosen
    return args


@contextlib.contextmanager
def provide_cluster(
    *, kubeconfig: Path | None, audit_log: Path | None, workdir: Path
) -> Iterator[cluster_harness.Cluster]:
    """The given cluster, or a control plane of our own in ``workdir``."""
    if kubeconfig is not None:
        yield cluster_harness.Cluster(kubeconfig=kubeconfig, audit_log=audit_log)
        return
    print("starting a control plane ...", file=sys.stderr)
    with controlplane.ControlPlane(workdir / "controlplane", crd_paths=[CRD_DIR]) as plane:
        yield cluster_harness.Cluster(kubeconfig=plane.kubeconfig, audit_log=plane.audit_log)


def measure_all(
    ctx: Context, *, chosen: Sequence[str], broker_url: str | None
) -> tuple[dict[str, dict[str, float | None]], dict[str, dict[str, int] | None]]:
    """The kubectl baseline, then each Faros shape: values and no-op writes per column."""
    results: dict[str, dict[str, float | None]] = {}
    writes: dict[str, dict[str, int] | None] = {}
    print(f"kubectl apply of {ctx.count} objects ...", file=sys.stderr)
    results[report.BASELINE], writes[report.BASELINE] = baseline.measure(ctx)
    print(f"kubectl apply --server-side of {ctx.count} objects ...", file=sys.stderr)
    results[report.SERVER_SIDE], writes[report.SERVER_SIDE] = baseline.measure(
        ctx, server_side=True
    )
    physical, design = limit.measure(
        ctx, lambda namespace: manifests.bodies(count=ctx.count, namespace=namespace)
    )
    results[report.LIMIT], writes[report.LIMIT] = {"create": physical}, None
    results[report.DESIGN_LIMIT], writes[report.DESIGN_LIMIT] = {"create": design}, None
    for shape in chosen:
        print(f"faros {shape} ...", file=sys.stderr)
        column = f"faros-{shape}"
        results[column], writes[column] = faros_shape.measure(
            ctx, shape=shape, broker_url=broker_url
        )
    return results, writes


def run(args: argparse.Namespace, *, workdir: Path) -> dict[str, Any]:
    """Set everything up, measure, and return the JSON document; clean up on the way out."""
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(
            provide_cluster(kubeconfig=args.kubeconfig, audit_log=args.audit_log, workdir=workdir)
        )
        kube = stack.enter_context(client.Kube.connect(cluster.kubeconfig))
        kube.api_client.user_agent = observe.BENCH_AGENT
        broker_url = None
        if "distributed" in args.shapes:
            broker_url = stack.enter_context(RedisServer(workdir / "redis")).url
        ctx = Context(cluster=cluster, kube=kube, workdir=workdir, count=args.objects,
                      faros_flags=(f"--events={args.events}",),
                      create_only=args.create_only)  # fmt: skip
        stack.callback(ctx.cleanup)
        results, writes = measure_all(ctx, chosen=args.shapes, broker_url=broker_url)
        doc = report.document(
            results=results, writes=writes, machine=report.machine(kube),
            count=args.objects, changed=len(manifests.changed(args.objects)),
        )  # fmt: skip
        return {**doc, "events": args.events, "create_only": args.create_only}


def _terminated(signum: int, _frame: object) -> NoReturn:
    raise SystemExit(128 + signum)  # unwinds the ExitStack: processes and folders go too


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.gitops``: measure, print the table, write the JSON."""
    args = parse(argv)
    return finish(lambda workdir: run(args, workdir=workdir), out=args.out)


def finish(measure: Callable[[Path], dict[str, Any]], *, out: Path) -> int:
    """Run ``measure`` in a temporary folder (gone afterwards, also on an error or SIGTERM);
    print its table and write its JSON to ``out``. The exit code of a benchmark command."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with tempfile.TemporaryDirectory(prefix="faros-bench-") as tmp:
            doc = measure(Path(tmp))
    except observe.BenchError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(report.table(doc))
    print(f"\nwritten: {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
