"""Ignore and scope rules in the original's order (spec 2.6, 1.7) and first-owner-wins."""

import pytest

from faros.api import names
from faros.api.names import ClusterGitTrackMode as Mode
from faros.core import rules
from faros.core.identity import ObjectKey

GITTRACK = rules.Owner(kind=names.GITTRACK, namespace="default", name="example", uid="u1")
CLUSTER = rules.Owner(kind=names.CLUSTERGITTRACK, namespace="", name="example", uid="u2")

DEPLOYMENT = ObjectKey("apps", "v1", "Deployment", "default", "nginx")
IN_FOO = ObjectKey("apps", "v1", "Deployment", "foo", "nginx")
NO_NAMESPACE = ObjectKey("apps", "v1", "Deployment", "", "nginx")
NAMESPACE = ObjectKey("", "v1", "Namespace", "", "test")
OLD_DEPLOYMENT = ObjectKey("extensions", "v1beta1", "Deployment", "default", "nginx")

IGNORE_DEPLOYMENTS = frozenset({("deployments", "apps", "v1")})

CASES = [
    # id, key, resource, namespaced, owner, policy, reason ("" = allowed)
    ("gittrack-own-namespace", DEPLOYMENT, "deployments", True, GITTRACK, rules.Policy(), ""),
    (
        "gittrack-other-namespace",
        IN_FOO,
        "deployments",
        True,
        GITTRACK,
        rules.Policy(),
        "namespace `foo` is not managed by this GitTrack",
    ),
    (
        "gittrack-no-namespace",
        NO_NAMESPACE,
        "deployments",
        True,
        GITTRACK,
        rules.Policy(),
        "namespace `` is not managed by this GitTrack",
    ),
    (
        "gittrack-cluster-scoped",
        NAMESPACE,
        "namespaces",
        False,
        GITTRACK,
        rules.Policy(),
        "a GitTrack cannot manage a cluster-scoped resource",
    ),
    (
        "faros-namespace-first",
        IN_FOO,
        "deployments",
        True,
        GITTRACK,
        rules.Policy(namespace="default", ignored_resources=IGNORE_DEPLOYMENTS),
        "namespace `foo` is not managed by this Faros",
    ),
    (
        "faros-namespace-ignores-cluster-scope",
        NAMESPACE,
        "namespaces",
        False,
        GITTRACK,
        rules.Policy(namespace="default"),
        "a GitTrack cannot manage a cluster-scoped resource",
    ),
    (
        "ignored-resource",
        DEPLOYMENT,
        "deployments",
        True,
        GITTRACK,
        rules.Policy(ignored_resources=IGNORE_DEPLOYMENTS),
        "resource `deployments.apps/v1` ignored globally by flag",
    ),
    (
        "ignored-before-scope",
        IN_FOO,
        "deployments",
        True,
        GITTRACK,
        rules.Policy(ignored_resources=IGNORE_DEPLOYMENTS),
        "resource `deployments.apps/v1` ignored globally by flag",
    ),
    (
        "ignored-core-group",
        NAMESPACE,
        "namespaces",
        False,
        CLUSTER,
        rules.Policy(ignored_resources={("namespaces", "", "v1")}),
        "resource `namespaces./v1` ignored globally by flag",
    ),
    (
        "ignore-is-exact-version",
        OLD_DEPLOYMENT,
        "deployments",
        True,
        GITTRACK,
        rules.Policy(ignored_resources=IGNORE_DEPLOYMENTS),
        "",
    ),
    ("cluster-include-namespaced", IN_FOO, "deployments", True, CLUSTER, rules.Policy(), ""),
    ("cluster-include-cluster-scoped", NAMESPACE, "namespaces", False, CLUSTER, rules.Policy(), ""),
    (
        "cluster-exclude-namespaced",
        DEPLOYMENT,
        "deployments",
        True,
        CLUSTER,
        rules.Policy(clustergittrack_mode=Mode.EXCLUDE_NAMESPACED),
        "namespaced resources cannot be managed by ClusterGitTrack",
    ),
    (
        "cluster-exclude-cluster-scoped",
        NAMESPACE,
        "namespaces",
        False,
        CLUSTER,
        rules.Policy(clustergittrack_mode=Mode.EXCLUDE_NAMESPACED),
        "",
    ),
    (
        "cluster-no-namespace",
        NO_NAMESPACE,
        "deployments",
        True,
        CLUSTER,
        rules.Policy(),
        "a namespaced resource without metadata.namespace cannot be managed by ClusterGitTrack",
    ),
    (
        "cluster-exclude-no-namespace",
        NO_NAMESPACE,
        "deployments",
        True,
        CLUSTER,
        rules.Policy(clustergittrack_mode=Mode.EXCLUDE_NAMESPACED),
        "namespaced resources cannot be managed by ClusterGitTrack",
    ),
    (
        "cluster-disabled",
        NAMESPACE,
        "namespaces",
        False,
        CLUSTER,
        rules.Policy(clustergittrack_mode=Mode.DISABLED),
        "ClusterGitTracks are disabled by --clustergittrack-mode",
    ),
]


@pytest.mark.parametrize(
    ("key", "resource", "namespaced", "owner", "policy", "reason"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_decide(key, resource, namespaced, owner, policy, reason):
    decision = rules.decide(
        key=key, resource=resource, namespaced=namespaced, owner=owner, policy=policy
    )
    assert decision == rules.Decision(allowed=not reason, reason=reason)


def ref(
    kind: str, name: str, uid: str, *, controller: bool = True, api_version: str = names.API_VERSION
) -> dict[str, object]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": controller,
    }


OWNERS = [
    ("no-owner", [], GITTRACK, rules.Ownership.ADOPT, ""),
    ("ours", [ref(names.GITTRACK, "example", "u1")], GITTRACK, rules.Ownership.OURS, ""),
    (
        "same-kind-other",
        [ref(names.GITTRACK, "other", "u9")],
        GITTRACK,
        rules.Ownership.OTHER,
        "other",
    ),
    (
        "gittrack-vs-clustergittrack",
        [ref(names.GITTRACK, "team", "u1")],
        CLUSTER,
        rules.Ownership.OTHER,
        "team",
    ),
    (
        "clustergittrack-vs-gittrack",
        [ref(names.CLUSTERGITTRACK, "all", "u2")],
        GITTRACK,
        rules.Ownership.OTHER,
        "all",
    ),
    (
        "non-controller-faros-owner",
        [ref(names.GITTRACK, "old", "u9", controller=False)],
        GITTRACK,
        rules.Ownership.OTHER,
        "old",
    ),
    (
        "foreign-controller",
        [ref("Deployment", "d", "u7", api_version="apps/v1")],
        GITTRACK,
        rules.Ownership.OTHER,
        "d",
    ),
    (
        "foreign-non-controller",
        [ref("ConfigMap", "c", "u7", controller=False, api_version="v1")],
        GITTRACK,
        rules.Ownership.ADOPT,
        "",
    ),
    (
        "ours-and-other",
        [
            ref(names.GITTRACK, "example", "u1"),
            ref(names.CLUSTERGITTRACK, "all", "u2", controller=False),
        ],
        GITTRACK,
        rules.Ownership.OTHER,
        "all",
    ),
    (
        "other-group-same-kind",
        [ref(names.GITTRACK, "x", "u8", controller=False, api_version="example.com/v1")],
        GITTRACK,
        rules.Ownership.ADOPT,
        "",
    ),
]


@pytest.mark.parametrize(
    ("references", "owner", "ownership", "other"),
    [case[1:] for case in OWNERS],
    ids=[case[0] for case in OWNERS],
)
def test_check_owner_looks_at_both_owner_kinds(references, owner, ownership, other):
    check = rules.check_owner(owner_references=references, owner=owner)
    assert check == rules.OwnerCheck(ownership, other=other)


def test_another_owner_is_ignored_with_the_original_texts():
    check = rules.check_owner(owner_references=[ref(names.GITTRACK, "b", "u9")], owner=GITTRACK)
    assert check.decision == rules.Decision(
        allowed=False, reason="child is owned by another controller"
    )
    assert check.event_message(gto_name="deployment-nginx") == (
        "Child 'deployment-nginx' is owned by another controller: child object is owned by 'b'"
    )
    assert rules.check_owner(owner_references=[], owner=GITTRACK).decision == rules.ALLOWED


CONTROLLED = [
    ("controller", [ref(names.GITTRACK, "example", "u1")], True),
    ("not-controller", [ref(names.GITTRACK, "example", "u1", controller=False)], False),
    ("other-uid", [ref(names.GITTRACK, "example", "u9")], False),
    ("none", [], False),
]


@pytest.mark.parametrize(
    ("references", "expected"), [c[1:] for c in CONTROLLED], ids=[c[0] for c in CONTROLLED]
)
def test_is_controlled_by(references, expected):
    assert rules.is_controlled_by(references, uid="u1") is expected


def test_owner_reference_is_the_originals():
    assert rules.owner_reference(CLUSTER) == {
        "apiVersion": "faros.pusher.com/v1alpha1",
        "kind": "ClusterGitTrack",
        "name": "example",
        "uid": "u2",
        "controller": True,
        "blockOwnerDeletion": True,
    }
