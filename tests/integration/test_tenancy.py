"""Multi-tenancy against a real API server with RBAC: each GitTrack applies as its service
account (Impersonate-User), so it can do no more than that account could by hand."""

from __future__ import annotations

import json
import secrets

from tests.harness import gitrepos
from tests.harness.cluster import condition, exists
from tests.harness.faros_run import Run, Track, configmap, edit, value
from tests.harness.git_servers import Transport
from tests.harness.wait import eventually

ALLOWED = ["get", "list", "watch", "create", "update", "patch", "delete"]


def tenant(kube, namespace: str, account: str) -> None:
    """A service account allowed ConfigMaps in ``namespace`` and nothing else."""
    kube.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts",
                 body={"metadata": {"name": account}})  # fmt: skip
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}"
    kube.request("POST", f"{rbac}/roles", body={
        "metadata": {"name": account},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ALLOWED}]})  # fmt: skip
    subject = {"kind": "ServiceAccount", "name": account, "namespace": namespace}
    role = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account}
    kube.request(
        "POST",
        f"{rbac}/rolebindings",
        body={"metadata": {"name": account}, "subjects": [subject], "roleRef": role},
    )


def escalation(namespace: str) -> str:
    return json.dumps({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "escalate", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "cluster-admin"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}],
    })  # fmt: skip


def secret(namespace: str) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "Secret",
                       "metadata": {"name": "s", "namespace": namespace},
                       "stringData": {"k": "v"}})  # fmt: skip


def test_a_gittrack_can_do_no_more_than_its_service_account(
    kube, worker_settings, git_root, git_servers, namespace, tmp_path
):
    tenant(kube, namespace, "deployer")
    repo = gitrepos.make_repo(git_root, f"tenant-{secrets.token_hex(3)}", [
        {"a.json": configmap("a", namespace), "rb.json": escalation(namespace),
         "s.json": secret(namespace)},
    ])  # fmt: skip
    other = gitrepos.make_repo(git_root, f"tenant-default-{secrets.token_hex(3)}", [
        {"b.json": configmap("b", namespace), "s2.json": secret(namespace).replace('"s"', '"s2"')},
    ])  # fmt: skip
    with Run(worker_settings, tmp_path, namespace, "--default-service-account=deployer"):
        named = Track(kube, namespace, git_servers.url(repo, Transport.FILE),
                      serviceAccountName="deployer")  # fmt: skip
        defaulted = Track(kube, namespace, git_servers.url(other, Transport.FILE))

        def applied_or_refused() -> None:
            assert value(named.cm("a")) == "v1"
            assert value(defaulted.cm("b")) == "v1"
            for track, gto, resource in ((named, "rolebinding-escalate", "rolebindings"),
                                         (named, "secret-s", "secrets"),
                                         (defaulted, "secret-s2", "secrets")):  # fmt: skip
                found = condition(track.gto(gto), "ObjectInSync")
                assert found.get("status") == "False", (gto, found)
                assert "forbidden" in found["message"], found
                assert f'User "system:serviceaccount:{namespace}:deployer"' in found["message"]
                assert f'resource "{resource}"' in found["message"]  # its get, or its create

        eventually(applied_or_refused, timeout=60)
        rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings/escalate"
        assert not exists(kube, rbac)
        assert not exists(kube, f"/api/v1/namespaces/{namespace}/secrets/s")
        assert condition(named.get(), "ChildrenUpToDate").get("status") is not None

        # Drift on what the account may write is still reverted (watches read as Faros).
        edit(kube, f"/api/v1/namespaces/{namespace}/configmaps/a", "by-hand")
        eventually(lambda: _is(named, "a", "v1"), timeout=30)


def _is(track: Track, name: str, want: str) -> None:
    assert value(track.cm(name)) == want
