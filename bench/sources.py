"""Many sources: G GitTracks x 4 ConfigMaps from one repository, a subPath each.

    python -m bench.sources [--gittracks G] [--workers 1,2,4] [--shapes run,distributed]
        [--sync-period 60s] [--idle-periods N] [--pool threads] [--concurrency 8]
        [--events all|summary] [--out FILE]

The shape of Flux's published "mean time to production" benchmark. Columns: ``kubectl
apply -R`` of the same 4G manifests (client-side and ``--server-side``), the physical limit
(raw parallel creates), ``faros run``, and the distributed shape with each number of workers
(each with ``--pool`` and ``--concurrency``). Every Faros column has its own namespace and
repository and runs with ``--sync-period``, so periodic syncs land during the create as they
would in production.

With ``--idle-periods N`` (N > 0), once the distributed shape with the most workers has
converged, it is left alone for N sync periods: the API server's own request counters say
what Faros asked of it (minus a window of the same length measured with Faros stopped), and
the workers' metrics how many git fetches and syncs ran. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import json
import secrets
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import apiserver, baseline, gitops, limit, observe, report, shapes
from bench.context import Context
from faros import config
from faros.api import names
from faros.kube import client
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos
from tests.harness.redis_server import RedisServer

PER = 4
"""ConfigMaps per GitTrack."""
DEFAULT_OUT = gitops.REPO / "bench" / "results" / "sources.json"
ROWS: tuple[report.Row, ...] = (
    ("create", "s", "create G GitTracks until all 4G ConfigMaps exist"),
    ("rate", "objects/s", "ConfigMaps created per second"),
    ("of_limit", "fraction", "create throughput as a fraction of the physical limit"),
    ("of_design_limit", "fraction", "create throughput as a fraction of the design limit"),
    ("create_writes", "writes/object", "API writes per created ConfigMap"),
    ("rss_largest", "MiB", "peak RSS of the largest process (a worker with its pool)"),
    ("rss_total", "MiB", "peak RSS of all the shape's processes together"),
    ("idle_writes", "requests", "idle: writes per sync period"),
    ("idle_lists", "requests", "idle: LISTs per sync period"),
    ("idle_gets", "requests", "idle: GETs per sync period"),
    ("idle_watches", "requests", "idle: WATCHes started per sync period"),
    ("idle_syncs", "requests", "idle: syncs run per sync period"),
    ("idle_fetches", "requests", "idle: git fetches per sync period"),
)


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.sources", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--gittracks", type=int, default=100, help="G (default 100)")
    parser.add_argument("--workers", default="1,2,4", help="distributed columns (default 1,2,4)")
    parser.add_argument("--shapes", default="run,distributed", help="run, distributed or both")
    parser.add_argument("--sync-period", default="60s", help="Faros's --sync-period (60s)")
    parser.add_argument("--pool", default="threads", choices=[p.value for p in config.Pool],
                        help="the workers' --pool (threads, as the chart)")  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=8,
                        help="the workers' --concurrency (8, as the chart)")  # fmt: skip
    shapes.add_events_flag(parser)
    parser.add_argument(
        "--idle-periods", type=int, default=0, help="sync periods of the idle cost (0: none)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON output")
    args = parser.parse_args(argv)
    args.shapes = [s for s in args.shapes.split(",") if s]
    if not args.shapes or set(args.shapes) - set(shapes.SHAPES):
        parser.error(f"--shapes: choose among {','.join(shapes.SHAPES)}")
    try:
        args.workers = sorted({int(w) for w in args.workers.split(",") if w})
    except ValueError:
        parser.error("--workers: a comma-separated list of counts, e.g. 1,2,4")
    if not args.workers or min(args.workers) < 1:
        parser.error("--workers: counts of at least 1")
    if not 1 <= args.concurrency <= 64:
        parser.error("--concurrency: 1 to 64")
    if args.gittracks < 1 or args.idle_periods < 0:
        parser.error("--gittracks must be at least 1, --idle-periods at least 0")
    try:
        args.period = float(config.parse_duration(args.sync_period))
    except ValueError as error:
        parser.error(f"--sync-period: {error}")
    if args.period <= 0:
        parser.error("--sync-period must be greater than 0")
    return args


def manifest(namespace: str, *, track: int, index: int) -> dict[str, Any]:
    """ConfigMap ``index`` of GitTrack ``track``."""
    name = f"cm-{track:04}-{index}"
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": {"track": str(track), "payload": f"value-{name}-" * 8}}  # fmt: skip


def files(namespace: str, *, gittracks: int) -> dict[str, str]:
    """``src-NNNN/cm-I.yaml`` for every GitTrack's ConfigMaps (JSON is YAML)."""
    return {f"src-{track:04}/cm-{index}.yaml": json.dumps(manifest(namespace, track=track,
                                                                   index=index))
            for track in range(gittracks) for index in range(PER)}  # fmt: skip


def _ours(kind: str, obj: Mapping[str, Any]) -> str:
    """ "ours" for a ConfigMap of this benchmark (it has ``data.track``), else ""."""
    return "ours" if (obj.get("data") or {}).get("track") else ""


def watch_ours(kube: client.Kube, namespace: str) -> observe.Live:
    """The bench's watch of the ConfigMaps in ``namespace``: ``.count("ours")`` are ours."""
    return observe.Live(kube, namespace=namespace, kinds=("ConfigMap",), summary=_ours)


def track_all(kube: client.Kube, namespace: str, *, url: str, gittracks: int) -> None:
    """Create the G GitTracks, 8 requests at a time."""
    path = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks"

    def create(track: int) -> None:
        kube.request("POST", path, body={
            "apiVersion": names.API_VERSION, "kind": "GitTrack",
            "metadata": {"name": f"src-{track:04}"},
            "spec": {"repository": url, "reference": "master", "subPath": f"src-{track:04}"},
        })  # fmt: skip

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(gittracks)))


def measure_faros(
    ctx: Context, args: argparse.Namespace, *, shape: str, workers: int,
    broker_url: str | None, idle: dict[str, int] | None,
) -> dict[str, float | None]:  # fmt: skip
    """One Faros column: the create, its writes, memory and (with ``idle``) the idle cost."""
    label = "run" if shape == "run" else f"w{workers}"
    namespace = ctx.new_namespace(label)
    repo = gitrepos.make_repo(ctx.git_root, f"sources-{label}-{secrets.token_hex(3)}",
                              [files(namespace, gittracks=args.gittracks)])  # fmt: skip
    wanted = args.gittracks * PER
    with shapes.started(
        shape=shape, kubeconfig=ctx.cluster.kubeconfig, broker_url=broker_url,
        workdir=ctx.workdir / f"faros-{label}", hook=None, workers=workers,
        sync_period=args.sync_period,
        worker=(f"--pool={args.pool}", f"--concurrency={args.concurrency}"),
        extra=(f"--events={args.events}",),
    ) as running, watch_ours(ctx.kube, namespace) as live:  # fmt: skip
        _warm_up(ctx, label=label, running=running)
        mark = cluster_harness.audit_lines(ctx.cluster) if ctx.counts_writes else 0
        began = time.monotonic()
        track_all(ctx.kube, namespace, url=repo.path.as_uri(), gittracks=args.gittracks)
        observe.wait_for(lambda: live.count("ours") >= wanted, what="the create",
                         timeout=ctx.timeout, alive=running)  # fmt: skip
        create = time.monotonic() - began
        writes = None
        if ctx.counts_writes:
            found = observe.settled(ctx.cluster, mark=mark, namespace=namespace, quiet=5.0,
                                    timeout=ctx.timeout)  # fmt: skip
            writes = sum(found.values()) / wanted
        result: dict[str, float | None] = {"create": create, "rate": wanted / create,
                                           "create_writes": writes}  # fmt: skip
        if idle is not None:
            result.update(_idle(ctx, args, running=running, background=idle))
        memory = running.peak_rss()
    return {**result, **report.memory_rows(memory)}


def _warm_up(ctx: Context, *, label: str, running: shapes.Running) -> None:
    namespace = ctx.new_namespace(f"warmup-{label}")
    repo = gitrepos.make_repo(ctx.git_root, f"warmup-{label}-{secrets.token_hex(3)}",
                              [files(namespace, gittracks=1)])  # fmt: skip
    with watch_ours(ctx.kube, namespace) as live:
        track_all(ctx.kube, namespace, url=repo.path.as_uri(), gittracks=1)
        observe.wait_for(lambda: live.count("ours") >= PER, what="the warm-up",
                         timeout=ctx.timeout, alive=running)  # fmt: skip


def background(ctx: Context, seconds: float) -> dict[str, int]:
    """The API server's requests over ``seconds`` with no Faros running, by verb."""
    before = apiserver.requests(ctx.cluster.kubeconfig)
    time.sleep(seconds)
    after = apiserver.requests(ctx.cluster.kubeconfig)
    return apiserver.by_verb(after - before)


def _idle(
    ctx: Context, args: argparse.Namespace, *, running: shapes.Running,
    background: dict[str, int],
) -> dict[str, float | None]:  # fmt: skip
    """Per sync period over ``--idle-periods`` periods of nothing changing: Faros's requests
    by verb (the window minus ``background``), syncs and git fetches."""
    seconds = args.period * args.idle_periods
    before = apiserver.requests(ctx.cluster.kubeconfig)
    fetches = running.counter("faros_git_fetch_duration_seconds_count")
    syncs = running.counter("faros_task_runs_total", labels='task="sync"')
    time.sleep(seconds)
    after = apiserver.requests(ctx.cluster.kubeconfig)
    verbs = apiserver.by_verb(after - before)
    faros = {verb: verbs.get(verb, 0) - background.get(verb, 0) for verb in verbs}
    periods = args.idle_periods
    print(f"idle over {seconds:.0f}s, by verb: Faros (minus background) {faros}, "
          f"background {background}", file=sys.stderr)  # fmt: skip
    top = (after - before).most_common(15)
    print("idle, the most frequent requests (verb, resource): "
          + ", ".join(f"{verb} {resource or '-'}: {count}" for (verb, resource), count in top),
          file=sys.stderr)  # fmt: skip
    writes = sum(v for verb, v in faros.items() if verb in apiserver.WRITES)
    return {
        "idle_writes": max(0, writes) / periods,
        "idle_lists": max(0, faros.get("LIST", 0)) / periods,
        "idle_gets": max(0, faros.get("GET", 0)) / periods,
        "idle_watches": max(0, faros.get("WATCH", 0)) / periods,
        "idle_syncs": (running.counter("faros_task_runs_total", labels='task="sync"') - syncs)
        / periods,
        "idle_fetches": (running.counter("faros_git_fetch_duration_seconds_count") - fetches)
        / periods,
    }


def run(args: argparse.Namespace, *, workdir: Path) -> dict[str, Any]:
    """Set everything up, measure every column, and return the JSON document."""
    with contextlib.ExitStack() as stack:
        cluster = stack.enter_context(
            gitops.provide_cluster(kubeconfig=None, audit_log=None, workdir=workdir)
        )
        kube = stack.enter_context(client.Kube.connect(cluster.kubeconfig))
        kube.api_client.user_agent = observe.BENCH_AGENT
        broker_url = stack.enter_context(RedisServer(workdir / "redis")).url
        count = args.gittracks * PER
        ctx = Context(cluster=cluster, kube=kube, workdir=workdir, count=count)
        stack.callback(ctx.cleanup)
        results: dict[str, dict[str, float | None]] = {}
        for column, server_side in ((report.BASELINE, False), (report.SERVER_SIDE, True)):
            print(f"{column}: {count} objects ...", file=sys.stderr)
            namespace = ctx.new_namespace(column)
            elapsed = baseline.apply_folder(
                ctx, folder=workdir / column, files=files(namespace, gittracks=args.gittracks),
                server_side=server_side,
            )  # fmt: skip
            results[column] = {"create": elapsed, "rate": count / elapsed}
        physical, design = limit.measure(ctx, lambda namespace: [
            json.loads(text) for text in files(namespace, gittracks=args.gittracks).values()
        ])  # fmt: skip
        for column, elapsed in ((report.LIMIT, physical), (report.DESIGN_LIMIT, design)):
            results[column] = {"create": elapsed, "rate": count / elapsed}
        quiet = None
        if args.idle_periods and "distributed" in args.shapes:
            print("background requests (no Faros) ...", file=sys.stderr)
            quiet = background(ctx, args.period * args.idle_periods)
        columns = [("run", 1)] if "run" in args.shapes else []
        if "distributed" in args.shapes:
            columns += [("distributed", workers) for workers in args.workers]
        for shape, workers in columns:
            name = "faros-run" if shape == "run" else f"faros-distributed-{workers}"
            print(f"{name} ...", file=sys.stderr)
            measured_idle = quiet if workers == max(args.workers) and shape != "run" else None
            with ctx.column():
                results[name] = measure_faros(
                    ctx, args, shape=shape, workers=workers, broker_url=broker_url,
                    idle=measured_idle,
                )  # fmt: skip
        doc = report.document(results=results, writes={}, machine=report.machine(kube),
                              count=count, changed=0, rows=ROWS)  # fmt: skip
        return {**doc, "gittracks": args.gittracks, "sync_period": args.sync_period,
                "pool": args.pool, "concurrency": args.concurrency, "events": args.events,
                "idle_periods": args.idle_periods, "idle_background_by_verb": quiet}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.sources``: measure, print the table, write the JSON."""
    args = parse(argv)
    return gitops.finish(lambda workdir: run(args, workdir=workdir), out=args.out)


if __name__ == "__main__":
    raise SystemExit(main())
