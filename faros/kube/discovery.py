"""Map apiVersion + kind to the API resource that serves it, with refresh on a miss.

Discovery is read lazily per group/version (``GET /api/v1``, ``GET /apis/<group>/<version>``)
and cached. A kind the cache does not know triggers a re-read of its group/version, at most
once per backoff period (1 s doubling to 60 s per group/version), so a CRD applied by the
same repository becomes usable without a restart and an unknown kind does not hammer the
API server.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from faros.api import names
from faros.kube import client, errors

MIN_BACKOFF = 1.0
MAX_BACKOFF = 60.0


@dataclasses.dataclass(frozen=True, slots=True)
class Resource:
    """One API resource: how to address objects of a kind."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    verbs: frozenset[str]

    @property
    def api_version(self) -> str:
        """``v1`` or ``<group>/<version>``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str = "", name: str = "", subresource: str = "") -> str:
        """The REST path of the collection, or of one object (and a subresource)."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        if subresource:
            base += f"/{subresource}"
        return base


@dataclasses.dataclass(slots=True)
class _Entry:
    kinds: dict[str, Resource]
    fetched_at: float
    backoff: float


class Discovery:
    """A thread-safe, lazily filled discovery cache."""

    def __init__(self, kube: client.Kube, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._kube = kube
        self._clock = clock
        self._cache: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def resource(self, api_version: str, kind: str) -> Resource | None:
        """The resource serving ``kind`` in ``api_version``, or None when the server has none.

        A miss re-reads the group/version when its backoff has passed.
        """
        with self._lock:
            entry = self._cache.get(api_version)
            if entry is not None and kind in entry.kinds:
                return entry.kinds[kind]
            now = self._clock()
            if entry is not None and now - entry.fetched_at < entry.backoff:
                return None
            kinds = self._fetch(api_version)
            backoff = MIN_BACKOFF
            if entry is not None and kind not in kinds:
                backoff = min(entry.backoff * 2, MAX_BACKOFF)
            self._cache[api_version] = _Entry(kinds=kinds, fetched_at=now, backoff=backoff)
            return kinds.get(kind)

    def forget(self, api_version: str) -> None:
        """Drop one group/version so the next lookup reads it again."""
        with self._lock:
            self._cache.pop(api_version, None)

    def _fetch(self, api_version: str) -> dict[str, Resource]:
        group, _, version = api_version.rpartition("/")
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        try:
            listing: dict[str, Any] = self._kube.request("GET", path)
        except errors.NotFound:
            return {}
        kinds: dict[str, Resource] = {}
        for item in listing.get("resources", []):
            if "/" in item["name"]:  # subresources such as deployments/status
                continue
            kinds.setdefault(
                item["kind"],
                Resource(
                    group=group,
                    version=version,
                    kind=item["kind"],
                    plural=item["name"],
                    namespaced=bool(item.get("namespaced")),
                    verbs=frozenset(item.get("verbs", [])),
                ),
            )
        return kinds


def own(kind: str) -> Resource:
    """The resource of one of Faros's own kinds (GitTrack, GitTrackObject, ...)."""
    return Resource(
        group=names.GROUP,
        version=names.VERSION,
        kind=kind,
        plural=names.PLURALS[kind],
        namespaced=names.NAMESPACED[kind],
        verbs=frozenset({"get", "list", "watch", "create", "update", "patch", "delete"}),
    )
