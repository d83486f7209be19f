"""The physical limit: how fast this API server accepts the same objects from a minimal client.

Raw HTTP/1.1 keep-alive ``POST``s of the manifests' JSON, from ``THREADS`` threads each with
its own connection, with the kubeconfig's bearer token and CA: no schema, no patch, no
client library. Faros's create time as a fraction of this one says how much of what the
machine can do it uses.
"""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import ssl
import threading
import time
import urllib.parse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from bench import observe

THREADS = 16
"""More than the API server's two cores can use: the limit is the server's, not the client's."""

COLLECTIONS = {"ConfigMap": "configmaps", "Service": "services", "Deployment": "deployments"}


def create(kubeconfig: Path, bodies: Sequence[dict[str, Any]], *, threads: int = THREADS) -> float:
    """Seconds to create every one of ``bodies`` (namespaced, of the kinds above) in parallel."""
    server, token, ca = credentials(kubeconfig)
    context = ssl.create_default_context(cafile=ca)
    local = threading.local()
    url = urllib.parse.urlsplit(server)

    def connection() -> http.client.HTTPSConnection:
        if not hasattr(local, "connection"):
            local.connection = http.client.HTTPSConnection(url.hostname or "", url.port,
                                                           context=context, timeout=60)  # fmt: skip
        found: http.client.HTTPSConnection = local.connection
        return found

    def post(body: dict[str, Any]) -> None:
        meta = body["metadata"]
        group = "/api/v1" if body["apiVersion"] == "v1" else f"/apis/{body['apiVersion']}"
        path = f"{group}/namespaces/{meta['namespace']}/{COLLECTIONS[body['kind']]}"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                   "User-Agent": observe.BENCH_AGENT}  # fmt: skip
        conn = connection()
        conn.request("POST", path, body=json.dumps(body), headers=headers)
        answer = conn.getresponse()
        answer.read()
        if answer.status != 201:
            raise observe.BenchError(f"raw create of {meta['name']}: HTTP {answer.status}")

    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(post, bodies))
    return time.monotonic() - began


def credentials(kubeconfig: Path) -> tuple[str, str, str]:
    """Server URL, bearer token and CA file of the kubeconfig's current context (token auth,
    as the bench's own control plane writes it)."""
    config = yaml.safe_load(kubeconfig.read_text())
    context = next(c["context"] for c in config["contexts"]
                   if c["name"] == config["current-context"])  # fmt: skip
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    if "token" not in user:
        raise observe.BenchError("the physical limit needs a kubeconfig with a bearer token")
    return cluster["server"], user["token"], cluster["certificate-authority"]
