"""Sync over every transport with deployKey Secrets; bad credentials and hostile input."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import secrets

import pytest

from faros.api import names
from faros.kube import errors
from faros.tasks import apply as apply_task
from faros.tasks import sync as sync_task
from tests.harness import gitrepos
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually

CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: %s}\n"


@pytest.fixture
def app_repo(git_root, namespace):
    return gitrepos.make_repo(
        git_root, f"sync-{secrets.token_hex(4)}", [{"cm.yaml": CONFIGMAP % ("app", namespace)}]
    )


def secret(kube, namespace, name, data: dict[str, bytes]):
    encoded = {key: base64.b64encode(value).decode() for key, value in data.items()}
    kube.request("POST", f"/api/v1/namespaces/{namespace}/secrets",
                 body={"metadata": {"name": name}, "data": encoded})  # fmt: skip


def fetched(tracks, key):
    condition = tracks.condition(key, "FilesFetched")
    return condition["status"], condition["message"]


def test_ssh_deploy_key(tracks, kube, namespace, git_servers, app_repo):
    secret(kube, namespace, "deploy", {"id": git_servers.ssh.private_key.read_bytes()})
    key = tracks.create(
        repository=git_servers.url(app_repo, Transport.SSH), reference="master",
        namespace=namespace, deploy_key={"secretName": "deploy", "key": "id"},
    )  # fmt: skip

    tracks.sync(key)

    assert fetched(tracks, key) == ("True", "")
    assert f"{namespace}/configmap-app" in tracks.children(key)


def test_https_basic_auth_from_a_secret(tracks, kube, namespace, git_servers, app_repo):
    http = git_servers.http
    secret(kube, namespace, "auth", {"basic": f"{http.username}:{http.password}".encode()})
    key = tracks.create(
        repository=git_servers.url(app_repo, Transport.HTTP), reference="master",
        namespace=namespace,
        deploy_key={"secretName": "auth", "key": "basic", "type": "HTTPBasicAuth"},
    )  # fmt: skip

    tracks.sync(key)

    assert fetched(tracks, key) == ("True", "")
    assert f"{namespace}/configmap-app" in tracks.children(key)


def test_basic_credentials_are_never_sent_over_plain_http_unless_allowed(
    tracks, kube, namespace, git_servers, app_repo, rt
):
    http = git_servers.http
    http.clear_requests()
    secret(kube, namespace, "auth", {"basic": f"{http.username}:{http.password}".encode()})
    key = tracks.create(
        repository=git_servers.url(app_repo, Transport.HTTP), reference="master",
        namespace=namespace,
        deploy_key={"secretName": "auth", "key": "basic", "type": "HTTPBasicAuth"},
    )  # fmt: skip
    strict = dataclasses.replace(
        rt, settings=dataclasses.replace(rt.settings, allow_http_credentials=False)
    )

    sync_task.run(strict, namespace=key.namespace, name=key.name)

    status, text = fetched(tracks, key)
    assert status == "False"
    assert "HTTP basic credentials are never sent over plain http://" in text
    assert "--allow-http-credentials" in text
    assert http.username not in text
    assert http.password not in text
    assert http.requests == []  # nothing reached the server


@pytest.mark.parametrize("secret_type", ["kubernetes.io/dockerconfigjson",
                                         "kubernetes.io/service-account-token"])  # fmt: skip
def test_registry_and_token_secrets_are_never_deploy_keys(
    tracks, kube, namespace, git_servers, app_repo, secret_type
):
    if secret_type == "kubernetes.io/dockerconfigjson":
        key_name = ".dockerconfigjson"
        data = {key_name: b'{"auths": {"registry.example.com": {"auth": "c2VjcmV0OnRva2Vu"}}}'}
        annotations: dict[str, str] = {}
    else:
        key_name = "token"
        data = {key_name: b"c2VjcmV0OnRva2Vu"}
        kube.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts",
                     body={"metadata": {"name": "robot"}})  # fmt: skip
        annotations = {"kubernetes.io/service-account.name": "robot"}
    encoded = {key: base64.b64encode(value).decode() for key, value in data.items()}
    kube.request("POST", f"/api/v1/namespaces/{namespace}/secrets", body={
        "metadata": {"name": "creds", "annotations": annotations}, "type": secret_type,
        "data": encoded})  # fmt: skip
    git_servers.http.clear_requests()
    key = tracks.create(
        repository=git_servers.url(app_repo, Transport.HTTP), reference="master",
        namespace=namespace,
        deploy_key={"secretName": "creds", "key": key_name, "type": "HTTPBasicAuth"},
    )  # fmt: skip

    tracks.sync(key)

    status, text = fetched(tracks, key)
    assert status == "False"
    assert f"Secret {namespace}/creds has type {secret_type}" in text
    assert "c2VjcmV0OnRva2Vu" not in text
    assert git_servers.http.requests == []


@pytest.mark.parametrize(
    ("data", "deploy_key", "transport", "message"),
    [
        (None, {"secretName": "missing", "key": "id"}, Transport.SSH,
         'unable to retrieve git credentials from secret: failed to look up secret missing: '
         'secrets "missing" not found'),
        ({"other": b"x"}, {"secretName": "creds", "key": "id"}, Transport.SSH,
         "unable to retrieve git credentials from secret: invalid deploy key reference. "
         "Secret creds does not have key id"),
        ({"basic": b"token-only"}, {"secretName": "creds", "key": "basic",
                                    "type": "HTTPBasicAuth"}, Transport.HTTP,
         "you must specify the secret as <username>:<password> for credential type "
         "HTTPBasicAuth"),
        ({"basic": b"faros:wrong-password"}, {"secretName": "creds", "key": "basic",
                                              "type": "HTTPBasicAuth"}, Transport.HTTP,
         "Authentication failed"),
        ({"id": b"WRONG-KNOWN-HOSTS"}, {"secretName": "creds", "key": "id"}, Transport.SSH,
         "Host key verification failed"),
    ],
    ids=["missing-secret", "missing-key", "malformed-basic-auth", "wrong-password",
         "unknown-host-key"],
)  # fmt: skip
def test_credential_errors_are_reported(
    tracks, kube, namespace, git_servers, app_repo, rt, tmp_path, monkeypatch,
    data, deploy_key, transport, message,
):  # fmt: skip
    if data == {"id": b"WRONG-KNOWN-HOSTS"}:
        data = {"id": git_servers.ssh.private_key.read_bytes()}
        monkeypatch.setattr(rt.store, "known_hosts_files", [git_servers.ssh.wrong_known_hosts])
    if data is not None:
        secret(kube, namespace, "creds", data)
    key = tracks.create(repository=git_servers.url(app_repo, transport), reference="master",
                        namespace=namespace, deploy_key=deploy_key)  # fmt: skip

    tracks.sync(key)

    status, text = fetched(tracks, key)
    assert status == "False"
    assert message in text
    assert "wrong-password" not in str(tracks.get(key)["status"])
    assert tracks.children(key) == {}


@pytest.mark.parametrize(
    ("repository", "reference", "reason"),
    [
        ("ext::sh -c touch% /tmp/faros-pwned", "master", "whitespace"),
        ("fd::3", "master", "remote helper"),
        ("--upload-pack=touch /tmp/faros-pwned", "master", "must not start with '-'"),
        ("HTTP", "--upload-pack=touch /tmp/faros-pwned", "reference must not start with '-'"),
    ],
    ids=["ext", "fd", "upload-pack-url", "upload-pack-reference"],
)
def test_hostile_input_is_refused_before_git_runs(
    tracks, namespace, git_servers, app_repo, repository, reference, reason
):
    git_servers.http.clear_requests()
    url = git_servers.url(app_repo, Transport.HTTP) if repository == "HTTP" else repository
    key = tracks.create(repository=url, reference=reference, namespace=namespace)

    tracks.sync(key)

    status, text = fetched(tracks, key)
    assert status == "False"
    assert reason in text
    assert git_servers.http.requests == []


def test_password_in_the_url_never_reaches_status_or_events(tracks, namespace, git_servers,
                                                            app_repo):  # fmt: skip
    http = git_servers.http
    url = git_servers.url(app_repo, Transport.HTTP).replace(
        "http://", f"http://{http.username}:{http.password}@"
    )
    key = tracks.create(repository=url, reference="master", namespace=namespace)

    tracks.sync(key)

    assert fetched(tracks, key) == ("True", "")
    assert http.password not in str(tracks.get(key)["status"])
    assert all(http.password not in message for _, _, message in tracks.events(key))


def test_a_namespace_and_its_objects_in_one_repository_are_applied_in_order(
    tracks, rt, kube, git_root, git_servers
):
    created = f"made-{secrets.token_hex(3)}"
    namespace_manifest = f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {created}}}\n"
    repo = gitrepos.make_repo(git_root, f"nsorder-{secrets.token_hex(3)}", [
        {"ns.yaml": namespace_manifest, "cm.yaml": CONFIGMAP % ("app", created)},
    ])  # fmt: skip
    key = tracks.create(names.CLUSTERGITTRACK, reference="master",
                        repository=git_servers.url(repo, Transport.FILE))  # fmt: skip
    try:
        status = tracks.sync(key)
        assert set(tracks.children(key)) == {f"namespace-{created}"}
        assert status.get("ignoredFiles", {}) == {}, "no 'namespace does not exist' error"
        assert tracks.condition(key, "ChildrenUpToDate")["status"] == "True"
        assert f"Namespace {created}" in tracks.condition(key, "Reconciling")["message"]

        assert apply_task.run(rt, namespace="", name=f"namespace-{created}").done
        tracks.sync(key)
        assert f"{created}/configmap-app" in tracks.children(key)
    finally:
        with contextlib.suppress(errors.NotFound):
            kube.request("DELETE", f"/api/v1/namespaces/{created}")


def test_child_in_a_namespace_that_does_not_exist_yet(tracks, git_root, git_servers):
    missing = f"later-{secrets.token_hex(3)}"
    repo = gitrepos.make_repo(git_root, f"ns-{secrets.token_hex(3)}",
                              [{"cm.yaml": CONFIGMAP % ("app", missing)}])  # fmt: skip
    key = tracks.create(names.CLUSTERGITTRACK, reference="master",
                        repository=git_servers.url(repo, Transport.FILE))  # fmt: skip

    status = tracks.sync(key)

    assert status["ignoredFiles"][f"{missing}/configmap-app"] == (
        f"failed to create child for 'configmap-app': namespace \"{missing}\" does not exist "
        "yet; the next sync retries"
    )
    assert tracks.condition(key, "ChildrenUpToDate")["reason"] == "ErrorUpdatingChildren"


def test_a_crd_and_its_resource_in_one_repository_converge(tracks, rt, kube, git_root,
                                                          git_servers, namespace):  # fmt: skip
    group = f"r{secrets.token_hex(3)}.faros.test"
    crd = f"""apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {{name: gadgets.{group}}}
spec:
  group: {group}
  scope: Namespaced
  names: {{plural: gadgets, singular: gadget, kind: Gadget}}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}
"""
    gadget = (
        f"apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g, namespace: {namespace}}}\n"
    )
    repo = gitrepos.make_repo(git_root, f"crd-{secrets.token_hex(3)}",
                              [{"crd.yaml": crd, "gadget.yaml": gadget}])  # fmt: skip
    key = tracks.create(names.CLUSTERGITTRACK, reference="master",
                        repository=git_servers.url(repo, Transport.FILE))  # fmt: skip

    status = tracks.sync(key)
    children = tracks.children(key)
    assert f"customresourcedefinition-gadgets.{group}" in children
    assert f"{namespace}/gadget-g" not in children, "held back until its CRD is served"
    assert status.get("ignoredFiles", {}) == {}, "waiting is no error"
    assert tracks.condition(key, "ChildrenUpToDate")["status"] == "True"
    reconciling = tracks.condition(key, "Reconciling")
    assert (reconciling["status"], reconciling["reason"]) == ("True", "Waiting")
    assert f"Gadget.{group}" in reconciling["message"]
    for child in children.values():
        meta = child["metadata"]
        apply_task.run(rt, namespace=meta.get("namespace", ""), name=meta["name"])

    def converged() -> None:
        tracks.sync(key)
        assert f"{namespace}/gadget-g" in tracks.children(key)
        assert apply_task.run(rt, namespace=namespace, name="gadget-g").done
        assert tracks.kube.request("GET", f"/apis/{group}/v1/namespaces/{namespace}/gadgets/g")
        gto = tracks.children(key)[f"{namespace}/gadget-g"]
        assert gto["status"]["conditions"][0]["reason"] == "ChildAppliedSuccess", "no error"

    eventually(converged, timeout=60, interval=1)
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    kube.request("DELETE", f"{crds}/gadgets.{group}")
