"""The API server's OpenAPI v3 documents, indexed for strategic merge patch, fetched once.

``/openapi/v3`` lists one document per group/version with a content hash in its URL; a
document is downloaded the first time one of its kinds is applied and again only when that
hash changes (a CRD or an aggregated API was installed), never per update. The list itself
is re-read at most once a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from faros.core import patchmeta
from faros.kube import client


class OpenAPI:
    """Thread-safe cache of ``patchmeta.Catalog`` per group/version."""

    def __init__(
        self, kube: client.Kube, *, clock: Callable[[], float] = time.monotonic, ttl: float = 60
    ) -> None:
        self._kube = kube
        self._clock = clock
        self._ttl = ttl
        self._index: tuple[float, dict[str, Any]] | None = None
        self._catalogs: dict[str, tuple[str, patchmeta.Catalog]] = {}
        self._lock = threading.Lock()

    def schema(self, *, group: str, version: str, kind: str) -> patchmeta.Schema | None:
        """The patch schema of a built-in kind; None for kinds without strategic merge."""
        key = f"apis/{group}/{version}" if group else f"api/{version}"
        with self._lock:
            now = self._clock()
            if self._index is None or now - self._index[0] > self._ttl:
                self._index = (now, self._kube.request("GET", "/openapi/v3"))
            index = self._index[1]
            url = str(index.get("paths", {}).get(key, {}).get("serverRelativeURL", ""))
            if not url:
                return None
            cached = self._catalogs.get(key)
            if cached is None or cached[0] != url:
                document = self._kube.request("GET", url.split("?")[0], query=_query(url))
                cached = (url, patchmeta.index(document))
                self._catalogs[key] = cached
        return cached[1].root(patchmeta.GroupVersionKind(group, version, kind))


def _query(url: str) -> dict[str, str]:
    _, _, text = url.partition("?")
    pairs = (item.partition("=") for item in text.split("&") if item)
    return {name: value for name, _, value in pairs}
