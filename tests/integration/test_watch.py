"""A list-then-watch loop reports every object and change, across re-watches and relists."""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from faros.api import names
from faros.kube import client, errors, watch
from tests.harness.wait import eventually

LABELS = {"faros-test": "watch"}
SELECTOR = "faros-test=watch"

Event = tuple[str, str]


def configmaps(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps"


def create(kube: client.Kube, namespace: str, name: str) -> None:
    body = {"metadata": {"name": name, "labels": LABELS}, "data": {"n": "0"}}
    kube.request("POST", configmaps(namespace), body=body)


def make_watcher(
    kube: client.Kube, path: str, events: list[Event], **options: Any
) -> watch.Watcher:
    """A watcher that records (kind, name) pairs; configmaps of these tests by default."""

    def on_event(kind: str, obj: dict[str, Any]) -> None:
        events.append((kind, obj["metadata"]["name"] if obj else ""))

    options.setdefault("label_selector", SELECTOR)
    return watch.Watcher(kube, path, on_event=on_event, stop=threading.Event(), **options)


@contextlib.contextmanager
def running(watcher: watch.Watcher) -> Iterator[threading.Thread]:
    """Run ``watcher`` in a thread; stop it and make sure it ended."""
    watcher.stop.clear()
    thread = threading.Thread(target=watcher.run, name="test-watch", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        watcher.stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive(), "the watcher did not stop"


def synced(events: list[Event], count: int = 1) -> None:
    assert events.count(("SYNCED", "")) >= count, events


def seen(events: list[Event], event: Event) -> None:
    assert event in events, events


def more(count: Callable[[], int], before: int) -> None:
    assert count() > before, (count(), before)


def test_existing_objects_then_changes_are_reported_in_order(kube: client.Kube, namespace: str):
    create(kube, namespace, "a")
    create(kube, namespace, "b")
    events: list[Event] = []
    watcher = make_watcher(kube, configmaps(namespace), events)

    with running(watcher):
        eventually(lambda: synced(events), timeout=10)
        create(kube, namespace, "c")
        kube.request(
            "PATCH",
            f"{configmaps(namespace)}/c",
            body={"data": {"n": "1"}},
            content_type=client.MERGE_PATCH,
        )
        kube.request("DELETE", f"{configmaps(namespace)}/c")
        eventually(lambda: seen(events, ("DELETED", "c")), timeout=10)

    assert sorted(events[:2]) == [("ADDED", "a"), ("ADDED", "b")]
    assert events[2:] == [("SYNCED", ""), ("ADDED", "c"), ("MODIFIED", "c"), ("DELETED", "c")]
    assert set(watcher.known) == {(namespace, "a"), (namespace, "b")}


def test_a_list_reports_each_object_as_kept_page_by_page(
    kube: client.Kube, namespace: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(watch, "PAGE_SIZE", 2)  # three pages
    for name in ("a", "b", "c", "d", "unkept"):
        create(kube, namespace, name)
    reported: list[dict[str, Any]] = []

    def keep(obj: dict[str, Any]) -> dict[str, Any] | None:
        meta = obj["metadata"]
        if meta["name"] == "unkept":
            return None
        return {"metadata": {"namespace": meta["namespace"], "name": meta["name"]}}

    watcher = watch.Watcher(
        kube, configmaps(namespace), on_event=lambda _, obj: reported.append(obj),
        stop=threading.Event(), label_selector=SELECTOR, keep=keep,
    )  # fmt: skip
    with running(watcher):
        eventually(lambda: _has_synced(reported), timeout=10)

    listed = {obj["metadata"]["name"]: obj for obj in reported if obj}
    assert set(listed) == {"a", "b", "c", "d", "unkept"}
    assert listed["a"] == {"metadata": {"namespace": namespace, "name": "a"}}  # as kept
    assert listed["unkept"]["data"] == {"n": "0"}  # not held: reported whole
    assert set(watcher.known) == {(namespace, name) for name in "abcd"}


def _has_synced(reported: list[dict[str, Any]]) -> None:
    assert {} in reported


def gittracks(namespace: str) -> str:
    return f"/apis/{names.API_VERSION}/namespaces/{namespace}/{names.GITTRACKS}"


def create_gittrack(kube: client.Kube, namespace: str, name: str) -> None:
    spec = {"repository": "file:///nowhere", "reference": "main"}
    body = {"apiVersion": names.API_VERSION, "kind": names.GITTRACK, "metadata": {"name": name}}
    kube.request("POST", gittracks(namespace), body=body | {"spec": spec})


def test_too_old_resource_version_relists_and_reports_deletions(
    kube: client.Kube, namespace: str, caplog: pytest.LogCaptureFixture
):
    # A custom resource: its watch cache starts when its CRD is installed, so the server
    # answers a watch from resourceVersion 1 with "too old resource version" (410). A
    # built-in kind's cache starts with the server and may still hold that far back.
    for name in ("a", "b", "c"):
        create_gittrack(kube, namespace, name)
    events: list[Event] = []
    watcher = make_watcher(kube, gittracks(namespace), events, label_selector="")
    with running(watcher):
        eventually(lambda: synced(events), timeout=10)
    # While nobody watches: one object goes, one comes, and the watcher's place is lost.
    kube.request("DELETE", f"{gittracks(namespace)}/b")
    create_gittrack(kube, namespace, "d")
    watcher.resource_version = "1"
    events.clear()

    with caplog.at_level(logging.INFO, logger=watch.__name__), running(watcher):
        eventually(lambda: synced(events), timeout=10)

    assert events[-1] == ("SYNCED", "")
    assert sorted(events[:-1]) == [("ADDED", "a"), ("ADDED", "c"), ("ADDED", "d"), ("DELETED", "b")]
    assert "watch expired, relisting" in caplog.messages
    assert set(watcher.known) == {(namespace, name) for name in ("a", "c", "d")}


def test_server_side_timeout_rewatches_without_losing_events(
    kube: client.Kube, namespace: str, caplog: pytest.LogCaptureFixture
):
    events: list[Event] = []
    watcher = make_watcher(kube, configmaps(namespace), events, timeout_seconds=2)

    def rewatches() -> int:
        return caplog.messages.count("watch ended")

    with caplog.at_level(logging.DEBUG, logger=watch.__name__), running(watcher):
        eventually(lambda: synced(events), timeout=10)
        created: list[str] = []
        for round_ in range(3):  # each round's objects are created while a new stream runs
            before = rewatches()
            for index in range(3):
                created.append(f"r{round_}-{index}")
                create(kube, namespace, created[-1])
            eventually(functools.partial(more, rewatches, before), timeout=10)
        eventually(lambda: seen(events, ("ADDED", created[-1])), timeout=10)

    assert rewatches() >= 3
    assert events == [("SYNCED", "")] + [("ADDED", name) for name in created]


def test_stop_is_honoured_while_the_stream_is_idle(kube: client.Kube, namespace: str):
    events: list[Event] = []
    watcher = make_watcher(kube, configmaps(namespace), events, timeout_seconds=300)

    with running(watcher) as thread:
        eventually(lambda: synced(events), timeout=10)
        time.sleep(0.5)  # let the watch stream open and go quiet
        started = time.monotonic()
        watcher.stop.set()
        thread.join(timeout=5)
        elapsed = time.monotonic() - started

    assert elapsed < 2.0


def test_dead_connection_is_noticed_and_watched_again(
    kube: client.Kube, namespace: str, caplog: pytest.LogCaptureFixture
):
    # A read timeout shorter than the server's silence stands in for a cut connection.
    events: list[Event] = []
    watcher = make_watcher(
        kube, configmaps(namespace), events, read_timeout=0.5, backoff=(0.1, 0.2)
    )

    def timed_out() -> None:
        warnings = [r for r in caplog.records if r.getMessage() == "watch failed, retrying"]
        assert any(getattr(r, "status", None) == 0 for r in warnings), caplog.messages

    with caplog.at_level(logging.WARNING, logger=watch.__name__), running(watcher):
        eventually(lambda: synced(events), timeout=10)
        eventually(timed_out, timeout=10)
        create(kube, namespace, "late")
        eventually(lambda: seen(events, ("ADDED", "late")), timeout=10)

    assert events == [("SYNCED", ""), ("ADDED", "late")]


def crd(group: str) -> dict[str, Any]:
    schema = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": schema},
                }
            ],
        },
    }


CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def established(kube: client.Kube, name: str) -> None:
    conditions = kube.request("GET", f"{CRDS}/{name}").get("status", {}).get("conditions") or []
    assert ("Established", "True") in [(c["type"], c["status"]) for c in conditions], conditions


def test_collection_served_later_is_retried_then_watched(
    kube: client.Kube, namespace: str, caplog: pytest.LogCaptureFixture
):
    group = f"w{secrets.token_hex(4)}.faros-test.example"
    path = f"/apis/{group}/v1/namespaces/{namespace}/widgets"
    events: list[Event] = []
    watcher = make_watcher(kube, path, events, label_selector="", backoff=(0.1, 0.5))
    name = f"widgets.{group}"

    def retried() -> None:
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert any(getattr(r, "status", None) == 404 for r in warnings), caplog.messages

    try:
        with caplog.at_level(logging.WARNING, logger=watch.__name__), running(watcher):
            eventually(retried, timeout=10)
            kube.request("POST", CRDS, body=crd(group))
            eventually(lambda: established(kube, name), timeout=30)
            eventually(lambda: synced(events), timeout=30)
            widget = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "w"}}
            kube.request("POST", path, body=widget)
            eventually(lambda: seen(events, ("ADDED", "w")), timeout=10)
    finally:
        with contextlib.suppress(errors.NotFound):
            kube.request("DELETE", f"{CRDS}/{name}")

    assert "watched collection not available, retrying" in caplog.messages
    assert ("SYNCED", "") in events
    assert events[-1] == ("ADDED", "w")
