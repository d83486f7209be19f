"""The physical limit: how fast this API server accepts the same objects from a minimal client.

Raw HTTP/1.1 keep-alive ``POST``s of the manifests' JSON, from ``THREADS`` threads each with
its own connection, with the kubeconfig's bearer token and CA: no schema, no patch, no
client library. Faros's create time as a fraction of this one says how much of what the
machine can do it uses.

The design limit (:func:`create_tracked`) is the same client making, per object, the three
writes Faros's API asks for at the least: the GitTrackObject, the object, the GitTrackObject's
status. What Faros loses against it is its own; what it loses against the physical limit
beyond that is the cost of keeping the GitTrackObject API.
"""

from __future__ import annotations

import concurrent.futures
import datetime
import http.client
import json
import ssl
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from bench import observe
from bench.context import Context
from faros.api import conditions, names
from faros.core import identity, rules, syncplan, transitions
from faros.kube import client, discovery

THREADS = 16
"""More than the API server's two cores can use: the limit is the server's, not the client's."""

COLLECTIONS = {"ConfigMap": "configmaps", "Service": "services", "Deployment": "deployments"}


def create(kubeconfig: Path, bodies: Sequence[dict[str, Any]], *, threads: int = THREADS) -> float:
    """Seconds to create every one of ``bodies`` (namespaced, of the kinds above) in parallel."""
    with _Raw(kubeconfig) as raw:
        return raw.each(lambda body: raw.send("POST", collection(body), body), bodies,
                        threads=threads)  # fmt: skip


def create_tracked(
    kubeconfig: Path, bodies: Sequence[dict[str, Any]], *, owner: rules.Owner,
    threads: int = THREADS,
) -> float:  # fmt: skip
    """Seconds to create every one of ``bodies`` as Faros's API requires at the least (the
    design limit): per object its GitTrackObject (owned by the GitTrack ``owner``), the
    object (owned by its GitTrackObject) and the GitTrackObject's status saying it is in
    sync, one after the other; the objects in parallel, as in :func:`create`."""
    with _Raw(kubeconfig) as raw:

        def track(body: dict[str, Any]) -> None:
            child = identity.child_key(body, namespaced=True)
            key = identity.gto_key(namespace=child.namespace, name=identity.gto_name(child))
            gto = raw.send("POST", discovery.own(key.kind).path(namespace=key.namespace),
                           syncplan.gto_body(gto=key, manifest=body, owner=owner))  # fmt: skip
            meta = gto["metadata"]
            gto_owner = rules.Owner(kind=key.kind, namespace=key.namespace, name=key.name,
                                    uid=meta["uid"])  # fmt: skip
            reference = rules.owner_reference(gto_owner)
            owned = {**body, "metadata": {**body["metadata"], "ownerReferences": [reference]}}
            raw.send("POST", collection(body), owned)
            status = discovery.own(key.kind).path(namespace=key.namespace, name=key.name,
                                                  subresource="status")  # fmt: skip
            raw.send("PUT", status, {**gto, "status": _in_sync(meta)}, expect=200)

        return raw.each(track, bodies, threads=threads)


def measure(ctx: Context, bodies: Callable[[str], Sequence[dict[str, Any]]]) -> tuple[float, float]:
    """Seconds of the physical limit (:func:`create`) and of the design limit
    (:func:`create_tracked`) for ``bodies(namespace)``, each in a fresh namespace; the
    design limit's is retired at once (no Faros column may sync its GitTrack)."""
    print(f"the physical limit: {ctx.count} raw creates ...", file=sys.stderr)
    physical = create(ctx.cluster.kubeconfig, bodies(ctx.new_namespace("limit")))
    print(f"the design limit: {ctx.count} objects, 3 writes each ...", file=sys.stderr)
    namespace = ctx.new_namespace("design")
    owner = owning_gittrack(ctx.kube, namespace)
    try:
        return physical, create_tracked(ctx.cluster.kubeconfig, bodies(namespace), owner=owner)
    finally:
        ctx.retire(namespace)


def owning_gittrack(kube: client.Kube, namespace: str) -> rules.Owner:
    """Create the GitTrack the design limit's GitTrackObjects belong to (no Faros runs
    meanwhile; its repository does not resolve)."""
    track = kube.request("POST", discovery.own(names.GITTRACK).path(namespace=namespace), body={
        "apiVersion": names.API_VERSION, "kind": names.GITTRACK,
        "metadata": {"name": "design-limit"},
        "spec": {"repository": "https://git.invalid/design-limit.git", "reference": "master"},
    })  # fmt: skip
    return rules.Owner(kind=names.GITTRACK, namespace=namespace, name="design-limit",
                       uid=str(track["metadata"]["uid"]))  # fmt: skip


def _in_sync(meta: dict[str, Any]) -> dict[str, Any]:
    """A GitTrackObject status as Faros writes it when the object is applied."""
    in_sync = transitions.set_condition(
        [], condition_type=conditions.GitTrackObjectConditionType.OBJECT_IN_SYNC,
        status=conditions.ConditionStatus.TRUE, message="",
        reason=conditions.GitTrackObjectReason.CHILD_APPLIED_SUCCESS,
        now=datetime.datetime.now(datetime.UTC),
    )  # fmt: skip
    return {"conditions": in_sync, "observedGeneration": meta.get("generation", 1)}


def collection(body: dict[str, Any]) -> str:
    """The path ``body`` is created at (namespaced, of the kinds above)."""
    meta = body["metadata"]
    group = "/api/v1" if body["apiVersion"] == "v1" else f"/apis/{body['apiVersion']}"
    return f"{group}/namespaces/{meta['namespace']}/{COLLECTIONS[body['kind']]}"


class _Raw:
    """Keep-alive HTTPS connections to the API server, one per thread, with the kubeconfig's
    bearer token: raw JSON requests, nothing else in the way."""

    def __init__(self, kubeconfig: Path) -> None:
        server, self._token, ca = credentials(kubeconfig)
        self._context = ssl.create_default_context(cafile=ca)
        self._url = urllib.parse.urlsplit(server)
        self._local = threading.local()
        self._opened: list[http.client.HTTPSConnection] = []
        self._guard = threading.Lock()

    def __enter__(self) -> _Raw:
        return self

    def __exit__(self, *exc: object) -> None:
        for connection in self._opened:
            connection.close()

    def _connection(self) -> http.client.HTTPSConnection:
        if not hasattr(self._local, "connection"):
            self._local.connection = http.client.HTTPSConnection(
                self._url.hostname or "", self._url.port, context=self._context, timeout=60
            )
            with self._guard:
                self._opened.append(self._local.connection)
        found: http.client.HTTPSConnection = self._local.connection
        return found

    def send(
        self, method: str, path: str, body: dict[str, Any], *, expect: int = 201
    ) -> dict[str, Any]:
        """``method`` ``body`` at ``path``; the answer, or a ``BenchError`` naming what failed."""
        headers = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json",
                   "User-Agent": observe.BENCH_AGENT}  # fmt: skip
        conn = self._connection()
        conn.request(method, path, body=json.dumps(body), headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        if answer.status != expect:
            raise observe.BenchError(f"raw {method} {path}: HTTP {answer.status}")
        found: dict[str, Any] = json.loads(data)
        return found

    @staticmethod
    def each(
        work: Callable[[dict[str, Any]], object], bodies: Sequence[dict[str, Any]], *, threads: int
    ) -> float:
        """Seconds to run ``work`` on every one of ``bodies``, ``threads`` at a time."""
        began = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(work, bodies))
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
