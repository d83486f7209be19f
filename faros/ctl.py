"""``faros status | sync | suspend | resume | diff``: the commands for people (docs/cli.md).

They talk to the API server with the current kubeconfig (``--kubeconfig``, ``KUBECONFIG``,
``~/.kube/config``, in that order), never to Redis. Exit codes: 0 done, 1 failed (the
GitTrack does not exist, ``--wait`` timed out or the sync failed), 2 bad command line;
``faros diff`` as ``kubectl diff``: 0 no changes, 1 changes, 2 errors.
Tables go to stdout, errors to stderr; colour only on a terminal, never with ``--no-color``
or ``NO_COLOR``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import yaml

from faros import diffing
from faros.api import names
from faros.core import manual, overview, suspension, transitions
from faros.kube import client, discovery, reads
from faros.kube import errors as kube_errors

COMMANDS = ("status", "sync", "suspend", "resume", "diff")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Failed(Exception):
    """The command could not do what was asked; ``str()`` says why (exit status 1)."""


class Unusable(Exception):
    """``faros diff`` cannot tell (a file fails to parse, a fetch failed); any error of
    ``faros diff`` exits with status 2, as ``kubectl diff``."""


def parser() -> argparse.ArgumentParser:
    """The command line of the four commands."""
    top = argparse.ArgumentParser(prog="faros", description="Inspect and drive Faros.")
    commands = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    status = commands.add_parser(
        "status", help="GitTracks and ClusterGitTracks, or one GitTrack and its children",
        description="A table of GitTracks and ClusterGitTracks (all namespaces unless -n), or, "
        "given [NAMESPACE/]NAME, that GitTrack and its children.",
    )  # fmt: skip
    status.add_argument(
        "target", nargs="?", metavar="[NAMESPACE/]NAME",
        help="one GitTrack (NAME alone: a ClusterGitTrack, or -n's GitTrack)",
    )  # fmt: skip
    status.add_argument("-o", "--output", choices=("table", "json", "yaml"), default="table")
    sync = commands.add_parser(
        "sync", help="sync a GitTrack now",
        description="Request a sync now (annotation faros.pusher.com/requested-at); with --wait, "
        "wait until it was served and every object is applied.",
    )  # fmt: skip
    sync.add_argument("target", metavar="[NAMESPACE/]NAME")
    sync.add_argument("--wait", action="store_true", help="wait until the sync is applied")
    sync.add_argument("--timeout", type=_seconds, default=300.0, metavar="SECONDS",
                      help="how long --wait waits (default 300)")  # fmt: skip
    changes = commands.add_parser(
        "diff", help="what a sync would change (server-side dry run); exit 1 when something",
        description="Render a local checkout (--path) or a Git reference (--ref, default the "
        "GitTrack's own) as the GitTrack's sync would, dry-run every object on the API server "
        "and print a unified diff of what would be created, changed and deleted (Secret values "
        "masked). Exit status: 0 no changes, 1 changes, 2 errors.",
    )  # fmt: skip
    changes.add_argument("target", metavar="[NAMESPACE/]NAME")
    source = changes.add_mutually_exclusive_group()
    source.add_argument("--path", type=Path, help="a local checkout of the repository")
    source.add_argument("--ref", help="a branch, tag or commit of the GitTrack's repository")
    changes.add_argument("--output", choices=("text", "markdown"), default="text",
                         help="markdown: for a pull request comment")  # fmt: skip
    for verb, text in (("suspend", "stop syncs, applies and drift reverts (spec.suspend)"),
                       ("resume", "resume a suspended GitTrack and sync it at once")):  # fmt: skip
        command = commands.add_parser(verb, help=text, description=text)
        command.add_argument("target", metavar="[NAMESPACE/]NAME")
    for command in commands.choices.values():
        command.add_argument("-n", "--namespace", default="",
                             help="namespace of a GitTrack named without one")  # fmt: skip
        command.add_argument("--kubeconfig", default="", help="kubeconfig file")
        command.add_argument("--no-color", action="store_true", help="no colour, even on a tty")
    return top


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= 86_400:
        raise argparse.ArgumentTypeError(f"{text!r}: expected 0 < SECONDS <= 86400")
    return value


def main(argv: Sequence[str], *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Run one command; return its exit status."""
    try:
        args = parser().parse_args(list(argv))
    except SystemExit as stop:
        return int(stop.code or 0) and EXIT_USAGE
    color = out.isatty() and not args.no_color and not os.environ.get("NO_COLOR")
    try:
        with client.Kube.connect(args.kubeconfig or None) as kube:
            return _run(kube, args, out=out, color=color)
    except (client.ConnectError, Failed, Unusable, kube_errors.ApiError) as error:
        print(f"faros {args.command}: error: {error}", file=err)
        return EXIT_USAGE if args.command == "diff" else EXIT_FAILED


def _run(kube: client.Kube, args: argparse.Namespace, *, out: TextIO, color: bool) -> int:
    if args.command == "status":
        if args.target:
            return _status_one(kube, _key(args), output=args.output, out=out, color=color)
        return _status_all(kube, namespace=args.namespace, output=args.output, out=out,
                           color=color)  # fmt: skip
    key = _key(args)
    if args.command == "diff":
        try:
            return diffing.run(kube, _get(kube, key), path=args.path, reference=args.ref,
                               markdown=args.output == "markdown", out=out)  # fmt: skip
        except diffing.DiffError as error:
            raise Unusable(str(error)) from error
    if args.command in ("suspend", "resume"):
        suspend = args.command == "suspend"
        _get(kube, key)
        kube.request("PATCH", _path(key), body={"spec": {"suspend": suspend}},
                     content_type=client.MERGE_PATCH)  # fmt: skip
        print(f"{_label(key)} {'suspended' if suspend else 'resumed'}", file=out)
        return EXIT_OK
    return _sync(kube, key, wait=args.wait, timeout=args.timeout, out=out)


def _key(args: argparse.Namespace) -> tuple[str, str]:
    """(namespace, name): ``NS/NAME`` a GitTrack, ``NAME`` with -n a GitTrack, else a
    ClusterGitTrack."""
    namespace, slash, name = str(args.target).rpartition("/")
    if not name or (slash and not namespace):
        raise Failed(f"{args.target!r}: expected [NAMESPACE/]NAME")
    return (namespace if slash else args.namespace), name


def _path(key: tuple[str, str]) -> str:
    namespace, name = key
    kind = names.GITTRACK if namespace else names.CLUSTERGITTRACK
    return discovery.own(kind).path(namespace=namespace, name=name)


def _label(key: tuple[str, str]) -> str:
    namespace, name = key
    return f"GitTrack {namespace}/{name}" if namespace else f"ClusterGitTrack {name}"


def _get(kube: client.Kube, key: tuple[str, str]) -> dict[str, Any]:
    try:
        found: dict[str, Any] = kube.request("GET", _path(key))
    except kube_errors.NotFound:
        raise Failed(f"{_label(key)} not found") from None
    return found


def _status_all(kube: client.Kube, *, namespace: str, output: str, out: TextIO, color: bool) -> int:
    tracks = reads.list_own(kube, names.GITTRACK, namespace=namespace)
    if not namespace:
        tracks += reads.list_own(kube, names.CLUSTERGITTRACK)
    if output != "table":
        _dump({"items": tracks}, output, out)
        return EXIT_OK
    if not tracks:
        print("No GitTracks found.", file=out)
        return EXIT_OK
    rows = [overview.track_row(track).cells() for track in tracks]
    out.write(overview.table(overview.TRACK_HEADERS, rows, bold=color))
    return EXIT_OK


def _children(kube: client.Kube, track: dict[str, Any]) -> list[dict[str, Any]]:
    meta = track["metadata"]
    selector = f"{names.OWNER_LABEL}={meta['uid']}"
    kinds = [names.GITTRACKOBJECT] + ([] if meta.get("namespace") else
                                      [names.CLUSTERGITTRACKOBJECT])  # fmt: skip
    found = []
    for kind in kinds:
        found += reads.list_own(kube, kind, namespace=str(meta.get("namespace", "")),
                                label_selector=selector)  # fmt: skip
    return sorted(found, key=lambda gto: str(gto["metadata"]["name"]))


def _status_one(
    kube: client.Kube, key: tuple[str, str], *, output: str, out: TextIO, color: bool
) -> int:
    track = _get(kube, key)
    children = _children(kube, track)
    if output != "table":
        _dump({"gittrack": track, "children": children}, output, out)
        return EXIT_OK
    row = overview.track_row(track)
    spec = track.get("spec") or {}
    lines = [
        f"{_label(key)}",
        f"  Repository:  {spec.get('repository', '')}",
        f"  Reference:   {spec.get('reference', '')}  subPath: {spec.get('subPath') or '/'}",
        f"  Revision:    {row.revision or '-'}",
        f"  Objects:     {row.discovered} discovered, {row.applied} applied, "
        f"{row.in_sync} in sync, {row.ignored} ignored",
        f"  Ready:       {row.ready}   Last sync: {row.last_sync or '-'}",
    ]
    if row.suspended:
        since = transitions.find(track.get("status", {}).get("conditions", []),
                                 suspension.SUSPENDED)  # fmt: skip
        when = since.get("lastTransitionTime", "-") if since else "-"
        lines.append(f"  Suspended:   since {when}")
    for condition in (track.get("status") or {}).get("conditions", []):
        if condition.get("status") == "False" and condition.get("message"):
            lines.append(f"  {condition['type']}: {overview.shorten(condition['message'], 200)}")
    out.write("\n".join(lines) + "\n\n")
    if children:
        rows = [overview.child_cells(gto) for gto in children]
        out.write(overview.table(overview.CHILD_HEADERS, rows, bold=color))
    else:
        out.write("No children.\n")
    return EXIT_OK


def _dump(document: dict[str, Any], output: str, out: TextIO) -> None:
    if output == "json":
        out.write(json.dumps(document, indent=2, sort_keys=True) + "\n")
    else:
        out.write(yaml.safe_dump(document, sort_keys=True))


def _sync(
    kube: client.Kube, key: tuple[str, str], *, wait: bool, timeout: float, out: TextIO
) -> int:
    _get(kube, key)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    request = {"metadata": {"annotations": {manual.REQUESTED_ANNOTATION: stamp}}}
    kube.request("PATCH", _path(key), body=request, content_type=client.MERGE_PATCH)
    print(f"sync of {_label(key)} requested", file=out)
    if not wait:
        return EXIT_OK
    deadline = time.monotonic() + timeout
    shown = ""
    while time.monotonic() < deadline:
        track = _get(kube, key)
        status = track.get("status") or {}
        served = status.get(manual.HANDLED) == stamp
        line = _progress(track, served=served)
        if line != shown:
            print(line, file=out, flush=True)
            shown = line
        if served and suspension.is_suspended(track):
            raise Failed(f"{_label(key)} is suspended: nothing was applied")
        if served and _failing(track):
            raise Failed(f"the sync of {_label(key)} failed: {_failing(track)}")
        if served and _applied(track):
            return EXIT_OK
        time.sleep(0.5)
    raise Failed(f"timed out after {timeout:g}s waiting for the sync of {_label(key)}")


def _progress(track: dict[str, Any], *, served: bool) -> str:
    if not served:
        return "waiting for the sync to start ..."
    row = overview.track_row(track)
    return (f"revision {row.revision[:12] or '-'}: {row.in_sync}/{row.applied} objects in "
            f"sync, Ready {row.ready}")  # fmt: skip


def _failing(track: dict[str, Any]) -> str:
    """The message of a sync condition that is False ("" when none is)."""
    for condition in (track.get("status") or {}).get("conditions", []):
        if condition.get("type") in overview.SYNC_CONDITIONS and condition.get("status") == (
            "False"
        ):
            return overview.shorten(str(condition.get("message") or condition.get("reason")))
    return ""


def _applied(track: dict[str, Any]) -> bool:
    """True when every object the served sync applies is in sync (applied as it is now);
    health is not waited for (``kubectl wait --for=condition=Ready`` does that)."""
    row = overview.track_row(track)
    return row.in_sync >= row.applied
