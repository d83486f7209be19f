"""Task ``faros.apply``: make one GitTrackObject's child equal to what it holds (spec 3.3).

Holds the CHILD's lock (two GitTrackObjects naming one child serialize), renews it before
every write, and writes nothing when the child already matches: an empty three-way patch
makes no call, and with ``--server-dry-run`` a patch whose dry-run result equals the live
object is not sent for real.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import threading
import time
from typing import Any

from faros import config, metrics
from faros.api import conditions, names
from faros.core import (
    applyplan,
    attribution,
    breakglass,
    delivery,
    errors,
    health,
    identity,
    ignore,
    prune,
    readiness,
    recheck,
    routing,
    samples,
    suspension,
    tenancy,
    transitions,
)
from faros.core.webhooks import pushstamp
from faros.kube import client, discovery
from faros.kube import errors as kube_errors
from faros.tasks import release, report, runtime
from faros.tasks.app import DONE, Outcome, Result, again, busy, measured, reconcile_task

logger = logging.getLogger(__name__)

Reason = conditions.GitTrackObjectReason
Event = conditions.EventReason
Control = conditions.ControlEvent
IN_SYNC = conditions.GitTrackObjectConditionType.OBJECT_IN_SYNC
CONFLICT_RETRIES = 5
SEEN_TTL = 24 * 3600.0
"""How long a child's noted resourceVersion is trusted by the re-check (then checked again)."""
DELETE_TIMEOUT = 30.0
RETRYING = readiness.RETRYING


class Failure(Exception):
    """A step of the apply failed: what ObjectInSync and the Event say about it.

    The failure that caused it (``__cause__``) decides, through the error policy, whether the
    apply is tried again.
    """

    def __init__(
        self,
        reason: conditions.GitTrackObjectReason,
        message: str,
        *,
        event: tuple[conditions.EventReason, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.event = event


def run(rt: runtime.Runtime, *, namespace: str, name: str, attempt: int = 0) -> Result:
    """Apply one GitTrackObject; unless done, the result says when to run it again."""
    return measured(
        "apply", lambda: _run(rt, namespace=namespace, name=name, attempt=attempt), attempt=attempt
    )


apply = reconcile_task("faros.apply", run)
"""The Celery task: ``apply.delay(namespace, name)``."""


def _run(rt: runtime.Runtime, *, namespace: str, name: str, attempt: int) -> Result:
    key = identity.gto_key(namespace=namespace, name=name)
    resource = discovery.own(key.kind)
    rt.locks.clear_pending(identity.dedup_key(key))  # events from now on queue a new run
    try:
        gto: dict[str, Any] = rt.kube.request("GET", resource.path(namespace=namespace, name=name))
    except kube_errors.NotFound:
        return DONE
    return _apply(rt, gto, owner=_owner(rt, gto), attempt=attempt).result


@dataclasses.dataclass(frozen=True, slots=True)
class Applied:
    """How one apply ended, and the GitTrackObject as it left it (status included)."""

    result: Result
    gto: dict[str, Any]


def in_place(rt: runtime.Runtime, gto: dict[str, Any], *, owner: dict[str, Any]) -> Applied:
    """Apply the GitTrackObject ``gto`` that the sync of ``owner`` has just written (the
    write's answer), in the sync's task: no apply task, no read of either object.

    The sync marked ``identity.in_place_key`` before the write, so the watchers wait for the
    status this writes instead of queuing an apply. An apply that did not finish (lock busy,
    a failure) clears the mark: the watchers then queue one, which retries as any apply does.
    """
    applied = Applied(Result(Outcome.RETRY), gto)

    def work() -> Result:
        nonlocal applied
        applied = _apply(rt, gto, owner=owner, attempt=0)
        return applied.result

    result = measured("apply", work, attempt=0)
    if result.outcome is not Outcome.DONE:
        key = routing.key_of(gto)
        try:
            rt.locks.note(identity.in_place_key(key), "", ttl=IN_PLACE_TTL)
        except errors.Unreachable as error:  # the mark expires; the watchers queue it then
            logger.info("in-place mark not cleared", extra={"gto": key.namespaced_name,
                                                            "error": str(error)})  # fmt: skip
    return dataclasses.replace(applied, result=result)


IN_PLACE_TTL = 60.0
"""Seconds a sync's ``in_place_key`` mark lives (the watchers read it at the write's event)."""


def _apply(
    rt: runtime.Runtime, gto: dict[str, Any], *, owner: dict[str, Any] | None, attempt: int
) -> Applied:
    """Apply ``gto`` as read (or written) just now; ``owner`` is its GitTrack."""
    reporter = report.Reporter(rt.kube, gto, events_namespace=rt.events_namespace(),
                               now=datetime.datetime.now(datetime.UTC),
                               quiet=rt.settings.events is config.EventsMode.SUMMARY)  # fmt: skip
    result = _applying(rt, gto, reporter, owner=owner, attempt=attempt)
    return Applied(result, {**gto, "status": reporter.written or reporter.previous})


def _applying(
    rt: runtime.Runtime, gto: dict[str, Any], reporter: report.Reporter, *,
    owner: dict[str, Any] | None, attempt: int,
) -> Result:  # fmt: skip
    key, now = routing.key_of(gto), reporter.now
    if gto["metadata"].get("deletionTimestamp"):
        return _deleting(rt, gto, reporter, owner=owner, attempt=attempt)
    if suspension.is_suspended(owner):
        logger.debug("apply skipped: suspended", extra={"gto": key.namespaced_name})
        return DONE
    applier = Applier(rt, gto, reporter)
    try:
        applier.kube = _as_tenant(rt, owner, namespace=key.namespace)
    except tenancy.TenancyError as error:  # bad input: reported once, until it changes
        return _failed(applier, error, attempt=attempt)
    try:
        child = applier.child()
        with rt.locks.hold(identity.lock_key(child.key), ttl=rt.lock_ttl) as held:
            if held is None:
                metrics.LOCK_CONTENTION.labels(lock="object").inc()
                return busy()
            changed = applier.apply(child, renew=held.renew)
    except PausedChild:
        applier.save()  # the Paused condition; the version is not noted: the re-check comes back
        return DONE
    except errors.LockLost:
        return busy()  # another worker holds the child now and reports on it
    except errors.Unreachable as error:  # Faros's own Redis: nothing to say about the object
        logger.warning("apply postponed", extra={"gto": key.namespaced_name, "error": str(error)})
        return again(Outcome.RETRY, attempt=attempt)
    except Exception as error:  # every failure goes through the one policy
        return _failed(applier, error, attempt=attempt)
    state = health.assess(applier.current, now=now)
    applier.report(Reason.CHILD_APPLIED_SUCCESS, "", child_health=state)
    _record(gto, child, changed=changed, healthy=state.status is health.Status.CURRENT)
    _remember(rt, key, applier.seen)
    return DONE


def _as_tenant(rt: runtime.Runtime, owner: dict[str, Any] | None, *, namespace: str) -> client.Kube:
    """The connection the child's requests go through: impersonating the GitTrack's service
    account (``faros.core.tenancy``), or the controller's own."""
    user = tenancy.identity(owner, namespace=namespace,
                            default_account=rt.settings.default_service_account)  # fmt: skip
    return rt.kube.impersonating(user) if user else rt.kube


def _deleting(
    rt: runtime.Runtime, gto: dict[str, Any], reporter: report.Reporter, *,
    owner: dict[str, Any] | None, attempt: int,
) -> Result:  # fmt: skip
    """A GitTrackObject being deleted gets no apply; a prune-protected one (its GitTrack was
    deleted) has its child released first, so the garbage collector leaves the child."""
    if not prune.needs_release(gto):
        return DONE
    try:
        namespace = str(gto["metadata"].get("namespace", ""))
        release.release(rt, gto, reporter, why="its GitTrackObject is being deleted",
                        kube=_as_tenant(rt, owner, namespace=namespace))  # fmt: skip
    except Exception as error:  # every failure goes through the one policy
        verdict = errors.verdict(error)
        logger.warning("release failed", extra={"gto": reporter.label, "error": str(error)})
        if verdict.terminal:
            return Result(Outcome.TERMINAL)
        return again(Outcome.RETRY, attempt=attempt, retry_after=verdict.retry_after)
    return DONE


_MANAGERS = attribution.ManagerLabels()
"""This process's bounded label values of ``faros_drift_reverts_by_manager_total``."""
OWNER_TTL = 2.0
"""Seconds a worker process trusts what it read of a GitTrack (``spec.suspend``, its service
account): applies of one GitTrack's objects cost one extra read per 2 s, not one each."""
_owners: dict[identity.ObjectKey, tuple[float, dict[str, Any] | None]] = {}
_owners_guard = threading.Lock()


def _owner(rt: runtime.Runtime, gto: dict[str, Any]) -> dict[str, Any] | None:
    """The GitTrack (or ClusterGitTrack) owning ``gto`` as read at most ``OWNER_TTL`` ago;
    None when there is none."""
    owner = routing.owning_gittrack(gto)
    if owner is None:
        return None
    now = time.monotonic()
    with _owners_guard:
        known = _owners.get(owner)
    if known is not None and known[0] > now:
        return known[1]
    path = discovery.own(owner.kind).path(namespace=owner.namespace, name=owner.name)
    try:
        found: dict[str, Any] | None = rt.kube.request("GET", path)
    except kube_errors.NotFound:
        found = None
    with _owners_guard:
        if len(_owners) > 10_000:
            _owners.clear()
        _owners[owner] = (now + OWNER_TTL, found)
    return found


def _remember(
    rt: runtime.Runtime, key: identity.ObjectKey, version: str, *, ttl: float = SEEN_TTL
) -> None:
    """Note the child's resourceVersion as this apply left it in sync: the watchers' re-check
    looks at a child again only once it moved (best effort: a lost note costs one check)."""
    if not version:
        return
    try:
        rt.locks.note(identity.seen_key(key), version, ttl=ttl)
    except errors.Unreachable as error:
        logger.info("resourceVersion not noted", extra={"gto": key.namespaced_name,
                                                       "error": str(error)})  # fmt: skip


def _failed(applier: Applier, error: Exception, *, attempt: int) -> Result:
    """Report a failed apply in ObjectInSync (and its Event), then end or retry per policy."""
    cause = error.__cause__ if isinstance(error, Failure) and error.__cause__ else error
    verdict = errors.verdict(cause)
    if isinstance(error, applyplan.ApplyError | Failure):
        reason, message = error.reason, error.message
    else:
        spec = applier.gto.get("spec") or {}
        child = f"{spec.get('kind', '')} {spec.get('name', '')}"
        if isinstance(error, errors.KindNotServed):
            reason, message = Reason.ERROR_GETTING_CHILD, f"unable to get child {child}: {error}"
        else:
            reason, message = Reason.ERROR_UPDATING_CHILD, f"unable to apply child {child}: {error}"
    event = error.event if isinstance(error, Failure) else None
    if isinstance(error, applyplan.ApplyError) and reason is Reason.ERROR_UNMARSHALLING_DATA:
        event = (Event.UNMARSHAL_FAILED, "Couldn't unmarshal object from JSON/YAML")
    applier.report(reason, message if verdict.terminal else message + RETRYING, event=event)
    if verdict.terminal:
        return Result(Outcome.TERMINAL)
    waiting = isinstance(error, errors.KindNotServed)
    return again(
        Outcome.WAITING if waiting else Outcome.RETRY,
        attempt=attempt,
        retry_after=verdict.retry_after,
    )


def _record(gto: dict[str, Any], child: Resolved, *, changed: bool, healthy: bool) -> None:
    """Observe the delivery metrics of a successful apply (``gto`` as read before it)."""
    now = datetime.datetime.now(datetime.UTC)
    if healthy:
        delivered = delivery.healthy_latency(gto, now=now)
        if delivered is not None:
            metrics.COMMIT_TO_HEALTHY.observe(delivered)
    if delivery.is_drift_revert(gto, written=changed):
        metrics.DRIFT_REVERTS.labels(group=child.resource.group, kind=child.resource.kind).inc()
        return
    latency = delivery.applied_latency(gto, now=now)
    if latency is not None:
        metrics.COMMIT_TO_APPLIED.observe(latency)
    pushed = pushstamp.latency(gto, now=now)
    if pushed is not None:
        metrics.WEBHOOK_PUSH_TO_APPLIED.observe(pushed)
    if changed:
        delay = samples.time_to_deploy(gto, now=now)
        if delay is not None:
            labels, seconds = delay
            metrics.TIME_TO_DEPLOY.labels(**labels).observe(seconds)


class PausedChild(Exception):
    """The child's reverts are paused (break-glass): nothing is written to it now."""


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

    def __init__(self, rt: runtime.Runtime, gto: dict[str, Any], reporter: report.Reporter):
        self.rt = rt
        self.gto = gto
        self.reporter = reporter
        self.seen = ""
        """The child's resourceVersion as the apply last read or wrote it."""
        meta = gto["metadata"]
        self.key = identity.gto_key(namespace=meta.get("namespace", ""), name=meta["name"])
        self.current: dict[str, Any] | None = None
        """The child as the apply last read or wrote it (None: not read yet, or absent)."""
        self.kube = rt.kube
        """Where the child's requests go: the controller's connection, or a view of it that
        impersonates the GitTrack's service account (``faros.core.tenancy``)."""

    def child(self) -> Resolved:
        """Decode the child and find its resource (ApplyError, KindNotServed)."""
        child = applyplan.decode(self.gto)
        desired = child.desired
        resource = self.rt.discovery.resource(desired["apiVersion"], desired["kind"])
        if resource is None:
            raise errors.KindNotServed(api_version=desired["apiVersion"], kind=desired["kind"])
        gto_namespace = str(self.gto["metadata"].get("namespace", ""))
        child = applyplan.place(child, gto_namespace=gto_namespace, namespaced=resource.namespaced)
        return Resolved(child, resource)

    def apply(self, resolved: Resolved, *, renew: Any) -> bool:
        """Create, patch, adopt or leave the child; retry conflicts; True when it changed."""
        conflict: kube_errors.Conflict | None = None
        for attempt in range(CONFLICT_RETRIES):
            live = None if attempt == 0 and self._creating_blind() else self._live(resolved)
            self._break_glass(resolved, live)
            meta = self.rt.openapi.schema(
                group=resolved.resource.group,
                version=resolved.resource.version,
                kind=resolved.resource.kind,
            )
            child = self._ignoring(resolved, live)
            step = applyplan.plan(
                child=child, live=live, meta=meta, server_side=self._server_side()
            )
            renew()
            try:
                return self._execute(resolved, step, live, desired=child.desired)
            except kube_errors.Conflict as error:
                conflict = error
                if attempt:
                    time.sleep(1)
            except kube_errors.Invalid as error:
                if resolved.child.strategy is not names.UpdateStrategy.RECREATE or live is None:
                    raise self._failure(resolved, creating=live is None, error=error) from error
                self._recreate(resolved, renew=renew)
                return True
            except kube_errors.ApiError as error:
                raise self._failure(resolved, creating=live is None, error=error) from error
        if resolved.child.strategy is names.UpdateStrategy.RECREATE:
            self._recreate(resolved, renew=renew)
            return True
        raise Failure(
            Reason.ERROR_UPDATING_CHILD,
            f"error updating child {applyplan.label(resolved.child.desired)}: still conflicting "
            f"after {CONFLICT_RETRIES} attempts",
        ) from conflict

    def _creating_blind(self) -> bool:
        return applyplan.creates_blind(
            self.gto, summary=self.reporter.quiet, server_side=self._server_side()
        )

    def _break_glass(self, resolved: Resolved, live: dict[str, Any] | None) -> None:
        """Raise PausedChild while the live child's ``pause-until`` holds; say once when a
        pause starts, ends or is refused (the Paused condition and its Event)."""
        label = applyplan.label(resolved.child.desired)
        now = datetime.datetime.now(datetime.UTC)
        pause = breakglass.read(live, now=now, limit=self.rt.settings.max_pause, label=label)
        before = transitions.find(self.reporter.conditions, breakglass.CONDITION)
        was_paused = before is not None and before.get("status") == conditions.ConditionStatus.TRUE
        true, false = conditions.ConditionStatus.TRUE, conditions.ConditionStatus.FALSE
        if pause.state is breakglass.State.ACTIVE:
            self.reporter.condition(breakglass.CONDITION, status=true, reason="Paused",
                                    message=pause.message,
                                    event=(Control.PAUSED, pause.message))  # fmt: skip
            raise PausedChild(label)
        if pause.state is breakglass.State.REFUSED:
            self.reporter.condition(breakglass.CONDITION, status=false, reason="Refused",
                                    message=pause.message,
                                    event=(Control.PAUSE_REFUSED, pause.message))  # fmt: skip
        elif was_paused:
            message = pause.message or (
                f"the pause of {label} ended: its {breakglass.PAUSE_ANNOTATION} annotation was "
                "removed; it is managed, and reverted, as usual")  # fmt: skip
            self.reporter.condition(breakglass.CONDITION, status=false, reason="Ended",
                                    message=message,
                                    event=(Control.PAUSE_ENDED, message))  # fmt: skip

    def save(self) -> None:
        """Write the conditions as they are now, if they changed (ObjectInSync untouched)."""
        previous = self.reporter.previous
        if self.reporter.conditions != previous.get("conditions", []):
            self.reporter.save({**previous, "conditions": self.reporter.conditions})

    def _live(self, resolved: Resolved) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self.kube.request("GET", resolved.path())
        except kube_errors.NotFound:
            return None
        except kube_errors.ApiError as error:
            desired = resolved.child.desired
            raise Failure(
                Reason.ERROR_GETTING_CHILD,
                f"unable to get child {desired['kind']} {desired['metadata']['name']}: {error}",
            ) from error
        return self._saw(found)

    def _saw(self, child: dict[str, Any]) -> dict[str, Any]:
        """Remember the child as read or written, and its resourceVersion; return it."""
        self.seen = str((child or {}).get("metadata", {}).get("resourceVersion", "")) or self.seen
        self.current = child or self.current
        return child

    def _wrote(self, child: dict[str, Any]) -> dict[str, Any]:
        """:meth:`_saw` a write's answer and note its resourceVersion at once (the watchers
        recognise the watch event of this very write by it)."""
        self._saw(child)
        _remember(self.rt, self.key, self.seen)
        return child

    def _send(self, method: str, path: str, **arguments: Any) -> dict[str, Any]:
        """Write the child. Until the answer's resourceVersion is noted, the note says an apply
        is writing (``recheck.WRITING``): the watch event of the write, which can arrive
        before the answer is read, then waits for the note instead of queuing another apply.
        Every write names Faros's field manager, so ``managedFields`` tell its writes apart."""
        _remember(self.rt, self.key, recheck.WRITING, ttl=self.rt.lock_ttl)
        query = {"fieldManager": names.FIELD_MANAGER, **(arguments.pop("query", None) or {})}
        return self._wrote(self.kube.request(method, path, query=query, **arguments))

    def _ignoring(self, resolved: Resolved, live: dict[str, Any] | None) -> applyplan.Child:
        """The child with the fields ``spec.ignoreDifferences`` names as ``live`` has them."""
        raw = (self.gto.get("spec") or {}).get("ignoreDifferences")
        if not raw:
            return resolved.child
        try:
            rules = ignore.parse(raw, source="spec.ignoreDifferences of the GitTrackObject")
        except ignore.RuleError as error:
            raise Failure(Reason.ERROR_UPDATING_CHILD, str(error)) from errors.Refused(str(error))
        desired = ignore.normalize(resolved.child.desired, live, rules)
        return dataclasses.replace(resolved.child, desired=desired, recorded=resolved.child.desired)

    def _reverted(
        self, label: str, desired: dict[str, Any], live: dict[str, Any] | None
    ) -> tuple[str, list[str]]:
        """The ``DriftReverted`` message and the managers to count, from ``live`` as it was."""
        if live is None:
            return attribution.message(label, [], deleted=True), attribution.managers(
                [], deleted=True)  # fmt: skip
        changes = attribution.attribute(attribution.drifted(desired, live), live)
        return attribution.message(label, changes), attribution.managers(changes)

    def _announce_revert(self, message: str, managers: list[str]) -> None:
        self.reporter.event(Control.DRIFT_REVERTED, message, always=True)
        for manager in managers:
            metrics.DRIFT_REVERTS_BY_MANAGER.labels(manager=_MANAGERS.label(manager)).inc()

    def _execute(
        self,
        resolved: Resolved,
        step: applyplan.ApplyPlan,
        live: dict[str, Any] | None,
        *,
        desired: dict[str, Any],
    ) -> bool:
        """Send the write ``step`` needs; True when the child changed."""
        label = applyplan.label(resolved.child.desired)
        revert = delivery.is_drift_revert(self.gto, written=True)  # reported in any --events
        if step.action is applyplan.Action.CREATE:
            self.reporter.event(Event.CREATE_STARTED, f"Creating child {label}")
            self._send("POST", resolved.path(name=False), body=step.body)
            self.reporter.event(Event.CREATE_SUCCESSFUL, f"Successfully created child {label}",
                                always=revert)  # fmt: skip
            if revert:
                self._announce_revert(*self._reverted(label, desired, None))
            return True
        if step.action is applyplan.Action.ADOPT:
            self._send("PATCH", resolved.path(), body=step.body, content_type=client.MERGE_PATCH)
            return False
        if step.action is applyplan.Action.APPLY and live is None:
            self.reporter.event(Event.CREATE_STARTED, f"Creating child {label}")
            self._patch(resolved, step)
            self.reporter.event(Event.CREATE_SUCCESSFUL, f"Successfully created child {label}",
                                always=revert)  # fmt: skip
            if revert:
                self._announce_revert(*self._reverted(label, desired, None))
            return True
        if step.action in (applyplan.Action.PATCH, applyplan.Action.APPLY) and live is not None:
            if self._dry_run_is_noop(resolved, step, live):
                return False
            blame = self._reverted(label, desired, live) if revert else None  # before the write
            self._patch(resolved, step)
            self.reporter.event(Event.UPDATE_SUCCESSFUL, f"Successfully updated child {label}",
                                always=revert)  # fmt: skip
            if blame is not None:
                self._announce_revert(*blame)
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
        send = self.kube.request if dry_run else self._send
        result: dict[str, Any] = send(
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
        self.kube.request("DELETE", resolved.path(), body={"propagationPolicy": "Foreground"})
        deadline = time.monotonic() + DELETE_TIMEOUT
        while self._live(resolved) is not None:
            if time.monotonic() > deadline:
                raise Failure(
                    Reason.ERROR_UPDATING_CHILD,
                    f"error updating child {label}: still deleting after {DELETE_TIMEOUT:g}s",
                ) from errors.TransientError()
            time.sleep(0.5)
        renew()
        step = applyplan.plan(
            child=resolved.child, live=None, meta=None, server_side=self._server_side()
        )
        if step.action is applyplan.Action.APPLY:
            self._patch(resolved, step)
        else:
            self._send("POST", resolved.path(name=False), body=step.body)
        self.reporter.event(Event.UPDATE_SUCCESSFUL, f"Successfully updated child {label}")

    def _failure(self, resolved: Resolved, *, creating: bool, error: Exception) -> Failure:
        desired = resolved.child.desired
        label = applyplan.label(desired)
        where = f"{desired['kind']} {desired['metadata']['name']}"
        if creating:
            return Failure(
                Reason.ERROR_CREATING_CHILD,
                f"error creating child {where}: unable to create child: {error}",
                event=(Event.CREATE_FAILED, f"Failed to create child {label}"),
            )
        return Failure(
            Reason.ERROR_UPDATING_CHILD,
            f"error updating child {where}: unable to update child: {error}",
            event=(Event.UPDATE_FAILED, f"Unable to update child {label}"),
        )

    def report(
        self,
        reason: conditions.GitTrackObjectReason,
        message: str,
        *,
        event: tuple[conditions.EventReason, str] | None = None,
        child_health: health.Health | None = None,
    ) -> None:
        """Set ObjectInSync (log and Event when it changed), and Healthy from the child's
        health when known; write the status once, if anything changed."""
        status = conditions.ConditionStatus.FALSE if message else conditions.ConditionStatus.TRUE
        self.reporter.condition(IN_SYNC, status=status, reason=reason, message=message,
                                event=event)  # fmt: skip
        if child_health is not None:
            state, why, text = readiness.healthy_condition(child_health)
            self.reporter.condition(conditions.HEALTHY, status=state, reason=why, message=text)
        generation = self.gto["metadata"].get("generation", 0)
        previous = self.reporter.previous
        if (
            self.reporter.conditions == previous.get("conditions", [])
            and previous.get("observedGeneration") == generation
        ):
            return
        self.reporter.save({"conditions": self.reporter.conditions,
                            "observedGeneration": generation})  # fmt: skip
