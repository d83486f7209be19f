"""The Helm chart under test: render it with the pinned Helm, read what it rendered, and turn
a rendered container into a local process (the pod's command, arguments and environment)."""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.harness import cluster as cluster_harness
from tests.harness import processes

CHART = cluster_harness.REPO / "helm" / "faros"
FAROS_PROCESSES = ("worker", "beat", "watch")
VENV_BIN = Path(sys.executable).parent
"""The image's executables (its entrypoint ``faros``, and ``celery`` for Flower) are the venv's."""

Doc = dict[str, Any]


class RenderError(AssertionError):
    """Helm refused the chart or its values; ``message`` is Helm's stderr."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(frozen=True)
class Helm:
    """The pinned Helm binary with its own cache and config directories (never the user's)."""

    binary: Path
    home: Path

    def run(
        self, *args: str, kubeconfig: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "HELM_CACHE_HOME": str(self.home / "cache"),
            "HELM_CONFIG_HOME": str(self.home / "config"),
            "HELM_DATA_HOME": str(self.home / "data"),
        }
        if kubeconfig is not None:
            env["KUBECONFIG"] = str(kubeconfig)
        done = subprocess.run(
            [str(self.binary), *args], capture_output=True, text=True, env=env, timeout=120,
            check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RenderError(done.stderr.strip() or done.stdout.strip())
        return done

    def values_file(self, values: Mapping[str, Any]) -> Path:
        """Write ``values`` to a file named after its content (so parallel renders never clash)."""
        text = yaml.safe_dump(dict(values), sort_keys=True)
        path = self.home / f"values-{hashlib.sha256(text.encode()).hexdigest()[:16]}.yaml"
        path.write_text(text)
        return path

    def template(
        self, values: Mapping[str, Any], *, release: str = "faros", namespace: str = "faros-system"
    ) -> list[Doc]:
        """``helm template`` the chart (without its CRDs) and return its documents."""
        done = self.run(
            "template", release, str(CHART), f"--namespace={namespace}",
            f"--values={self.values_file(values)}",
        )  # fmt: skip
        return [doc for doc in yaml.safe_load_all(done.stdout) if doc]

    def lint(self, values: Mapping[str, Any]) -> str:
        """``helm lint --strict`` the chart with ``values``; return its output."""
        return self.run(
            "lint", "--strict", str(CHART), f"--values={self.values_file(values)}"
        ).stdout


def find(docs: Iterable[Doc], kind: str, name: str | None = None) -> list[Doc]:
    """The documents of ``kind`` (named ``name``, when given)."""
    return [
        doc
        for doc in docs
        if doc["kind"] == kind and (name is None or doc["metadata"]["name"] == name)
    ]


def one(docs: Iterable[Doc], kind: str, name: str | None = None) -> Doc:
    """The single document of ``kind`` (named ``name``); fails when there are none or several."""
    found = find(docs, kind, name)
    assert len(found) == 1, f"{len(found)} {kind} {name or ''} rendered"
    return found[0]


def deployment(docs: Iterable[Doc], component: str) -> Doc:
    """The Deployment of one component (worker, beat, watch or flower)."""
    found = [
        doc
        for doc in find(docs, "Deployment")
        if doc["metadata"]["labels"].get("app.kubernetes.io/component") == component
    ]
    assert len(found) == 1, f"{len(found)} Deployments of {component}"
    return found[0]


def pod_spec(workload: Doc) -> Doc:
    spec: Doc = workload["spec"]["template"]["spec"]
    return spec


def container(workload: Doc) -> Doc:
    """The only container of a workload."""
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1, [c["name"] for c in containers]
    only: Doc = containers[0]
    return only


def config_data(doc: Doc) -> dict[str, str]:
    """The decoded data of a rendered ConfigMap or Secret."""
    data = {key: str(value) for key, value in (doc.get("stringData") or {}).items()}
    for key, value in (doc.get("data") or {}).items():
        data[key] = base64.b64decode(value).decode() if doc["kind"] == "Secret" else str(value)
    return data


def env_value(docs: Sequence[Doc], entry: Doc) -> str:
    """An env entry's value, resolving secretKeyRef and configMapKeyRef from ``docs``."""
    if "value" in entry:
        return str(entry["value"])
    source = entry["valueFrom"]
    for kind, ref_key in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
        if ref_key in source:
            ref = source[ref_key]
            return config_data(one(docs, kind, ref["name"]))[ref["key"]]
    raise AssertionError(f"cannot resolve env {entry['name']}: {source}")


def environment(docs: Sequence[Doc], workload: Doc) -> dict[str, str]:
    """The container's environment as the kubelet would build it from the rendered objects."""
    return {entry["name"]: env_value(docs, entry) for entry in container(workload).get("env", [])}


@dataclasses.dataclass(frozen=True)
class LocalPod:
    """One rendered container as a local process: what to run, and where its ports are."""

    command: list[str]
    env: dict[str, str]
    cwd: Path
    ports: dict[str, int]
    """containerPort name -> local port."""


def localize(
    docs: Sequence[Doc], workload: Doc, *, root: Path, base_env: Mapping[str, str]
) -> LocalPod:
    """Turn the container of ``workload`` into a process to run on this machine.

    The entrypoint ``faros`` (and ``celery``) map to the venv's executables; every volume
    gets a directory under ``root`` (ConfigMap and Secret volumes filled from the rendered
    objects) and its mount path is rewritten in the arguments and the environment; each
    container port gets a free loopback port, rewritten where the arguments name it.
    """
    spec = container(workload)
    mounts = _mount_volumes(docs, workload, root)
    ports = {port["name"]: processes.free_port() for port in spec.get("ports", [])}
    by_number = {port["containerPort"]: ports[port["name"]] for port in spec.get("ports", [])}
    entrypoint = spec.get("command") or ["faros"]  # the Dockerfile's ENTRYPOINT
    program = str(VENV_BIN / entrypoint[0])
    args = [*entrypoint[1:], *spec.get("args", [])]
    home = root / "home"  # the image's WORKDIR and its user's home
    home.mkdir(parents=True, exist_ok=True)
    image_env = {"HOME": str(home), "PYTHONUNBUFFERED": "1"}  # as the Dockerfile sets them
    env = {name: _rewrite(value, mounts, {}) for name, value in environment(docs, workload).items()}
    return LocalPod(
        command=[program, *(_rewrite(arg, mounts, by_number) for arg in args)],
        env={**image_env, **base_env, **env},
        cwd=home,
        ports=ports,
    )


def _mount_volumes(docs: Sequence[Doc], workload: Doc, root: Path) -> dict[str, Path]:
    volumes = {volume["name"]: volume for volume in pod_spec(workload).get("volumes", [])}
    for claim in workload["spec"].get("volumeClaimTemplates", []):  # a StatefulSet's volume
        volumes[claim["metadata"]["name"]] = {"emptyDir": {}}
    mounts: dict[str, Path] = {}
    for mount in container(workload).get("volumeMounts", []):
        local = root / "volumes" / mount["name"]
        local.mkdir(parents=True, exist_ok=True)
        volume = volumes[mount["name"]]
        if "configMap" in volume:
            _fill(local, config_data(one(docs, "ConfigMap", volume["configMap"]["name"])))
        elif "secret" in volume:
            _fill(local, config_data(one(docs, "Secret", volume["secret"]["secretName"])))
        else:
            assert "emptyDir" in volume, f"volume {mount['name']}: not a local kind"
        mounts[mount["mountPath"]] = local
    return mounts


def _fill(folder: Path, data: Mapping[str, str]) -> None:
    for key, value in data.items():
        (folder / key).write_text(value)


def _rewrite(text: str, mounts: Mapping[str, Path], ports: Mapping[int, int]) -> str:
    if mounts:  # one pass, longest mount path first: a rewritten path is never rewritten again
        paths = "|".join(re.escape(path) for path in sorted(mounts, key=len, reverse=True))
        pattern = rf"(^|[=:])({paths})(?=/|$|:)"
        text = re.sub(pattern, functools.partial(_local_path, mounts), text)
    for number, local_port in ports.items():
        text = re.sub(rf"=:{number}$", f"=127.0.0.1:{local_port}", text)
        text = re.sub(rf"={number}$", f"={local_port}", text)
    return text


def _local_path(mounts: Mapping[str, Path], match: re.Match[str]) -> str:
    return f"{match.group(1)}{mounts[match.group(2)]}"
