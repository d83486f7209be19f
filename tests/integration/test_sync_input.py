"""Untrusted input reaches the status as clear errors, never as secrets or flapping writes."""

from __future__ import annotations

import base64
import secrets

from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos
from tests.harness.git_servers import Transport

SECRET_VALUE = "hunter2-do-not-print"


def configmap(namespace: str, value: str) -> str:
    return (f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: twice, namespace: {namespace}}}\n"
            f"data: {{value: '{value}'}}\n")  # fmt: skip


def test_an_object_defined_twice_is_reported_with_both_files_and_never_flaps(
    tracks, cluster, git_root, git_servers, namespace
):
    repo = gitrepos.make_repo(git_root, f"twice-{secrets.token_hex(3)}", [
        {"a/cm.yaml": configmap(namespace, "first"), "b/cm.yaml": configmap(namespace, "second")},
    ])  # fmt: skip
    key = tracks.create(reference="master", repository=git_servers.url(repo, Transport.FILE),
                        namespace=namespace)  # fmt: skip

    status = tracks.sync(key)
    (gto,) = tracks.children(key).values()
    generation = gto["metadata"]["generation"]
    mark = cluster_harness.audit_lines(cluster)
    for _ in range(3):
        assert tracks.sync(key) == status

    assert cluster_harness.writes_since(cluster, mark) == [], "a stable repository: no write"
    (again,) = tracks.children(key).values()
    assert again["metadata"]["generation"] == generation
    message = status["ignoredFiles"][f"{namespace}/configmap-twice"]
    assert "'a/cm.yaml'" in message
    assert "'b/cm.yaml'" in message
    assert "first in path order" in message
    assert tracks.condition(key, "ChildrenUpToDate")["status"] == "False"
    assert '"value":"first"' in _decoded(again)


def _decoded(gto) -> str:
    return base64.b64decode(gto["spec"]["data"]).decode()


def test_a_broken_secret_manifest_never_shows_its_values(tracks, git_root, git_servers, namespace):
    broken = (f"apiVersion: v1\nkind: Secret\nmetadata: {{namespace: {namespace}}}\n"
              f"stringData: {{password: {SECRET_VALUE}}}\n")  # fmt: skip
    repo = gitrepos.make_repo(git_root, f"secret-{secrets.token_hex(3)}", [
        {"secret.yaml": broken, "ok.yaml": configmap(namespace, "x")},
    ])  # fmt: skip
    key = tracks.create(reference="master", repository=git_servers.url(repo, Transport.FILE),
                        namespace=namespace)  # fmt: skip

    status = tracks.sync(key)

    assert "secret.yaml" in status["ignoredFiles"]
    assert "document 1" in status["ignoredFiles"]["secret.yaml"]
    assert "kind Secret" in status["ignoredFiles"]["secret.yaml"]
    assert SECRET_VALUE not in str(tracks.get(key))
    assert all(SECRET_VALUE not in message for _, _, message in tracks.events(key))


def test_a_malformed_repository_url_is_a_clear_fetch_error(tracks, namespace):
    key = tracks.create(reference="master", repository="https://[github.com/o/r",
                        namespace=namespace)  # fmt: skip

    tracks.sync(key)

    fetched = tracks.condition(key, "FilesFetched")
    assert fetched["status"] == "False"
    assert "is malformed: invalid IPv6 address" in fetched["message"]


def test_option_like_hosts_are_refused_before_git_runs(tracks, namespace):
    for url, part in (("git@-oProxyCommand:x", "host"),
                      ("ssh://-oProxyCommand=x@host/repo", "user")):  # fmt: skip
        key = tracks.create(reference="master", repository=url, namespace=namespace)
        tracks.sync(key)
        assert (
            f"repository {part} must not start with '-'"
            in (tracks.condition(key, "FilesFetched")["message"])
        )
