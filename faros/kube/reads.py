"""Read Faros's own objects in bulk (for metrics and reconcile-all passes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from faros.api import names
from faros.core import routing
from faros.kube import client, discovery, errors

logger = logging.getLogger(__name__)


T = TypeVar("T")

PAGE = 500
"""Objects per list request: a large collection comes in pages, never in one answer."""


def list_own(
    kube: client.Kube, kind: str, *, namespace: str = "", label_selector: str = "",
    metadata_only: bool = False,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every object of one of our kinds in scope ([] for cluster kinds under ``namespace``),
    optionally only those matching ``label_selector``, or only their metadata
    (``PartialObjectMetadata``); read page by page, without their ``managedFields``.

    Raises ``errors.ApiError``: a sync must not act on a partial picture.
    """
    return read_own(kube, kind, routing.own_kept, namespace=namespace,
                    label_selector=label_selector, metadata_only=metadata_only)  # fmt: skip


def read_own(
    kube: client.Kube, kind: str, keep: Callable[[dict[str, Any]], T], *, namespace: str = "",
    label_selector: str = "", metadata_only: bool = False,
) -> list[T]:  # fmt: skip
    """As ``list_own``, each object reduced by ``keep`` as its page arrives: only one page of
    whole objects is held at a time (10,000 GitTrackObjects whole are about 75 MiB)."""
    if namespace and not names.NAMESPACED[kind]:
        return []
    path = discovery.own(kind).path(namespace=namespace)
    query: dict[str, str | int | bool] = {"limit": PAGE}
    if label_selector:
        query["labelSelector"] = label_selector
    found: list[T] = []
    while True:
        accept = client.METADATA_LIST if metadata_only else client.JSON
        page: dict[str, Any] = kube.request("GET", path, query=query, accept=accept)
        found.extend(keep(item) for item in page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return found
        query["continue"] = token


def lister(kube: client.Kube, *, namespace: str = "") -> Callable[[str], list[dict[str, Any]]]:
    """A function listing every object of one of our kinds in scope; [] (logged) on errors.

    With ``namespace``, cluster-scoped kinds are out of scope and give [].
    """

    def listing(kind: str) -> list[dict[str, Any]]:
        try:
            return list_own(kube, kind, namespace=namespace)
        except errors.ApiError as error:
            logger.warning("cannot list", extra={"kind": kind, "error": str(error)})
            return []

    return listing
