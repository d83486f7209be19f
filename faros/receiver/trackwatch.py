"""The GitTrack and ClusterGitTrack watches of ``faros receiver``: what pushes are matched
against, held in memory (no LIST per delivery), under the same modes and scope as the
watchers."""

from __future__ import annotations

import threading
from typing import Any

from faros import config
from faros.api import names
from faros.core import routing
from faros.kube import client, discovery, watch


class TrackWatches:
    """One list-then-watch thread per handled kind; :meth:`cached` reads what they hold."""

    def __init__(self, kube: client.Kube, *, settings: config.Settings, stop: threading.Event):
        kinds = []
        if settings.gittrack_mode is names.GitTrackMode.ENABLED:
            kinds.append(names.GITTRACK)
        if settings.clustergittrack_mode is not names.ClusterGitTrackMode.DISABLED:
            kinds.append(names.CLUSTERGITTRACK)
        self.watchers: dict[str, watch.Watcher] = {}
        for kind in kinds:
            path = discovery.own(kind).path(namespace=settings.namespace)
            self.watchers[kind] = watch.Watcher(
                kube, path, on_event=_ignore, stop=stop, name=f"receiver-{kind}",
                keep=routing.own_kept,
            )  # fmt: skip
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the watch threads."""
        for kind, watcher in self.watchers.items():
            thread = threading.Thread(target=watcher.run, name=f"watch-{kind}", daemon=True)
            thread.start()
            self.threads.append(thread)

    def cached(self, kind: str) -> list[dict[str, Any]]:
        """Every object of ``kind`` as last seen ([] when that kind is not watched)."""
        watcher = self.watchers.get(kind)
        return [] if watcher is None else list(watcher.known.values())

    def healthy(self) -> bool:
        """True once every watch listed its kind, while every watch thread runs."""
        alive = bool(self.threads) and all(thread.is_alive() for thread in self.threads)
        return alive and all(watcher.synced for watcher in self.watchers.values())

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the watch threads (after the stop event was set)."""
        for thread in self.threads:
            thread.join(timeout=timeout)


def _ignore(event: str, obj: dict[str, Any]) -> None:
    """The watchers keep ``known`` themselves; no event needs handling here."""
