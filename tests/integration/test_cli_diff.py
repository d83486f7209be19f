"""`faros diff` against the real API server: no change, change, creation, prune, a masked
Secret, a broken manifest, Markdown, and a Git reference; nothing is ever written."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess

from tests.harness import gitrepos
from tests.harness.faros_run import Run, Track, configmap, value
from tests.harness.git_servers import Transport
from tests.harness.shape import FAROS
from tests.harness.wait import eventually


def secret(namespace: str, text: str) -> str:
    data = {"token": base64.b64encode(text.encode()).decode()}
    meta = {"name": "s", "namespace": namespace}
    return json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": meta,
                       "data": data})  # fmt: skip


def faros(cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FAROS, *args, f"--kubeconfig={cluster.kubeconfig}"],
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


def test_diff_shows_what_a_sync_would_do_and_writes_nothing(
    kube, cluster, worker_settings, git_root, git_servers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"diff-{secrets.token_hex(3)}", [
        {"a.json": configmap("a", namespace), "b.json": configmap("b", namespace),
         "s.json": secret(namespace, "first-secret-value")},
    ])  # fmt: skip
    with Run(worker_settings, tmp_path, namespace, period="10m"):
        track = Track(kube, namespace, git_servers.url(repo, Transport.FILE))
        target = f"{namespace}/{track.name}"
        eventually(lambda: _in_sync(track, 3), timeout=60)

        same = faros(cluster, "diff", target)
        assert (same.returncode, same.stdout) == (0, "no changes\n"), same.stderr

        checkout = tmp_path / "checkout"
        subprocess.run(["git", "clone", "-q", str(repo.path), str(checkout)], check=True,
                       timeout=60)  # fmt: skip
        (checkout / "a.json").write_text(configmap("a", namespace, "v2"))
        (checkout / "b.json").unlink()
        (checkout / "c.json").write_text(configmap("c", namespace, "new"))
        (checkout / "s.json").write_text(secret(namespace, "second-secret-value"))
        changed = faros(cluster, "diff", target, "--path", str(checkout))
        assert changed.returncode == 1, changed.stderr
        text = changed.stdout
        assert f"--- live/ConfigMap {namespace}/a" in text
        assert "-  value: v1\n+  value: v2\n" in text
        assert f"+++ git/ConfigMap {namespace}/c" in text
        assert f"--- live/ConfigMap {namespace}/b" in text
        assert "-  token: '*** (before)'\n+  token: '*** (after)'\n" in text
        for leaked in ("first-secret-value", "second-secret-value",
                       base64.b64encode(b"first-secret-value").decode()):  # fmt: skip
            assert leaked not in text
        assert text.endswith("1 to create, 2 to update, 1 to delete\n")

        as_markdown = faros(cluster, "diff", target, "--path", str(checkout), "--output",
                            "markdown")  # fmt: skip
        assert as_markdown.returncode == 1
        assert as_markdown.stdout.startswith(f"### faros diff: GitTrack {target} at {checkout}")
        assert f"<details><summary>update: ConfigMap {namespace}/a</summary>" in (
            as_markdown.stdout)  # fmt: skip
        assert "```diff\n" in as_markdown.stdout

        (checkout / "broken.yaml").write_text("kind: [unclosed\n")
        broken = faros(cluster, "diff", target, "--path", str(checkout))
        assert (broken.returncode, broken.stdout) == (2, "")
        assert "broken.yaml" in broken.stderr

        repo.create_branch("feature")
        feature = repo.commit({"a.json": configmap("a", namespace, "v3")}, branch="feature")
        by_ref = faros(cluster, "diff", target, "--ref", feature)
        assert by_ref.returncode == 1, by_ref.stderr
        assert "+  value: v3\n" in by_ref.stdout
        assert by_ref.stdout.endswith("1 to update\n")

        # Nothing was written by any of it.
        assert value(track.cm("a")) == "v1"
        assert track.cm("b")
        assert not track.cm("c")
        missing = faros(cluster, "diff", f"{namespace}/nope")
        assert missing.returncode == 2


def _in_sync(track: Track, count: int) -> None:
    assert track.get().get("status", {}).get("objectsInSync") == count
