"""Session-wide real servers (control plane, Redis, Git) and per-test namespaces: fixtures."""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from faros import config
from faros.kube import client, errors
from faros.tasks import runtime
from tests.harness import cluster as cluster_harness
from tests.harness import git_servers as git_harness
from tests.harness import gitrepos
from tests.harness.git_servers import GitServers, Transport
from tests.harness.gitrepos import Repo
from tests.harness.redis_server import RedisServer
from tests.harness.tracks import Tracks

FIXTURE_TARBALL = cluster_harness.REPO.parent / "shared" / "conformance" / "faros-fixture-repo.tgz"
# Labels for commits of the upstream fixture (spec section 6.1) that scenarios refer to.
FIXTURE_TAGS = {"upstream-a144436": "a144436", "upstream-936b7ee": "936b7ee"}


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[cluster_harness.Cluster]:
    """A real kube-apiserver + etcd + controller-manager with the Faros CRDs installed."""
    with cluster_harness.provide(tmp_path_factory.mktemp("controlplane")) as running:
        yield running


@pytest.fixture(scope="session")
def kube(cluster: cluster_harness.Cluster) -> Iterator[client.Kube]:
    """An admin raw-JSON API client."""
    with client.Kube.connect(cluster.kubeconfig) as api:
        yield api


@pytest.fixture
def namespace(kube: client.Kube) -> Iterator[str]:
    """A fresh namespace for one test, deleted (without waiting) afterwards."""
    name = f"t-{secrets.token_hex(4)}"
    kube.request("POST", "/api/v1/namespaces", body={"metadata": {"name": name}})
    yield name
    with contextlib.suppress(errors.NotFound):
        kube.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> str:
    """The broker URL of the session's Redis."""
    return redis_server.url


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The project's checkout."""
    return cluster_harness.REPO


@pytest.fixture(scope="session")
def git_root() -> Iterator[Path]:
    """The directory of bare repositories every Git server serves."""
    with tempfile.TemporaryDirectory(prefix="faros-git-repos-") as tmp:
        yield Path(tmp)


@pytest.fixture(scope="session")
def git_servers(git_root: Path) -> Iterator[GitServers]:
    """file://, git daemon, smart HTTP with basic auth and SSH, all serving `git_root`."""
    with git_harness.serve_all(git_root) as servers:
        yield servers


@pytest.fixture(scope="session")
def upstream_repo(git_root: Path) -> Repo:
    """The upstream Faros fixture repository, unpacked from its tarball, SHAs unchanged."""
    if not FIXTURE_TARBALL.is_file():
        pytest.fail(f"fixture tarball not found at {FIXTURE_TARBALL}")
    return gitrepos.repo_from_tarball(FIXTURE_TARBALL, git_root, tags=FIXTURE_TAGS)


@pytest.fixture(scope="session")
def worker_settings(
    cluster: cluster_harness.Cluster,
    redis_url: str,
    git_servers: GitServers,
    tmp_path_factory: pytest.TempPathFactory,
) -> config.Settings:
    """The settings a test worker runs with: this cluster, this Redis, file:// allowed."""
    _, settings = config.parse(
        [
            "worker",
            f"--kubeconfig={cluster.kubeconfig}",
            f"--broker-url={redis_url}",
            "--allow-file-urls",
            "--allow-http-credentials",  # the loopback Git server's basic auth is plain HTTP
            f"--known-hosts={git_servers.ssh.known_hosts}",
            f"--repository-dir={tmp_path_factory.mktemp('repositories')}",
            "--fetch-timeout=20s",
        ],
        {},
    )
    return settings


@pytest.fixture(scope="session")
def rt(worker_settings: config.Settings) -> Iterator[runtime.Runtime]:
    """The adapters a worker process would build, for running tasks in the test process."""
    built = runtime.Runtime.build(worker_settings, lock_ttl=60)
    yield built
    built.close()


@pytest.fixture
def tracks(
    kube: client.Kube, rt: runtime.Runtime, git_servers: GitServers, upstream_repo: Repo
) -> Iterator[Tracks]:
    """Make GitTracks (default: the upstream fixture repo over git://) and clean them up."""
    made = Tracks(kube, rt, git_servers.url(upstream_repo, Transport.GIT))
    yield made
    made.cleanup()


@pytest.fixture
def beat_app(redis_url: str) -> Celery:
    """A Celery app whose RedBeat schedule is this test's own (a fresh key prefix): pass
    ``FAROS_BEAT_KEY_PREFIX`` = ``beat_app.conf.redbeat_key_prefix`` to the processes."""
    app = Celery("faros-test")
    app.config_from_object("celeryconfig")
    app.conf.update(broker_url=redis_url, redbeat_redis_url=redis_url,
                    redbeat_key_prefix=f"faros:beat:{secrets.token_hex(3)}:")  # fmt: skip
    return app
