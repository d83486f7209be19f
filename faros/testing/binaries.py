"""Find, or build from Go modules, the etcd, kube-apiserver and kube-controller-manager binaries.

Resolution order per binary, envtest's conventions first:
``TEST_ASSET_<NAME>`` (e.g. ``TEST_ASSET_KUBE_CONTROLLER_MANAGER``), then
``$KUBEBUILDER_ASSETS/<name>``, then our version cache (built on demand from the small Go
modules shipped beside this file), then ``/usr/local/kubebuilder/bin/<name>``.

The cache lives outside the work tree, one folder per version pair:
``${FAROS_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/faros/controlplane}/k8s-vX_etcd-vY``.
A build holds a file lock there, so parallel test sessions never build twice.

Run by hand: ``python -m faros.testing.binaries build`` builds what is missing (the test
tools Helm and the PromQL checker too) and prints the folder (usable as
``KUBEBUILDER_ASSETS``); ``... path`` prints where each binary comes from. ``helm()`` and
``promql()`` resolve the test tools (``TEST_ASSET_HELM``, ``TEST_ASSET_PROMQL``, else a build).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ETCD = "etcd"
KUBE_APISERVER = "kube-apiserver"
KUBE_CONTROLLER_MANAGER = "kube-controller-manager"
HELM = "helm"
PROMQL = "promql"
ALL = (ETCD, KUBE_APISERVER, KUBE_CONTROLLER_MANAGER)

GOMOD_DIR = Path(__file__).resolve().parent / "gomod"
LEGACY_DIR = Path("/usr/local/kubebuilder/bin")

_KUBE_MODULE = "k8s.io/kubernetes"
_ETCD_MODULE = "go.etcd.io/etcd/server/v3"
_HELM_MODULE = "helm.sh/helm/v3"
_PROMETHEUS_MODULE = "github.com/prometheus/prometheus"


class BinaryError(RuntimeError):
    """A binary could not be found or built; the message says which and why."""


@dataclasses.dataclass(frozen=True, slots=True)
class Binary:
    """One resolved binary and where it came from (for the log)."""

    name: str
    path: Path
    source: str


def asset_variable(name: str) -> str:
    """Return envtest's variable for a binary, e.g. ``TEST_ASSET_KUBE_APISERVER``."""
    return "TEST_ASSET_" + re.sub(r"[^A-Za-z0-9]+", "_", name).upper()


def module_version(module_dir: Path, module: str) -> str:
    """Read the version of ``module`` required by the go.mod in ``module_dir``."""
    text = (module_dir / "go.mod").read_text(encoding="utf-8")
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", text, re.MULTILINE)
    if match is None:
        raise BinaryError(f"{module_dir / 'go.mod'} does not require {module}")
    return match.group(1)


def kube_version() -> str:
    """The Kubernetes version our Go module builds, e.g. ``v1.34.4``."""
    return module_version(GOMOD_DIR / "kube", _KUBE_MODULE)


def etcd_version() -> str:
    """The etcd version our Go module builds, e.g. ``v3.6.16``."""
    return module_version(GOMOD_DIR / "etcd", _ETCD_MODULE)


def helm_version() -> str:
    """The Helm version our Go module builds, e.g. ``v3.19.5``."""
    return module_version(GOMOD_DIR / "helm", _HELM_MODULE)


def helm(environ: Mapping[str, str] = os.environ, log: Path | None = None) -> Path:
    """Return the Helm binary of the chart tests: ``TEST_ASSET_HELM``, else our own build."""
    return _tool(
        HELM,
        version=helm_version(),
        package=f"{_HELM_MODULE}/cmd/helm",
        ldflags=f"-s -w -X {_HELM_MODULE}/internal/version.version={helm_version()}",
        environ=environ,
        log=log,
    )


def promql(environ: Mapping[str, str] = os.environ, log: Path | None = None) -> Path:
    """Return the PromQL checker of the dashboard and alert tests (``gomod/promql/main.go``).

    It parses expressions with Prometheus's own parser (the version ``gomod/promql`` pins) and
    names the metrics they select; ``TEST_ASSET_PROMQL`` overrides it.
    """
    version = module_version(GOMOD_DIR / PROMQL, _PROMETHEUS_MODULE)
    return _tool(PROMQL, version=version, package=".", ldflags="-s -w", environ=environ, log=log)


def _tool(
    name: str,
    *,
    version: str,
    package: str,
    ldflags: str,
    environ: Mapping[str, str],
    log: Path | None,
) -> Path:
    """A test tool built once from ``gomod/<name>`` into ``<cache root>/<name>-<version>/``."""
    explicit = environ.get(asset_variable(name))
    if explicit:
        if not _is_executable(Path(explicit)):
            raise BinaryError(f"{asset_variable(name)}={explicit} is not an executable file")
        return Path(explicit)
    target = cache_dir(environ).parent / f"{name}-{version}"
    if not _is_executable(target / name):
        target.mkdir(parents=True, exist_ok=True)
        with _locked(target / ".build.lock"):
            if not _is_executable(target / name):
                _go_build(
                    module_dir=GOMOD_DIR / name,
                    packages=[package],
                    outputs={name: name},
                    ldflags=ldflags,
                    target=target,
                    environ=environ,
                    log=log,
                )
    return target / name


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The folder where our own builds of this version pair live."""
    root = environ.get("FAROS_CONTROLPLANE_CACHE")
    if not root:
        xdg = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = str(Path(xdg) / "faros" / "controlplane")
    return Path(root) / f"k8s-{kube_version()}_etcd-{etcd_version()}"


def find(name: str, environ: Mapping[str, str] = os.environ) -> Binary | None:
    """Resolve one binary without building; None when no source has it."""
    explicit = environ.get(asset_variable(name))
    if explicit:
        path = Path(explicit)
        if not _is_executable(path):
            raise BinaryError(f"{asset_variable(name)}={explicit} is not an executable file")
        return Binary(name, path, asset_variable(name))
    candidates: list[tuple[Path, str]] = []
    assets = environ.get("KUBEBUILDER_ASSETS")
    if assets:
        candidates.append((Path(assets) / name, "KUBEBUILDER_ASSETS"))
    candidates.append((cache_dir(environ) / name, "faros build cache"))
    candidates.append((LEGACY_DIR / name, str(LEGACY_DIR)))
    for path, source in candidates:
        if _is_executable(path):
            return Binary(name, path, source)
    return None


def ensure(
    names: Sequence[str] = ALL, *, environ: Mapping[str, str] = os.environ, log: Path | None = None
) -> dict[str, Binary]:
    """Resolve every binary in ``names``, building the missing ones into the cache."""
    found = {name: find(name, environ) for name in names}
    missing = [name for name, binary in found.items() if binary is None]
    if missing:
        build(missing, environ=environ, log=log)
        found = {name: find(name, environ) for name in names}
    result: dict[str, Binary] = {}
    for name, binary in found.items():
        if binary is None:  # pragma: no cover - build() raises before this
            raise BinaryError(f"{name} is still missing after a build")
        result[name] = binary
    return result


def build(
    names: Sequence[str], *, environ: Mapping[str, str] = os.environ, log: Path | None = None
) -> Path:
    """Build ``names`` from our Go modules into the cache folder; return that folder.

    Safe to call from several processes: the first takes a lock and builds, the others wait
    for it and then find the binaries in place.
    """
    target = cache_dir(environ)
    target.mkdir(parents=True, exist_ok=True)
    with _locked(target / ".build.lock"):
        todo = [name for name in names if not _is_executable(target / name)]
        kube = [name for name in todo if name != ETCD]
        if ETCD in todo:
            _go_build(
                module_dir=GOMOD_DIR / "etcd",
                packages=[_ETCD_MODULE],
                outputs={ETCD: ETCD},
                ldflags="-s -w",
                target=target,
                environ=environ,
                log=log,
            )
        if kube:
            version = kube_version()
            minor = version.split(".")[1]
            stamp = "k8s.io/component-base/version"
            ldflags = (
                f"-s -w -X {stamp}.gitVersion={version} -X {stamp}.gitMajor=1"
                f" -X {stamp}.gitMinor={minor} -X {stamp}.gitTreeState=clean"
            )
            _go_build(
                module_dir=GOMOD_DIR / "kube",
                packages=[f"{_KUBE_MODULE}/cmd/{name}" for name in kube],
                outputs={name: name for name in kube},
                ldflags=ldflags,
                target=target,
                environ=environ,
                log=log,
            )
    return target


def _go_build(
    *,
    module_dir: Path,
    packages: list[str],
    outputs: dict[str, str],
    ldflags: str,
    target: Path,
    environ: Mapping[str, str],
    log: Path | None,
) -> None:
    go = shutil.which("go", path=environ.get("PATH"))
    if go is None:
        raise BinaryError(
            f"cannot build {', '.join(outputs)}: no `go` on PATH; install Go >= 1.26, or point "
            "KUBEBUILDER_ASSETS / TEST_ASSET_* at existing binaries"
        )
    env = dict(environ)
    env.update({"CGO_ENABLED": "0", "GOTOOLCHAIN": env.get("GOTOOLCHAIN") or "local"})
    with tempfile.TemporaryDirectory(dir=target, prefix=".build-") as scratch:
        if len(packages) == 1:
            out = str(Path(scratch) / next(iter(outputs.values())))
        else:
            out = scratch + os.sep  # one executable per main package, named after it
        command = [go, "build", "-trimpath", "-ldflags", ldflags, "-o", out, *packages]
        started = time.monotonic()
        _log(log, f"building {', '.join(outputs)} in {module_dir}: {' '.join(command)}")
        with contextlib.ExitStack() as stack:
            sink = stack.enter_context(log.open("a")) if log is not None else None
            done = subprocess.run(
                command,
                cwd=module_dir,
                env=env,
                stdout=sink if sink is not None else subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                check=False,
            )
        if done.returncode != 0:
            tail = (done.stdout or "")[-4000:] if sink is None else f"see {log}"
            raise BinaryError(f"go build of {', '.join(outputs)} failed: {tail}")
        for produced, name in outputs.items():
            os.replace(Path(scratch) / produced, target / name)
        _log(log, f"built {', '.join(outputs)} in {time.monotonic() - started:.0f}s")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _log(log: Path | None, message: str) -> None:
    line = f"[faros.testing.binaries] {message}"
    print(line, file=sys.stderr, flush=True)
    if log is not None:
        with log.open("a") as sink:
            sink.write(line + "\n")


def version_of(binary: Binary) -> str:
    """Ask a binary for its version (first line of ``--version``)."""
    done = subprocess.run(
        [str(binary.path), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "?"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m faros.testing.binaries build|path``."""
    parser = argparse.ArgumentParser(prog="python -m faros.testing.binaries")
    parser.add_argument("action", choices=["build", "path"])
    args = parser.parse_args(argv)
    try:
        if args.action == "build":
            binaries = ensure()
            helm()
            promql()
            print(binaries[KUBE_APISERVER].path.parent)
            return 0
        for name in ALL:
            binary = find(name)
            where = f"{binary.path} ({binary.source}, {version_of(binary)})" if binary else "-"
            print(f"{name}: {where}")
    except BinaryError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
