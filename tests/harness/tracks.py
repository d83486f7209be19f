"""Create GitTracks, run the sync task, and read what it wrote, against the real servers."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from faros.api import names
from faros.core import identity
from faros.kube import client, discovery, errors
from faros.tasks import runtime
from faros.tasks import sync as sync_task
from faros.tasks.app import Outcome
from tests.harness import cluster as cluster_harness
from tests.harness.wait import eventually


class Tracks:
    """GitTracks and ClusterGitTracks made by one test, deleted (and waited for) after it."""

    def __init__(self, kube: client.Kube, rt: runtime.Runtime, default_url: str) -> None:
        self.kube = kube
        self.rt = rt
        self.default_url = default_url
        self.created: list[identity.ObjectKey] = []

    def create(
        self,
        kind: str = names.GITTRACK,
        *,
        reference: str,
        sub_path: str = "",
        repository: str | None = None,
        deploy_key: dict[str, str] | None = None,
        namespace: str = "default",
    ) -> identity.ObjectKey:
        """Create a GitTrack (in ``namespace``) or ClusterGitTrack and return its key."""
        key = identity.gittrack_key(
            namespace=namespace if kind == names.GITTRACK else "",
            name=f"example-{secrets.token_hex(3)}",
        )
        spec: dict[str, Any] = {
            "repository": repository or self.default_url,
            "reference": reference,
        }
        if sub_path:
            spec["subPath"] = sub_path
        if deploy_key:
            spec["deployKey"] = deploy_key
        body = {"apiVersion": names.API_VERSION, "kind": kind,
                "metadata": {"name": key.name}, "spec": spec}  # fmt: skip
        self.kube.request("POST", self.path(key, name=False), body=body)
        self.created.append(key)
        return key

    def path(self, key: identity.ObjectKey, *, name: bool = True) -> str:
        return discovery.own(key.kind).path(namespace=key.namespace, name=key.name if name else "")

    def update(self, key: identity.ObjectKey, **spec: str) -> None:
        """Merge ``spec`` into the GitTrack's spec."""
        self.kube.request("PATCH", self.path(key), body={"spec": spec},
                          content_type=client.MERGE_PATCH)  # fmt: skip

    def sync(self, key: identity.ObjectKey) -> dict[str, Any]:
        """Run the sync task for ``key`` in this process; return the GitTrack's status."""
        result = sync_task.run(self.rt, namespace=key.namespace, name=key.name)
        assert result.outcome is not Outcome.BUSY, "another process holds the GitTrack's lock"
        return self.status(key)

    def get(self, key: identity.ObjectKey) -> dict[str, Any]:
        found: dict[str, Any] = self.kube.request("GET", self.path(key))
        return found

    def status(self, key: identity.ObjectKey) -> dict[str, Any]:
        return dict(self.get(key).get("status") or {})

    def children(self, key: identity.ObjectKey) -> dict[str, dict[str, Any]]:
        """GitTrackObjects and ClusterGitTrackObjects this GitTrack controls, by namespaced name."""
        uid = self.get(key)["metadata"]["uid"]
        found = {}
        for kind in (names.GITTRACKOBJECT, names.CLUSTERGITTRACKOBJECT):
            for item in self.kube.request("GET", discovery.own(kind).path())["items"]:
                refs = item["metadata"].get("ownerReferences", [])
                if any(ref["uid"] == uid for ref in refs):
                    meta = item["metadata"]
                    found[f"{meta.get('namespace', '')}/{meta['name']}".lstrip("/")] = item
        return found

    def events(self, key: identity.ObjectKey) -> list[tuple[str, str, str]]:
        """(type, reason, message) of the Events about this GitTrack, oldest first."""
        uid = self.get(key)["metadata"]["uid"]
        namespace = key.namespace or self.rt.events_namespace()
        listing = self.kube.request(
            "GET", f"/api/v1/namespaces/{namespace}/events",
            query={"fieldSelector": f"involvedObject.uid={uid}"},
        )  # fmt: skip
        items = sorted(listing["items"], key=lambda e: e["metadata"]["creationTimestamp"])
        return [(e["type"], e["reason"], e["message"]) for e in items]

    def condition(self, key: identity.ObjectKey, condition_type: str) -> dict[str, Any]:
        for condition in self.status(key).get("conditions", []):
            if condition["type"] == condition_type:
                return dict(condition)
        raise AssertionError(f"no {condition_type} condition in {self.status(key)}")

    def cleanup(self) -> None:
        """Delete every GitTrack made here, in the foreground, and wait until all are gone."""
        for key in self.created:
            with contextlib.suppress(errors.NotFound):
                self.kube.request("DELETE", self.path(key),
                                  body={"propagationPolicy": "Foreground"})  # fmt: skip
        for key in self.created:

            def gone(key: identity.ObjectKey = key) -> None:
                assert not cluster_harness.exists(self.kube, self.path(key))

            eventually(gone, timeout=60)
