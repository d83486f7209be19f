"""`faros run` as a subprocess and the GitTracks a test makes for it, against the real servers
(the operator controls, the CLI and readiness tests share them)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from faros import config
from faros.api import names
from faros.kube import client
from tests.harness import processes
from tests.harness.cluster import get_or_empty as get
from tests.harness.shape import FAROS

PERIOD = 5.0


class Run:
    """`faros run` as a subprocess: one namespace's GitTracks, or only ClusterGitTracks."""

    def __init__(
        self, settings: config.Settings, tmp_path: Path, namespace: str = "", *extra: str,
        period: str = f"{PERIOD:g}s",
    ) -> None:  # fmt: skip
        scope = (
            [f"--namespace={namespace}", "--clustergittrack-mode=Disabled"]
            if namespace
            else ["--gittrack-mode=Disabled", "--clustergittrack-mode=ExcludeNamespaced"]
        )
        self.process = processes.spawn(
            [FAROS, "run", f"--kubeconfig={settings.kubeconfig}", "--allow-file-urls", *scope,
             "--metrics-bind-address=0", f"--sync-period={period}",
             "--broker-url=redis://127.0.0.1:1/0", *extra],
            log=tmp_path / f"run-{secrets.token_hex(2)}.log",
        )  # fmt: skip

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        processes.stop(self.process, timeout=30)


def configmap(name: str, namespace: str, value: str = "v1", *, protected: bool = False) -> str:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if protected:
        meta["annotations"] = {"faros.pusher.com/prune": "disabled"}
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
                       "data": {"value": value}})  # fmt: skip


def events(kube: client.Kube, namespace: str, uid: str) -> list[tuple[str, str, str]]:
    listing = kube.request("GET", f"/api/v1/namespaces/{namespace}/events",
                           query={"fieldSelector": f"involvedObject.uid={uid}"})  # fmt: skip
    return [(e["type"], e["reason"], e["message"]) for e in listing["items"]]


class Track:
    """One GitTrack (or ClusterGitTrack) of the test, and paths around it."""

    def __init__(self, kube: client.Kube, namespace: str, url: str, **spec: Any) -> None:
        self.kube = kube
        self.namespace = namespace
        self.name = f"t-{secrets.token_hex(3)}"
        kind = "GitTrack" if namespace else "ClusterGitTrack"
        base = f"/apis/{names.API_VERSION}"
        plural = "gittracks" if namespace else "clustergittracks"
        self.path = (f"{base}/namespaces/{namespace}/{plural}/{self.name}" if namespace
                     else f"{base}/{plural}/{self.name}")  # fmt: skip
        body = {"apiVersion": names.API_VERSION, "kind": kind, "metadata": {"name": self.name},
                "spec": {"repository": url, "reference": "master", **spec}}  # fmt: skip
        kube.request("POST", self.path.rpartition("/")[0], body=body)

    def get(self) -> dict[str, Any]:
        return get(self.kube, self.path)

    def patch(self, body: dict[str, Any]) -> None:
        self.kube.request("PATCH", self.path, body=body, content_type=client.MERGE_PATCH)

    def events(self, events_namespace: str = "default") -> list[tuple[str, str, str]]:
        return events(self.kube, self.namespace or events_namespace, self.get()["metadata"]["uid"])

    def cm(self, name: str) -> dict[str, Any]:
        return get(self.kube, f"/api/v1/namespaces/{self.namespace}/configmaps/{name}")

    def gto(self, name: str) -> dict[str, Any]:
        path = f"/apis/{names.API_VERSION}/namespaces/{self.namespace}/gittrackobjects/{name}"
        return get(self.kube, path)


def present(found: dict[str, Any]) -> dict[str, Any]:
    """``found`` when it is an object (for ``eventually``): fails while it is {}."""
    assert found, "not there yet"
    return found


def edit(kube: client.Kube, path: str, new: str) -> None:
    """Change a ConfigMap's value by hand."""
    kube.request("PATCH", path, body={"data": {"value": new}}, content_type=client.MERGE_PATCH)


def value(obj: dict[str, Any]) -> str | None:
    return (obj.get("data") or {}).get("value")


def stays(check: Callable[[], object], *, seconds: float) -> None:
    """``check`` holds now and for ``seconds`` (nothing Faros does in that time undoes it)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        check()
        time.sleep(0.5)
