"""A small application in Git, tracked by a GitTrack: ConfigMaps whose value says the round.

Fault-injection tests commit a new value, make the GitTrack follow the new commit at once
(by pinning its reference to the commit, a spec change, so no test waits for a sync period)
and count the ConfigMaps that do not carry it yet.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from faros.api import names
from faros.kube import client
from tests.harness import gitrepos
from tests.harness.git_servers import GitServers, Transport

PER_FILE = 10


def files(namespace: str, value: str, *, count: int) -> dict[str, str | None]:
    """``count`` ConfigMaps ``cm-0`` ... in files of ``PER_FILE`` documents, data {value}."""
    found: dict[str, str | None] = {}
    for first in range(0, count, PER_FILE):
        documents = [
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{index}, namespace: "
            f"{namespace}}}\ndata: {{value: '{value}'}}\n"
            for index in range(first, min(first + PER_FILE, count))
        ]
        found[f"cms-{first // PER_FILE:03d}.yaml"] = "---\n".join(documents)
    return found


class App:
    """``count`` ConfigMaps in a repository of their own, tracked by GitTrack ``app``."""

    def __init__(
        self, kube: client.Kube, git_root: Path, servers: GitServers, namespace: str, *, count: int
    ) -> None:
        self.kube = kube
        self.namespace = namespace
        self.count = count
        self.repo = gitrepos.make_repo(
            git_root, f"app-{secrets.token_hex(3)}", [files(namespace, "0", count=count)]
        )
        self.url = servers.url(self.repo, Transport.FILE)
        self.gittrack = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks/app"

    def track(self) -> None:
        """Create the GitTrack, following ``master``."""
        self.kube.request(
            "POST", self.gittrack.rsplit("/", 1)[0],
            body={"apiVersion": names.API_VERSION, "kind": names.GITTRACK,
                  "metadata": {"name": "app"},
                  "spec": {"repository": self.url, "reference": "master"}},
        )  # fmt: skip

    def release(self, value: str) -> str:
        """Commit ``value`` into every ConfigMap and pin the GitTrack to that commit."""
        sha = self.repo.commit(files(self.namespace, value, count=self.count))
        self.kube.request("PATCH", self.gittrack, body={"spec": {"reference": sha}},
                          content_type=client.MERGE_PATCH)  # fmt: skip
        return sha

    def stale(self, value: str) -> list[str]:
        """Names of the ConfigMaps that are missing or do not hold ``value``."""
        items: list[dict[str, Any]] = self.kube.request(
            "GET", f"/api/v1/namespaces/{self.namespace}/configmaps"
        )["items"]
        held = {i["metadata"]["name"]: (i.get("data") or {}).get("value") for i in items}
        return [f"cm-{n}" for n in range(self.count) if held.get(f"cm-{n}") != value]

    def assert_holds(self, value: str) -> None:
        """Fail naming the stale ConfigMaps (for ``eventually``)."""
        stale = self.stale(value)
        assert not stale, f"{len(stale)} stale: {stale[:5]}"

    def configmap(self, index: int) -> str:
        return f"/api/v1/namespaces/{self.namespace}/configmaps/cm-{index}"

    def drift(self, index: int, value: str = "drift") -> None:
        """Change ConfigMap ``cm-<index>`` behind Faros's back."""
        self.kube.request("PATCH", self.configmap(index), body={"data": {"value": value}},
                          content_type=client.MERGE_PATCH)  # fmt: skip
