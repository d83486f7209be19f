"""The watchers of `faros watch` and `faros run`: re-check from their caches, health, races.

Against the real API server; the work they queue is recorded instead of sent (the queueing
itself is tested in test_dispatch.py and end to end in the scenarios).
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from typing import Any

from faros import config
from faros.api import names
from faros.core import identity, recheck, routing, syncplan
from faros.kube import client
from faros.watchers import runner
from tests.harness import gitrepos, gtos
from tests.harness.git_servers import Transport
from tests.harness.gtos import Objects
from tests.harness.wait import eventually


class Recorded:
    """A dispatcher that remembers what it was asked to queue."""

    def __init__(self) -> None:
        self.applies: list[identity.ObjectKey] = []
        self.syncs: list[identity.ObjectKey] = []
        self.refreshes: list[identity.ObjectKey] = []
        self.forced: list[bool] = []
        """Per apply: queued even while one is pending (``Dispatcher.apply(force=True)``)."""

    def sync(self, key: identity.ObjectKey) -> bool:
        self.syncs.append(key)
        return True

    def apply(self, key: identity.ObjectKey, *, force: bool = False) -> bool:
        self.applies.append(key)
        self.forced.append(force)
        return True

    def refresh(self, key: identity.ObjectKey) -> bool:
        self.refreshes.append(key)
        return True


class NoSchedule:
    def upsert(self, key, *, period) -> None: ...

    def delete(self, key) -> None: ...

    def reconcile(self, keys, *, period) -> None: ...


def nothing_noted(keys):
    return [None] * len(keys)


def watchers(
    kube, cluster, namespace: str, *extra: str, noted=nothing_noted
) -> tuple[runner.Watchers, Recorded]:
    _, settings = config.parse(
        ["watch", f"--kubeconfig={cluster.kubeconfig}", f"--namespace={namespace}",
         "--clustergittrack-mode=Disabled", "--sync-period=60s", *extra], {},
    )  # fmt: skip
    recorded = Recorded()
    made = runner.Watchers(settings=settings, kube=kube, schedule=NoSchedule(),
                           dispatcher=recorded, stop=threading.Event(),
                           noted=noted)  # fmt: skip
    return made, recorded


def configmap(namespace: str, name: str = "web", value: str = "blue") -> dict[str, Any]:
    metadata = {"name": name, "namespace": namespace}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": {"colour": value}}  # fmt: skip


def everything_due(made: runner.Watchers) -> int:
    """Run the re-check over a window of a whole period: every object is due."""
    now = time.time()
    return made.check_due(since=now - made.period.total_seconds() - 1, until=now)


def child_watch_synced(made: runner.Watchers, kind: tuple[str, str]) -> None:
    running = made._children.get(kind)
    assert running is not None, made._children
    assert running.watcher.synced


def test_the_recheck_queues_only_moved_or_missing_children(kube, cluster, rt, namespace):
    objects = Objects(kube, rt)
    gto = objects.apply(objects.put(configmap(namespace), namespace=namespace))
    key = identity.gto_key(namespace=namespace, name=gto["metadata"]["name"])
    made, recorded = watchers(kube, cluster, namespace, noted=rt.locks.noted)
    made.start()
    try:
        eventually(lambda: child_watch_synced(made, ("v1", "ConfigMap")), timeout=20)
        recorded.applies.clear()  # the ADDED event of the GitTrackObject

        assert everything_due(made) == 0, "in sync and unmoved since the apply: nothing to do"

        path = f"/api/v1/namespaces/{namespace}/configmaps/web"
        moved = kube.request("PATCH", path, body={"data": {"colour": "red"}},
                             content_type=client.MERGE_PATCH)  # fmt: skip
        eventually(lambda: _cached_version(made, namespace, moved), timeout=20)
        eventually(lambda: _queued(recorded, key), timeout=20)
        recorded.applies.clear()  # the drift's own event (which a lost message would lose)
        assert everything_due(made) == 1
        assert recorded.applies == [key]

        kube.request("DELETE", path)
        eventually(lambda: _cached_version(made, namespace, None), timeout=20)
        eventually(lambda: _queued(recorded, key), timeout=20)
        recorded.applies.clear()
        assert everything_due(made) == 1
        assert recorded.applies == [key]
    finally:
        made.shutdown()


def test_the_recheck_trusts_a_pending_apply_of_a_new_object_but_not_of_a_drift(
    kube, cluster, rt, namespace
):
    objects = Objects(kube, rt)
    fresh = objects.put(configmap(namespace), namespace=namespace)  # written, not applied yet
    key = identity.gto_key(namespace=namespace, name=fresh["metadata"]["name"])
    made, recorded = watchers(kube, cluster, namespace, noted=rt.locks.noted)
    made.start()
    try:
        eventually(lambda: _queued(recorded, key), timeout=20)  # by its ADDED event
        recorded.applies.clear()
        recorded.forced.clear()
        assert everything_due(made) == 1
        # not applied: its own event queued an apply, which a pending key stands for (a
        # backlog of 4,000 new objects is not queued twice)
        assert list(zip(recorded.applies, recorded.forced, strict=True)) == [(key, False)]

        objects.apply(fresh)
        eventually(lambda: child_watch_synced(made, ("v1", "ConfigMap")), timeout=20)
        path = f"/api/v1/namespaces/{namespace}/configmaps/web"
        moved = kube.request("PATCH", path, body={"data": {"colour": "red"}},
                             content_type=client.MERGE_PATCH)  # fmt: skip
        eventually(lambda: _cached_version(made, namespace, moved), timeout=20)
        eventually(lambda: _queued(recorded, key), timeout=20)
        recorded.applies.clear()
        recorded.forced.clear()
        assert everything_due(made) == 1
        # drift: the one event may have been lost with its message, pending key or not (an
        # event of the apply's or the patch's may still queue one beside it, never forced)
        assert (key, True) in zip(recorded.applies, recorded.forced, strict=True)
        assert recorded.forced.count(True) == 1
    finally:
        made.shutdown()


def test_child_watches_hold_metadata_only_and_skip_the_applys_own_writes(
    kube, cluster, rt, namespace
):
    objects = Objects(kube, rt)
    secret = {"apiVersion": "v1", "kind": "Secret",
              "metadata": {"name": "token", "namespace": namespace},
              "stringData": {"password": "hunter2-never-held"}}  # fmt: skip
    gto = objects.apply(objects.put(secret, namespace=namespace))
    key = identity.gto_key(namespace=namespace, name=gto["metadata"]["name"])
    made, recorded = watchers(kube, cluster, namespace, noted=rt.locks.noted)
    made.start()
    try:
        eventually(lambda: child_watch_synced(made, ("v1", "Secret")), timeout=20)
        held = made._children[("v1", "Secret")].watcher.known[(namespace, "token")]
        assert "hunter2" not in str(held)
        assert set(held) == {"metadata"}
        # the GitTrackObjects are held but for their managedFields (read by nothing) and the
        # manifest they hold, of which only the child's identity is kept
        (cached,) = made.cached(names.GITTRACKOBJECT)
        assert "hunter2" in base64.b64decode(gto["spec"]["data"]).decode()
        assert "hunter2" not in str(cached) + base64.b64decode(cached["spec"]["data"]).decode()
        assert syncplan.held_child(cached) == syncplan.held_child(gto)
        assert routing.progress(cached) == routing.progress(gto) == ("applied", "True")
        assert "managedFields" in gto["metadata"]
        assert "managedFields" not in cached["metadata"]
        live = kube.request("GET", f"/api/v1/namespaces/{namespace}/secrets/token")
        recorded.applies.clear()

        made._on_child("Secret.v1", "MODIFIED", live)  # the apply's own write, as noted
        assert recorded.applies == []
        live["metadata"]["resourceVersion"] = "1"  # someone else's change
        made._on_child("Secret.v1", "MODIFIED", live)
        assert recorded.applies == [key]
    finally:
        made.shutdown()


def test_the_recheck_is_spread_over_the_period(kube, cluster, rt, namespace):
    objects = Objects(kube, rt)
    for index in range(3):
        objects.put(configmap(namespace, f"cm-{index}"), namespace=namespace)  # never applied
    made, recorded = watchers(kube, cluster, namespace)
    made.start()
    try:
        eventually(lambda: child_watch_synced(made, ("v1", "ConfigMap")), timeout=20)
        recorded.applies.clear()
        period = made.period.total_seconds()
        slots = sorted(
            recheck.offset(identity.gto_key(namespace=namespace, name=f"configmap-cm-{i}"),
                           period=period)
            for i in range(3)
        )  # fmt: skip
        base = 10 * period  # a period boundary
        assert made.check_due(since=base, until=base + slots[0] - 0.01) == 0
        assert made.check_due(since=base + slots[0] - 0.01, until=base + slots[1] + 0.01) == 2
        assert made.check_due(since=base + slots[1] + 0.01, until=base + period) == 1
    finally:
        made.shutdown()


def _queued(recorded: Recorded, key: identity.ObjectKey) -> None:
    assert key in recorded.applies  # the event's own apply was dispatched


def _cached_version(made: runner.Watchers, namespace: str, written: dict[str, Any] | None) -> None:
    live = made._children[("v1", "ConfigMap")].watcher.known.get((namespace, "web"))
    if written is None:
        assert live is None
    else:
        assert live is not None
        assert live["metadata"]["resourceVersion"] == written["metadata"]["resourceVersion"]


def test_health_stays_good_when_a_child_watch_is_no_longer_wanted(kube, cluster, rt, namespace):
    objects = Objects(kube, rt)
    gto = objects.put(configmap(namespace), namespace=namespace)
    made, _ = watchers(kube, cluster, namespace)
    made.start()
    try:
        eventually(lambda: child_watch_synced(made, ("v1", "ConfigMap")), timeout=20)
        assert made.healthy()

        kube.request("DELETE", f"/apis/{names.API_VERSION}/namespaces/{namespace}/"
                     f"gittrackobjects/{gto['metadata']['name']}")  # fmt: skip
        eventually(lambda: _not_watching(made, ("v1", "ConfigMap")), timeout=20)
        time.sleep(1.5)  # the stopped watch's thread ends
        assert made.healthy(), "a stopped child watch is not wanted: still healthy"
    finally:
        made.shutdown()


def _not_watching(made: runner.Watchers, kind: tuple[str, str]) -> None:
    assert kind not in made._children


def test_starting_and_stopping_child_watches_from_two_threads_never_loses_a_kind(
    kube, cluster, namespace
):
    """GitTrackObject and ClusterGitTrackObject watches run in two threads; both start and
    stop child watches. Interleave their events: the kinds watched must always end up
    exactly the kinds some GitTrackObject holds."""
    made, _ = watchers(kube, cluster, namespace)
    pinned = _gto_event(namespace, "pinned", "ConfigMap")
    made._on_gto(names.GITTRACKOBJECT, "ADDED", pinned)
    errors: list[BaseException] = []

    def churn(name: str) -> None:
        try:
            for _ in range(60):
                body = _gto_event(namespace, name, "Secret")
                made._on_gto(names.GITTRACKOBJECT, "ADDED", body)
                made._on_gto(names.GITTRACKOBJECT, "DELETED", body)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=churn, args=(f"churn-{n}",)) for n in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors
        assert set(made._children) == {("v1", "ConfigMap")}
        assert made.healthy()
        made._on_gto(names.GITTRACKOBJECT, "ADDED", _gto_event(namespace, "last", "Secret"))
        assert set(made._children) == {("v1", "ConfigMap"), ("v1", "Secret")}
    finally:
        made.shutdown()


def _gto_event(namespace: str, name: str, kind: str) -> dict[str, Any]:
    """A GitTrackObject as a watch event carries it (only what the routing reads)."""
    child = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    gto_name = f"{kind.lower()}-{name}"
    return {"apiVersion": names.API_VERSION, "kind": names.GITTRACKOBJECT,
            "metadata": {"name": gto_name, "namespace": namespace, "generation": 1},
            "spec": {"name": name, "kind": kind, "data": gtos.encode(child)}}  # fmt: skip


def test_a_child_event_that_outruns_the_applys_note_waits_for_it(kube, cluster, rt, namespace):
    """The watch event of an apply's write can arrive before the apply has noted the version it
    wrote (the apply notes ``WRITING`` first): it waits, and is dropped when it was that write,
    queued when it was anyone else's. Before, every such event queued a second apply."""
    objects = Objects(kube, rt)
    gto = objects.put(configmap(namespace), namespace=namespace)
    key = identity.gto_key(namespace=namespace, name=gto["metadata"]["name"])
    notes: dict[str, str] = {}
    made, recorded = watchers(kube, cluster, namespace,
                              noted=lambda keys: [notes.get(k) for k in keys])  # fmt: skip
    child = {"metadata": {"name": "web", "namespace": namespace, "resourceVersion": "41",
                          "ownerReferences": [{"apiVersion": names.API_VERSION,
                                               "kind": names.GITTRACKOBJECT, "controller": True,
                                               "name": key.name, "uid": "u"}]}}  # fmt: skip
    made._on_gto(names.GITTRACKOBJECT, "ADDED", gto)
    recorded.applies.clear()
    notes[identity.seen_key(key)] = recheck.WRITING
    made._on_child("ConfigMap.v1", "ADDED", child)
    assert made.settle() == 0, "the write is still being noted"
    assert recorded.applies == []
    notes[identity.seen_key(key)] = "41"
    assert made.settle() == 0, "it was the apply's own write"
    assert recorded.applies == []
    assert made._settling == {}

    notes[identity.seen_key(key)] = recheck.WRITING
    made._on_child(
        "ConfigMap.v1",
        "MODIFIED",
        {**child, "metadata": {**child["metadata"], "resourceVersion": "42"}},
    )
    notes[identity.seen_key(key)] = "43"  # the apply wrote 43: 42 was someone else's change
    assert made.settle() == 1
    assert recorded.applies == [key]


def test_the_applys_own_writes_queue_no_second_apply(kube, cluster, rt, namespace):
    """Against the real API server and Redis: 20 children created by their applies while the
    watchers run; the only applies queued are those of the GitTrackObjects' creation."""
    objects = Objects(kube, rt)
    made, recorded = watchers(kube, cluster, namespace, noted=rt.locks.noted)
    made.start()
    try:
        gtos = [objects.put(configmap(namespace, f"web-{i}"), namespace=namespace)
                for i in range(20)]  # fmt: skip
        keys = [identity.gto_key(namespace=namespace, name=g["metadata"]["name"]) for g in gtos]
        eventually(lambda: _all_queued(recorded, keys), timeout=20)
        recorded.applies.clear()
        for each in gtos:
            objects.apply(each)
        eventually(lambda: _children_seen(made, namespace, 20), timeout=20)
        time.sleep(1.0)  # any late event, and the settle loop's decisions
        assert recorded.applies == []
    finally:
        made.shutdown()


def _all_queued(recorded: Recorded, keys: list[identity.ObjectKey]) -> None:
    assert set(keys) <= set(recorded.applies)


def _children_seen(made: runner.Watchers, namespace: str, count: int) -> None:
    running = made._children.get(("v1", "ConfigMap"))
    assert running is not None
    assert len([k for k in running.watcher.known if k[0] == namespace]) == count


def test_children_collected_after_their_gittrackobject_queue_nothing(kube, cluster, rt, namespace):
    """A GitTrackObject deleted (GitTrack deleted, or left Git): the garbage collector then
    deletes its child. That deletion queues no apply: there is nothing left to apply. Before, a
    namespace of 10,000 objects being deleted queued 10,000 applies that found nothing."""
    objects = Objects(kube, rt)
    gto = objects.apply(objects.put(configmap(namespace), namespace=namespace))
    objects.apply(objects.put(configmap(namespace, "other"), namespace=namespace))  # keeps the
    made, recorded = watchers(kube, cluster, namespace, noted=rt.locks.noted)  # ConfigMap watch
    made.start()
    try:
        eventually(lambda: child_watch_synced(made, ("v1", "ConfigMap")), timeout=20)
        recorded.applies.clear()
        path = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittrackobjects"
        kube.request("DELETE", f"{path}/{gto['metadata']['name']}",
                     body={"propagationPolicy": "Background"})  # fmt: skip
        eventually(lambda: _cached_version(made, namespace, None), timeout=60)
        time.sleep(0.5)
        assert recorded.applies == []
    finally:
        made.shutdown()


def test_a_starting_watcher_queues_applies_only_for_what_is_not_applied(
    kube, cluster, rt, namespace
):
    """Restarting ``faros watch`` beside many objects in sync costs nothing: only a
    GitTrackObject whose status says it was not applied as it is gets its apply queued."""
    objects = Objects(kube, rt)
    applied = objects.apply(objects.put(configmap(namespace), namespace=namespace))
    pending = objects.put(configmap(namespace, "new"), namespace=namespace)  # never applied
    made, recorded = watchers(kube, cluster, namespace, noted=rt.locks.noted)
    made.start()
    try:
        eventually(lambda: child_watch_synced(made, ("v1", "ConfigMap")), timeout=20)
        time.sleep(0.5)
        names_queued = {key.name for key in recorded.applies}
        assert names_queued == {pending["metadata"]["name"]}
        assert applied["metadata"]["name"] not in names_queued
    finally:
        made.shutdown()


class FailingOnce(NoSchedule):
    """A schedule whose first write for ``key`` fails, as with Redis away at its event."""

    def __init__(self, key: identity.ObjectKey) -> None:
        self.key = key
        self.failed = False

    def upsert(self, key, *, period) -> None:
        if key == self.key and not self.failed:
            self.failed = True
            raise ConnectionError("redis away")


def test_a_sync_lost_with_its_event_is_queued_by_the_schedule_reconcile(
    kube, cluster, tracks, namespace
):
    made, recorded = watchers(kube, cluster, namespace)
    lost = tracks.create(reference="master", namespace=namespace)
    made.schedule = schedule = FailingOnce(lost)
    seen = tracks.create(reference="master", namespace=namespace)
    path = tracks.path(seen) + "/status"
    current = kube.request("GET", tracks.path(seen))
    counters = dict.fromkeys(["objectsDiscovered", "objectsApplied", "objectsIgnored",
                              "objectsInSync"], 0)  # fmt: skip
    kube.request("PATCH", path, body={"status": {**counters, "observedGeneration": 1}},
                 content_type=client.MERGE_PATCH)  # fmt: skip
    assert current["metadata"]["generation"] == 1
    made.start()
    try:
        # The event of one GitTrack failed (its sync was never queued); the other's was fine.
        eventually(lambda: _both_known(made, lost, seen), timeout=20)
        assert schedule.failed
        assert lost not in recorded.syncs
        recorded.syncs.clear()

        made.reconcile_entries()  # the first round sees its spec unseen: could be in flight
        assert recorded.syncs == []
        made.reconcile_entries()  # still unseen a round later: its sync is lost
        assert recorded.syncs == [lost]  # and never the one whose spec a sync saw
    finally:
        made.shutdown()


def _both_known(made: runner.Watchers, *keys: identity.ObjectKey) -> None:
    assert all(key in made._gittracks for key in keys), made._gittracks


def test_a_gittrackobject_applied_in_place_queues_no_apply_unless_that_apply_failed(
    kube, cluster, rt, namespace
):
    """A sync that applies the GitTrackObjects it writes marks each first: the watch event
    of the write waits for the status the sync's apply writes, and queues nothing. When that
    apply did not finish (the sync cleared the mark), the event queues an apply task."""
    objects = Objects(kube, rt)
    notes: dict[str, str] = {}  # the marks; the applies' own notes are in rt.locks

    def noted(keys):
        return [
            notes.get(key, value) for key, value in zip(keys, rt.locks.noted(keys), strict=True)
        ]

    made, recorded = watchers(kube, cluster, namespace, noted=noted)
    made.start()
    try:
        placed_key = identity.gto_key(namespace=namespace, name="configmap-placed")
        notes[identity.in_place_key(placed_key)] = recheck.IN_PLACE
        placed = objects.put(configmap(namespace, "placed"), namespace=namespace)
        eventually(lambda: _placing(made, placed_key), timeout=20)
        objects.apply(placed)  # as the sync's apply: the child, then the status
        eventually(lambda: _not_placing(made, placed_key), timeout=20)

        failed_key = identity.gto_key(namespace=namespace, name="configmap-failed")
        notes[identity.in_place_key(failed_key)] = recheck.IN_PLACE
        objects.put(configmap(namespace, "failed"), namespace=namespace)
        eventually(lambda: _placing(made, failed_key), timeout=20)
        assert recorded.applies == []
        assert everything_due(made) == 0, "the re-check leaves it to the apply in place"
        notes[identity.in_place_key(failed_key)] = ""  # the apply in place did not finish
        eventually(lambda: _all_queued(recorded, [failed_key]), timeout=20)
        assert recorded.applies == [failed_key], "the one applied in place queued nothing"

        plain = objects.put(configmap(namespace, "plain"), namespace=namespace)  # not marked
        plain_key = identity.gto_key(namespace=namespace, name=plain["metadata"]["name"])
        eventually(lambda: _all_queued(recorded, [plain_key]), timeout=20)
    finally:
        made.shutdown()


def _placing(made: runner.Watchers, key: identity.ObjectKey) -> None:
    assert key in made._placing


def _not_placing(made: runner.Watchers, key: identity.ObjectKey) -> None:
    assert key not in made._placing


def test_a_small_sync_leaves_the_watchers_nothing_to_queue(
    kube, cluster, rt, tracks, git_root, git_servers, namespace
):
    """Against the real API server and Redis, watchers running: a sync that applies its three
    objects in place queues no apply (its writes' events wait for its statuses) and no
    refresh (its own status write counts them). Before, each object cost an apply task and
    each GitTrack a refresh that read all its GitTrackObjects again."""
    made, recorded = watchers(kube, cluster, namespace, noted=rt.locks.noted)
    made.start()
    try:
        manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {}, namespace: {}}}\n"
        files = {f"{name}.yaml": manifest.format(name, namespace) for name in ("a", "b", "c")}
        repo = gitrepos.make_repo(git_root, f"quiet-{secrets.token_hex(3)}", [files])
        key = tracks.create(reference="master", namespace=namespace,
                            repository=git_servers.url(repo, Transport.FILE))  # fmt: skip
        status = tracks.sync(key)
        assert status["objectsInSync"] == 3
        eventually(lambda: _children_seen(made, namespace, 3), timeout=20)
        eventually(lambda: _statuses_seen(made, namespace, 3), timeout=20)
        time.sleep(1.0)  # any late event, and the settle loop's decisions
        assert recorded.applies == []
        assert recorded.refreshes == []
        assert made._placing == {}
    finally:
        made.shutdown()


def _statuses_seen(made: runner.Watchers, namespace: str, count: int) -> None:
    running = made._main[names.GITTRACKOBJECT]
    seen = [gto for (space, _), gto in running.watcher.known.items()
            if space == namespace and recheck.status_need(gto) is None]  # fmt: skip
    assert len(seen) == count
