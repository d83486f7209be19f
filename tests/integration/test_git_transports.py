"""Real Git servers on loopback: every transport serves the same repositories.

The client is the git CLI, set up the way Faros will set it up: HTTP credentials from a
credential helper reading the environment (never in the URL), SSH with a deploy key and
a strict known_hosts file, and nothing ever prompts.
"""

from __future__ import annotations

import base64
import gzip
import http.client
import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import git_servers as git_harness
from tests.harness import gitrepos
from tests.harness.git_servers import GitServers, Transport
from tests.harness.gitrepos import Repo, Symlink

pytestmark = pytest.mark.integration

FIXTURE_HEAD = "41b761ffd50eadca77244b2f02bba146c83e2769"

# A credential helper that answers `get` from the environment: the password is in
# neither the URL nor the command line.
CREDENTIAL_HELPER = (
    '!f() { test "$1" = get || exit 0; '
    'echo "username=$FAROS_TEST_GIT_USERNAME"; echo "password=$FAROS_TEST_GIT_PASSWORD"; }; f'
)

DEPLOYMENT = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: nginx, namespace: default}\n"
SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: nginx, namespace: default}\n"
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: conf, namespace: default}\n"
NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata: {name: foo}\n"

TRANSPORTS = pytest.mark.parametrize("transport", list(Transport), ids=str)


@pytest.fixture
def app_repo(git_root: Path) -> Repo:
    """A fresh repository of three commits, tagged v1 (first) and v2 (last)."""
    return gitrepos.make_repo(
        git_root,
        f"app-{secrets.token_hex(4)}",
        [
            {"deployment.yaml": DEPLOYMENT, "service.yaml": SERVICE},
            {"foo/namespace.yaml": NAMESPACE, "link.yaml": Symlink("deployment.yaml")},
            {"service.yaml": None, "foo/configmap.yaml": CONFIGMAP},
        ],
        tags={"v1": 0, "v2": 2},
    )


@pytest.fixture
def workdir() -> Iterator[Path]:
    """An empty directory to clone into, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="faros-git-client-") as tmp:
        yield Path(tmp)


def client_env(
    servers: GitServers,
    *,
    password: str | None = None,
    credentials: bool = True,
    ssh_command: str | None = None,
) -> dict[str, str]:
    """Environment for the git CLI: HTTP credentials from a helper, SSH deploy key."""
    env = gitrepos.git_env({"GIT_SSH_COMMAND": ssh_command or servers.ssh.ssh_command()})
    if credentials:
        env.update(
            GIT_CONFIG_COUNT="2",
            GIT_CONFIG_KEY_0="credential.helper",
            GIT_CONFIG_VALUE_0="",  # forget any helper configured elsewhere
            GIT_CONFIG_KEY_1="credential.helper",
            GIT_CONFIG_VALUE_1=CREDENTIAL_HELPER,
            FAROS_TEST_GIT_USERNAME=servers.http.username,
            FAROS_TEST_GIT_PASSWORD=password or servers.http.password,
        )
    return env


def git(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the git CLI; never raises on failure (tests check returncode and stderr)."""
    return subprocess.run(
        ["git", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def git_ok(*args: str, env: dict[str, str], cwd: Path | None = None) -> str:
    """Run the git CLI, assert that it succeeded and return its stdout."""
    proc = git(*args, env=env, cwd=cwd)
    assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stderr}"
    return proc.stdout


def ls_remote(url: str, env: dict[str, str]) -> dict[str, str]:
    """Return the refs `git ls-remote` lists at `url` and their SHAs."""
    stdout = git_ok("ls-remote", url, env=env)
    return {ref: sha for sha, ref in (line.split("\t") for line in stdout.splitlines())}


@TRANSPORTS
def test_clone_sees_files_and_commits(
    git_servers: GitServers, app_repo: Repo, workdir: Path, transport: Transport
) -> None:
    env = client_env(git_servers)
    url = git_servers.url(app_repo, transport)

    git_ok("clone", "--quiet", url, str(workdir / "app"), env=env)

    checkout = workdir / "app"
    tracked = git_ok("ls-files", env=env, cwd=checkout).split()
    assert tracked == ["deployment.yaml", "foo/configmap.yaml", "foo/namespace.yaml", "link.yaml"]
    assert (checkout / "foo" / "configmap.yaml").read_text() == CONFIGMAP
    assert os.readlink(checkout / "link.yaml") == "deployment.yaml"
    history = git_ok("rev-list", "--reverse", "HEAD", env=env, cwd=checkout).split()
    assert history == app_repo.commits
    assert git_ok("tag", env=env, cwd=checkout).split() == ["v1", "v2"]


@TRANSPORTS
def test_ls_remote_lists_branches_and_tags(
    git_servers: GitServers, app_repo: Repo, transport: Transport
) -> None:
    app_repo.create_branch("feature", "v1")

    refs = ls_remote(git_servers.url(app_repo, transport), client_env(git_servers))

    assert refs == {"HEAD": app_repo.commits[-1], **app_repo.refs()}


@TRANSPORTS
def test_fetch_gets_a_new_commit(
    git_servers: GitServers, app_repo: Repo, workdir: Path, transport: Transport
) -> None:
    env = client_env(git_servers)
    checkout = workdir / "app"
    git_ok("clone", "-q", git_servers.url(app_repo, transport), str(checkout), env=env)

    new = app_repo.commit({"deployment.yaml": None}, message="remove the deployment")
    git_ok("pull", "--quiet", "--ff-only", env=env, cwd=checkout)

    assert git_ok("rev-parse", "HEAD", env=env, cwd=checkout).strip() == new
    assert not (checkout / "deployment.yaml").exists()


def test_http_wrong_password_fails_authentication(
    git_servers: GitServers, app_repo: Repo, workdir: Path
) -> None:
    env = client_env(git_servers, password="not-the-password")
    url = git_servers.http.url(app_repo)

    proc = git("clone", url, str(workdir / "app"), env=env)

    assert proc.returncode != 0
    assert f"Authentication failed for '{url}/'" in proc.stderr
    seen = [r for r in git_servers.http.requests if r.path.startswith(f"/{app_repo.name}/")]
    assert seen
    assert all(r.status == 401 and not r.authorized for r in seen)
    assert {r.user for r in seen} <= {None, git_servers.http.username}
    assert not any(r.is_fetch for r in seen)


def test_http_without_credentials_fails_without_prompting(
    git_servers: GitServers, app_repo: Repo, workdir: Path
) -> None:
    env = client_env(git_servers, credentials=False)

    proc = git("clone", git_servers.http.url(app_repo), str(workdir / "app"), env=env)

    assert proc.returncode != 0
    assert "could not read Username" in proc.stderr
    assert "terminal prompts disabled" in proc.stderr
    seen = [r for r in git_servers.http.requests if r.path.startswith(f"/{app_repo.name}/")]
    assert [(r.user, r.status) for r in seen] == [(None, 401)]


def test_http_records_what_was_fetched(
    git_servers: GitServers, app_repo: Repo, workdir: Path
) -> None:
    env = client_env(git_servers)
    url = git_servers.http.url(app_repo)

    ls_remote(url, env)
    listed = [r for r in git_servers.http.requests if r.path.startswith(f"/{app_repo.name}/")]
    git_ok("clone", "-q", url, str(workdir / "app"), env=env)
    cloned = [r for r in git_servers.http.requests if r.path.startswith(f"/{app_repo.name}/")]

    assert listed
    assert not any(r.is_fetch for r in listed)
    assert any(r.is_fetch and r.authorized and r.status == 200 for r in cloned)
    assert all(r.user == git_servers.http.username for r in cloned if r.authorized)


def test_http_backend_takes_a_chunked_gzipped_body(git_servers: GitServers, app_repo: Repo) -> None:
    server = git_servers.http
    request = gzip.compress(b"0014command=ls-refs\n" + b"0001" + b"0000")
    token = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    connection = http.client.HTTPConnection(git_harness.HOST, server.port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/{app_repo.name}/git-upload-pack",
            body=iter([request]),  # an iterable body is sent with chunked encoding
            headers={
                "Authorization": f"Basic {token}",
                "Content-Type": "application/x-git-upload-pack-request",
                "Content-Encoding": "gzip",
                "Git-Protocol": "version=2",
            },
            encode_chunked=True,
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()

    assert response.status == 200
    assert response.getheader("Content-Type") == "application/x-git-upload-pack-result"
    assert f"{app_repo.commits[-1]} refs/heads/master".encode() in body
    # The servers are shared by the whole run: only this test's repository is looked at.
    ours = [r for r in server.requests if r.path.startswith(f"/{app_repo.name}/")]
    assert [r.command for r in ours] == ["ls-refs"]


def test_http_request_is_recorded_before_its_answer_is_read(
    git_servers: GitServers, app_repo: Repo
) -> None:
    server = git_servers.http
    token = base64.b64encode(f"{server.username}:{server.password}".encode()).decode()
    path = f"/{app_repo.name}/info/refs"
    for attempt in range(100):
        connection = http.client.HTTPConnection(git_harness.HOST, server.port, timeout=30)
        try:
            connection.request("GET", f"{path}?service=git-upload-pack&attempt={attempt}",
                               headers={"Authorization": f"Basic {token}"})  # fmt: skip
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()

        assert response.status == 200
        assert f"attempt={attempt}" in server.requests[-1].query, attempt


@pytest.mark.parametrize("known_hosts", ["wrong", "empty"])
def test_ssh_unknown_host_key_is_refused(
    git_servers: GitServers, app_repo: Repo, workdir: Path, known_hosts: str
) -> None:
    ssh = git_servers.ssh
    hosts_file = ssh.wrong_known_hosts
    if known_hosts == "empty":
        hosts_file = workdir / "known_hosts"
        hosts_file.write_text("")
    env = client_env(git_servers, ssh_command=ssh.ssh_command(known_hosts=hosts_file))

    proc = git("ls-remote", ssh.url(app_repo), env=env)

    assert proc.returncode != 0
    assert "Host key verification failed." in proc.stderr
    assert "Could not read from remote repository." in proc.stderr


def test_ssh_known_host_key_and_deploy_key_are_accepted(
    git_servers: GitServers, app_repo: Repo
) -> None:
    ssh = git_servers.ssh
    env = client_env(git_servers, ssh_command=ssh.ssh_command(known_hosts=ssh.known_hosts))

    refs = ls_remote(ssh.url(app_repo), env)

    assert refs["refs/heads/master"] == app_repo.commits[-1]
    assert f"Accepted publickey for {ssh.user} from 127.0.0.1" in ssh.log_text()


def test_ssh_key_not_authorized_is_refused(git_servers: GitServers, app_repo: Repo) -> None:
    ssh = git_servers.ssh
    env = client_env(git_servers, ssh_command=ssh.ssh_command(private_key=ssh.unauthorized_key))

    proc = git("ls-remote", ssh.url(app_repo), env=env)

    assert proc.returncode != 0
    assert "Permission denied (publickey)" in proc.stderr


@TRANSPORTS
def test_fixture_tarball_is_served_with_its_history(
    git_servers: GitServers, upstream_repo: Repo, workdir: Path, transport: Transport
) -> None:
    env = client_env(git_servers)
    url = git_servers.url(upstream_repo, transport)
    checkout = workdir / "fixture"

    git_ok("clone", "--quiet", url, str(checkout), env=env)

    history = git_ok("rev-list", "--reverse", "HEAD", env=env, cwd=checkout).split()
    assert len(history) == 21
    assert history == upstream_repo.commits
    assert history[-1] == FIXTURE_HEAD
    committed = git_ok("log", "-1", "--format=%cI", "upstream-936b7ee", env=env, cwd=checkout)
    assert committed.strip() == "2019-04-03T10:11:54+01:00"
    tags = git_ok("ls-remote", "--tags", url, env=env)
    assert f"{upstream_repo.rev_parse('a144436')}\trefs/tags/upstream-a144436" in tags
    assert (checkout / "colonname.yaml").is_file()
    assert (checkout / "foo" / "bar" / "non-yaml-file.txt").is_file()


def test_servers_stop_their_processes_and_remove_their_files() -> None:
    with tempfile.TemporaryDirectory(prefix="faros-git-stop-") as tmp:
        with git_harness.serve_all(Path(tmp)) as servers:
            pids = [servers.daemon.pid, servers.ssh.pid]
            workdirs = [servers.server(t).workdir for t in Transport]
            http_port = servers.http.port
            assert all(pid is not None for pid in pids)

        for pid in pids:
            assert pid is not None
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert not any(workdir is not None and workdir.exists() for workdir in workdirs)
        with pytest.raises(ConnectionRefusedError):
            http.client.HTTPConnection(git_harness.HOST, http_port, timeout=5).connect()
