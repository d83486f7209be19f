"""Operator controls (docs/controls.md) against the real API server and garbage collector:
suspend, prune protection, the ChildDeleted Event and the deletion budget.

Faros runs as `faros run` scoped to the test's namespace, with a 5 s sync period, so new
commits are picked up by the periodic syncs and the level-based re-check runs as in
production.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import secrets
import subprocess
import time
import urllib.request

import pytest

from faros.api import names
from faros.kube import client, errors
from tests.harness import gitrepos, processes
from tests.harness.cluster import condition
from tests.harness.cluster import get_or_empty as get
from tests.harness.faros_run import (
    PERIOD,
    Run,
    Track,
    configmap,
    edit,
    events,
    present,
    stays,
    value,
)
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually


def test_suspend_stops_syncs_applies_and_reverts_and_resuming_catches_up(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"suspend-{secrets.token_hex(3)}", [
        {"a.json": configmap("a", namespace), "b.json": configmap("b", namespace)},
    ])  # fmt: skip
    with Run(worker_settings, tmp_path, namespace):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE))
        eventually(lambda: _values(track, "a", "b", want=["v1", "v1"]), timeout=60)

        track.patch({"spec": {"suspend": True}})

        def suspended() -> None:
            found = condition(track.get(), "Suspended")
            assert (found.get("status"), found.get("reason")) == ("True", "Suspended"), found

        eventually(suspended, timeout=30)
        since = condition(track.get(), "Suspended")["lastTransitionTime"]
        edit(kube, f"/api/v1/namespaces/{namespace}/configmaps/a", "by-hand")
        repo.commit({"b.json": configmap("b", namespace, "v2")})

        # Two sync periods and re-checks: the drift stays, the new commit is not applied.
        stays(lambda: _values(track, "a", "b", want=["by-hand", "v1"]), seconds=2.5 * PERIOD)
        assert condition(track.get(), "Suspended")["lastTransitionTime"] == since
        assert ("Normal", "Suspended") in {(t, r) for t, r, _ in track.events()}

        track.patch({"spec": {"suspend": False}})
        eventually(lambda: _values(track, "a", "b", want=["v1", "v2"]), timeout=30)
        resumed = condition(track.get(), "Suspended")
        assert (resumed["status"], resumed["reason"]) == ("False", "Resumed")


def _values(track: Track, *names_: str, want: list[str]) -> None:
    assert [value(track.cm(name)) for name in names_] == want


def test_suspending_during_a_running_sync_stops_it_from_applying_more(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    count = 200
    repo = gitrepos.make_repo(git_root, f"suspend-mid-{secrets.token_hex(3)}", [
        {f"cm-{i:03}.json": configmap(f"cm-{i:03}", namespace) for i in range(count)},
    ])  # fmt: skip
    listing = f"/api/v1/namespaces/{namespace}/configmaps"

    def created() -> set[str]:
        items = kube.request("GET", listing)["items"]
        return {item["metadata"]["name"] for item in items if item["metadata"]["name"] != (
            "kube-root-ca.crt")}  # fmt: skip

    with Run(worker_settings, tmp_path, namespace):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE))
        eventually(lambda: present(track.gto("configmap-cm-000")), timeout=60)
        track.patch({"spec": {"suspend": True}})
        eventually(lambda: _suspended(track), timeout=30)
        time.sleep(3)  # applies already past their check of spec.suspend (at most 2 s old)
        frozen = created()
        stays(lambda: _same(created(), frozen), seconds=2 * PERIOD)
        assert track.get()["status"].get("observedGeneration") == track.get()["metadata"][
            "generation"]  # fmt: skip

        track.patch({"spec": {"suspend": False}})
        eventually(lambda: _same(created(), {f"cm-{i:03}" for i in range(count)}), timeout=120)


def _suspended(track: Track) -> None:
    assert condition(track.get(), "Suspended").get("status") == "True"


def _same(found: set[str], want: set[str]) -> None:
    assert found == want, f"{len(found)} objects, {len(want)} expected"


def test_prune_protected_children_are_released_and_every_deletion_is_announced(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"prune-{secrets.token_hex(3)}", [
        {"keep.json": configmap("keep", namespace, protected=True),
         "keep2.json": configmap("keep2", namespace, protected=True),
         "drop.json": configmap("drop", namespace), "stay.json": configmap("stay", namespace)},
    ])  # fmt: skip
    with Run(worker_settings, tmp_path, namespace):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE))
        eventually(lambda: _values(track, "keep", "keep2", "drop", "stay", want=["v1"] * 4),
                   timeout=60)  # fmt: skip
        assert track.gto("configmap-keep")["metadata"]["finalizers"] == [
            "faros.pusher.com/release-child"]  # fmt: skip
        assert "finalizers" not in track.gto("configmap-drop")["metadata"]

        commit = repo.commit({"keep.json": None, "drop.json": None})

        def collected() -> None:
            assert not track.cm("drop"), "an unprotected object left Git: deleted"
            assert not track.gto("configmap-keep"), "its GitTrackObject goes"
            assert track.cm("keep"), "a protected one stays"
            assert not track.cm("keep").get("metadata", {}).get("ownerReferences")

        eventually(collected, timeout=60)
        said = {(r, m) for _, r, m in track.events()}
        deleted = {m for r, m in said if r == "ChildDeleted"}
        assert (f"Deleting ConfigMap {namespace}/drop (GitTrackObject configmap-drop): it is no "
                f"longer in commit {commit}") in deleted  # fmt: skip
        released = [m for r, m in said if r == "ChildReleased"]
        assert any(f"ConfigMap {namespace}/keep" in m and commit in m for m in released), said

        # Releasing an object stops managing it: drift on it is not reverted any more.
        edit(kube, f"/api/v1/namespaces/{namespace}/configmaps/keep", "mine")
        stays(lambda: _values(track, "keep", want=["mine"]), seconds=PERIOD)

        # The whole GitTrack deleted (kubectl's default, background): protected children stay.
        kube.request("DELETE", track.path)

        def gittrack_gone() -> None:
            assert not track.get()
            assert not track.gto("configmap-keep2")
            assert not track.gto("configmap-stay")
            assert track.cm("keep2"), "released before its GitTrackObject went"
            assert not track.cm("keep2")["metadata"].get("ownerReferences")
            assert not track.cm("stay"), "the unprotected one went with its GitTrackObject"

        eventually(gittrack_gone, timeout=60)


def test_a_cluster_scoped_protected_child_survives_its_clustergittrack(
    kube, worker_settings, git_root, git_servers, tmp_path
):
    role = f"faros-keep-{secrets.token_hex(3)}"
    manifest = json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": role, "annotations": {"faros.pusher.com/prune": "disabled"}},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    })  # fmt: skip
    repo = gitrepos.make_repo(git_root, f"cluster-prune-{secrets.token_hex(3)}", [
        {"role.json": manifest},
    ])  # fmt: skip
    path = f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{role}"
    gto = f"/apis/{names.API_VERSION}/clustergittrackobjects/clusterrole-{role}"
    try:
        with Run(worker_settings, tmp_path):
            track = Track(kube, "", git_servers.url(repo, Transport.FILE))
            eventually(lambda: present(get(kube, path)), timeout=60)
            assert get(kube, path)["metadata"]["ownerReferences"][0]["kind"] == (
                "ClusterGitTrackObject")  # fmt: skip
            uid = get(kube, gto)["metadata"]["uid"]
            kube.request("DELETE", track.path)

            def released() -> None:
                assert not get(kube, gto)
                assert get(kube, path), "the protected ClusterRole stays"
                assert not get(kube, path)["metadata"].get("ownerReferences")

            eventually(released, timeout=60)
            said = events(kube, "default", uid)
            assert any(r == "ChildReleased" and f"ClusterRole {role}" in m for _, r, m in said)
    finally:
        with contextlib.suppress(errors.NotFound):
            kube.request("DELETE", path)


def test_the_deletion_budget_allows_exactly_n_and_waits_for_the_right_approval(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    names_ = [f"cm{i}" for i in range(8)]
    repo = gitrepos.make_repo(git_root, f"budget-{secrets.token_hex(3)}", [
        {f"{n}.json": configmap(n, namespace) for n in names_},
    ])  # fmt: skip
    with Run(worker_settings, tmp_path, namespace):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE),
                      prune={"maxDeletions": 2})  # fmt: skip
        eventually(lambda: _values(track, *names_, want=["v1"] * 8), timeout=60)

        repo.commit({"cm0.json": None, "cm1.json": None})  # exactly the budget
        eventually(lambda: _gone(track, "cm0", "cm1"), timeout=60)

        third = repo.commit({"cm2.json": None, "cm3.json": None, "cm4.json": None,
                             "new.json": configmap("new", namespace)})  # fmt: skip

        def stopped() -> None:
            gc = condition(track.get(), "ChildrenGarbageCollected")
            assert gc.get("reason") == "DeletionBudgetExceeded", gc
            assert f"commit {third} would delete 3 objects" in gc["message"]
            assert f"ConfigMap {namespace}/cm2" in gc["message"]

        eventually(stopped, timeout=60)
        assert value(track.cm("new")) == "v1", "the rest of the sync goes on"
        warned = [m for t, r, m in track.events() if r == "DeletionBudgetExceeded"]
        assert len(warned) == 1
        assert third in warned[0]
        assert [t for t, r, _ in track.events() if r == "DeletionBudgetExceeded"] == ["Warning"]

        track.patch(
            {"metadata": {"annotations": {"faros.pusher.com/approve-deletions": repo.commits[1]}}}
        )  # the wrong commit
        stays(lambda: _values(track, "cm2", "cm3", "cm4", want=["v1"] * 3), seconds=2 * PERIOD)
        stopped()

        track.patch({"metadata": {"annotations": {"faros.pusher.com/approve-deletions": third}}})
        eventually(lambda: _gone(track, "cm2", "cm3", "cm4"), timeout=60)

        def collected() -> None:  # the sync writes its status after its deletions
            gc = condition(track.get(), "ChildrenGarbageCollected")
            assert (gc["status"], gc["reason"]) == ("True", "GCSuccess")

        eventually(collected, timeout=30)


def _gone(track: Track, *names_: str) -> None:
    assert not any(track.cm(name) for name in names_), names_


def _in(seconds: float) -> str:
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _hand_edit(kube: client.Kube, path: str, new: str, pause_until: str) -> None:
    """An incident's edit: the data and the break-glass annotation in one write."""
    kube.request("PATCH", path, body={
        "metadata": {"annotations": {"faros.pusher.com/pause-until": pause_until}},
        "data": {"value": new},
    }, content_type=client.MERGE_PATCH)  # fmt: skip


def test_break_glass_pauses_reverts_until_the_time_then_reverts_on_its_own(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"glass-{secrets.token_hex(3)}", [
        {"a.json": configmap("a", namespace), "far.json": configmap("far", namespace),
         "bad.json": configmap("bad", namespace)},
    ])  # fmt: skip
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    with Run(worker_settings, tmp_path, namespace, "--max-pause=10m"):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE))
        eventually(lambda: _values(track, "a", "far", "bad", want=["v1"] * 3), timeout=60)

        _hand_edit(kube, f"{cms}/a", "incident", _in(3 * PERIOD))

        def paused() -> None:
            found = condition(track.gto("configmap-a"), "Paused")
            assert (found.get("status"), found.get("reason")) == ("True", "Paused"), found

        eventually(paused, timeout=30)
        stays(lambda: _values(track, "a", want=["incident"]), seconds=1.5 * PERIOD)
        gto_uid = track.gto("configmap-a")["metadata"]["uid"]
        assert [t for t, r, _ in events(kube, namespace, gto_uid) if r == "Paused"] == ["Normal"]

        # The time passes: reverted by the re-check alone (no event touches the object).
        eventually(lambda: _values(track, "a", want=["v1"]), timeout=4 * PERIOD)
        ended = condition(track.gto("configmap-a"), "Paused")
        assert (ended["status"], ended["reason"]) == ("False", "Ended")
        assert "PauseEnded" in {r for _, r, _ in events(kube, namespace, gto_uid)}

        # Beyond --max-pause, or not a time: refused with a Warning, reverted as usual.
        _hand_edit(kube, f"{cms}/far", "incident", _in(3600))
        _hand_edit(kube, f"{cms}/bad", "incident", "tomorrow")
        eventually(lambda: _values(track, "far", "bad", want=["v1", "v1"]), timeout=30)
        for name, why in (("far", "more than the 10m allowed (--max-pause)"),
                          ("bad", "is not an RFC 3339 time with a zone: 'tomorrow'")):  # fmt: skip
            uid = track.gto(f"configmap-{name}")["metadata"]["uid"]
            refused = [(t, m) for t, r, m in events(kube, namespace, uid) if r == "PauseRefused"]
            assert len(refused) == 1, refused
            assert refused[0][0] == "Warning"
            assert why in refused[0][1]
            assert f"ConfigMap {namespace}/{name}" in refused[0][1]


def kubectl(cluster, *args: str, stdin: str | None = None, env: dict[str, str] | None = None):
    done = subprocess.run(
        ["kubectl", f"--kubeconfig={cluster.kubeconfig}", *args], input=stdin,
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("strategy", ["client-side", "server-side"])
def test_ignored_fields_are_neither_reverted_nor_drift(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path, strategy
):
    repo = gitrepos.make_repo(git_root, f"ignore-{secrets.token_hex(3)}", [
        {"a.json": json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                               "metadata": {"name": "a", "namespace": namespace},
                               "data": {"colour": "blue", "size": "s"}}),
         "b.json": configmap("b", namespace)},
    ])  # fmt: skip
    rules = [
        {"kind": "ConfigMap", "name": "a", "jsonPointers": ["/data/colour"]},
        {"group": "", "kind": "ConfigMap", "managedFieldsManagers": ["scaler"]},
        {"kind": "Secret", "jsonPointers": ["/data/nothing"]},  # matches nothing
    ]
    with Run(worker_settings, tmp_path, namespace, f"--apply-strategy={strategy}"):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE),
                      ignoreDifferences=rules)  # fmt: skip
        eventually(lambda: _values(track, "b", want=["v1"]), timeout=60)
        assert track.gto("configmap-a")["spec"]["ignoreDifferences"] == [
            {"jsonPointers": ["/data/colour"]}, {"managedFieldsManagers": ["scaler"]}]  # fmt: skip
        assert track.gto("configmap-b")["spec"]["ignoreDifferences"] == [
            {"managedFieldsManagers": ["scaler"]}]  # fmt: skip

        kubectl(cluster, "-n", namespace, "patch", "configmap", "a", "--type=merge",
                "-p", '{"data":{"colour":"red","size":"xl"}}')  # fmt: skip
        kubectl(cluster, "-n", namespace, "patch", "configmap", "b", "--type=merge",
                "--field-manager=scaler", "-p", '{"data":{"value":"scaled"}}')  # fmt: skip

        def settled() -> None:
            a = track.cm("a")["data"]
            assert a == {"colour": "red", "size": "s"}, a  # size is reverted, colour is not
            assert value(track.cm("b")) == "scaled"

        eventually(settled, timeout=30)
        stays(settled, seconds=2 * PERIOD)
        uid_b = track.gto("configmap-b")["metadata"]["uid"]
        assert "DriftReverted" not in {r for _, r, _ in events(kube, namespace, uid_b)}


def test_a_revert_says_which_field_and_who_changed_it(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"blame-{secrets.token_hex(3)}", [
        {f"{n}.json": configmap(n, namespace) for n in ("edited", "patched", "applied")},
    ])  # fmt: skip
    port = processes.free_port()
    with Run(worker_settings, tmp_path, namespace, f"--metrics-bind-address=127.0.0.1:{port}"):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE))
        eventually(lambda: _values(track, "edited", "patched", "applied", want=["v1"] * 3),
                   timeout=60)  # fmt: skip

        kubectl(cluster, "-n", namespace, "edit", "configmap", "edited",
                env={"KUBE_EDITOR": "sed -i -e 's/value: v1/value: by-edit/'"})  # fmt: skip
        kubectl(cluster, "-n", namespace, "patch", "configmap", "patched", "--type=merge",
                "--field-manager=ops-script", "-p", '{"data":{"value":"by-patch"}}')  # fmt: skip
        kubectl(cluster, "apply", "--server-side", "--force-conflicts", "--field-manager=other-ci",
                "-f", "-", stdin=configmap("applied", namespace, "by-ssa"))  # fmt: skip

        expected = {"edited": "by kubectl-edit, Update, ", "patched": "by ops-script, Update, ",
                    "applied": "by other-ci, Apply, "}  # fmt: skip

        def attributed() -> None:
            for name, who in expected.items():
                assert value(track.cm(name)) == "v1", name
                uid = track.gto(f"configmap-{name}")["metadata"]["uid"]
                said = [m for _, r, m in events(kube, namespace, uid) if r == "DriftReverted"]
                assert any(f"Reverted drift on ConfigMap {namespace}/{name}: data.value ({who}" in m
                           for m in said), said  # fmt: skip

        eventually(attributed, timeout=60)
        scraped = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        text = scraped.decode()
        for manager in ("kubectl-edit", "ops-script", "other-ci"):
            assert f'faros_drift_reverts_by_manager_total{{manager="{manager}"}} 1.0' in text
