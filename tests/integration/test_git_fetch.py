"""faros.git fetches over every transport with credentials, and refuses hostile input."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import git
import pytest

from faros.core import deploykeys, sources
from faros.git import fetch
from tests.harness import gitrepos
from tests.harness.git_servers import GitServers, Transport
from tests.harness.gitrepos import Repo, Symlink
from tests.harness.wait import eventually

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: default}\n"


@pytest.fixture
def repo(git_root: Path) -> Repo:
    return gitrepos.make_repo(
        git_root,
        f"fetch-{secrets.token_hex(4)}",
        [
            {"a.yaml": CONFIGMAP % "a", "sub/b.yml": CONFIGMAP % "b", "README.md": "x"},
            {"sub/c.json": '{"apiVersion": "v1", "kind": "ConfigMap"}', "foobar/d.yaml": "x"},
        ],
        tags={"v1": 0},
    )


@pytest.fixture
def store(tmp_path: Path, git_servers: GitServers) -> Iterator[fetch.Store]:
    opened = fetch.Store(
        tmp_path / "cache",
        fetch_timeout=30,
        known_hosts_files=[git_servers.ssh.known_hosts],
        allow_file=True,
        max_file_bytes=1024,
    )
    yield opened
    opened.close()


def credentials_for(transport: Transport, servers: GitServers) -> deploykeys.Credentials:
    if transport is Transport.HTTP:
        return deploykeys.Credentials(
            username=servers.http.username, password=servers.http.password
        )
    if transport is Transport.SSH:
        return deploykeys.Credentials(ssh_key=servers.ssh.private_key.read_bytes())
    return deploykeys.NONE


@pytest.mark.parametrize("transport", list(Transport), ids=str)
def test_every_transport_reads_the_manifests(store, git_servers, repo, transport):
    snapshot = store.snapshot(
        url=git_servers.url(repo, transport),
        reference="master",
        sub_path="",
        credentials=credentials_for(transport, git_servers),
    )

    assert snapshot.commit == repo.head()
    assert [path for path, _ in snapshot.files] == [
        "a.yaml", "foobar/d.yaml", "sub/b.yml", "sub/c.json"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("reference", "commit"),
    [("master", -1), ("v1", 0), ("refs/tags/v1", 0), ("full-sha", 0), ("short-sha", 0)],
    ids=["branch", "tag", "tag-ref", "full-sha", "abbreviated-sha"],
)
def test_references_resolve(store, git_servers, repo, reference, commit):
    expected = repo.commits[commit]
    reference = {"full-sha": expected, "short-sha": expected[:8]}.get(reference, reference)

    snapshot = store.snapshot(
        url=git_servers.url(repo, Transport.FILE), reference=reference, sub_path=""
    )

    assert snapshot.commit == expected


def test_sub_path_does_not_match_a_longer_folder(store, git_servers, repo):
    repo.commit({"foo/e.yaml": CONFIGMAP % "e"})

    snapshot = store.snapshot(url=git_servers.url(repo, Transport.GIT), reference="master",
                              sub_path="foo/")  # fmt: skip

    assert [path for path, _ in snapshot.files] == ["foo/e.yaml"]


def test_missing_reference_and_sub_path_are_reported(store, git_servers, repo):
    url = git_servers.url(repo, Transport.GIT)

    with pytest.raises(fetch.FetchError, match="failed to checkout 'nope': reference not found"):
        store.snapshot(url=url, reference="nope", sub_path="")
    for _ in range(2):  # the second answer comes from what the store remembers of the commit
        with pytest.raises(fetch.FetchError, match="no files for subpath 'foo/'"):
            store.snapshot(url=url, reference="master", sub_path="foo/")
        with pytest.raises(fetch.FetchError, match=r"subpath 'a\.yaml/' is not a folder"):
            store.snapshot(url=url, reference="master", sub_path="a.yaml/")
        snapshot = store.snapshot(url=url, reference="master", sub_path="sub/")
        assert [path for path, _ in snapshot.files] == ["sub/b.yml", "sub/c.json"]

    repo.commit({"foo/e.yaml": CONFIGMAP % "e"})  # a new commit: its own folders
    snapshot = store.snapshot(url=url, reference="master", sub_path="foo/")
    assert [path for path, _ in snapshot.files] == ["foo/e.yaml"]


def test_deleted_branch_is_pruned(store, git_servers, repo):
    url = git_servers.url(repo, Transport.GIT)
    repo.create_branch("feature")
    assert store.snapshot(url=url, reference="feature", sub_path="").commit == repo.head()

    repo.delete_branch("feature")

    with pytest.raises(fetch.FetchError, match="reference not found"):
        store.snapshot(url=url, reference="feature", sub_path="")


def test_failed_clone_is_retried_on_the_next_fetch(store, git_servers, git_root):
    name = f"late-{secrets.token_hex(4)}"
    url = git_servers.url(f"{name}.git", Transport.GIT)
    with pytest.raises(fetch.FetchError, match="failed to fetch repository"):
        store.snapshot(url=url, reference="master", sub_path="")

    late = gitrepos.make_repo(git_root, name, [{"x.yaml": CONFIGMAP % "x"}])

    assert store.snapshot(url=url, reference="master", sub_path="").commit == late.head()


def test_symlinks_and_large_files_are_refused_per_file(store, git_servers, repo):
    repo.commit({"link.yaml": Symlink("/etc/passwd"), "big.yaml": "#" * 2000})

    snapshot = store.snapshot(url=git_servers.url(repo, Transport.FILE), reference="master",
                              sub_path="")  # fmt: skip

    assert "symbolic link" in snapshot.refused["link.yaml"]
    assert "over the limit of 1024 bytes" in snapshot.refused["big.yaml"]
    assert all(path not in ("link.yaml", "big.yaml") for path, _ in snapshot.files)


def test_wrong_http_password_fails_without_leaking_it(store, git_servers, repo):
    bad = deploykeys.Credentials(username=git_servers.http.username, password="hunter2-wrong")

    with pytest.raises(fetch.FetchError) as failed:
        store.snapshot(url=git_servers.url(repo, Transport.HTTP), reference="master",
                       sub_path="", credentials=bad)  # fmt: skip

    assert "Authentication failed" in str(failed.value)
    assert "hunter2" not in str(failed.value)


def test_password_in_url_is_redacted_from_errors(store, git_servers, repo):
    url = git_servers.url(repo, Transport.HTTP).replace("http://", "http://faros:s3cret-pw@")

    with pytest.raises(fetch.FetchError) as failed:
        store.snapshot(url=url + "-missing", reference="master", sub_path="")

    assert "s3cret-pw" not in str(failed.value)


def test_unknown_ssh_host_key_is_refused(tmp_path, git_servers, repo):
    strict = fetch.Store(tmp_path / "c", fetch_timeout=30,
                         known_hosts_files=[git_servers.ssh.wrong_known_hosts])  # fmt: skip
    key = deploykeys.Credentials(ssh_key=git_servers.ssh.private_key.read_bytes())

    with pytest.raises(fetch.FetchError, match="Host key verification failed"):
        strict.snapshot(url=git_servers.url(repo, Transport.SSH), reference="master",
                        sub_path="", credentials=key)  # fmt: skip


def test_known_hosts_from_the_secret_is_used(tmp_path, git_servers, repo):
    store = fetch.Store(tmp_path / "c", fetch_timeout=30)
    key = deploykeys.Credentials(
        ssh_key=git_servers.ssh.private_key.read_bytes(),
        known_hosts=git_servers.ssh.known_hosts.read_bytes(),
    )

    snapshot = store.snapshot(url=git_servers.url(repo, Transport.SSH), reference="master",
                              sub_path="", credentials=key)  # fmt: skip

    assert snapshot.commit == repo.head()


@pytest.mark.parametrize(
    ("url", "reference"),
    [
        ("ext::sh -c touch% /tmp/pwned", "master"),
        ("fd::17", "master"),
        ("--upload-pack=touch /tmp/pwned", "master"),
        ("-oProxyCommand=x:repo", "master"),
        ("ssh://-oProxyCommand=x/repo", "master"),
        ("VALID", "--upload-pack=touch /tmp/pwned"),
        ("VALID", "-b"),
        ("file:///etc", "master"),
    ],
    ids=["ext", "fd", "upload-pack-url", "scp-option", "ssh-host-option", "upload-pack-ref",
         "ref-option", "file-disabled"],
)  # fmt: skip
def test_hostile_input_is_refused_before_git_runs(tmp_path, git_servers, repo, url, reference):
    store = fetch.Store(tmp_path / "c", fetch_timeout=30)  # file:// not allowed here
    git_servers.http.clear_requests()
    url = git_servers.url(repo, Transport.HTTP) if url == "VALID" else url

    with pytest.raises(sources.SourceInputError):
        store.snapshot(url=url, reference=reference, sub_path="")

    assert git_servers.http.requests == []
    assert list((tmp_path / "c").iterdir()) == []  # no repository was even initialised


def test_fetch_timeout_is_reported(tmp_path, git_servers, repo):
    hasty = fetch.Store(tmp_path / "c", fetch_timeout=0.001)

    with pytest.raises(fetch.FetchError, match=r"timed out after 0.001s"):
        hasty.snapshot(url=git_servers.url(repo, Transport.GIT), reference="master", sub_path="")


def test_syncs_waiting_for_one_repository_share_the_fetch_that_starts_after_them(
    store, git_servers, repo
):
    url = git_servers.url(repo, Transport.HTTP)
    auth = credentials_for(Transport.HTTP, git_servers)
    store.snapshot(url=url, reference="master", sub_path="", credentials=auth)  # the clone
    newer = repo.commit({"e.yaml": CONFIGMAP % "e"})
    git_servers.http.clear_requests()
    found: list[str] = []

    def sync(sub_path: str) -> None:
        snap = store.snapshot(url=url, reference="master", sub_path=sub_path, credentials=auth)
        found.append(snap.commit)

    # eight syncs of one repository (a subPath each, say) queue behind its lock
    _queued_behind_the_lock(store, url, auth, sync, [""] * 8)

    assert found == [newer] * 8  # all see the commit made before they asked
    advertised = [r for r in git_servers.http.requests
                  if r.path.endswith("/info/refs") and r.authorized]  # fmt: skip
    assert len(advertised) == 1, advertised  # one fetch served all eight

    latest = repo.commit({"f.yaml": CONFIGMAP % "f"})  # a commit after that fetch is fetched
    assert store.snapshot(url=url, reference="master", sub_path="",
                          credentials=auth).commit == latest  # fmt: skip


def test_syncs_sharing_a_fetch_start_no_git_process_to_read(store, git_servers, repo, monkeypatch):
    """The repository stays open between syncs (its ``git cat-file`` processes with it), and
    a reference is resolved once per fetch: the syncs after one fetch read through pipes."""
    url = git_servers.url(repo, Transport.GIT)
    store.snapshot(url=url, reference="master", sub_path="")  # the clone, the repository opened
    newer = repo.commit({"sub/e.yaml": CONFIGMAP % "e"})
    started: list[str] = []
    execute = git.cmd.Git.execute

    def counted(self: git.cmd.Git, command: Any, *args: Any, **kwargs: Any) -> Any:
        started.append(" ".join(map(str, command[1:3])))
        return execute(self, command, *args, **kwargs)

    monkeypatch.setattr(git.cmd.Git, "execute", counted)
    found: list[tuple[str, list[str]]] = []

    def sync(sub_path: str) -> None:
        snap = store.snapshot(url=url, reference="master", sub_path=sub_path)
        found.append((snap.commit, [path for path, _ in snap.files]))

    _queued_behind_the_lock(store, url, deploykeys.NONE, sync, ["", "sub/"] * 4)

    sub = ["sub/b.yml", "sub/c.json", "sub/e.yaml"]
    assert sorted(found) == [(newer, ["a.yaml", "foobar/d.yaml", *sub])] * 4 + [(newer, sub)] * 4
    # one fetch, one rev-parse; before, every sync also resolved and opened two cat-files
    assert [command.split()[0] for command in started] == ["fetch", "rev-parse"], started


def _queued_behind_the_lock(
    store: fetch.Store, url: str, credentials: deploykeys.Credentials,
    sync: Callable[[str], None], sub_paths: list[str],
) -> None:  # fmt: skip
    """Run ``sync(sub_path)`` for each of ``sub_paths`` in a thread of its own, all of them
    started (so asking for the repository) while its lock is held; wait for them."""
    ready = threading.Barrier(len(sub_paths) + 1)

    def run(sub_path: str) -> None:
        ready.wait()
        sync(sub_path)

    with store._locked(url, credentials):
        threads = [threading.Thread(target=run, args=(path,)) for path in sub_paths]
        for thread in threads:
            thread.start()
        ready.wait()
        time.sleep(1.0)  # every sync asked before the lock is free
    for thread in threads:
        thread.join(timeout=60)


def _cat_files() -> list[int]:
    """This process's ``git cat-file`` children still running."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if stat[0] != "Z" and int(stat[1]) == os.getpid() and b"cat-file" in command:
            found.append(int(entry.name))
    return found


def test_a_repository_unused_for_a_while_is_closed(store, git_servers, repo, git_root, monkeypatch):
    other = gitrepos.make_repo(git_root, f"other-{secrets.token_hex(4)}",
                               [{"x.yaml": CONFIGMAP % "x"}])  # fmt: skip
    before = set(_cat_files())  # other tests' stores, closed by the garbage collector
    store.snapshot(url=git_servers.url(repo, Transport.GIT), reference="master", sub_path="")
    first = set(_cat_files()) - before
    assert len(first) == 2  # kept open for the next sync

    monkeypatch.setattr(fetch, "IDLE", 0.5)
    time.sleep(0.6)
    other_url = git_servers.url(other, Transport.GIT)
    assert store.remote_commit(url=other_url, reference="master") == other.head()
    eventually(lambda: _assert_none(first & set(_cat_files())), timeout=10)  # closed
    store.snapshot(url=other_url, reference="master", sub_path="")
    second = set(_cat_files()) - before
    assert len(second) == 2  # the one just used stays open

    store.close()
    eventually(lambda: _assert_none(second & set(_cat_files())), timeout=10)


def _assert_none(found: set[int]) -> None:
    assert not found, found


def test_a_repository_read_whole_is_not_kept_open(store, git_servers, repo, monkeypatch):
    """Keeping ``git cat-file`` running pays for many small reads, not for a big one (whose
    objects it would then keep in memory)."""
    monkeypatch.setattr(fetch, "KEEP_OPEN_FILES", 3)
    url = git_servers.url(repo, Transport.GIT)
    before = set(_cat_files())
    assert len(store.snapshot(url=url, reference="master", sub_path="").files) == 4
    eventually(lambda: _assert_none(set(_cat_files()) - before), timeout=10)

    assert len(store.snapshot(url=url, reference="master", sub_path="sub/").files) == 2
    assert len(set(_cat_files()) - before) == 2
