"""The benchmark's manifests: N objects (mostly ConfigMaps, some Deployments and Services).

Pure: builds bodies and files from an object count, a namespace and a version. Every object
carries the label ``bench-version``; a ConfigMap's data carries the version too. "Changed"
objects (one in ten, spread over the kinds) move from version 1 to version 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

VERSION_LABEL = "bench-version"
#: (kind, name) of one object: how the bench compares what it wants with what it lists.
Key = tuple[str, str]


def kind_of(index: int) -> str:
    """Object ``index`` is a Deployment (x1), a Service (x2) or a ConfigMap (the rest)."""
    return {1: "Deployment", 2: "Service"}.get(index % 10, "ConfigMap")


def name_of(index: int) -> str:
    """A name that says the kind: ``cm-000``, ``deploy-001``, ``svc-002``."""
    prefix = {"ConfigMap": "cm", "Deployment": "deploy", "Service": "svc"}[kind_of(index)]
    return f"{prefix}-{index:03}"


def changed(count: int) -> frozenset[int]:
    """The indices the update changes: one per ten objects, on a diagonal over the kinds."""
    return frozenset(index for index in range(count) if index % 10 == (index // 10) % 10)


def version_of(index: int, *, count: int, updated: bool) -> str:
    """The version object ``index`` has before (1) and after (2, if it changes) the update."""
    return "2" if updated and index in changed(count) else "1"


def body(*, index: int, namespace: str, version: str) -> dict[str, Any]:
    """The manifest of object ``index`` at ``version``."""
    name = name_of(index)
    meta = {"name": name, "namespace": namespace, "labels": {VERSION_LABEL: version}}
    kind = kind_of(index)
    if kind == "Deployment":
        return _deployment(meta, name)
    if kind == "Service":
        return _service(meta, name)
    data = {"version": version, "index": str(index), "payload": f"value-{index:03}-" * 8}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def _deployment(meta: dict[str, Any], name: str) -> dict[str, Any]:
    labels = {"app": name}
    container = {
        "name": "app",
        "image": "registry.example/app:1.0",
        "ports": [{"containerPort": 80}],
    }
    spec = {
        "replicas": 1,
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta, "spec": spec}


def _service(meta: dict[str, Any], name: str) -> dict[str, Any]:
    spec = {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 80}]}
    return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}


def bodies(*, count: int, namespace: str) -> list[dict[str, Any]]:
    """Every manifest at version 1 (what the create makes)."""
    return [body(index=index, namespace=namespace, version="1") for index in range(count)]


def files(*, count: int, namespace: str, updated: bool) -> dict[str, str]:
    """Every manifest as a file (JSON is YAML): ``<name>.yaml`` -> content."""
    return {
        f"{name_of(index)}.yaml": json.dumps(
            body(
                index=index,
                namespace=namespace,
                version=version_of(index, count=count, updated=updated),
            )
        )
        for index in range(count)
    }


def update_files(*, count: int, namespace: str) -> dict[str, str]:
    """Only the files the update changes, at version 2."""
    every = files(count=count, namespace=namespace, updated=True)
    return {f"{name_of(index)}.yaml": every[f"{name_of(index)}.yaml"] for index in changed(count)}


def fingerprint(obj: Mapping[str, Any], *, kind: str) -> str:
    """What must match for an object to count as applied: its version label and data.

    ``kind`` is given apart: the items of a list answer carry none.
    """
    labels = (obj.get("metadata") or {}).get("labels") or {}
    data = obj.get("data") if kind == "ConfigMap" else None
    return json.dumps([labels.get(VERSION_LABEL), data], sort_keys=True)


def wanted(
    *, count: int, namespace: str, updated: bool, indices: Iterable[int] | None = None
) -> dict[Key, str]:
    """The fingerprints wanted for ``indices`` (default: every object) after create or update."""
    chosen = range(count) if indices is None else indices
    found: dict[Key, str] = {}
    for index in chosen:
        version = version_of(index, count=count, updated=updated)
        kind = kind_of(index)
        found[(kind, name_of(index))] = fingerprint(
            body(index=index, namespace=namespace, version=version), kind=kind
        )
    return found
