"""Read Faros's own objects in bulk (for metrics and reconcile-all passes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from faros.api import names
from faros.kube import client, discovery, errors

logger = logging.getLogger(__name__)


def list_own(kube: client.Kube, kind: str, *, namespace: str = "") -> list[dict[str, Any]]:
    """Every object of one of our kinds in scope ([] for cluster kinds under ``namespace``).

    Raises ``errors.ApiError``: a sync must not act on a partial picture.
    """
    if namespace and not names.NAMESPACED[kind]:
        return []
    found: list[dict[str, Any]] = kube.request(
        "GET", discovery.own(kind).path(namespace=namespace)
    )["items"]
    return found


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
