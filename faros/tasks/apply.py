"""Task ``faros.apply``: make one GitTrackObject's child equal to what it holds (spec 3.3).

Holds the CHILD's lock (two GitTrackObjects naming one child serialize), renews it before
every write, and writes nothing when the child already matches: an empty three-way patch
makes no call, and with ``--server-dry-run`` a patch whose dry-run result equals the live
object is not sent for real.
"""

from __future__ import annotations

import datetime
import logging
import os
import time
from typing import Any

from faros import config, metrics
from faros.api import conditions, names
from faros.core import applyplan, delivery, identity, redact, samples, transitions
from faros.kube import client, discovery, errors, events
from faros.tasks import runtime
from faros.tasks.app import Outcome, measured, reconcile_task

logger = logging.getLogger(__name__)

Reason = conditions.GitTrackObjectReason
Event = conditions.EventReason
IN_SYNC = conditions.GitTrackObjectConditionType.OBJECT_IN_SYNC
CONFLICT_RETRIES = 5
DELETE_TIMEOUT = 30.0


class WaitingForKind(Exception):
    """The child's kind is not served yet: report it and try again later."""


@reconcile_task("faros.apply")
def apply(self: Any, namespace: str, name: str) -> None:
    """Apply the GitTrackObject ``namespace/name`` (a ClusterGitTrackObject when "")."""
    outcome = run(runtime.current(), namespace=namespace, name=name)
    if outcome is Outcome.BUSY:
        raise self.retry(countdown=1)
    if outcome is Outcome.WAITING:
        raise self.retry(countdown=min(60, 2 ** min(self.request.retries, 6)))


def run(rt: runtime.Runtime, *, namespace: str, name: str) -> Outcome:
    """Apply one GitTrackObject; BUSY when the child is locked elsewhere, WAITING for a kind."""
    return measured("apply", lambda: _run(rt, namespace=namespace, name=name))


def _run(rt: runtime.Runtime, *, namespace: str, name: str) -> Outcome:
    key = identity.gto_key(namespace=namespace, name=name)
    resource = discovery.own(key.kind)
    rt.locks.clear_pending(identity.dedup_key(key))  # events from now on queue a new run
    try:
        gto: dict[str, Any] = rt.kube.request("GET", resource.path(namespace=namespace, name=name))
    except errors.NotFound:
        return Outcome.DONE
    now = datetime.datetime.now(datetime.UTC)
    applier = Applier(rt, gto, now=now)
    try:
        child = applier.child()
    except applyplan.ApplyError as problem:
        applier.report(problem.reason, problem.message)
        return Outcome.DONE
    except WaitingForKind as waiting:
        applier.report(Reason.ERROR_GETTING_CHILD, str(waiting))
        return Outcome.WAITING
    with rt.locks.hold(identity.lock_key(child.key), ttl=rt.lock_ttl) as held:
        if held is None:
            metrics.LOCK_CONTENTION.labels(lock="object").inc()
            return Outcome.BUSY
        _crash_test_hold()
        try:
            changed = applier.apply(child, renew=held.renew)
        except applyplan.ApplyError as problem:
            applier.report(problem.reason, problem.message)
            return Outcome.DONE
    applier.report(Reason.CHILD_APPLIED_SUCCESS, "")
    _record(gto, child, changed=changed)
    return Outcome.DONE


def _record(gto: dict[str, Any], child: Resolved, *, changed: bool) -> None:
    """Observe the delivery metrics of a successful apply (``gto`` as read before it)."""
    now = datetime.datetime.now(datetime.UTC)
    if delivery.is_drift_revert(gto, written=changed):
        metrics.DRIFT_REVERTS.labels(group=child.resource.group, kind=child.resource.kind).inc()
        return
    latency = delivery.applied_latency(gto, now=now)
    if latency is not None:
        metrics.COMMIT_TO_APPLIED.observe(latency)
    if changed:
        delay = samples.time_to_deploy(gto, now=now)
        if delay is not None:
            labels, seconds = delay
            metrics.TIME_TO_DEPLOY.labels(**labels).observe(seconds)


def _crash_test_hold() -> None:
    """Test hook: hold the lock this long before writing (crash tests kill the worker here).

    Read from ``FAROS_TEST_HOLD_APPLY_SECONDS``; unset in production, where it does nothing.
    """
    seconds = float(os.environ.get("FAROS_TEST_HOLD_APPLY_SECONDS") or 0)
    if seconds > 0:
        time.sleep(seconds)


class Resolved:
    """A decoded child with the resource that serves it."""

    def __init__(self, child: applyplan.Child, resource: discovery.Resource) -> None:
        self.child = child
        self.resource = resource
        meta = child.desired["metadata"]
        self.key = identity.ObjectKey(
            resource.group, resource.version, resource.kind, meta.get("namespace", ""), meta["name"]
        )

    def path(self, *, name: bool = True) -> str:
        meta = self.child.desired["metadata"]
        return self.resource.path(
            namespace=meta.get("namespace", ""), name=meta["name"] if name else ""
        )


class Applier:
    """One apply of one GitTrackObject."""

    def __init__(self, rt: runtime.Runtime, gto: dict[str, Any], *, now: datetime.datetime):
        self.rt = rt
        self.gto = gto
        self.now = now

    def child(self) -> Resolved:
        """Decode the child and find its resource (ApplyError, WaitingForKind)."""
        try:
            child = applyplan.decode(self.gto)
        except applyplan.ApplyError as problem:
            if problem.reason is Reason.ERROR_UNMARSHALLING_DATA:
                self._event(Event.UNMARSHAL_FAILED, "Couldn't unmarshal object from JSON/YAML")
            raise
        desired = child.desired
        resource = self.rt.discovery.resource(desired["apiVersion"], desired["kind"])
        if resource is None:
            raise WaitingForKind(
                f"unable to get child {desired['kind']} {desired['metadata']['name']}: "
                f"the API server does not serve kind {desired['kind']} in "
                f"{desired['apiVersion']} yet; retrying"
            )
        gto_namespace = str(self.gto["metadata"].get("namespace", ""))
        child = applyplan.place(child, gto_namespace=gto_namespace, namespaced=resource.namespaced)
        return Resolved(child, resource)

    def apply(self, resolved: Resolved, *, renew: Any) -> bool:
        """Create, patch, adopt or leave the child; retry conflicts; True when it changed."""
        for attempt in range(CONFLICT_RETRIES):
            live = self._live(resolved)
            meta = self.rt.openapi.schema(
                group=resolved.resource.group,
                version=resolved.resource.version,
                kind=resolved.resource.kind,
            )
            step = applyplan.plan(
                child=resolved.child, live=live, meta=meta, server_side=self._server_side()
            )
            renew()
            try:
                return self._execute(resolved, step, live)
            except errors.Conflict:
                if attempt:
                    time.sleep(1)
            except errors.Invalid as error:
                if resolved.child.strategy is not names.UpdateStrategy.RECREATE or live is None:
                    raise self._failure(resolved, creating=live is None, error=error) from None
                self._recreate(resolved, renew=renew)
                return True
            except errors.ApiError as error:
                raise self._failure(resolved, creating=live is None, error=error) from None
        if resolved.child.strategy is names.UpdateStrategy.RECREATE:
            self._recreate(resolved, renew=renew)
            return True
        raise applyplan.ApplyError(
            Reason.ERROR_UPDATING_CHILD,
            f"error updating child {applyplan.label(resolved.child.desired)}: still conflicting "
            f"after {CONFLICT_RETRIES} attempts",
        )

    def _live(self, resolved: Resolved) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.rt.kube.request("GET", resolved.path())
        except errors.NotFound:
            return None
        except errors.ApiError as error:
            desired = resolved.child.desired
            raise applyplan.ApplyError(
                Reason.ERROR_GETTING_CHILD,
                f"unable to get child {desired['kind']} {desired['metadata']['name']}: {error}",
            ) from None
        return found

    def _execute(
        self, resolved: Resolved, step: applyplan.ApplyPlan, live: dict[str, Any] | None
    ) -> bool:
        """Send the write ``step`` needs; True when the child changed."""
        label = applyplan.label(resolved.child.desired)
        if step.action is applyplan.Action.CREATE:
            self._event(Event.CREATE_STARTED, f"Creating child {label}")
            self.rt.kube.request("POST", resolved.path(name=False), body=step.body)
            self._event(Event.CREATE_SUCCESSFUL, f"Successfully created child {label}")
            return True
        if step.action is applyplan.Action.ADOPT:
            self.rt.kube.request("PATCH", resolved.path(), body=step.body,
                                 content_type=client.MERGE_PATCH)  # fmt: skip
            return False
        if step.action is applyplan.Action.APPLY and live is None:
            self._event(Event.CREATE_STARTED, f"Creating child {label}")
            self._patch(resolved, step)
            self._event(Event.CREATE_SUCCESSFUL, f"Successfully created child {label}")
            return True
        if step.action in (applyplan.Action.PATCH, applyplan.Action.APPLY) and live is not None:
            if self._dry_run_is_noop(resolved, step, live):
                return False
            self._patch(resolved, step)
            self._event(Event.UPDATE_SUCCESSFUL, f"Successfully updated child {label}")
            logger.info("child updated", extra={"object": label})
            return True
        return False

    def _server_side(self) -> bool:
        return self.rt.settings.apply_strategy is config.ApplyStrategy.SERVER_SIDE

    def _patch(
        self, resolved: Resolved, step: applyplan.ApplyPlan, *, dry_run: bool = False
    ) -> dict[str, Any]:
        query: dict[str, str | int | bool] = {"dryRun": "All"} if dry_run else {}
        if step.action is applyplan.Action.APPLY:
            query.update(fieldManager=names.FIELD_MANAGER, force=True)
        result: dict[str, Any] = self.rt.kube.request(
            "PATCH", resolved.path(), body=step.body, content_type=step.content_type, query=query
        )
        return result

    def _dry_run_is_noop(
        self, resolved: Resolved, step: applyplan.ApplyPlan, live: dict[str, Any]
    ) -> bool:
        """Server-side dry run (spec 3.5): True when the patch would change nothing."""
        strategy = resolved.child.strategy
        if not self.rt.settings.server_dry_run or strategy is names.UpdateStrategy.RECREATE:
            return False
        if "patch" not in resolved.resource.verbs:
            return False
        return applyplan.same_object(self._patch(resolved, step, dry_run=True), live)

    def _recreate(self, resolved: Resolved, *, renew: Any) -> None:
        """``recreate``: delete in the foreground, wait until gone, create (spec 3.6)."""
        label = applyplan.label(resolved.child.desired)
        self.rt.kube.request("DELETE", resolved.path(), body={"propagationPolicy": "Foreground"})
        deadline = time.monotonic() + DELETE_TIMEOUT
        while self._live(resolved) is not None:
            if time.monotonic() > deadline:
                raise applyplan.ApplyError(
                    Reason.ERROR_UPDATING_CHILD,
                    f"error updating child {label}: still deleting after {DELETE_TIMEOUT:g}s",
                )
            time.sleep(0.5)
        renew()
        step = applyplan.plan(
            child=resolved.child, live=None, meta=None, server_side=self._server_side()
        )
        if step.action is applyplan.Action.APPLY:
            self._patch(resolved, step)
        else:
            self.rt.kube.request("POST", resolved.path(name=False), body=step.body)
        self._event(Event.UPDATE_SUCCESSFUL, f"Successfully updated child {label}")

    def _failure(
        self, resolved: Resolved, *, creating: bool, error: errors.ApiError
    ) -> applyplan.ApplyError:
        desired = resolved.child.desired
        label = applyplan.label(desired)
        where = f"{desired['kind']} {desired['metadata']['name']}"
        if creating:
            self._event(Event.CREATE_FAILED, f"Failed to create child {label}")
            return applyplan.ApplyError(
                Reason.ERROR_CREATING_CHILD,
                f"error creating child {where}: unable to create child: {error}",
            )
        self._event(Event.UPDATE_FAILED, f"Unable to update child {label}")
        return applyplan.ApplyError(
            Reason.ERROR_UPDATING_CHILD,
            f"error updating child {where}: unable to update child: {error}",
        )

    def report(self, reason: conditions.GitTrackObjectReason, message: str) -> None:
        """Write ObjectInSync through the status subresource, only when it changed."""
        if message:
            logger.warning("apply failed", extra={"gto": self._name(), "reason": message})
        status = (
            conditions.ConditionStatus.TRUE if not message else conditions.ConditionStatus.FALSE
        )
        old = list((self.gto.get("status") or {}).get("conditions", []))
        new = transitions.set_condition(
            old, condition_type=IN_SYNC, status=status, reason=reason,
            message=redact.message(message), now=self.now,
        )  # fmt: skip
        generation = self.gto["metadata"].get("generation", 0)
        previous = self.gto.get("status") or {}
        if new == old and previous.get("observedGeneration") == generation:
            return
        meta = self.gto["metadata"]
        path = discovery.own(str(self.gto["kind"])).path(
            namespace=meta.get("namespace", ""), name=meta["name"], subresource="status"
        )
        body = {**self.gto, "status": {"conditions": new, "observedGeneration": generation}}
        try:
            self.rt.kube.request("PUT", path, body=body)
        except errors.Conflict:
            fresh = self.rt.kube.request("GET", path)
            self.rt.kube.request("PUT", path, body={**fresh, "status": body["status"]})
        except errors.NotFound:
            pass

    def _name(self) -> str:
        meta = self.gto["metadata"]
        return f"{meta.get('namespace', '')}/{meta['name']}".lstrip("/")

    def _event(self, reason: conditions.EventReason, message: str) -> None:
        events.post(
            self.rt.kube,
            involved=self.gto,
            namespace=self.gto["metadata"].get("namespace") or self.rt.events_namespace(),
            kind=conditions.EVENT_TYPES[reason],
            reason=reason,
            message=message,
            now=self.now,
        )
