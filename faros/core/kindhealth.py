"""Per-kind health rules (kstatus ``core.go``) over an object read into an ``Observed``.

Each rule is kstatus's for the kind, keyed by API group and kind as kstatus keys them;
the generic rules that run before and after them are in :mod:`faros.core.health`.
Rules return a ``Verdict`` rather than a ``health.Health`` so that this module stays
below ``health`` (no import cycle). Where Faros differs from kstatus:

- Service of type LoadBalancer: kstatus waits only for ``spec.clusterIP``; Faros waits
  for an IP or hostname in ``status.loadBalancer.ingress``, what users wait for;
- Namespace and APIService have no kstatus rule (so kstatus finds them Current): a
  Namespace in phase Terminating is Terminating; an APIService is Current when its
  ``Available`` condition is True, else InProgress with the condition's reason;
- a Pod's 15 s scheduling window needs ``now``: without it an unschedulable Pod stays
  InProgress (kstatus reads the clock);
- a failed Job gives its ``Failed`` condition's reason (``BackoffLimitExceeded``) and
  message, a ReplicaSet its ``ReplicaFailure`` message, an unschedulable Pod the
  scheduler's message; Current results get a reason too (kstatus gives none).
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Callable, Mapping

from faros.core.observed import Observed, Verdict, dig


class Reason(enum.StrEnum):
    """Reasons of the per-kind rules: kstatus's where it has one."""

    LESS_REPLICAS = "LessReplicas"
    LESS_UPDATED = "LessUpdated"
    LESS_AVAILABLE = "LessAvailable"
    LESS_READY = "LessReady"
    LESS_CURRENT = "LessCurrent"
    LESS_LABELLED = "LessLabelled"
    EXTRA_PODS = "ExtraPods"
    PARTITION_ROLLOUT = "PartitionRollout"
    REVISION_MISMATCH = "RevisionMismatch"
    NO_GENERATION = "NoGeneration"
    NO_OBSERVED_GENERATION = "NoObservedGeneration"
    NO_DESIRED_NUMBER = "NoDesiredNumber"
    PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
    REPLICA_SET_NOT_AVAILABLE = "ReplicaSetNotAvailable"
    DEPLOYMENT_NOT_AVAILABLE = "DeploymentNotAvailable"
    REPLICA_FAILURE = "ReplicaFailure"
    POD_NOT_OBSERVED = "PodNotObserved"
    POD_PENDING = "PodPending"
    POD_NOT_SCHEDULED = "PodNotScheduled"
    POD_UNSCHEDULABLE = "PodUnschedulable"
    POD_RUNNING_NOT_READY = "PodRunningNotReady"
    CONTAINER_CRASH_LOOPING = "ContainerCrashLooping"
    UNKNOWN_PHASE = "UnknownPhase"
    JOB_NOT_STARTED = "JobNotStarted"
    JOB_FAILED = "JobFailed"
    NOT_BOUND = "NotBound"
    NO_IP_ASSIGNED = "NoIPAssigned"
    INSTALLING = "Installing"
    NAMES_NOT_ACCEPTED = "NamesNotAccepted"
    NOT_ESTABLISHED = "NotEstablished"
    NOT_AVAILABLE = "NotAvailable"
    TERMINATING = "Terminating"
    # Reasons of Current results (kstatus gives these no reason, only a message).
    CURRENT = "Current"
    ALWAYS_READY = "AlwaysReady"
    AVAILABLE = "Available"
    READY = "Ready"
    COMPLETED = "Completed"
    POD_FAILED = "PodFailed"
    JOB_RUNNING = "JobRunning"
    SUSPENDED = "Suspended"
    ON_DELETE = "OnDelete"
    BOUND = "Bound"
    ESTABLISHED = "Established"
    ACTIVE = "Active"


def assess(seen: Observed) -> Verdict | None:
    """Return the verdict of the rule for ``seen``'s kind, or None if it has none."""
    group = seen.text("apiVersion").rpartition("/")[0]
    rule = _RULES.get((group, seen.text("kind")))
    return None if rule is None else rule(seen)


def _current(reason: Reason, message: str) -> Verdict:
    return Verdict("Current", reason, message)


def _progress(*checks: tuple[bool, Reason, str]) -> Verdict | None:
    """Return InProgress for the first check that holds (kstatus's count checks)."""
    return next((Verdict("InProgress", r, m) for holds, r, m in checks if holds), None)


def _always_ready(_: Observed) -> Verdict:
    """kstatus ``alwaysReady``: ConfigMap, Secret, CronJob."""
    return _current(Reason.ALWAYS_READY, "Resource is always ready")


_NO_DEADLINE = 2**31 - 1
"""What the Deployment controller takes for an unset progressDeadlineSeconds."""


def _deployment(seen: Observed) -> Verdict:
    """kstatus ``deploymentConditions``: a deadline exceeded is Failed, then the counts."""
    progressing = seen.number("spec.progressDeadlineSeconds", _NO_DEADLINE) == _NO_DEADLINE
    available = False
    for c in seen.conditions:
        if c.type == "Progressing" and c.reason == Reason.PROGRESS_DEADLINE_EXCEEDED:
            return Verdict("Failed", c.reason, c.message or "Progress deadline exceeded")
        if c.type == "Progressing" and c.status == "True":
            progressing = progressing or c.reason == "NewReplicaSetAvailable"
        available = available or (c.type == "Available" and c.status == "True")
    spec = seen.number("spec.replicas", 1)
    replicas = seen.number("status.replicas", 0)
    updated = seen.number("status.updatedReplicas", 0)
    ready = seen.number("status.readyReplicas", 0)
    up = seen.number("status.availableReplicas", 0)
    return _progress(
        (spec > replicas, Reason.LESS_REPLICAS, f"Replicas: {replicas}/{spec}"),
        (spec > updated, Reason.LESS_UPDATED, f"Updated: {updated}/{spec}"),
        (replicas > spec, Reason.EXTRA_PODS, f"Pending termination: {replicas - spec}"),
        (updated > up, Reason.LESS_AVAILABLE, f"Available: {up}/{updated}"),
        (spec > ready, Reason.LESS_READY, f"Ready: {ready}/{spec}"),
        (not progressing, Reason.REPLICA_SET_NOT_AVAILABLE, "ReplicaSet not Available"),
        (not available, Reason.DEPLOYMENT_NOT_AVAILABLE, "Deployment not Available"),
    ) or _current(Reason.AVAILABLE, f"Deployment is available. Replicas: {replicas}")


def _statefulset(seen: Observed) -> Verdict:
    """kstatus ``stsConditions``: OnDelete is Current; counts; then partition or revisions."""
    if seen.text("spec.updateStrategy.type") == "OnDelete":
        return _current(Reason.ON_DELETE, "StatefulSet uses the OnDelete update strategy")
    spec = seen.number("spec.replicas", 1)
    replicas = seen.number("status.replicas", 0)
    ready = seen.number("status.readyReplicas", 0)
    updated = seen.number("status.updatedReplicas", 0)
    current = seen.number("status.currentReplicas", 0)
    partition = seen.number("spec.updateStrategy.rollingUpdate.partition", -1)
    counted = _progress(
        (spec > replicas, Reason.LESS_REPLICAS, f"Replicas: {replicas}/{spec}"),
        (spec > ready, Reason.LESS_READY, f"Ready: {ready}/{spec}"),
        (replicas > spec, Reason.EXTRA_PODS, f"Pending termination: {replicas - spec}"),
    )
    if counted is not None:
        return counted
    if partition != -1:
        rolled = f"Updated: {updated}/{spec - partition}"
        return _progress(
            (updated < spec - partition, Reason.PARTITION_ROLLOUT, rolled),
        ) or _current(Reason.CURRENT, f"Partition rollout complete. Updated: {updated}")
    revised = seen.text("status.currentRevision") == seen.text("status.updateRevision")
    return _progress(
        (spec > current, Reason.LESS_CURRENT, f"Current: {current}/{spec}"),
        (not revised, Reason.REVISION_MISMATCH, "Waiting for updated revision to match current"),
    ) or _current(Reason.CURRENT, f"All replicas scheduled as expected. Replicas: {replicas}")


def _daemonset(seen: Observed) -> Verdict:
    """kstatus ``daemonsetConditions``, after ``checkGenerationSet``: both must be set."""
    for path, reason in (
        ("metadata.generation", Reason.NO_GENERATION),
        ("status.observedGeneration", Reason.NO_OBSERVED_GENERATION),
    ):
        if seen.number(path, -1) == -1:
            return Verdict("InProgress", reason, f"DaemonSet {path} not found")
    desired = seen.number("status.desiredNumberScheduled", -1)
    current = seen.number("status.currentNumberScheduled", 0)
    updated = seen.number("status.updatedNumberScheduled", 0)
    available = seen.number("status.numberAvailable", 0)
    ready = seen.number("status.numberReady", 0)
    return _progress(
        (desired == -1, Reason.NO_DESIRED_NUMBER, "Missing status.desiredNumberScheduled"),
        (desired > current, Reason.LESS_CURRENT, f"Current: {current}/{desired}"),
        (desired > updated, Reason.LESS_UPDATED, f"Updated: {updated}/{desired}"),
        (desired > available, Reason.LESS_AVAILABLE, f"Available: {available}/{desired}"),
        (desired > ready, Reason.LESS_READY, f"Ready: {ready}/{desired}"),
    ) or _current(Reason.CURRENT, f"All replicas scheduled as expected. Replicas: {desired}")


def _replicaset(seen: Observed) -> Verdict:
    """kstatus ``replicasetConditions``: a True ReplicaFailure, then the counts."""
    failure = seen.condition("ReplicaFailure", "True")
    if failure is not None:
        message = failure.message or "ReplicaFailure condition: check the Pods"
        return Verdict("InProgress", Reason.REPLICA_FAILURE, message)
    spec = seen.number("spec.replicas", 1)
    replicas = seen.number("status.replicas", 0)
    labelled = seen.number("status.fullyLabeledReplicas", 0)
    available = seen.number("status.availableReplicas", 0)
    ready = seen.number("status.readyReplicas", 0)
    return _progress(
        (spec > labelled, Reason.LESS_LABELLED, f"Labelled: {labelled}/{spec}"),
        (spec > available, Reason.LESS_AVAILABLE, f"Available: {available}/{spec}"),
        (spec > ready, Reason.LESS_READY, f"Ready: {ready}/{spec}"),
        (replicas > spec, Reason.EXTRA_PODS, f"Pending termination: {replicas - spec}"),
    ) or _current(Reason.AVAILABLE, f"ReplicaSet is available. Replicas: {replicas}")


_SCHEDULE_WINDOW = datetime.timedelta(seconds=15)
"""How long kstatus lets a Pod be unschedulable before it is Failed."""


def _pod(seen: Observed) -> Verdict:
    """kstatus ``podConditions``: by phase; a completed Pod is Current, failed or not."""
    phase = seen.text("status.phase")
    if phase == "Succeeded":
        return _current(Reason.COMPLETED, "Pod has completed successfully")
    if phase == "Failed":
        return _current(Reason.POD_FAILED, "Pod has completed, but not successfully")
    if phase == "Running":
        if seen.condition("Ready", "True") is not None:
            return _current(Reason.READY, "Pod is Ready")
        looping = _crash_looping(seen)
        if looping:
            message = f"Containers in CrashLoopBackOff: {', '.join(looping)}"
            return Verdict("Failed", Reason.CONTAINER_CRASH_LOOPING, message)
        return Verdict("InProgress", Reason.POD_RUNNING_NOT_READY, "Pod is running but not Ready")
    if phase == "Pending":
        scheduled = seen.condition("PodScheduled", "False")
        if scheduled is None or scheduled.reason != "Unschedulable":
            return Verdict("InProgress", Reason.POD_PENDING, "Pod is in the Pending phase")
        detail = f": {scheduled.message}" if scheduled.message else ""
        if _in_schedule_window(seen):
            return Verdict("InProgress", Reason.POD_NOT_SCHEDULED, f"Pod not scheduled yet{detail}")
        return Verdict("Failed", Reason.POD_UNSCHEDULABLE, f"Pod could not be scheduled{detail}")
    if not phase:
        return Verdict("InProgress", Reason.POD_NOT_OBSERVED, "Pod phase not available")
    return Verdict("Unknown", Reason.UNKNOWN_PHASE, f"Pod phase {phase} is not known")


def _crash_looping(seen: Observed) -> list[str]:
    """Return the names of the containers waiting in CrashLoopBackOff (kstatus ignores init)."""
    statuses = seen.field("status.containerStatuses")
    return [
        entry["name"]
        for entry in (statuses if isinstance(statuses, list) else [])
        if isinstance(dig(entry, "name"), str)
        and dig(entry, "state.waiting.reason") == "CrashLoopBackOff"
    ]


def _in_schedule_window(seen: Observed) -> bool:
    """Tell whether the Pod was created less than 15 s before ``now`` (True without ``now``).

    A missing creation time is long ago, as kstatus reads it.
    """
    if seen.now is None:
        return True
    try:
        created = datetime.datetime.fromisoformat(seen.text("metadata.creationTimestamp"))
    except ValueError:
        return False
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.UTC)
    return seen.now - _SCHEDULE_WINDOW < created


def _job(seen: Observed) -> Verdict:
    """kstatus ``jobConditions``: Complete, Failed, Suspended; then started or not."""
    completions = seen.number("spec.completions", seen.number("spec.parallelism", 1))
    succeeded = seen.number("status.succeeded", 0)
    failed = seen.number("status.failed", 0)
    for c in seen.conditions:
        if c.status != "True":
            continue
        if c.type == "Complete":
            done = f"Job completed. Succeeded: {succeeded}/{completions}"
            return _current(Reason.COMPLETED, done)
        if c.type == "Failed":
            message = c.message or f"Job failed. Failed: {failed}/{completions}"
            return Verdict("Failed", c.reason or Reason.JOB_FAILED, message)
        if c.type == "Suspended" and seen.field("spec.suspend") is True:
            return _current(Reason.SUSPENDED, "Job is suspended")
    if not seen.text("status.startTime"):
        return Verdict("InProgress", Reason.JOB_NOT_STARTED, "Job not started")
    active = seen.number("status.active", 0)
    message = f"Job in progress. Succeeded: {succeeded}, active: {active}, failed: {failed}"
    return _current(Reason.JOB_RUNNING, message)


def _pvc(seen: Observed) -> Verdict:
    """kstatus ``pvcConditions``: Current once Bound."""
    phase = seen.text("status.phase")
    if phase == "Bound":
        return _current(Reason.BOUND, "PVC is Bound")
    return Verdict("InProgress", Reason.NOT_BOUND, f"PVC is not Bound. Phase: {phase or 'unknown'}")


def _service(seen: Observed) -> Verdict:
    """kstatus ``serviceConditions``, but a LoadBalancer waits for an ingress (see above)."""
    if seen.text("spec.type", "ClusterIP") != "LoadBalancer":
        return _current(Reason.CURRENT, "Service is ready")
    ingress = seen.field("status.loadBalancer.ingress")
    for point in ingress if isinstance(ingress, list) else []:
        address = dig(point, "ip") or dig(point, "hostname")
        if isinstance(address, str) and address:
            return _current(Reason.CURRENT, f"Load balancer ready at {address}")
    message = "Load balancer has no ingress IP or hostname yet"
    return Verdict("InProgress", Reason.NO_IP_ASSIGNED, message)


def _pdb(_: Observed) -> Verdict:
    """kstatus ``pdbConditions``: Current once the generic rules found it observed."""
    return _current(Reason.CURRENT, "AllowedDisruptions has been computed")


def _crd(seen: Observed) -> Verdict:
    """kstatus ``CRDConditions``: names not accepted or not established (not installing)."""
    for c in seen.conditions:
        if c.type == "NamesAccepted" and c.status == "False":
            message = c.message or "CRD names are not accepted"
            return Verdict("Failed", c.reason or Reason.NAMES_NOT_ACCEPTED, message)
        if c.type == "Established" and c.status == "False" and c.reason != "Installing":
            message = c.message or "CRD is not established"
            return Verdict("Failed", c.reason or Reason.NOT_ESTABLISHED, message)
        if c.type == "Established" and c.status == "True":
            return _current(Reason.ESTABLISHED, "CRD is established")
    return Verdict("InProgress", Reason.INSTALLING, "Install in progress")


def _namespace(seen: Observed) -> Verdict:
    """Faros: a Namespace is Terminating in phase Terminating, else Current."""
    if seen.text("status.phase") == "Terminating":
        return Verdict("Terminating", Reason.TERMINATING, "Namespace is terminating")
    return _current(Reason.ACTIVE, "Namespace is active")


def _apiservice(seen: Observed) -> Verdict:
    """Faros: an APIService is Current when its Available condition is True."""
    if seen.condition("Available", "True") is not None:
        return _current(Reason.AVAILABLE, "APIService is available")
    available = next((c for c in seen.conditions if c.type == "Available"), None)
    if available is None:
        return Verdict("InProgress", Reason.NOT_AVAILABLE, "Availability not reported yet")
    message = available.message or f"Available condition is {available.status}"
    return Verdict("InProgress", available.reason or Reason.NOT_AVAILABLE, message)


_Rule = Callable[[Observed], Verdict]
_RULES: Mapping[tuple[str, str], _Rule] = {
    ("", "ConfigMap"): _always_ready,
    ("", "Secret"): _always_ready,
    ("", "Pod"): _pod,
    ("", "PersistentVolumeClaim"): _pvc,
    ("", "Service"): _service,
    ("", "Namespace"): _namespace,
    ("apps", "Deployment"): _deployment,
    ("extensions", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("extensions", "DaemonSet"): _daemonset,
    ("apps", "ReplicaSet"): _replicaset,
    ("extensions", "ReplicaSet"): _replicaset,
    ("batch", "Job"): _job,
    ("batch", "CronJob"): _always_ready,
    ("policy", "PodDisruptionBudget"): _pdb,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    ("apiregistration.k8s.io", "APIService"): _apiservice,
}
"""The rules, keyed by (API group, kind) as kstatus keys its ``legacyTypes``."""
