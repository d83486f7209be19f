"""Object health by kstatus's rules, per kind and generic, and the summary of a set of children.

The cases are those of kstatus's own tests (``status_compute_test.go``, ``core_test.go``)
plus the rules Faros adds (Service ingress, Namespace, APIService).
"""

import datetime
from typing import Any

import pytest

from faros.core import health
from faros.core.health import Health, Status

NOW = datetime.datetime(2024, 5, 1, 12, 0, 0, tzinfo=datetime.UTC)
DELETED = "2024-05-01T11:00:00Z"
CURRENT, IN_PROGRESS, FAILED = Status.CURRENT, Status.IN_PROGRESS, Status.FAILED
TERMINATING, UNKNOWN = Status.TERMINATING, Status.UNKNOWN


def obj(api: str, kind: str, *, spec=None, status=None, **metadata: Any) -> dict[str, Any]:
    """Return an object named ``x`` of generation 1 (``generation=None`` leaves it out)."""
    meta = {"name": "x", "generation": 1, **metadata}
    body: dict[str, Any] = {"apiVersion": api, "kind": kind, "metadata": meta}
    if meta["generation"] is None:
        del meta["generation"]
    if spec is not None:
        body["spec"] = spec
    if status is not None:
        body["status"] = status
    return body


def cond(kind: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    found = {"type": kind, "status": status, "reason": reason, "message": message}
    return {key: value for key, value in found.items() if value}


def deploy(spec=None, **status: Any) -> dict[str, Any]:
    return obj("apps/v1", "Deployment", spec=spec or {"replicas": 3}, status=status)


def counts(**fields: Any) -> dict[str, Any]:
    return {"observedGeneration": 1, **fields}


DEP_UP = [cond("Progressing", "True", "NewReplicaSetAvailable"), cond("Available", "True")]
DEP_ALL = {"replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}
DEADLINE = {"replicas": 3, "progressDeadlineSeconds": 600}
STS = {"replicas": 4, "readyReplicas": 4, "currentReplicas": 4, "updatedReplicas": 4}
DS = {
    "desiredNumberScheduled": 4,
    "currentNumberScheduled": 4,
    "updatedNumberScheduled": 4,
    "numberAvailable": 4,
    "numberReady": 4,
}
RS = {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "fullyLabeledReplicas": 2}
UNSCHEDULABLE = [cond("PodScheduled", "False", "Unschedulable", "0/3 nodes are available")]


def pod(phase: str | None, *conditions: dict[str, str], **status: Any) -> dict[str, Any]:
    found = {"phase": phase, "conditions": list(conditions), **status}
    return obj("v1", "Pod", status={k: v for k, v in found.items() if v is not None})


def sts(spec: dict[str, Any], **status: Any) -> dict[str, Any]:
    return obj("apps/v1", "StatefulSet", spec={"replicas": 4, **spec}, status=counts(**status))


def job(spec=None, *conditions: dict[str, str], **status: Any) -> dict[str, Any]:
    return obj("batch/v1", "Job", spec=spec, status={"conditions": list(conditions), **status})


def lb(*ingress: dict[str, str]) -> dict[str, Any]:
    load_balancer = {"ingress": list(ingress)} if ingress else {}
    spec = {"type": "LoadBalancer", "clusterIP": "10.0.0.1"}
    return obj("v1", "Service", spec=spec, status={"loadBalancer": load_balancer})


def crd(*conditions: dict[str, str]) -> dict[str, Any]:
    kind = "CustomResourceDefinition"
    return obj("apiextensions.k8s.io/v1", kind, status={"conditions": list(conditions)})


def custom(*conditions: dict[str, Any], generation: int = 1, **status: Any) -> dict[str, Any]:
    found = {"conditions": list(conditions), **status}
    return obj("example.com/v1", "Widget", generation=generation, status=found)


CASES = [
    # id, object, status, reason
    ("none", None, Status.NOT_FOUND, "NotFound"),
    ("deleting", obj("v1", "ConfigMap", deletionTimestamp=DELETED), TERMINATING,
     "Terminating"),
    ("deleting-stalled", obj("example.com/v1", "Widget", deletionTimestamp=DELETED,
     status={"conditions": [cond("Stalled", "True")]}), TERMINATING, "Terminating"),
    ("deleting-bad-status", obj("v1", "Pod", status="Running", deletionTimestamp=DELETED),
     TERMINATING, "Terminating"),
    ("status-not-object", obj("v1", "Pod", status="Running"), UNKNOWN, "InvalidStatus"),
    ("conditions-not-list", custom(conditions={"Ready": "True"}), UNKNOWN, "InvalidStatus"),
    ("condition-not-object", custom(conditions=["Ready"]), UNKNOWN, "InvalidStatus"),
    ("condition-status-bool", custom({"type": "Ready", "status": True}), UNKNOWN, "InvalidStatus"),
    ("condition-status-false", custom({"type": "Ready", "status": False}), UNKNOWN,
     "InvalidStatus"),
    # Custom resources: kstatus's generic rules (generic.go, status.go checkReadyCondition).
    ("cr-no-status", obj("example.com/v1", "Widget"), CURRENT, "Current"),
    ("cr-ready", custom(cond("Ready", "True", "AllOk")), CURRENT, "Ready"),
    ("cr-not-ready", custom(cond("Ready", "False", "NotReadyYet")), IN_PROGRESS, "NotReadyYet"),
    ("cr-not-ready-no-reason", custom(cond("Ready", "False")), IN_PROGRESS, "NotReady"),
    ("cr-ready-unknown", custom(cond("Ready", "Unknown", "Pending")), IN_PROGRESS, "Pending"),
    ("cr-other-condition", custom(cond("SomeCondition", "False")), CURRENT, "Current"),
    ("cr-generation-behind", custom(generation=2, observedGeneration=1), IN_PROGRESS,
     "LatestGenerationNotObserved"),
    ("cr-generation-no-observed", custom(generation=2), CURRENT, "Current"),
    ("cr-generation-before-stalled", custom(cond("Stalled", "True"), generation=2,
     observedGeneration=1), IN_PROGRESS, "LatestGenerationNotObserved"),
    ("cr-reconciling", custom(cond("Reconciling", "True", "Progressing")), IN_PROGRESS,
     "Progressing"),
    ("cr-reconciling-false", custom(cond("Reconciling", "False"), cond("Ready", "True")), CURRENT,
     "Ready"),
    ("cr-stalled", custom(cond("Stalled", "True", "BadConfig")), FAILED, "BadConfig"),
    ("cr-stalled-no-reason", custom(cond("Stalled", "True")), FAILED, "Stalled"),
    ("cr-stalled-over-ready", custom(cond("Ready", "True"), cond("Stalled", "True", "Bad")),
     FAILED, "Bad"),
    ("cr-first-of-reconciling-stalled", custom(cond("Reconciling", "True", "A"),
     cond("Stalled", "True", "B")), IN_PROGRESS, "A"),
    ("cr-kind-of-other-group", obj("example.com/v1", "Deployment", spec={"replicas": 3}), CURRENT,
     "Current"),
    # Deployment: core.go deploymentConditions.
    ("deployment-no-status", obj("apps/v1", "Deployment"), IN_PROGRESS, "LessReplicas"),
    ("deployment-available", deploy(**counts(**DEP_ALL), conditions=DEP_UP), CURRENT, "Available"),
    ("deployment-deadline-exceeded", deploy(DEADLINE, **counts(replicas=3), conditions=[
        cond("Progressing", "False", "ProgressDeadlineExceeded")]), FAILED,
     "ProgressDeadlineExceeded"),
    ("deployment-generation-behind", obj("apps/v1", "Deployment", generation=2,
     status=counts(**DEP_ALL)), IN_PROGRESS, "LatestGenerationNotObserved"),
    ("deployment-less-updated", deploy(**counts(**DEP_ALL | {"updatedReplicas": 1})),
     IN_PROGRESS, "LessUpdated"),
    ("deployment-extra-pods", deploy(**counts(**DEP_ALL | {"replicas": 4})), IN_PROGRESS,
     "ExtraPods"),
    ("deployment-less-available", deploy(**counts(**DEP_ALL | {"availableReplicas": 2})),
     IN_PROGRESS, "LessAvailable"),
    ("deployment-less-ready", deploy(**counts(**DEP_ALL | {"readyReplicas": 2})), IN_PROGRESS,
     "LessReady"),
    ("deployment-not-progressing", deploy(DEADLINE, **counts(**DEP_ALL), conditions=[
        cond("Progressing", "False", "Some"), cond("Available", "True")]), IN_PROGRESS,
     "ReplicaSetNotAvailable"),
    ("deployment-no-deadline", deploy(**counts(**DEP_ALL), conditions=[cond("Available", "True")]),
     CURRENT, "Available"),
    ("deployment-not-available", deploy(DEADLINE, **counts(**DEP_ALL), conditions=[
        DEP_UP[0], cond("Available", "False")]), IN_PROGRESS, "DeploymentNotAvailable"),
    ("deployment-scaled-to-zero", deploy({"replicas": 0, "progressDeadlineSeconds": 600},
     **counts(), conditions=DEP_UP), CURRENT, "Available"),
    ("deployment-extensions", obj("extensions/v1beta1", "Deployment"), IN_PROGRESS,
     "LessReplicas"),
    # StatefulSet: core.go stsConditions.
    ("sts-no-status", obj("apps/v1", "StatefulSet"), IN_PROGRESS, "LessReplicas"),
    ("sts-bad-status", sts({}, currentReplicas=1), IN_PROGRESS, "LessReplicas"),
    ("sts-ok", sts({}, **STS), CURRENT, "Current"),
    ("sts-less-ready", sts({}, **STS | {"readyReplicas": 2}), IN_PROGRESS, "LessReady"),
    ("sts-less-current", sts({}, **STS | {"currentReplicas": 2}), IN_PROGRESS, "LessCurrent"),
    ("sts-extra-pods", sts({}, **STS | {"replicas": 8}), IN_PROGRESS, "ExtraPods"),
    ("sts-revision-mismatch", sts({}, **STS, currentRevision="a", updateRevision="b"),
     IN_PROGRESS, "RevisionMismatch"),
    ("sts-on-delete", sts({"updateStrategy": {"type": "OnDelete"}}), CURRENT, "OnDelete"),
    ("sts-partition-rolling", sts({"updateStrategy": {"rollingUpdate": {"partition": 2}}},
     **STS | {"updatedReplicas": 1}), IN_PROGRESS, "PartitionRollout"),
    ("sts-partition-done", sts({"updateStrategy": {"rollingUpdate": {"partition": 2}}},
     **STS | {"updatedReplicas": 2, "currentReplicas": 2}), CURRENT, "Current"),
    ("sts-partition-zero-rolling", sts({"updateStrategy": {"rollingUpdate": {"partition": 0}}},
     **STS | {"updatedReplicas": 3}), IN_PROGRESS, "PartitionRollout"),
    # DaemonSet: core.go daemonsetConditions and checkGenerationSet.
    ("ds-no-status", obj("apps/v1", "DaemonSet"), IN_PROGRESS, "NoObservedGeneration"),
    ("ds-no-generation", obj("apps/v1", "DaemonSet", generation=None, status=counts(**DS)),
     IN_PROGRESS, "NoGeneration"),
    ("ds-bad-status", obj("apps/v1", "DaemonSet", status=counts(currentReplicas=1)),
     IN_PROGRESS, "NoDesiredNumber"),
    ("ds-ok", obj("apps/v1", "DaemonSet", status=counts(**DS)), CURRENT, "Current"),
    ("ds-generation-behind", obj("apps/v1", "DaemonSet", generation=2, status=counts(**DS)),
     IN_PROGRESS, "LatestGenerationNotObserved"),
    ("ds-less-current", obj("apps/v1", "DaemonSet", status=counts(**DS | {
        "currentNumberScheduled": 3})), IN_PROGRESS, "LessCurrent"),
    ("ds-less-updated", obj("apps/v1", "DaemonSet", status=counts(**DS | {
        "updatedNumberScheduled": 3})), IN_PROGRESS, "LessUpdated"),
    ("ds-less-available", obj("apps/v1", "DaemonSet", status=counts(**DS | {
        "numberAvailable": 2})), IN_PROGRESS, "LessAvailable"),
    ("ds-less-ready", obj("apps/v1", "DaemonSet", status=counts(**DS | {"numberReady": 2})),
     IN_PROGRESS, "LessReady"),
    # ReplicaSet: core.go replicasetConditions.
    ("rs-no-status", obj("apps/v1", "ReplicaSet"), IN_PROGRESS, "LessLabelled"),
    ("rs-ok", obj("apps/v1", "ReplicaSet", spec={"replicas": 2}, status=counts(**RS)), CURRENT,
     "Available"),
    ("rs-ok-failure-false", obj("apps/v1", "ReplicaSet", spec={"replicas": 2}, status=counts(
        **RS, conditions=[cond("ReplicaFailure", "False")])), CURRENT, "Available"),
    ("rs-less-available", obj("apps/v1", "ReplicaSet", spec={"replicas": 2}, status=counts(
        **RS | {"availableReplicas": 1})), IN_PROGRESS, "LessAvailable"),
    ("rs-less-ready", obj("apps/v1", "ReplicaSet", spec={"replicas": 2}, status=counts(
        **RS | {"readyReplicas": 1})), IN_PROGRESS, "LessReady"),
    ("rs-extra-pods", obj("apps/v1", "ReplicaSet", spec={"replicas": 2}, status=counts(
        **RS | {"replicas": 3})), IN_PROGRESS, "ExtraPods"),
    ("rs-replica-failure", obj("apps/v1", "ReplicaSet", spec={"replicas": 2}, status=counts(
        **RS, conditions=[cond("ReplicaFailure", "True", "FailedCreate")])), IN_PROGRESS,
     "ReplicaFailure"),
    # Pod: core.go podConditions.
    ("pod-no-status", obj("v1", "Pod"), IN_PROGRESS, "PodNotObserved"),
    ("pod-ready", pod("Running", cond("Ready", "True")), CURRENT, "Ready"),
    ("pod-running-not-ready", pod("Running", cond("Ready", "False")), IN_PROGRESS,
     "PodRunningNotReady"),
    ("pod-succeeded", pod("Succeeded", cond("Ready", "False", "PodCompleted")), CURRENT,
     "Completed"),
    ("pod-failed", pod("Failed", cond("Ready", "False", "PodCompleted")), CURRENT, "PodFailed"),
    ("pod-pending", pod("Pending"), IN_PROGRESS, "PodPending"),
    ("pod-unschedulable-without-now", pod("Pending", *UNSCHEDULABLE), IN_PROGRESS,
     "PodNotScheduled"),
    ("pod-crash-looping", pod("Running", *UNSCHEDULABLE, containerStatuses=[{"name": "nginx",
     "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]), FAILED, "ContainerCrashLooping"),
    ("pod-waiting-not-looping", pod("Running", containerStatuses=[{"name": "nginx", "state": {
        "waiting": {"reason": "ContainerCreating"}}}]), IN_PROGRESS, "PodRunningNotReady"),
    ("pod-unknown-phase", pod("Lost"), UNKNOWN, "UnknownPhase"),
    # Job and CronJob: core.go jobConditions, alwaysReady; core_test.go (suspension).
    ("job-no-status", obj("batch/v1", "Job"), IN_PROGRESS, "JobNotStarted"),
    ("job-complete", job(None, cond("Complete", "True"), succeeded=1), CURRENT, "Completed"),
    ("job-failed", job({"completions": 4}, cond("Failed", "True", "BackoffLimitExceeded"),
     failed=1), FAILED, "BackoffLimitExceeded"),
    ("job-failed-no-reason", job(None, cond("Failed", "True")), FAILED, "JobFailed"),
    ("job-running", job({"completions": 10, "parallelism": 2}, cond("Failed", "False"),
     cond("Complete", "False"), startTime="2019-06-04T01:17:13Z", active=2), CURRENT,
     "JobRunning"),
    ("job-suspended", job({"suspend": True}, cond("Suspended", "True")), CURRENT, "Suspended"),
    ("job-unsuspended", job({"suspend": False}, cond("Suspended", "False")), IN_PROGRESS,
     "JobNotStarted"),
    ("job-suspending", job({"suspend": True}, cond("Suspended", "False")), IN_PROGRESS,
     "JobNotStarted"),
    ("job-resuming", job({"suspend": False}, cond("Suspended", "True")), IN_PROGRESS,
     "JobNotStarted"),
    ("cronjob", obj("batch/v1", "CronJob"), CURRENT, "AlwaysReady"),
    ("configmap-null-status", obj("v1", "ConfigMap", status={}) | {"status": None}, CURRENT,
     "AlwaysReady"),
    ("secret", obj("v1", "Secret"), CURRENT, "AlwaysReady"),
    # PersistentVolumeClaim: core.go pvcConditions.
    ("pvc-no-status", obj("v1", "PersistentVolumeClaim"), IN_PROGRESS, "NotBound"),
    ("pvc-pending", obj("v1", "PersistentVolumeClaim", status={"phase": "Pending"}), IN_PROGRESS,
     "NotBound"),
    ("pvc-bound", obj("v1", "PersistentVolumeClaim", status={"phase": "Bound"}), CURRENT, "Bound"),
    # Service: core.go serviceConditions; a LoadBalancer waits for an ingress (Faros).
    ("service-default", obj("v1", "Service"), CURRENT, "Current"),
    ("service-node-port", obj("v1", "Service", spec={"type": "NodePort"}), CURRENT, "Current"),
    ("service-lb-pending", lb(), IN_PROGRESS, "NoIPAssigned"),
    ("service-lb-empty-ingress", lb({}), IN_PROGRESS, "NoIPAssigned"),
    ("service-lb-ip", lb({"ip": "203.0.113.7"}), CURRENT, "Current"),
    ("service-lb-hostname", lb({"hostname": "lb.example.com"}), CURRENT, "Current"),
    # Namespace (Faros).
    ("namespace-active", obj("v1", "Namespace", status={"phase": "Active"}), CURRENT, "Active"),
    ("namespace-terminating", obj("v1", "Namespace", status={"phase": "Terminating"}),
     TERMINATING, "Terminating"),
    # CustomResourceDefinition: core.go CRDConditions.
    ("crd-no-conditions", crd(), IN_PROGRESS, "Installing"),
    ("crd-installing", crd(cond("NamesAccepted", "True", "NoConflicts"),
     cond("Established", "False", "Installing")), IN_PROGRESS, "Installing"),
    ("crd-names-not-accepted", crd(cond("NamesAccepted", "False", "SomeReason")), FAILED,
     "SomeReason"),
    ("crd-not-established", crd(cond("Established", "False")), FAILED, "NotEstablished"),
    ("crd-established", crd(cond("NamesAccepted", "True", "NoConflicts"),
     cond("Established", "True", "InitialNamesAccepted")), CURRENT, "Established"),
    # APIService (Faros).
    ("apiservice-available", obj("apiregistration.k8s.io/v1", "APIService", status={
        "conditions": [cond("Available", "True", "Passed")]}), CURRENT, "Available"),
    ("apiservice-missing-endpoints", obj("apiregistration.k8s.io/v1", "APIService", status={
        "conditions": [cond("Available", "False", "MissingEndpoints")]}), IN_PROGRESS,
     "MissingEndpoints"),
    ("apiservice-not-reported", obj("apiregistration.k8s.io/v1", "APIService"), IN_PROGRESS,
     "NotAvailable"),
    # PodDisruptionBudget: core.go pdbConditions (the generic generation check decides).
    ("pdb-not-observed", obj("policy/v1", "PodDisruptionBudget", generation=2, status=counts()),
     IN_PROGRESS, "LatestGenerationNotObserved"),
    ("pdb-observed", obj("policy/v1", "PodDisruptionBudget", status=counts(currentHealthy=1,
     desiredHealthy=2)), CURRENT, "Current"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "status", "reason"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_assess(body, status, reason):
    found = health.assess(body)
    assert (found.status, found.reason) == (status, reason)
    assert found.message


BACKOFF_MESSAGE = "Job has reached the specified backoff limit"
MESSAGES = [
    # id, object, message
    ("deadline", deploy(DEADLINE, **counts(replicas=3), conditions=[cond("Progressing", "False",
     "ProgressDeadlineExceeded", 'ReplicaSet "web-abc" has timed out progressing.')]),
     'ReplicaSet "web-abc" has timed out progressing.'),
    ("generation", custom(generation=3, observedGeneration=2),
     "Widget generation is 3, but latest observed generation is 2"),
    ("less-ready", deploy(**counts(**DEP_ALL | {"readyReplicas": 1})), "Ready: 1/3"),
    ("job-failed", job(None, cond("Failed", "True", "BackoffLimitExceeded", BACKOFF_MESSAGE)),
     BACKOFF_MESSAGE),
    ("job-failed-counts", job({"completions": 4}, cond("Failed", "True"), failed=1),
     "Job failed. Failed: 1/4"),
    ("crash-looping", pod("Running", containerStatuses=[{"name": n, "state": {"waiting": {
        "reason": "CrashLoopBackOff"}}} for n in ("web", "sidecar")]),
     "Containers in CrashLoopBackOff: web, sidecar"),
    ("replica-failure", obj("apps/v1", "ReplicaSet", status={"conditions": [cond(
        "ReplicaFailure", "True", "FailedCreate", "exceeded quota")]}), "exceeded quota"),
    ("lb-ip", lb({"ip": "203.0.113.7"}), "Load balancer ready at 203.0.113.7"),
    ("invalid", obj("v1", "Pod", status=["Running"]), "status is not an object"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "message"), [c[1:] for c in MESSAGES], ids=[c[0] for c in MESSAGES]
)
def test_assess_message(body, message):
    assert health.assess(body).message == message


def created(seconds_ago: int | None) -> dict[str, Any]:
    stamp = (
        {}
        if seconds_ago is None
        else {"creationTimestamp": (NOW - datetime.timedelta(seconds=seconds_ago)).isoformat()}
    )
    return obj("v1", "Pod", status={"phase": "Pending", "conditions": UNSCHEDULABLE}, **stamp)


WINDOW = [
    # id, seconds since creation (None: no creationTimestamp), status, reason
    ("just-created", 5, IN_PROGRESS, "PodNotScheduled"),
    ("past-the-window", 60, FAILED, "PodUnschedulable"),
    ("no-creation-time", None, FAILED, "PodUnschedulable"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("seconds_ago", "status", "reason"), [c[1:] for c in WINDOW], ids=[c[0] for c in WINDOW]
)
def test_unschedulable_pod_has_a_window(seconds_ago, status, reason):
    found = health.assess(created(seconds_ago), now=NOW)
    assert (found.status, found.reason) == (status, reason)
    assert found.message.endswith(": 0/3 nodes are available")


OK = Health(CURRENT, "Available", "Deployment is available. Replicas: 3")
DEADLINE_HIT = Health(FAILED, "ProgressDeadlineExceeded", 'ReplicaSet "web-abc" has timed out.')
BACKOFF = Health(FAILED, "BackoffLimitExceeded", "")
GONE = Health(Status.NOT_FOUND, "NotFound", "Resource not found")
SLOW = Health(IN_PROGRESS, "LessReady", "Ready: 1/3")
LONG = Health(IN_PROGRESS, "NotReady", "x" * 200)

SUMMARIES = [
    # id, children, limit, (healthy, message)
    ("empty", [], 3, (True, "")),
    ("all-current", [("Deployment web", OK), ("Service web", OK)], 3, (True, "")),
    ("one", [("Deployment web", OK), ("Deployment api", SLOW)], 3,
     (False, "Deployment api: LessReady: Ready: 1/3")),
    ("failed-first-then-gone-then-progress", [("A in", SLOW), ("Z gone", GONE),
     ("Job migrate", BACKOFF), ("Deployment web", DEADLINE_HIT)], 3,
     (False, 'Deployment web: ProgressDeadlineExceeded: ReplicaSet "web-abc" has timed out; '
      "Job migrate: BackoffLimitExceeded; Z gone: NotFound: Resource not found; "
      "and 1 more not ready")),
    ("more", [("Job migrate", BACKOFF), ("Deployment web", DEADLINE_HIT), ("Deployment a", SLOW),
     ("Deployment b", SLOW)], 2,
     (False, 'Deployment web: ProgressDeadlineExceeded: ReplicaSet "web-abc" has timed out; '
      "Job migrate: BackoffLimitExceeded; and 2 more not ready")),
    ("long-message-left-out", [("Widget w", LONG)], 3, (False, "Widget w: NotReady")),
    ("whitespace-folded", [("Pod p", Health(IN_PROGRESS, "PodPending", "a\n  b"))], 3,
     (False, "Pod p: PodPending: a b")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("children", "limit", "expected"), [c[1:] for c in SUMMARIES], ids=[c[0] for c in SUMMARIES]
)
def test_summary(children, limit, expected):
    assert health.summary(children, limit=limit) == expected


def test_summary_order_does_not_depend_on_input_order():
    children = [("B", SLOW), ("A", SLOW), ("C", DEADLINE_HIT), ("D", GONE), ("E", OK)]
    expected = health.summary(children, limit=10)
    assert health.summary(children[::-1], limit=10) == expected
    assert expected[1].startswith("C: ProgressDeadlineExceeded")


def test_summary_stays_under_1000_characters_and_counts_what_it_leaves_out():
    children = [(f"Deployment {'n' * 63}/{str(i) * 253}", LONG) for i in range(10)]
    healthy, message = health.summary(children, limit=10)
    assert not healthy
    assert len(message) < 1000
    shown = message.count("Deployment ")
    assert message.endswith(f"and {10 - shown} more not ready")


def test_summary_refuses_a_limit_below_one():
    with pytest.raises(ValueError, match="limit must be at least 1"):
        health.summary([("Deployment web", SLOW)], limit=0)
