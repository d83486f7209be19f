"""Whose identity writes a GitTrack's objects: its service account, or the controller's."""

from __future__ import annotations

from typing import Any

import pytest

from faros.core import tenancy


def track(kind: str = "GitTrack", namespace: str = "team", **spec: Any) -> dict[str, Any]:
    meta = {"name": "web", **({"namespace": namespace} if namespace else {})}
    return {"kind": kind, "metadata": meta, "spec": {"repository": "r", **spec}}


def test_a_gittrack_names_an_account_of_its_own_namespace():
    assert tenancy.identity(track(serviceAccountName="deployer"), namespace="team") == (
        "system:serviceaccount:team:deployer")  # fmt: skip
    ref = {"name": "deployer"}
    assert tenancy.identity(track(serviceAccountRef=ref), namespace="team") == (
        "system:serviceaccount:team:deployer")  # fmt: skip


def test_the_default_account_applies_to_gittracks_only():
    assert tenancy.identity(track(), namespace="team", default_account="tenant") == (
        "system:serviceaccount:team:tenant")  # fmt: skip
    cluster = track("ClusterGitTrack", namespace="")
    assert tenancy.identity(cluster, namespace="", default_account="tenant") == ""
    assert tenancy.identity(track(), namespace="team") == ""  # no flag: the controller
    assert tenancy.identity(None, namespace="team", default_account="tenant") == (
        "system:serviceaccount:team:tenant")  # a GitTrackObject written by hand  # fmt: skip


def test_a_clustergittrack_names_namespace_and_name():
    cluster = track("ClusterGitTrack", namespace="", serviceAccountRef={
        "namespace": "platform", "name": "applier"})  # fmt: skip
    assert tenancy.identity(cluster, namespace="") == "system:serviceaccount:platform:applier"
    missing = track("ClusterGitTrack", namespace="", serviceAccountRef={"name": "applier"})
    with pytest.raises(tenancy.TenancyError, match="namespace is required"):
        tenancy.identity(missing, namespace="")


@pytest.mark.parametrize(("spec", "error"), [
    ({"serviceAccountRef": {"namespace": "other", "name": "x"}}, "GitTrack's own namespace"),
    ({"serviceAccountName": "Bad_Name"}, "spec.serviceAccountName 'Bad_Name' is not a valid"),
    ({"serviceAccountName": "a:b"}, "is not a valid name"),
])  # fmt: skip
def test_an_account_elsewhere_or_a_bad_name_is_refused(spec, error):
    with pytest.raises(tenancy.TenancyError, match=error):
        tenancy.identity(track(**spec), namespace="team")
