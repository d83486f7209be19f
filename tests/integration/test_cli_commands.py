"""`faros status | sync | suspend | resume` against the real API server, `faros run` applying."""

from __future__ import annotations

import json
import secrets
import subprocess

from tests.harness import gitrepos
from tests.harness.cluster import condition
from tests.harness.faros_run import Run, Track, configmap, value
from tests.harness.git_servers import Transport
from tests.harness.shape import FAROS
from tests.harness.wait import eventually


def faros(cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FAROS, *args, f"--kubeconfig={cluster.kubeconfig}"], capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_status_sync_suspend_and_resume(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"cli-{secrets.token_hex(3)}", [
        {"a.json": configmap("a", namespace), "b.json": configmap("b", namespace)},
    ])  # fmt: skip
    with Run(worker_settings, tmp_path, namespace, period="10m"):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE))
        target = f"{namespace}/{track.name}"

        def applied() -> None:
            assert track.get().get("status", {}).get("objectsInSync") == 2

        eventually(applied, timeout=60)

        listed = faros(cluster, "status")
        assert listed.returncode == 0, listed.stderr
        header, *rows = listed.stdout.splitlines()
        assert header.split()[:4] == ["NAMESPACE", "NAME", "KIND", "REVISION"]
        (mine,) = [row.split() for row in rows if track.name in row]
        assert mine[:4] == [namespace, track.name, "GitTrack", repo.commits[0][:12]]
        assert mine[4:9] == ["2", "2", "2", "0", "True"]

        one = faros(cluster, "status", target)
        assert one.returncode == 0, one.stderr
        assert f"GitTrack {target}" in one.stdout
        assert f"ConfigMap  {namespace}/a  configmap-a" in one.stdout
        as_json = json.loads(faros(cluster, "status", target, "-o", "json").stdout)
        assert as_json["gittrack"]["metadata"]["name"] == track.name
        assert len(as_json["children"]) == 2

        missing = faros(cluster, "status", f"{namespace}/nope")
        assert (missing.returncode, missing.stdout) == (1, "")
        assert f"GitTrack {namespace}/nope not found" in missing.stderr
        assert faros(cluster, "sync").returncode == 2

        # A new commit: with a 10-minute period only the requested sync brings it now.
        repo.commit({"a.json": configmap("a", namespace, "v2")})
        synced = faros(cluster, "sync", target, "--wait", "--timeout", "60")
        assert synced.returncode == 0, synced.stdout + synced.stderr
        assert f"sync of GitTrack {target} requested" in synced.stdout
        assert f"revision {repo.commits[1][:12]}: 2/2 objects in sync" in synced.stdout
        assert value(track.cm("a")) == "v2"

        suspended = faros(cluster, "suspend", target)
        assert (suspended.returncode, suspended.stdout) == (0, f"GitTrack {target} suspended\n")
        eventually(lambda: _says(track, "Suspended", "True"), timeout=30)
        assert "Suspended:   since " in faros(cluster, "status", target).stdout
        refused = faros(cluster, "sync", target, "--wait", "--timeout", "30")
        assert refused.returncode == 1
        assert "is suspended: nothing was applied" in refused.stderr

        assert faros(cluster, "resume", target).returncode == 0
        eventually(lambda: _says(track, "Suspended", "False"), timeout=30)
        assert track.get()["spec"]["suspend"] is False


def _says(track: Track, kind: str, status: str) -> None:
    assert condition(track.get(), kind).get("status") == status
