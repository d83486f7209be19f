"""Counters (spec 2.7), ignoredFiles, and which GitTrackObjects garbage collection removes."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faros.api import names
from faros.core import errors, identity, manifests, rules, synccalc
from faros.core.synccalc import ObjectResult, Outcome

OBJ = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}


def gto(name: str, namespace: str = "default") -> identity.ObjectKey:
    return identity.gto_key(namespace=namespace, name=name)


def good(path: str, count: int = 1) -> manifests.FileResult:
    return manifests.FileResult(path, (OBJ,) * count)


def bad(path: str, count: int = 0, reason: str = "boom") -> manifests.FileResult:
    return manifests.FileResult(
        path, (OBJ,) * count, errors.ManifestError(path=path, reason=reason)
    )


DEPLOYMENT, SERVICE, NAMESPACE = (
    gto("deployment-nginx"),
    gto("service-nginx"),
    gto("namespace-test", ""),
)

COUNTS = [
    (
        "all-applied",
        [good("a.yaml", 2)],
        [ObjectResult(DEPLOYMENT, Outcome.APPLIED), ObjectResult(SERVICE, Outcome.IN_SYNC)],
        synccalc.Counters(2, 2, 0, 1),
    ),
    (
        "ignored-and-failed",
        [good("a.yaml", 3)],
        [
            ObjectResult(DEPLOYMENT, Outcome.IGNORED, "x"),
            ObjectResult(SERVICE, Outcome.FAILED, "y"),
            ObjectResult(NAMESPACE, Outcome.IN_SYNC),
        ],
        synccalc.Counters(3, 1, 2, 1),
    ),
    (
        "broken-file-keeps-earlier",
        [bad("d.yaml", 1), good("s.yaml")],
        [ObjectResult(DEPLOYMENT, Outcome.APPLIED), ObjectResult(SERVICE, Outcome.APPLIED)],
        synccalc.Counters(2, 2, 1, 0),
    ),
    ("nothing", [], [], synccalc.Counters()),
]


@pytest.mark.parametrize(
    ("files", "results", "expected"), [c[1:] for c in COUNTS], ids=[c[0] for c in COUNTS]
)
def test_count(files, results, expected):
    assert synccalc.count(files=files, results=results) == expected


def test_count_needs_one_result_per_object():
    with pytest.raises(ValueError, match="1 results for 2 parsed objects"):
        synccalc.count(files=[good("a.yaml", 2)], results=[ObjectResult(SERVICE, Outcome.APPLIED)])


OUTCOMES = st.lists(st.sampled_from(list(Outcome)), max_size=20)


@given(
    files=st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=8),
    data=st.data(),
)
def test_counter_identities(files, data):
    parsed = [
        bad(f"f{i}.yaml", n) if broken else good(f"f{i}.yaml", n)
        for i, (n, broken) in enumerate(files)
    ]
    total = sum(n for n, _ in files)
    outcomes = data.draw(st.lists(st.sampled_from(list(Outcome)), min_size=total, max_size=total))
    results = [ObjectResult(gto(f"o{i}"), outcome, "why") for i, outcome in enumerate(outcomes)]
    counters = synccalc.count(files=parsed, results=results)
    unparseable = sum(1 for _, broken in files if broken)
    assert counters.applied + counters.ignored == counters.discovered + unparseable
    assert counters.in_sync <= counters.applied
    assert len(synccalc.ignored_files(files=parsed, results=results)) == counters.ignored


def test_ignored_files_keys_and_texts():
    files = [bad("invalid_file.yaml", reason="r"), good("a.yaml", 3)]
    results = [
        ObjectResult(
            DEPLOYMENT, Outcome.IGNORED, "resource `deployments.apps/v1` ignored globally by flag"
        ),
        ObjectResult(
            NAMESPACE, Outcome.IGNORED, "a GitTrack cannot manage a cluster-scoped resource"
        ),
        ObjectResult(SERVICE, Outcome.FAILED, "failed to create child for 'service-nginx': denied"),
    ]
    assert synccalc.ignored_files(files=files, results=results) == {
        "default/deployment-nginx": "resource `deployments.apps/v1` ignored globally by flag",
        "default/service-nginx": "failed to create child for 'service-nginx': denied",
        "invalid_file.yaml": "unable to parse 'invalid_file.yaml': r\n",
        "namespace-test": "a GitTrack cannot manage a cluster-scoped resource",
    }


def test_messages_for_conditions():
    files = [bad("b.yaml", reason="x"), good("a.yaml", 2), bad("c.yaml", reason="y")]
    assert synccalc.parse_errors(files) == [
        "b.yaml: unable to parse 'b.yaml': x\n",
        "c.yaml: unable to parse 'c.yaml': y\n",
    ]
    results = [
        ObjectResult(SERVICE, Outcome.FAILED, "s"),
        ObjectResult(DEPLOYMENT, Outcome.FAILED, "d"),
    ]
    assert synccalc.failures(results) == ["d", "s"]
    assert synccalc.gc_failure(gto=SERVICE, error="forbidden") == (
        "failed to delete child for 'default/service-nginx': 'forbidden'"
    )


OLD_CM = gto("configmap-deleted-config")
INGRESS = gto("ingress-example")
OTHER_NS_DEPLOYMENT = gto("deployment-nginx", "foo")

GC = [
    (
        "removed-manifest-deleted",
        [DEPLOYMENT, SERVICE, OLD_CM],
        [good("a.yaml", 2)],
        [ObjectResult(DEPLOYMENT, Outcome.APPLIED), ObjectResult(SERVICE, Outcome.IN_SYNC)],
        synccalc.GcPlan(delete=(OLD_CM,)),
    ),
    (
        "failed-object-kept",
        [DEPLOYMENT, SERVICE],
        [good("a.yaml", 1)],
        [ObjectResult(DEPLOYMENT, Outcome.FAILED, "e")],
        synccalc.GcPlan(delete=(SERVICE,)),
    ),
    (
        "failed-object-keeps-its-name-everywhere",
        [OTHER_NS_DEPLOYMENT, INGRESS],
        [good("a.yaml", 1)],
        [ObjectResult(DEPLOYMENT, Outcome.FAILED, "e")],
        synccalc.GcPlan(delete=(INGRESS,)),
    ),
    (
        "ignored-object-released",
        [DEPLOYMENT, SERVICE],
        [good("a.yaml", 2)],
        [ObjectResult(DEPLOYMENT, Outcome.IGNORED, "r"), ObjectResult(SERVICE, Outcome.APPLIED)],
        synccalc.GcPlan(release=(DEPLOYMENT,)),
    ),
    (
        "ignored-and-applied-duplicate-kept",
        [DEPLOYMENT],
        [good("a.yaml", 2)],
        [ObjectResult(DEPLOYMENT, Outcome.IGNORED, "r"), ObjectResult(DEPLOYMENT, Outcome.APPLIED)],
        synccalc.GcPlan(),
    ),
    (
        "empty-files-delete-everything",
        [DEPLOYMENT, SERVICE],
        [good("empty.yaml", 0)],
        [],
        synccalc.GcPlan(delete=(DEPLOYMENT, SERVICE)),
    ),
    (
        "parse-error-deletes-nothing",
        [DEPLOYMENT, OLD_CM],
        [bad("d.yaml", 1), good("s.yaml", 0)],
        [ObjectResult(DEPLOYMENT, Outcome.APPLIED)],
        synccalc.GcPlan(skipped=synccalc.GC_SKIPPED_PARSE),
    ),
    (
        "no-files-deletes-nothing",
        [DEPLOYMENT],
        [],
        [],
        synccalc.GcPlan(skipped=synccalc.GC_SKIPPED_NO_FILES),
    ),
]


@pytest.mark.parametrize(
    ("existing", "files", "results", "plan"), [g[1:] for g in GC], ids=[g[0] for g in GC]
)
def test_plan_gc(existing, files, results, plan):
    assert synccalc.plan_gc(existing=existing, files=files, results=results) == plan


@given(
    existing=st.sets(st.sampled_from(["a", "b", "c", "d", "e"])),
    produced=st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "x"]), st.sampled_from(list(Outcome)))
    ),
)
def test_gc_never_touches_a_produced_key(existing, produced):
    results = [ObjectResult(gto(name), outcome) for name, outcome in produced]
    plan = synccalc.plan_gc(
        existing=[gto(name) for name in existing],
        files=[good("a.yaml", len(results))],
        results=results,
    )
    kept = {r.gto for r in results if r.outcome is not Outcome.IGNORED}
    assert not kept & set(plan.delete + plan.release)
    assert set(plan.delete + plan.release) <= {gto(name) for name in existing}


# The upstream fixture repository at 936b7ee (spec 6.1), objects cut to their identity.
FIXTURE_936B7EE = {
    "clusterrole.yaml": b"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
    b"metadata:\n  name: test:read-ns-pods-svcs\n",
    "daemonset.yaml": b"---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: fluentd\n"
    b"  namespace: default\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
    b"  name: fluentd-config\n  namespace: default\n",
    "deployment.yaml": b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\n"
    b"  namespace: default\n",
    "foo/bar/service.yaml": b"apiVersion: v1\nkind: Service\nmetadata:\n  name: nginx\n"
    b"  namespace: foo\n",
    "foo/deployment.yaml": b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: nginx\n"
    b"  namespace: foo\n",
    "foo/namespace.yaml": b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: foo\n",
    "foobar/deployment.yaml": b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
    b"  name: nginx\n  namespace: foobar\n",
    "foobar/namespace.yaml": b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: foobar\n",
    "ingress.yaml": b"apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata:\n"
    b"  name: example\n  namespace: default\n",
    "invalid_file.yaml": b'I: a;m an "invalid Kubernetes manifest.) \n',
    "namespace.yaml": b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: test\n",
    "service.yaml": b"apiVersion: v1\nkind: Service\nmetadata:\n  name: nginx\n"
    b"  namespace: default\n",
}
DISCOVERY = {  # kind -> (resource, namespaced), as the adapter would resolve it
    "ClusterRole": ("clusterroles", False),
    "ConfigMap": ("configmaps", True),
    "DaemonSet": ("daemonsets", True),
    "Deployment": ("deployments", True),
    "Ingress": ("ingresses", True),
    "Namespace": ("namespaces", False),
    "Service": ("services", True),
}
OWNERS = [
    ("gittrack", rules.Owner(kind=names.GITTRACK, namespace="default", name="e", uid="u"), 8),
    (
        "clustergittrack",
        rules.Owner(kind=names.CLUSTERGITTRACK, namespace="", name="e", uid="u"),
        1,
    ),
]


@pytest.mark.parametrize(("owner", "ignored"), [o[1:] for o in OWNERS], ids=[o[0] for o in OWNERS])
def test_fixture_936b7ee_end_to_end(owner, ignored):
    """Upstream scenario 13: the invalid file plus the objects out of the owner's scope."""
    files = [
        manifests.parse(path, data, max_bytes=1 << 20) for path, data in FIXTURE_936B7EE.items()
    ]
    results = []
    for obj in (obj for file in files for obj in file.objects):
        resource, namespaced = DISCOVERY[obj["kind"]]
        child = identity.child_key(obj, namespaced=namespaced)
        decision = rules.decide(
            key=child, resource=resource, namespaced=namespaced, owner=owner, policy=rules.Policy()
        )
        outcome = Outcome.APPLIED if decision.allowed else Outcome.IGNORED
        gto_key = identity.gto_keys([child])[child]
        results.append(ObjectResult(gto_key, outcome, decision.reason))
    counters = synccalc.count(files=files, results=results)
    ignored_files = synccalc.ignored_files(files=files, results=results)
    assert counters == synccalc.Counters(12, 12 - ignored + 1, ignored, 0)
    assert len(ignored_files) == ignored
    assert ignored_files["invalid_file.yaml"] == (
        "unable to parse 'invalid_file.yaml': unable to unmarshal JSON: Object 'Kind' is missing "
        "in document 1\n"
    )
    assert synccalc.plan_gc(existing=[], files=files, results=results).skipped


def test_leftovers_of_a_kind_discovery_cannot_resolve_wait_and_say_why():
    widget_gto, old_cm = gto("widget-w", ""), gto("configmap-old")
    held = {
        widget_gto: identity.ObjectKey("example.com", "v1", "Widget", "", "w"),
        old_cm: identity.ObjectKey("", "v1", "ConfigMap", "default", "old"),
    }
    plan = synccalc.plan_gc(
        existing=[widget_gto, old_cm], files=[good("a.yaml")],
        results=[ObjectResult(gto("configmap-c"), Outcome.APPLIED)],
        held=held, unresolved={("example.com", "Widget")},
    )  # fmt: skip

    assert plan.delete == (old_cm,)
    assert plan.waiting == (widget_gto,)
    assert "widget-w" in plan.waiting_message
    assert "does not serve their kind" in plan.waiting_message
