"""Push-to-applied through the webhook receiver: commit, signed delivery, child updated.

The GitTrack follows its branch again; each round commits a new version of one ConfigMap,
posts a signed generic delivery to the shape's receiver, and times until the ConfigMap holds
the new data. Reported as p50 and p99 (with few rounds, p99 is the worst).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import time
import urllib.request
from typing import Any

from bench import manifests, observe
from bench.context import Context
from faros.kube import client
from tests.harness import gitrepos

ROUNDS = 20
"""Pushes measured per shape (fewer for a repository of fewer objects: the smoke test)."""


def latencies(
    ctx: Context, *, namespace: str, repo: gitrepos.Repo, port: int, secret: str, alive: Any
) -> list[float]:
    """Seconds from each signed push to its ConfigMap holding the pushed data."""
    path = f"/apis/faros.pusher.com/v1alpha1/namespaces/{namespace}/gittracks/bench"
    answer = ctx.kube.request("PATCH", path, body={"spec": {"reference": repo.branch}},
                              content_type=client.MERGE_PATCH)  # fmt: skip
    generation = int(answer["metadata"]["generation"])
    observe.wait_for(lambda: _observed(ctx, path) >= generation, what="following the branch",
                     timeout=ctx.timeout, alive=alive)  # fmt: skip
    configmaps = [i for i in range(ctx.count) if manifests.kind_of(i) == "ConfigMap"]
    found: list[float] = []
    for round_ in range(min(ROUNDS, ctx.count)):
        index = configmaps[round_ % len(configmaps)]
        version = f"push-{round_}"
        manifest = manifests.body(index=index, namespace=namespace, version=version)
        repo.commit({f"{manifests.name_of(index)}.yaml": json.dumps(manifest)})
        began = time.monotonic()
        _deliver(port, secret=secret, url=repo.path.as_uri(), branch=repo.branch)
        target = f"/api/v1/namespaces/{namespace}/configmaps/{manifests.name_of(index)}"
        observe.wait_for(
            functools.partial(_holds, ctx, target, version),
            what="a pushed commit", timeout=ctx.timeout, interval=0.02, alive=alive,
        )  # fmt: skip
        found.append(time.monotonic() - began)
    return found


def _deliver(port: int, *, secret: str, url: str, branch: str) -> None:
    body = json.dumps({"repository": url, "ref": f"refs/heads/{branch}"}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/hook/generic", data=body, method="POST",
        headers={"Content-Type": "application/json", "X-Signature-256": f"sha256={signature}"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        if answer.status != 200:
            raise observe.BenchError(f"the receiver answered {answer.status}")


def _observed(ctx: Context, path: str) -> int:
    status = ctx.kube.request("GET", path).get("status") or {}
    return int(status.get("observedGeneration") or 0)


def _holds(ctx: Context, path: str, version: str) -> bool:
    found = ctx.kube.request("GET", path)
    return str((found.get("data") or {}).get("version", "")) == version
