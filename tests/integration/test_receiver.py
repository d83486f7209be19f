"""The webhook receiver end to end: a signed push is applied in seconds, not at the next sync.

Real processes against the real API server, Redis and a git daemon: ``faros receiver`` beside
the distributed shape (watchers, beat, workers) with a 10-minute sync period, and ``faros run``
serving the receiver itself. What is asserted is what a user sees: the new commit's ConfigMap
appears within seconds for the GitTrack following the pushed branch, and nothing happens for
the GitTrack following another branch or for a delivery with a wrong signature.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from faros import config
from faros.api import names
from faros.kube import client
from tests.harness import cluster as cluster_harness
from tests.harness import gitrepos, http, processes
from tests.harness.git_servers import GitServers, Transport
from tests.harness.shape import FAROS, Shape
from tests.harness.wait import eventually

QUICK = 30.0
"""Seconds within which a pushed commit must be applied: far below the 10-minute period."""
QUIET = 8.0
"""Seconds during which something that must not happen is watched for."""


def configmap(name: str, namespace: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}}}\n"


def github_push(url: str, branch: str, *, after: str) -> dict[str, Any]:
    """A push event as GitHub sends it, for a repository whose git URL is ``url``."""
    return {
        "ref": f"refs/heads/{branch}", "before": "0" * 39 + "1", "after": after,
        "created": False, "deleted": False, "forced": False,
        "repository": {
            "name": "manifests", "full_name": "example/manifests",
            "html_url": "https://github.example.com/example/manifests",
            "clone_url": "https://github.example.com/example/manifests.git",
            "ssh_url": "git@github.example.com:example/manifests.git",
            "git_url": url,
        },
        "pusher": {"name": "faros-test"}, "head_commit": {"id": after},
    }  # fmt: skip


def post_github(
    base: str, payload: dict[str, Any], *, secret: str, delivery: str
) -> tuple[int, str]:
    """POST a GitHub delivery signed with ``secret`` as GitHub signs it; (status, body)."""
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={signature}",
    }
    return _post(f"{base}/hook/github", body, headers)


def create_secret(kube: client.Kube, namespace: str, value: str) -> str:
    """A Secret holding the shared GitHub webhook secret; return its NAMESPACE/NAME."""
    kube.request(
        "POST", f"/api/v1/namespaces/{namespace}/secrets",
        body={"metadata": {"name": "faros-webhooks"}, "stringData": {"github": value}},
    )  # fmt: skip
    return f"{namespace}/faros-webhooks"


def create_gittrack(kube: client.Kube, namespace: str, name: str, url: str, reference: str):
    kube.request(
        "POST", f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks",
        body={"apiVersion": names.API_VERSION, "kind": names.GITTRACK,
              "metadata": {"name": name}, "spec": {"repository": url, "reference": reference}},
    )  # fmt: skip


def annotations_of(kube: client.Kube, namespace: str, name: str) -> dict[str, str]:
    path = f"/apis/{names.API_VERSION}/namespaces/{namespace}/gittracks/{name}"
    return dict(kube.request("GET", path)["metadata"].get("annotations") or {})


class Receiver:
    """A running process serving the webhook receiver (and its /metrics, when it has one)."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path, *, hooks: int, metrics: int):
        self.process = process
        self.log = log
        self.base = f"http://127.0.0.1:{hooks}"
        self.metrics = f"http://127.0.0.1:{metrics}" if metrics else ""

    def alive(self) -> None:
        assert self.process.poll() is None, processes.tail(self.log, 40)

    def ready(self) -> None:
        self.alive()
        status, body = http.get(f"{self.base}/healthz")
        assert status == 200, body

    def value(self, metric: str, **labels: str) -> float:
        status, text = http.get(f"{self.metrics}/metrics")
        assert status == 200, text
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == metric and sample.labels == labels:
                    return float(sample.value)
        return 0.0


@contextlib.contextmanager
def started(command: list[str], log: Path, *, hooks: int, metrics: int = 0) -> Iterator[Receiver]:
    """Run ``command`` until the block ends, once its receiver answers /healthz with 200."""
    process = processes.spawn(command, log=log, env=dict(os.environ))
    try:
        receiver = Receiver(process, log, hooks=hooks, metrics=metrics)
        eventually(receiver.ready, timeout=60, interval=0.5)
        yield receiver
    finally:
        processes.stop(process, timeout=30)


def test_a_signed_push_syncs_the_gittrack_of_that_branch_at_once_and_no_other(
    kube, cluster, worker_settings, git_root, git_servers: GitServers, namespace, tmp_path
):
    settings: config.Settings = worker_settings
    repo = gitrepos.make_repo(git_root, f"hook-{secrets.token_hex(3)}",
                              [{"a.yaml": configmap("a", namespace)}])  # fmt: skip
    repo.commit({"o.yaml": configmap("o", namespace)}, branch="other", replace=True)
    url = git_servers.url(repo, Transport.GIT)
    secret = secrets.token_hex(20)
    where = create_secret(kube, namespace, secret)
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    hooks, metrics = processes.free_port(), processes.free_port()
    command = [
        FAROS, "receiver", f"--kubeconfig={settings.kubeconfig}",
        f"--broker-url={settings.broker_url}", f"--webhook-bind-address=127.0.0.1:{hooks}",
        f"--metrics-bind-address=127.0.0.1:{metrics}", f"--webhook-secret={where}",
    ]  # fmt: skip
    shape = Shape(settings, tmp_path, beat_prefix=f"faros:beat:{secrets.token_hex(3)}:",
                  sync_period="10m")  # fmt: skip
    with shape, started(command, tmp_path / "receiver.log", hooks=hooks, metrics=metrics) as hook:
        create_gittrack(kube, namespace, "follows-master", url, "master")
        create_gittrack(kube, namespace, "follows-other", url, "other")
        eventually(lambda: cluster_harness.assert_exist(kube, f"{cms}/a", f"{cms}/o"), timeout=90)

        new_master = repo.commit({"b.yaml": configmap("b", namespace)})
        repo.commit({"p.yaml": configmap("p", namespace)}, branch="other")
        payload = github_push(url, "master", after=new_master)

        status, body = post_github(hook.base, payload, secret="not-the-secret", delivery="d-1")
        assert (status, json.loads(body)) == (401, {"error": "unauthorized"})
        time.sleep(QUIET)  # a queued sync would take a second or two
        assert not cluster_harness.exists(kube, f"{cms}/b"), "an unsigned push queued a sync"
        assert hook.value("faros_webhook_syncs_queued_total", provider="github") == 0

        pushed = time.monotonic()
        status, body = post_github(hook.base, payload, secret=secret, delivery="d-2")
        assert (status, json.loads(body)) == (200, {"accepted": True})
        eventually(lambda: cluster_harness.assert_exist(kube, f"{cms}/b"), timeout=QUICK)
        assert time.monotonic() - pushed < QUICK

        time.sleep(QUIET)  # the other branch's GitTrack was not synced
        assert not cluster_harness.exists(kube, f"{cms}/p"), "the other branch was synced"
        assert names.PUSHED_AT_ANNOTATION not in annotations_of(kube, namespace, "follows-other")
        assert hook.value("faros_webhook_syncs_queued_total", provider="github") == 1
        assert hook.value("faros_webhook_requests_total", provider="github",
                          result="unauthorized") == 1  # fmt: skip

        status, _ = post_github(hook.base, payload, secret=secret, delivery="d-2")  # replayed
        assert status == 200
        assert hook.value("faros_webhook_requests_total", provider="github",
                          result="replayed") == 1  # fmt: skip
        assert hook.value("faros_webhook_syncs_queued_total", provider="github") == 1
        shape.assert_alive()
        hook.alive()


def test_faros_run_serves_the_receiver(
    kube, cluster, worker_settings, git_root, git_servers: GitServers, namespace, tmp_path
):
    repo = gitrepos.make_repo(git_root, f"run-hook-{secrets.token_hex(3)}",
                              [{"a.yaml": configmap("a", namespace)}])  # fmt: skip
    url = git_servers.url(repo, Transport.GIT)
    secret = secrets.token_hex(20)
    where = create_secret(kube, namespace, secret)
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    hooks = processes.free_port()
    command = [
        FAROS, "run", f"--kubeconfig={worker_settings.kubeconfig}", "--metrics-bind-address=0",
        "--sync-period=10m", "--broker-url=redis://127.0.0.1:1/0",  # nothing listens there
        f"--webhook-bind-address=127.0.0.1:{hooks}", f"--webhook-secret={where}",
    ]  # fmt: skip
    with started(command, tmp_path / "run.log", hooks=hooks) as hook:
        create_gittrack(kube, namespace, "app", url, "master")
        eventually(lambda: cluster_harness.assert_exist(kube, f"{cms}/a"), timeout=90)

        new_master = repo.commit({"b.yaml": configmap("b", namespace)})
        payload = github_push(url, "master", after=new_master)
        assert post_github(hook.base, payload, secret="wrong", delivery="r-1")[0] == 401

        pushed = time.monotonic()
        status, body = post_github(hook.base, payload, secret=secret, delivery="r-2")
        assert (status, json.loads(body)) == (200, {"accepted": True})
        eventually(lambda: cluster_harness.assert_exist(kube, f"{cms}/b"), timeout=QUICK)
        assert time.monotonic() - pushed < QUICK
        hook.alive()


def _provider_delivery(
    provider: str, url: str, sha: str, secret: str
) -> tuple[bytes, dict[str, str]]:
    """A push of ``sha`` to master of ``url`` as each provider sends it, signed as it signs."""
    ref, zero = "refs/heads/master", "0" * 40
    payloads: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
        "gitlab": ({"object_kind": "push", "ref": ref, "before": zero, "after": sha,
                    "project": {"git_http_url": url, "web_url": "https://gitlab.example/x"},
                    "repository": {"git_http_url": url}},
                   {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": secret,
                    "X-Gitlab-Event-UUID": f"gl-{sha[:8]}"}),
        "bitbucket": ({"push": {"changes": [{"new": {"type": "branch", "name": "master",
                                                     "target": {"hash": sha}},
                                             "old": {"type": "branch", "name": "master"}}]},
                       "repository": {"full_name": "x/y", "links": {
                           "html": {"href": "https://bitbucket.example/x/y"},
                           "clone": [{"name": "https", "href": url}]}}},
                      {"X-Event-Key": "repo:push", "X-Request-UUID": f"bb-{sha[:8]}"}),
        "bitbucket-server": ({"eventKey": "repo:refs_changed",
                              "changes": [{"ref": {"id": ref, "type": "BRANCH"},
                                           "refId": ref, "fromHash": zero, "toHash": sha,
                                           "type": "UPDATE"}],
                              "repository": {"links": {"clone": [{"href": url,
                                                                  "name": "http"}]}}},
                             {"X-Event-Key": "repo:refs_changed",
                              "X-Request-Id": f"bbs-{sha[:8]}"}),
        "gitea": ({"ref": ref, "before": zero, "after": sha,
                   "repository": {"clone_url": url, "ssh_url": "git@gitea.example:x/y.git"}},
                  {"X-Gitea-Event": "push", "X-Gitea-Delivery": f"gt-{sha[:8]}"}),
        "azure": ({"id": f"az-{sha[:8]}", "eventType": "git.push",
                   "resource": {"refUpdates": [{"name": ref, "oldObjectId": zero,
                                                "newObjectId": sha}],
                                "repository": {"remoteUrl": url}}},
                  {}),
        "generic": ({"repository": url, "ref": ref}, {"X-Delivery-Id": f"gn-{sha[:8]}"}),
    }  # fmt: skip
    payload, headers = payloads[provider]
    body = json.dumps(payload).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    signature = {"bitbucket": "X-Hub-Signature", "bitbucket-server": "X-Hub-Signature",
                 "generic": "X-Signature-256"}  # fmt: skip
    if provider in signature:
        headers[signature[provider]] = f"sha256={digest}"
    if provider == "gitea":
        headers["X-Gitea-Signature"] = digest
    if provider == "azure":
        token = base64.b64encode(secret.encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    return body, {"Content-Type": "application/json", **headers}


PROVIDERS = ("gitlab", "bitbucket", "bitbucket-server", "gitea", "azure", "generic")


def test_every_provider_s_signed_push_is_applied_through_faros_run(
    kube, worker_settings, git_root, git_servers: GitServers, namespace, tmp_path
):
    secret = secrets.token_hex(20)
    shared = dict.fromkeys(PROVIDERS, secret)
    shared["azure"] = f"faros:{secret}"
    kube.request("POST", f"/api/v1/namespaces/{namespace}/secrets",
                 body={"metadata": {"name": "hooks"}, "stringData": shared})  # fmt: skip
    cms = f"/api/v1/namespaces/{namespace}/configmaps"
    repos = {}
    for provider in PROVIDERS:
        repo = gitrepos.make_repo(git_root, f"{provider}-{secrets.token_hex(3)}",
                                  [{"a.yaml": configmap(f"{provider}-a", namespace)}])  # fmt: skip
        repos[provider] = (repo, git_servers.url(repo, Transport.GIT))
    hooks = processes.free_port()
    command = [
        FAROS, "run", f"--kubeconfig={worker_settings.kubeconfig}", "--metrics-bind-address=0",
        "--sync-period=10m", "--broker-url=redis://127.0.0.1:1/0",
        f"--namespace={namespace}", "--clustergittrack-mode=Disabled",
        f"--webhook-bind-address=127.0.0.1:{hooks}", f"--webhook-secret={namespace}/hooks",
    ]  # fmt: skip
    with started(command, tmp_path / "run.log", hooks=hooks) as hook:
        for provider, (_, url) in repos.items():
            create_gittrack(kube, namespace, provider, url, "master")
        eventually(lambda: cluster_harness.assert_exist(
            kube, *(f"{cms}/{p}-a" for p in PROVIDERS)), timeout=90)  # fmt: skip
        for provider, (repo, url) in repos.items():
            sha = repo.commit({"b.yaml": configmap(f"{provider}-b", namespace)})
            secret_of = shared[provider]
            body, headers = _provider_delivery(provider, url, sha, "wrong-" + secret_of)
            assert _post(f"{hook.base}/hook/{provider}", body, headers)[0] == 401, provider
            body, headers = _provider_delivery(provider, url, sha, secret_of)
            status, answer = _post(f"{hook.base}/hook/{provider}", body, headers)
            assert (status, json.loads(answer)) == (200, {"accepted": True}), provider
            applied = functools.partial(cluster_harness.assert_exist, kube, f"{cms}/{provider}-b")
            eventually(applied, timeout=QUICK)
        hook.alive()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    """POST to the loopback receiver under test; (status, body), errors included."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode()
