"""Object keys, GitTrackObject names (spec 1.6, with its quirks fixed) and Redis key strings."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faros.api import names
from faros.core import identity
from faros.core.identity import ObjectKey


def key(
    kind: str = "Deployment",
    name: str = "nginx",
    namespace: str = "default",
    group: str = "apps",
    version: str = "v1",
) -> ObjectKey:
    return ObjectKey(group, version, kind, namespace, name)


MANIFESTS = [
    (
        "namespaced",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "n", "namespace": "d"},
        },
        True,
        ObjectKey("apps", "v1", "Deployment", "d", "n"),
    ),
    (
        "core-group",
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "n", "namespace": "d"}},
        True,
        ObjectKey("", "v1", "Service", "d", "n"),
    ),
    (
        "no-namespace",
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "n"}},
        True,
        ObjectKey("", "v1", "Service", "", "n"),
    ),
    (
        "cluster-scoped-drops-namespace",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "t", "namespace": "x"}},
        False,
        ObjectKey("", "v1", "Namespace", "", "t"),
    ),
]


@pytest.mark.parametrize(
    ("manifest", "namespaced", "expected"),
    [m[1:] for m in MANIFESTS],
    ids=[m[0] for m in MANIFESTS],
)
def test_child_key(manifest, namespaced, expected):
    assert identity.child_key(manifest, namespaced=namespaced) == expected


def test_key_properties():
    assert key().api_version == "apps/v1"
    assert key(group="").api_version == "v1"
    assert key().namespaced_name == "default/nginx"
    assert key(namespace="").namespaced_name == "nginx"
    assert key(version="v1beta1").identity == key().identity


NAMES = [
    ("deployment", key(), "deployment-nginx"),
    (
        "colon",
        key(name="nginx:name-what-got-a-colon-in-it"),
        "deployment-nginx-name-what-got-a-colon-in-it",
    ),
    (
        "clusterrole",
        key("ClusterRole", "test:read-ns-pods-svcs", "", "rbac.authorization.k8s.io"),
        "clusterrole-test-read-ns-pods-svcs",
    ),
    ("uppercase", key(name="Web"), "deployment-web"),
    ("dots", key("APIService", "v1.apps", ""), "apiservice-v1.apps"),
    (
        "at-sign",
        key("RoleBinding", "alice@example.com"),
        "rolebinding-alice-example.com-b5df824f0d",
    ),
    ("too-long", key(name="a" * 250), "deployment-" + "a" * 231 + "-904789b0cc"),
    ("only-invalid", key("X", "@@"), "x-b3075fd81c"),
    ("empty-labels", key("X", "a..b."), "x-a.b-a90a29ccdb"),
]


@pytest.mark.parametrize(("child", "expected"), [n[1:] for n in NAMES], ids=[n[0] for n in NAMES])
def test_gto_name_keeps_the_original_name_when_valid(child, expected):
    name = identity.gto_name(child)
    assert name == expected
    assert identity.is_valid_name(name)


@given(
    kind=st.text(min_size=1, max_size=30),
    name=st.text(min_size=1, max_size=400),
    group=st.text(max_size=20),
)
def test_gto_names_are_always_valid(kind, name, group):
    child = ObjectKey(group, "v1", kind, "ns", name)
    assert identity.is_valid_name(identity.gto_name(child))
    assert identity.is_valid_name(identity.hashed_name(child))


def test_hashed_names_are_stable_across_releases():
    child = key("RoleBinding", "alice@example.com")
    digest = hashlib.sha256(b"apps/RoleBinding/default/alice@example.com").hexdigest()
    assert identity.hashed_name(child) == f"rolebinding-alice-example.com-{digest[:10]}"


def test_gto_key_kind_follows_the_namespace():
    assert identity.gto_key(namespace="d", name="n") == ObjectKey(
        names.GROUP, names.VERSION, names.GITTRACKOBJECT, "d", "n"
    )
    assert identity.gto_key(namespace="", name="n").kind == names.CLUSTERGITTRACKOBJECT
    assert identity.gittrack_key(namespace="d", name="g").kind == names.GITTRACK
    assert identity.gittrack_key(namespace="", name="g").kind == names.CLUSTERGITTRACK


CERT_NEW = key("Certificate", "web", group="cert-manager.io")
CERT_OLD = key("Certificate", "web", group="certmanager.k8s.io", version="v1alpha1")
PLAIN = identity.gto_key(namespace="default", name="certificate-web")
HASHED_OLD = identity.gto_key(namespace="default", name=identity.hashed_name(CERT_OLD))
HASHED_NEW = identity.gto_key(namespace="default", name=identity.hashed_name(CERT_NEW))

COLLISIONS = [
    ("alone", [CERT_OLD], None, {CERT_OLD: PLAIN}),
    ("first-group-wins", [CERT_OLD, CERT_NEW], None, {CERT_NEW: PLAIN, CERT_OLD: HASHED_OLD}),
    (
        "existing-holder-wins",
        [CERT_NEW, CERT_OLD],
        {PLAIN: CERT_OLD},
        {CERT_OLD: PLAIN, CERT_NEW: HASHED_NEW},
    ),
    (
        "holder-of-another-version",
        [CERT_NEW, CERT_OLD],
        {PLAIN: key("Certificate", "web", group="certmanager.k8s.io", version="v1")},
        {CERT_OLD: PLAIN, CERT_NEW: HASHED_NEW},
    ),
    (
        "gone-holder-ignored",
        [CERT_OLD, CERT_NEW],
        {PLAIN: key("Certificate", "web", group="x.io")},
        {CERT_NEW: PLAIN, CERT_OLD: HASHED_OLD},
    ),
    (
        "loser-keeps-its-hashed-name-when-the-winner-goes",
        [CERT_OLD],
        {PLAIN: CERT_NEW, HASHED_OLD: CERT_OLD},
        {CERT_OLD: HASHED_OLD},
    ),
    (
        "hashed-holder-keeps-it-against-a-newcomer",
        [CERT_NEW, CERT_OLD],
        {HASHED_OLD: CERT_OLD},
        {CERT_NEW: PLAIN, CERT_OLD: HASHED_OLD},
    ),
    (
        "plain-holder-keeps-it-against-a-smaller-group",
        [CERT_OLD, CERT_NEW],
        {PLAIN: CERT_OLD},
        {CERT_OLD: PLAIN, CERT_NEW: HASHED_NEW},
    ),
    (
        "versions-of-one-object-share",
        [CERT_NEW, key("Certificate", "web", group="cert-manager.io", version="v1beta1")],
        None,
        {
            CERT_NEW: PLAIN,
            key("Certificate", "web", group="cert-manager.io", version="v1beta1"): PLAIN,
        },
    ),
]


@pytest.mark.parametrize(
    ("children", "existing", "expected"),
    [c[1:] for c in COLLISIONS],
    ids=[c[0] for c in COLLISIONS],
)
def test_colliding_children_get_distinct_gittrackobjects(children, existing, expected):
    assert identity.gto_keys(children, existing=existing) == expected


def test_case_and_colon_collisions_are_split_too():
    upper, lower = key(name="Web"), key(name="web")
    colon, dash = key(name="a:b"), key(name="a-b")
    keys = identity.gto_keys([upper, lower, colon, dash])
    assert len(set(keys.values())) == 4
    assert keys[upper].name == "deployment-web"
    assert keys[dash].name == "deployment-a-b"
    assert keys[colon].name == identity.hashed_name(colon)


def test_namespaces_and_scopes_do_not_collide():
    keys = identity.gto_keys([key(namespace="a"), key(namespace="b"), key(namespace="")])
    assert {k.namespaced_name for k in keys.values()} == {
        "a/deployment-nginx",
        "b/deployment-nginx",
        "deployment-nginx",
    }


REDIS_KEYS = [
    ("child", key(), "apps/Deployment/default/nginx"),
    ("core", key("ConfigMap", "c", group="", version="v1"), "/ConfigMap/default/c"),
    (
        "cluster",
        key("ClusterRole", "r:x", "", "rbac.authorization.k8s.io"),
        "rbac.authorization.k8s.io/ClusterRole//r:x",
    ),
    ("gittrack", identity.gittrack_key(namespace="d", name="g"), "faros.pusher.com/GitTrack/d/g"),
    ("gto", identity.gto_key(namespace="", name="x"), "faros.pusher.com/ClusterGitTrackObject//x"),
]


@pytest.mark.parametrize(
    ("object_key", "suffix"), [r[1:] for r in REDIS_KEYS], ids=[r[0] for r in REDIS_KEYS]
)
def test_lock_and_dedup_keys(object_key, suffix):
    assert identity.lock_key(object_key) == f"faros:lock:{suffix}"
    assert identity.dedup_key(object_key) == f"faros:dirty:{suffix}"


def test_versions_share_a_lock():
    assert identity.lock_key(key()) == identity.lock_key(key(version="v1beta1"))


@given(
    namespace=st.sampled_from(["", "team-a", "default"]),
    name=st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,30}[a-z0-9])?", fullmatch=True),
)
def test_schedule_entry_names_its_gittrack_and_back(namespace: str, name: str) -> None:
    gittrack = identity.gittrack_key(namespace=namespace, name=name)

    entry = identity.schedule_entry(gittrack)

    assert entry == (f"gittrack:{namespace}/{name}" if namespace else f"clustergittrack:{name}")
    assert identity.scheduled_gittrack(entry) == gittrack


@pytest.mark.parametrize(
    "entry",
    ["celery.backend_cleanup", "gittrack:", "gittrack:no-namespace", "clustergittrack:ns/x",
     "gittrackobject:ns/x", "gittrack:ns/"],
)  # fmt: skip
def test_other_schedule_entries_are_no_gittracks(entry: str) -> None:
    assert identity.scheduled_gittrack(entry) is None
