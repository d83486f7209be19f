"""Start and stop a real Kubernetes control plane on loopback, like controller-runtime's envtest.

etcd, kube-apiserver and kube-controller-manager (garbage collector and namespace controller
only) run as child processes on free loopback ports, each in its own session, logging into
files of the given folder. The folder also receives an admin kubeconfig (token auth,
``system:masters``), the apiserver's audit log of writes, and ``state.json`` with the PIDs,
so that another process can stop what this one started.

By hand::

    python -m faros.testing.controlplane start --dir DIR   # prints the kubeconfig path
    python -m faros.testing.controlplane stop --dir DIR

Environment (envtest's names): ``KUBEBUILDER_CONTROLPLANE_START_TIMEOUT`` and
``KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT`` (Go durations or seconds),
``KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT=true`` (children write to this terminal);
binaries are found as described in :mod:`faros.testing.binaries`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from faros import config
from faros.testing import binaries, crds

DEFAULT_START_TIMEOUT = 90.0
DEFAULT_STOP_TIMEOUT = 20.0

AUDIT_LOG_MAX_MB = 1024 * 1024
"""The audit log's size before the API server would rotate it: 1 TiB, that is never."""

# Writes, and reads (gets and lists) of Faros's own kinds, at Metadata level: lets tests
# count the writes a reconcile made and what it read, as the API server saw them, without
# trusting our own counters.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
    verbs: ["get", "list"]
    resources:
      - group: faros.pusher.com
  - level: None
    verbs: ["get", "list", "watch"]
  - level: None
    resources:
      - group: coordination.k8s.io
        resources: ["leases"]
  - level: Metadata
    verbs: ["create", "update", "patch", "delete", "deletecollection"]
"""


class ControlPlaneError(RuntimeError):
    """The control plane failed to start or stop; the message names the process and its log."""


@dataclasses.dataclass(slots=True)
class State:
    """What ``start`` leaves behind in ``state.json`` for ``stop`` and for tests."""

    pids: dict[str, int]
    etcd_url: str
    apiserver_url: str
    kcm_url: str
    kubeconfig: str
    token: str


class ControlPlane:
    """One etcd + kube-apiserver + kube-controller-manager, started and stopped together."""

    def __init__(
        self,
        directory: Path,
        *,
        crd_paths: Sequence[Path] = (),
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.dir = directory.resolve()
        self.crd_paths = list(crd_paths)
        self.environ = environ
        self.state: State | None = None
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._apiserver_command: list[str] = []
        self.timings: dict[str, float] = {}

    @property
    def kubeconfig(self) -> Path:
        """The admin kubeconfig written by :meth:`start`."""
        return self.dir / "admin.kubeconfig"

    @property
    def audit_log(self) -> Path:
        """The API server's audit log (writes only, Metadata level)."""
        return self.dir / "audit.log"

    def start(self) -> State:
        """Start all three processes and install the CRDs; stop everything on failure."""
        self.dir.mkdir(parents=True, exist_ok=True)
        found = binaries.ensure(log=self.dir / "build.log")
        timeout = _duration(self.environ.get("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT"))
        timeout = timeout or DEFAULT_START_TIMEOUT
        try:
            return self._start(found, timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, found: dict[str, binaries.Binary], timeout: float) -> State:
        began = time.monotonic()
        ports = _free_ports(5)
        etcd_url = f"http://127.0.0.1:{ports[0]}"
        api_url = f"https://127.0.0.1:{ports[2]}"
        kcm_url = f"https://127.0.0.1:{ports[3]}"
        token = secrets.token_hex(16)
        self.state = State({}, etcd_url, api_url, kcm_url, str(self.kubeconfig), token)

        self._apiserver_command = [
            str(found[binaries.KUBE_APISERVER].path),
            *self._apiserver_args(ports, etcd_url),
        ]
        self._spawn(binaries.ETCD, [str(found[binaries.ETCD].path), *self._etcd_args(ports)])
        _wait_http(f"{etcd_url}/health", name="etcd", process=self, timeout=timeout)
        self.timings["etcd"] = time.monotonic() - began

        pki = self.dir / "pki"
        pki.mkdir(exist_ok=True)
        (self.dir / "tokens.csv").write_text(f'{token},faros-admin,faros-admin,"system:masters"\n')
        (self.dir / "audit-policy.yaml").write_text(AUDIT_POLICY)
        _write_service_account_key(self.dir / "sa.key")
        self._spawn(binaries.KUBE_APISERVER, self._apiserver_command)
        _wait_http(
            f"{api_url}/readyz",
            name=binaries.KUBE_APISERVER,
            process=self,
            timeout=timeout,
            token=token,
        )
        _wait_http(
            f"{api_url}/api/v1/namespaces/default",
            name=binaries.KUBE_APISERVER,
            process=self,
            timeout=timeout,
            token=token,
        )
        self.timings["kube-apiserver"] = time.monotonic() - began
        self._write_kubeconfig(api_url, token, pki / "apiserver.crt")

        # CRDs before the controller-manager: its garbage collector reads discovery at start
        # and then only every 30 s, so owners of our kinds are known from the first second.
        if self.crd_paths:
            crds.install(self.kubeconfig, self.crd_paths, timeout=timeout)
        self.timings["crds"] = time.monotonic() - began

        self._spawn(
            binaries.KUBE_CONTROLLER_MANAGER,
            [str(found[binaries.KUBE_CONTROLLER_MANAGER].path), *self._kcm_args(ports)],
        )
        _wait_http(
            f"{kcm_url}/healthz",
            name=binaries.KUBE_CONTROLLER_MANAGER,
            process=self,
            timeout=timeout,
        )
        self.timings["kube-controller-manager"] = time.monotonic() - began
        self._save()
        return self.state

    def _etcd_args(self, ports: list[int]) -> list[str]:
        client, peer = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
        return [
            "--name=default",
            f"--data-dir={self.dir / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=default={peer}",
            "--unsafe-no-fsync=true",
            "--log-level=warn",
        ]

    def _apiserver_args(self, ports: list[int], etcd_url: str) -> list[str]:
        return [
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports[2]}",
            f"--cert-dir={self.dir / 'pki'}",
            "--service-cluster-ip-range=10.0.0.0/16",  # room for benchmarks of thousands
            f"--service-account-issuer=https://127.0.0.1:{ports[2]}/",
            f"--service-account-key-file={self.dir / 'sa.key'}",
            f"--service-account-signing-key-file={self.dir / 'sa.key'}",
            "--authorization-mode=RBAC",
            f"--token-auth-file={self.dir / 'tokens.csv'}",
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            f"--audit-policy-file={self.dir / 'audit-policy.yaml'}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json",
            "--audit-log-mode=blocking",
            # Never rotated (lumberjack rotates at 100 MB when this is 0, and a test session or
            # a 10,000-object bench writes more): the tests' marks are line numbers in this file.
            f"--audit-log-maxsize={AUDIT_LOG_MAX_MB}",
            "--v=1",
        ]

    def _kcm_args(self, ports: list[int]) -> list[str]:
        kubeconfig = str(self.kubeconfig)
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--controllers=garbage-collector-controller,namespace-controller",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports[3]}",
            f"--cert-dir={self.dir / 'kcm-pki'}",
            "--kube-api-qps=100",
            "--kube-api-burst=200",
            "--v=1",
        ]

    def _write_kubeconfig(self, server: str, token: str, ca: Path) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "faros-test",
                    "cluster": {"server": server, "certificate-authority": str(ca)},
                }
            ],
            "users": [{"name": "faros-admin", "user": {"token": token}}],
            "contexts": [
                {"name": "faros-test", "context": {"cluster": "faros-test", "user": "faros-admin"}}
            ],
            "current-context": "faros-test",
        }
        self.kubeconfig.write_text(yaml.safe_dump(config))
        self.kubeconfig.chmod(0o600)

    def _spawn(self, name: str, command: list[str]) -> None:
        attach = self.environ.get("KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT", "").lower() == "true"
        with contextlib.ExitStack() as stack:
            sink = None if attach else stack.enter_context((self.dir / f"{name}.log").open("ab"))
            self._processes[name] = subprocess.Popen(
                command,
                stdout=sink,
                stderr=subprocess.STDOUT if sink is not None else None,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        if self.state is not None:
            self.state.pids[name] = self._processes[name].pid
            self._save()

    def _save(self) -> None:
        if self.state is not None:
            (self.dir / "state.json").write_text(json.dumps(dataclasses.asdict(self.state)))

    def restart_apiserver(
        self, *, down: float = 0.0, timeout: float = DEFAULT_START_TIMEOUT
    ) -> None:
        """Stop kube-apiserver (SIGTERM, as a rolling restart would), keep it down ``down``
        seconds, and start it again on the same port with the same certificates; return once
        it is ready. For fault-injection tests: etcd and the controller-manager stay up."""
        if self.state is None:
            raise RuntimeError("the control plane is not running")
        name = binaries.KUBE_APISERVER
        stop_pids({name: self.state.pids[name]})
        process = self._processes.get(name)
        if process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        time.sleep(down)
        self._spawn(name, self._apiserver_command)
        _wait_http(f"{self.state.apiserver_url}/readyz", name=name, process=self, timeout=timeout,
                   token=self.state.token)  # fmt: skip

    def exited(self, name: str) -> int | None:
        """The exit code of a child we started, or None while it runs (or is not ours)."""
        process = self._processes.get(name)
        return None if process is None else process.poll()

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The last lines of one child's log, for error messages."""
        path = self.dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def detach(self) -> None:
        """Forget our children without stopping them (they run on in their own sessions)."""
        self._processes.clear()

    def stop(self) -> None:
        """Stop every process this control plane started (reverse order) and reap it."""
        timeout = _duration(self.environ.get("KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT"))
        pids = dict(self.state.pids) if self.state else {}
        stop_pids(pids, timeout=timeout or DEFAULT_STOP_TIMEOUT)
        for process in self._processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=1)
        self._processes.clear()
        (self.dir / "state.json").unlink(missing_ok=True)

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_pids(pids: Mapping[str, int], *, timeout: float = DEFAULT_STOP_TIMEOUT) -> None:
    """SIGTERM each process group (last started first), wait, then SIGKILL what is left."""
    for name in reversed(list(pids)):
        pid = pids[name]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        # Reap our own children so they do not linger as zombies that look alive.
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_state(directory: Path) -> State:
    """Read ``state.json`` written by a ``start`` in ``directory``."""
    return State(**json.loads((directory / "state.json").read_text()))


def _wait_http(
    url: str, *, name: str, process: ControlPlane, timeout: float, token: str | None = None
) -> None:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # readiness probe only; the kubeconfig verifies the CA
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        code = process.exited(name)
        if code is not None:
            raise ControlPlaneError(
                f"{name} exited with status {code} while starting; log {process.dir / name}.log:"
                f"\n{process.log_tail(name)}"
            )
        request = urllib.request.Request(url)  # noqa: S310 - loopback URL we built
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=5, context=context) as answer:  # noqa: S310
                if answer.status == 200:
                    return
                last = f"HTTP {answer.status}"
        except urllib.error.HTTPError as error:
            last = f"HTTP {error.code}"
            error.close()
        except (OSError, ssl.SSLError) as error:
            last = str(error)
        time.sleep(0.1)
    raise ControlPlaneError(
        f"{name} not ready after {timeout:.0f}s at {url} ({last}); log {process.dir / name}.log:"
        f"\n{process.log_tail(name)}"
    )


def _free_ports(count: int) -> list[int]:
    """Distinct free loopback ports (held open together so none is handed out twice)."""
    with contextlib.ExitStack() as stack:
        sockets = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]


def _write_service_account_key(path: Path) -> None:
    # SEC1 "EC PRIVATE KEY": the apiserver reads the public half from the same file.
    subprocess.run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(path)],
        check=True,
        capture_output=True,
    )
    path.chmod(0o600)


def _duration(text: str | None) -> float | None:
    """Seconds from a Go duration such as ``90s``/``1m30s``, or a plain number of seconds."""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float(config.parse_duration(text))
    except ValueError as error:
        raise ControlPlaneError(str(error)) from None


def default_crd_paths() -> list[Path]:
    """The chart's ``crds/`` folder when running from a source checkout, else nothing."""
    folder = Path(__file__).resolve().parents[2] / "helm" / "faros" / "crds"
    return [folder] if folder.is_dir() else []


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m faros.testing.controlplane start|stop --dir DIR``."""
    parser = argparse.ArgumentParser(prog="python -m faros.testing.controlplane")
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("--dir", required=True, type=Path, help="folder for data, logs, state")
    parser.add_argument(
        "--crds",
        action="append",
        type=Path,
        help="CRD file or folder to install (repeatable; default: the chart's crds/ folder)",
    )
    args = parser.parse_args(argv)
    directory: Path = args.dir
    if args.action == "stop":
        if not (directory / "state.json").exists():
            print(f"nothing to stop: no state.json in {directory}", file=sys.stderr)
            return 1
        stop_pids(load_state(directory).pids)
        (directory / "state.json").unlink(missing_ok=True)
        return 0
    if (directory / "state.json").exists():
        print(f"already started in {directory}; stop it first", file=sys.stderr)
        return 1
    plane = ControlPlane(directory, crd_paths=args.crds or default_crd_paths())
    try:
        plane.start()
    except (ControlPlaneError, binaries.BinaryError, crds.CRDError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    # Leave the processes running: they are in their own sessions and outlive us.
    plane.detach()
    print(plane.kubeconfig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
