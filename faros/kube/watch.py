"""List-then-watch one collection of the Kubernetes API over raw JSON, until told to stop.

A :class:`Watcher` lists a collection page by page, reports every object as ``ADDED`` and then
``SYNCED``, and follows the watch stream from the list's resourceVersion. When the server ends
a stream it watches again from the last resourceVersion it saw (bookmarks included); when
that resourceVersion is too old (410) it lists again and, because it remembers every object it
reported, also reports as ``DELETED`` the objects that went away while it was not watching.
Transient failures (network, read timeouts, 5xx, a collection not served or not allowed yet)
are logged and retried with exponential backoff.

I/O: GET requests through :class:`faros.kube.client.Kube`; it never writes. ``on_event`` runs
in the thread that called :meth:`Watcher.run`, in the order the server sent the events.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import urllib3

from faros.core import redact
from faros.kube import client, errors

logger = logging.getLogger(__name__)

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
SYNCED = "SYNCED"

PAGE_SIZE = 500
CONNECT_TIMEOUT = 10.0
LIST_TIMEOUT = 60.0
# A read timeout must not fire on a healthy idle stream: the server ends it after
# ``timeout_seconds``, so a dead connection is noticed this long after that.
READ_MARGIN = 30.0
# How often the guard thread looks at ``stop`` while ``run`` is going.
POLL_INTERVAL = 0.2
READ_SIZE = 65536

Key = tuple[str, str]
"""(namespace, name) of an object; the namespace is "" for cluster-scoped objects."""

EventHandler = Callable[[str, dict[str, Any]], None]


class Watcher:
    """Report the objects of one collection and their changes to ``on_event(kind, obj)``.

    ``kind`` is ``ADDED``, ``MODIFIED`` or ``DELETED`` with the object as the server sent it,
    or ``SYNCED`` with ``{}`` once after each complete (re)list, so a caller can reconcile.
    Bookmarks only move the resourceVersion and are not reported.
    """

    def __init__(
        self,
        kube: client.Kube,
        path: str,
        *,
        on_event: EventHandler,
        stop: threading.Event,
        label_selector: str = "",
        field_selector: str = "",
        timeout_seconds: int = 300,
        read_timeout: float | None = None,
        backoff: tuple[float, float] = (1.0, 30.0),
        name: str = "",
        resource_version: str = "",
        metadata_only: bool = False,
        keep: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None,
    ) -> None:
        """Prepare a watch of ``path``, a collection such as ``/api/v1/namespaces/ns/pods``.

        ``timeout_seconds`` is the server-side length of one watch stream; ``read_timeout``
        (default ``timeout_seconds`` + 30 s) the longest silence before the connection is
        considered dead. ``backoff`` is (first, longest) wait after a failure. A non-empty
        ``resource_version`` starts with a watch from there instead of a list.
        ``metadata_only`` asks the server for each object's metadata alone (a
        ``PartialObjectMetadata``: no spec, no status, no Secret data), and ``keep`` reduces an
        object to what ``known`` needs to hold (it must keep namespace and name), or None for
        an object not worth holding (still reported, never reported again as deleted). A
        list reports each object as ``keep`` reduced it (whole when not held); a watch event
        reports it as the server sent it.
        """
        self.kube = kube
        self.path = path
        self.on_event = on_event
        self.stop = stop
        selectors = {"labelSelector": label_selector, "fieldSelector": field_selector}
        self.selectors = {key: value for key, value in selectors.items() if value}
        self.timeout_seconds = timeout_seconds
        self.read_timeout = timeout_seconds + READ_MARGIN if read_timeout is None else read_timeout
        self.backoff = backoff
        self.name = name or path
        self.resource_version = resource_version
        """The last resourceVersion seen; "" means the next step lists."""
        self.accept = (client.METADATA_LIST, client.METADATA) if metadata_only else None
        self.keep: Callable[[dict[str, Any]], dict[str, Any] | None] = keep or (lambda obj: obj)
        self.known: dict[Key, dict[str, Any]] = {}
        """Every object reported and not deleted since, as last seen."""
        self.synced = False
        """True once a complete list was reported: ``known`` then holds the collection."""
        self._delay = backoff[0]
        self._response: urllib3.BaseHTTPResponse | None = None
        self._lock = threading.Lock()

    def run(self) -> None:
        """Watch until ``stop`` is set, and return within about a second of it.

        It may run again after returning (once ``stop`` is cleared): it resumes from
        ``resource_version`` and ``known``. An exception raised by ``on_event`` ends it.
        """
        finished = threading.Event()
        guard = threading.Thread(
            target=self._guard, args=(finished,), name=f"watch-guard-{self.name}", daemon=True
        )
        guard.start()
        try:
            while not self.stop.is_set():
                self._step()
        finally:
            finished.set()
            guard.join()

    def _step(self) -> None:
        """List if needed, then follow one watch stream; log and wait after a failure."""
        listing = not self.resource_version
        try:
            if listing:
                self._list()
            self._watch()
        except errors.Gone as error:
            logger.info("watch expired, relisting", extra=self._fields(error))
            self.resource_version = ""
            if listing:  # the list itself expired (a stale continue token): do not spin
                self._pause(error)
        except errors.ApiError as error:
            if not self.stop.is_set():
                self._pause(error)

    def _pause(self, error: errors.ApiError) -> None:
        """Log a failure, then wait (exponential backoff, cut short by ``stop``)."""
        if isinstance(error, errors.NotFound | errors.Forbidden):
            message = "watched collection not available, retrying"  # CRD or RBAC may come later
        else:
            message = "watch failed, retrying"
        logger.warning(message, extra=self._fields(error) | {"retry_in": self._delay})
        self.stop.wait(self._delay)
        self._delay = min(self._delay * 2, self.backoff[1])

    def _list(self) -> None:
        """List the whole collection, then report it against what was known before.

        Each page is reduced by ``keep`` as it arrives, and its objects are reported as kept:
        a relist of 10,000 GitTrackObjects never holds them whole at once.
        """
        listed: list[dict[str, Any]] = []
        fresh: dict[Key, dict[str, Any]] = {}
        query: dict[str, str | int | bool] = {"limit": PAGE_SIZE, **self.selectors}
        while True:
            page = self._get(query)
            for obj in _complete(page):
                key, held = _key(obj), self.keep(obj)
                if held is not None:
                    fresh[key] = held
                listed.append(obj if held is None else held)
            metadata = page.get("metadata") or {}
            if not metadata.get("continue"):
                break
            query["continue"] = metadata["continue"]
            del page
        gone = [obj for key, obj in self.known.items() if key not in fresh]
        self.known = fresh
        self.resource_version = str(metadata.get("resourceVersion", ""))
        self._delay = self.backoff[0]
        logger.debug("listed", extra=self._fields() | {"objects": len(listed), "gone": len(gone)})
        for obj in listed:
            self.on_event(ADDED, obj)
        for obj in gone:
            self.on_event(DELETED, obj)
        self.synced = True
        self.on_event(SYNCED, {})

    def _get(self, query: dict[str, str | int | bool]) -> dict[str, Any]:
        """Fetch one list page (the client leaves errors while reading the body unwrapped)."""
        try:
            page: dict[str, Any] = self.kube.request(
                "GET", self.path, query=query, timeout=LIST_TIMEOUT,
                accept=self.accept[0] if self.accept else client.JSON,
            )  # fmt: skip
        except (urllib3.exceptions.HTTPError, OSError, ValueError) as error:
            raise errors.Unavailable(status=0, reason="", message=str(error)) from error
        return page

    def _watch(self) -> None:
        """Follow one watch stream from ``resource_version`` until the server ends it."""
        query: dict[str, str | int | bool] = {
            "watch": 1,
            "resourceVersion": self.resource_version,
            "allowWatchBookmarks": True,
            "timeoutSeconds": self.timeout_seconds,
            **self.selectors,
        }
        timeout = (CONNECT_TIMEOUT, self.read_timeout)
        accept = self.accept[1] if self.accept else client.JSON
        response = self.kube.open("GET", self.path, query=query, timeout=timeout, accept=accept)
        with self._lock:
            self._response = response
        ended = False
        try:
            for event in _events(response):
                if self.stop.is_set():
                    return
                self._handle(event)
            ended = True
        finally:
            with self._lock:
                self._response = None
            if not ended:  # the connection is mid-stream: it cannot be reused
                response.close()
            response.release_conn()
        self._delay = self.backoff[0]
        logger.debug(
            "watch ended", extra=self._fields() | {"resource_version": self.resource_version}
        )

    def _handle(self, event: dict[str, Any]) -> None:
        """Apply one watch event to ``known`` and report it."""
        kind = str(event.get("type", ""))
        obj: dict[str, Any] = event.get("object") or {}
        if kind == "ERROR":  # a Status: 410 for a too old resourceVersion
            raise errors.from_response(int(obj.get("code") or 500), json.dumps(obj).encode())
        version = (obj.get("metadata") or {}).get("resourceVersion")
        if version:
            self.resource_version = str(version)
        if kind == "BOOKMARK":
            return
        if kind in (ADDED, MODIFIED):
            held = self.keep(obj)
            if held is None:
                self.known.pop(_key(obj), None)
            else:
                self.known[_key(obj)] = held
        elif kind == DELETED:
            self.known.pop(_key(obj), None)
        else:
            logger.warning("unknown watch event ignored", extra=self._fields() | {"type": kind})
            return
        self.on_event(kind, obj)

    def _guard(self, finished: threading.Event) -> None:
        """Cut the open stream once ``stop`` is set (an idle read would last ``read_timeout``)."""
        while not finished.wait(POLL_INTERVAL):
            if self.stop.is_set():
                with self._lock, contextlib.suppress(OSError, ValueError, RuntimeError):
                    if self._response is not None:
                        self._response.shutdown()

    def _fields(self, error: errors.ApiError | None = None) -> dict[str, object]:
        fields: dict[str, object] = {"watch": self.name, "path": self.path}
        if error is not None:
            fields |= {"status": error.status, "error": redact.message(str(error))}
        return fields


def _events(response: urllib3.BaseHTTPResponse) -> Iterator[dict[str, Any]]:
    """Decode a newline-delimited JSON stream, each event as soon as its line is complete.

    Raises:
        errors.Unavailable: the connection broke, timed out, or sent something not JSON.
    """
    pending = bytearray()
    while True:
        try:
            chunk = response.read1(READ_SIZE)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise errors.Unavailable(status=0, reason="", message=str(error)) from error
        if not chunk:
            break
        start = len(pending)
        pending += chunk
        while (end := pending.find(b"\n", start)) >= 0:
            line = bytes(pending[:end])
            del pending[: end + 1]
            start = 0
            if line.strip():
                yield _decode(line)
    if pending.strip():
        yield _decode(bytes(pending))


def _decode(line: bytes) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except ValueError as error:
        raise errors.Unavailable(status=0, reason="", message="garbled watch event") from error
    if not isinstance(event, dict):
        raise errors.Unavailable(status=0, reason="", message="watch event is not an object")
    return event


def _complete(page: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a list page's items with ``apiVersion`` and ``kind``, as watch events have them.

    Built-in kinds leave both out of list items; callers route objects by kind.
    """
    kind = str(page.get("kind", ""))
    kind = kind.removesuffix("List")
    items: list[dict[str, Any]] = page.get("items") or []
    for item in items:
        item.setdefault("apiVersion", page.get("apiVersion", ""))
        item.setdefault("kind", kind)
    return items


def _key(obj: dict[str, Any]) -> Key:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace", "")), str(metadata.get("name", ""))
