"""``faros dev``: try Faros without a cluster (docs/cli.md, "faros dev").

Starts the local control plane of ``faros.testing`` on loopback (etcd, kube-apiserver and the
controller-manager's garbage collector; built and cached on first use), installs the CRDs,
commits the example application (``examples/app``) into a local Git repository, creates a
ClusterGitTrack following it, and runs ``faros run`` against it. It prints what to try next,
and on Ctrl-C (or SIGTERM) stops everything it started, by PID, and says where the state was.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from faros.api import names
from faros.kube import client
from faros.kube import errors as kube_errors
from faros.testing import binaries, controlplane, crds

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "app"
GITTRACK = "example"
BRANCH = "main"
_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "faros dev", "GIT_AUTHOR_EMAIL": "dev@faros.invalid",
    "GIT_COMMITTER_NAME": "faros dev", "GIT_COMMITTER_EMAIL": "dev@faros.invalid",
}  # fmt: skip


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="faros dev",
        description="Run Faros on a local control plane with an example repository; Ctrl-C "
        "stops everything it started.",
    )  # fmt: skip
    top.add_argument("--dir", type=Path, default=None,
                     help="where the control plane, the repository and the logs live "
                     "(default: a new temporary folder, kept after Ctrl-C)")  # fmt: skip
    top.add_argument("--examples", type=Path, default=EXAMPLES,
                     help="the folder of manifests to track (default: examples/app)")  # fmt: skip
    top.add_argument("--sync-period", default="30s", help="faros run's --sync-period")
    return top


def main(argv: Sequence[str], *, out: TextIO = sys.stdout) -> int:
    """Run until SIGINT or SIGTERM; return the exit status."""
    args = parser().parse_args(list(argv))
    if not args.examples.is_dir():
        print(f"faros dev: error: no example folder at {args.examples}", file=sys.stderr)
        return 1
    state: Path = args.dir or Path(tempfile.mkdtemp(prefix="faros-dev-"))
    state.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    plane = controlplane.ControlPlane(state / "controlplane",
                                      crd_paths=controlplane.default_crd_paths())  # fmt: skip
    faros: subprocess.Popen[bytes] | None = None
    try:
        say(out, f"faros dev: state in {state}")
        if binaries.find("kube-apiserver") is None:
            say(out, "building the control plane from Go modules (first run only, several "
                f"minutes; progress in {plane.dir / 'build.log'}) ...")  # fmt: skip
        say(out, "starting the local control plane ...")
        plane.start()
        repo = example_repository(state / "repo", args.examples)
        say(out, f"example repository: {repo} (branch {BRANCH})")
        with client.Kube.connect(plane.kubeconfig) as kube:
            track(kube, repo)
        faros = start_faros(plane.kubeconfig, state / "faros.log", sync_period=args.sync_period)
        say(out, next_steps(plane.kubeconfig, repo, state / "faros.log"))
        while not stop.wait(0.5):
            if faros.poll() is not None:
                say(out, f"faros run exited with {faros.returncode}; see {state / 'faros.log'}")
                return 1
        return 0
    except (controlplane.ControlPlaneError, binaries.BinaryError, crds.CRDError,
            kube_errors.ApiError, subprocess.CalledProcessError) as problem:  # fmt: skip
        print(f"faros dev: error: {problem}", file=sys.stderr)
        return 1
    finally:
        if faros is not None and faros.poll() is None:
            controlplane.stop_pids({"faros run": faros.pid})
        plane.stop()
        say(out, f"faros dev: stopped everything it started; the state was in {state}")


def say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)


def example_repository(path: Path, examples: Path) -> Path:
    """A Git repository at ``path`` (working tree, branch ``main``) with ``examples`` committed."""
    if not (path / ".git").is_dir():
        shutil.copytree(examples, path, dirs_exist_ok=True)
        git(path, "init", "--quiet", f"--initial-branch={BRANCH}")
        git(path, "add", "--all")
        git(path, "commit", "--quiet", "--message", "The example application")
    return path


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=60,
                   env={**os.environ, **_GIT_IDENTITY})  # fmt: skip


def track(kube: client.Kube, repo: Path) -> None:
    """Create (or keep) the ClusterGitTrack following the example repository."""
    body = {"apiVersion": names.API_VERSION, "kind": names.CLUSTERGITTRACK,
            "metadata": {"name": GITTRACK},
            "spec": {"repository": repo.as_uri(), "reference": BRANCH}}  # fmt: skip
    try:
        kube.request("POST", f"/apis/{names.API_VERSION}/clustergittracks", body=body)
    except kube_errors.AlreadyExists:
        return


def start_faros(kubeconfig: Path, log: Path, *, sync_period: str) -> subprocess.Popen[bytes]:
    """``faros run`` against the local control plane, in its own session, logging to ``log``."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "faros", "run", f"--kubeconfig={kubeconfig}",
             "--allow-file-urls", f"--sync-period={sync_period}", "--log-format=text",
             "--metrics-bind-address=0", "--broker-url=redis://127.0.0.1:1/0"],
            stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def next_steps(kubeconfig: Path, repo: Path, log: Path) -> str:
    """What to try, printed once everything runs."""
    return f"""
Faros is running (log: {log}). In another shell:

  export KUBECONFIG={kubeconfig}
  kubectl get clustergittracks                 # the example, Ready once applied
  faros status {GITTRACK}                         # its children
  kubectl -n faros-example get configmap web-settings -o yaml

Change it by hand, and watch Faros put it back:

  kubectl -n faros-example patch configmap web-settings -p '{{"data":{{"colour":"red"}}}}'

Commit a change to Git, and watch it arrive (within the sync period, or at once):

  cd {repo} && sed -i 's/blue/green/' configmap.yaml && git commit -qam green
  faros sync {GITTRACK} --wait

Ctrl-C stops the control plane and Faros.
"""
