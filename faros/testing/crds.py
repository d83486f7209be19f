"""Install CustomResourceDefinitions from YAML files and wait until they are established."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from faros.kube import client, errors

CRDS_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


class CRDError(RuntimeError):
    """A CRD could not be installed or did not become established in time."""


def load(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Read every CRD document from the given files and folders (``*.yaml``/``*.yml``)."""
    documents: list[dict[str, Any]] = []
    for path in paths:
        files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")]) if path.is_dir() else [path]
        for file in files:
            for document in yaml.safe_load_all(file.read_text(encoding="utf-8")):
                if (
                    isinstance(document, dict)
                    and document.get("kind") == "CustomResourceDefinition"
                ):
                    documents.append(document)
    if not documents:
        raise CRDError(f"no CustomResourceDefinition found in {', '.join(map(str, paths))}")
    return documents


def install(kubeconfig: Path | None, paths: Sequence[Path], *, timeout: float = 60.0) -> list[str]:
    """Create or update each CRD (server-side apply), wait until all are Established."""
    names = []
    with client.Kube.connect(kubeconfig) as kube:
        for document in load(paths):
            name = document["metadata"]["name"]
            names.append(name)
            try:
                kube.request(
                    "PATCH",
                    f"{CRDS_PATH}/{name}",
                    body=document,
                    query={"fieldManager": "faros-testing", "force": True},
                    content_type=client.APPLY_PATCH,
                )
            except errors.ApiError as error:
                raise CRDError(f"cannot install CRD {name}: {error}") from error
        deadline = time.monotonic() + timeout
        for name in names:
            while not _established(kube.request("GET", f"{CRDS_PATH}/{name}")):
                if time.monotonic() > deadline:
                    raise CRDError(f"CRD {name} not established after {timeout:.0f}s")
                time.sleep(0.1)
    return names


def _established(crd: dict[str, Any]) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)
