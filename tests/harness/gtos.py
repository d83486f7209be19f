"""GitTrackObjects written by hand and applied by the apply task in the test process."""

from __future__ import annotations

import base64
import json
from typing import Any

from faros.api import names
from faros.kube import client, errors
from faros.tasks import apply as apply_task
from faros.tasks.app import Outcome

GTOS = f"/apis/{names.API_VERSION}/namespaces/%s/gittrackobjects"
CGTOS = f"/apis/{names.API_VERSION}/clustergittrackobjects"


def encode(manifest) -> str:
    return base64.b64encode(json.dumps(manifest).encode()).decode()


class Objects:
    """GitTrackObjects written by hand, applied by the apply task in this process."""

    def __init__(self, kube: client.Kube, rt) -> None:
        self.kube = kube
        self.rt = rt

    def put(
        self, manifest, *, namespace: str = "", name: str = "", data: str = ""
    ) -> dict[str, Any]:
        """Create or replace the (Cluster)GitTrackObject holding ``manifest``."""
        collection = GTOS % namespace if namespace else CGTOS
        name = name or f"{manifest['kind'].lower()}-{manifest['metadata']['name']}"
        body = {"apiVersion": names.API_VERSION,
                "kind": names.GITTRACKOBJECT if namespace else names.CLUSTERGITTRACKOBJECT,
                "metadata": {"name": name},
                "spec": {"name": manifest["metadata"]["name"], "kind": manifest["kind"],
                         "data": data or encode(manifest)}}  # fmt: skip
        try:
            current = self.kube.request("GET", f"{collection}/{name}")
        except errors.NotFound:
            return dict(self.kube.request("POST", collection, body=body))
        current["spec"] = body["spec"]
        return dict(self.kube.request("PUT", f"{collection}/{name}", body=current))

    def apply(self, gto: dict[str, Any]) -> dict[str, Any]:
        meta = gto["metadata"]
        result = apply_task.run(self.rt, namespace=meta.get("namespace", ""), name=meta["name"])
        assert result.outcome is not Outcome.BUSY
        collection = GTOS % meta["namespace"] if meta.get("namespace") else CGTOS
        return dict(self.kube.request("GET", f"{collection}/{meta['name']}"))

    def in_sync(self, gto: dict[str, Any]) -> tuple[str, str, str]:
        for condition in gto.get("status", {}).get("conditions", []):
            if condition["type"] == "ObjectInSync":
                return condition["status"], condition["reason"], condition["message"]
        raise AssertionError(f"no ObjectInSync in {gto.get('status')}")

    def events(self, gto: dict[str, Any]) -> list[tuple[str, str, str]]:
        namespace = gto["metadata"].get("namespace") or self.rt.events_namespace()
        selector = f"involvedObject.uid={gto['metadata']['uid']}"
        listing = self.kube.request("GET", f"/api/v1/namespaces/{namespace}/events",
                                    query={"fieldSelector": selector})  # fmt: skip
        return [(e["type"], e["reason"], e["message"]) for e in listing["items"]]
