"""Task ``faros.sync``: one GitTrack or ClusterGitTrack -> its GitTrackObjects (spec 2.2).

Holds the GitTrack's Redis lock; reads the world, lets ``faros.core`` decide, writes what
differs, and writes the status once at the end only when it changed. A sync that learnt
nothing new makes no write at all (no Event either: Events are writes too).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import logging
import threading
from collections.abc import Sequence
from typing import Any

import faros
from faros import config, metrics
from faros.api import conditions, names
from faros.core import (
    delivery,
    dependencies,
    errors,
    identity,
    ignore,
    manual,
    prune,
    readiness,
    recheck,
    redact,
    rules,
    suspension,
    synccalc,
    syncevents,
    syncplan,
    tenancy,
    trackstatus,
    transitions,
)
from faros.core.webhooks import pushstamp
from faros.kube import client, discovery, reads
from faros.kube import errors as kube_errors
from faros.tasks import apply, gitsource, release, report, runtime
from faros.tasks.app import DONE, Outcome, Result, again, busy, measured, reconcile_task

logger = logging.getLogger(__name__)

Reason = conditions.EventReason
UNCHANGED_TTL = 6 * 3600.0
"""How long a clean sync's inputs let later syncs skip (then one full sync, whatever)."""
WRITERS = 8
"""GitTrackObjects written at once by one sync (a 10,000-object repository must finish
well inside the task's time limit; the API server's own limits bound the rest)."""
IN_PLACE_MAX = 1000
"""A sync writing at most this many GitTrackObjects applies their children itself, each
right after its write (``apply.in_place``): no apply task, no read of the object just
written. A bigger sync leaves the applies to the apply queue, where every worker takes a
share while the sync writes the rest; so does a worker that serves only the sync queue.
1,000 applied in place take about 7 s on two cores, far inside the task's time limit; the
sync keeps each one's readiness until it reports."""


def run(rt: runtime.Runtime, *, namespace: str, name: str, attempt: int = 0) -> Result:
    """Sync one GitTrack under its lock; unless done, the result says when to run it again."""
    return measured(
        "sync", lambda: _run(rt, namespace=namespace, name=name, attempt=attempt), attempt=attempt
    )


sync = reconcile_task("faros.sync", run)
"""The Celery task: ``sync.delay(namespace, name)``."""


def _run(rt: runtime.Runtime, *, namespace: str, name: str, attempt: int) -> Result:
    with rt.sync_slot() as slot:
        if not slot:
            return busy()  # this worker's other processes are kept for applies
        return _locked(rt, namespace=namespace, name=name, attempt=attempt)


def _locked(rt: runtime.Runtime, *, namespace: str, name: str, attempt: int) -> Result:
    key = identity.gittrack_key(namespace=namespace, name=name)
    with rt.locks.hold(identity.lock_key(key), ttl=rt.lock_ttl) as held:
        if held is None:
            metrics.LOCK_CONTENTION.labels(lock="gittrack").inc()
            return busy()
        rt.locks.clear_pending(identity.dedup_key(key))  # events from now on queue a new run
        gittrack = _read(rt.kube, key)
        if gittrack is None or not _in_scope(rt, key):
            return DONE
        sync = Sync(rt, gittrack, renew=held.renew, now=datetime.datetime.now(datetime.UTC))
        sync.run()
    if sync.waiting:
        return again(Outcome.WAITING, attempt=attempt)
    if sync.transient is not None:
        return again(Outcome.RETRY, attempt=attempt, retry_after=sync.transient.retry_after)
    return DONE


def _read(kube: client.Kube, key: identity.ObjectKey) -> dict[str, Any] | None:
    path = discovery.own(key.kind).path(namespace=key.namespace, name=key.name)
    try:
        found: dict[str, Any] = kube.request("GET", path)
    except kube_errors.NotFound:
        logger.info("gittrack is gone", extra={"gittrack": key.namespaced_name})
        metrics.forget_gittrack(name=key.name, namespace=key.namespace)
        return None
    return found


def _in_scope(rt: runtime.Runtime, key: identity.ObjectKey) -> bool:
    settings = rt.settings
    if key.kind == names.GITTRACK:
        enabled = settings.gittrack_mode is names.GitTrackMode.ENABLED
        return enabled and (not settings.namespace or settings.namespace == key.namespace)
    return settings.clustergittrack_mode is not names.ClusterGitTrackMode.DISABLED


class Sync:
    """One run of the sync of one GitTrack: read, plan with core, write, report.

    After :meth:`run`, ``transient`` holds the first failure worth a retry (a Git timeout,
    an API server error while writing a GitTrackObject or collecting garbage), already
    reported in the status, and ``waiting`` says a kind was not served: the task runs again
    after the policy's backoff instead of waiting for its next period.
    """

    def __init__(
        self, rt: runtime.Runtime, gittrack: dict[str, Any], *, renew: Any, now: datetime.datetime
    ) -> None:
        self.rt = rt
        self.gittrack = gittrack
        self.renew = renew
        self.now = now
        meta = gittrack["metadata"]
        self.owner = rules.Owner(
            kind=str(gittrack["kind"]),
            namespace=str(meta.get("namespace", "")),
            name=str(meta["name"]),
            uid=str(meta["uid"]),
        )
        self.reporter = report.Reporter(
            rt.kube, gittrack, events_namespace=rt.events_namespace(), now=now,
            quiet=rt.settings.events is config.EventsMode.SUMMARY,
        )  # fmt: skip
        self.previous: dict[str, Any] = self.reporter.previous
        self.transient: errors.Verdict | None = None
        self.waiting = False
        self.children: list[readiness.Child] = []
        """Readiness of what this sync left behind (GitTrackObjects written are pending)."""
        self.waiting_for = ""
        """Why objects are held back this sync ("" when none are)."""
        self._guard = threading.Lock()
        self.requested = manual.pending(gittrack)
        """A sync requested by hand, not served yet ("" when none): recorded in status."""
        self.in_place = False
        """Whether this sync applies the GitTrackObjects it writes (``IN_PLACE_MAX``)."""
        self.applied: dict[identity.ObjectKey, readiness.Child] = {}
        """The readiness of each GitTrackObject applied in place, as its apply left it (not
        the object: 10,000 of those would hold a worker at more than 200 MiB)."""

    def _handled(self, status: dict[str, Any]) -> dict[str, Any]:
        """``status`` recording the request this sync serves (or the last one served)."""
        handled = self.requested or self.previous.get(manual.HANDLED)
        if handled:
            status[manual.HANDLED] = handled
        return status

    def run(self) -> None:
        """The whole sync; any Git error stops it before anything is written but status."""
        if self._suspended() or self._held_back() or self._unchanged():
            return
        try:
            rules = ignore.parse(self.gittrack["spec"].get("ignoreDifferences"))
        except ignore.RuleError as error:  # bad input: reported, nothing written until fixed
            self._finish(trackstatus.SyncReport(source_error=f"invalid {error}"))
            return
        try:
            snapshot, files = gitsource.fetch_files(
                self.rt.kube, self.rt.store, self.gittrack,
                max_bytes=self.rt.settings.max_file_size,
                allow_plain_http=self.rt.settings.allow_http_credentials,
            )  # fmt: skip
        except gitsource.SourceFailure as failure:
            self._failed(failure.__cause__ or failure)
            self._finish(trackstatus.SyncReport(source_error=str(failure)))
            return
        self.renew()
        if syncevents.announces_checkout(
            commit=snapshot.commit, previous=self.previous.get("revision"),
            summary=self.reporter.quiet,
        ):  # fmt: skip
            self._checkout_events()
        existing, owned = self._existing()
        objects = [obj for file in files for obj in file.objects]
        pushed = pushstamp.pending(self.gittrack)
        stamp = {
            names.COMMIT_TIME_ANNOTATION: transitions.timestamp(snapshot.committed_at),
            names.REPOSITORY_ANNOTATION: redact.url(str(self.gittrack["spec"]["repository"])),
            names.SYNCED_AT_ANNOTATION: delivery.synced_at(self.now),
            names.PUSHED_AT_ANNOTATION: pushed,  # "" clears an older push's on rewritten GTOs
        }
        kinds = self._kinds(objects)
        pending_namespaces, pending_kinds = self._prerequisites(objects, kinds)
        plan = syncplan.plan(
            objects=objects, kinds=kinds, existing=existing, owner=self.owner,
            policy=self._policy(), stamp=stamp,
            origins=[file.path for file in files for _ in file.objects],
            pending_namespaces=pending_namespaces, pending_kinds=pending_kinds,
            ignore_rules=rules,
        )  # fmt: skip
        self.waiting = bool(plan.unresolved or plan.waits)
        for message in syncevents.new_mismatches(plan.mismatches, previous=self.previous):
            self.reporter.event(Reason.CONTROLLER_MISMATCH, message)
        results = self._write_all(plan.steps) + list(plan.ignored)
        self.renew()
        gc = synccalc.plan_gc(
            existing=owned, files=files, results=results, unresolved=plan.unresolved,
            held={key: syncplan.held_child(existing[key]) for key in owned},
        )  # fmt: skip
        gc = self._gate(gc, {key: existing[key] for key in owned}, commit=snapshot.commit)
        gc_errors = self._collect(gc, existing, commit=snapshot.commit)
        self.children = [self._readiness(step, existing) for step in plan.steps]
        waits = list(plan.waits)
        if plan.unresolved:
            served = ", ".join(sorted(f"{kind}.{group}" for group, kind in plan.unresolved))
            waits.append(f"waiting for the API server to serve {served}")
        self.waiting_for = "; ".join(waits)
        self._finish(
            trackstatus.SyncReport(
                files=tuple(files), results=tuple(results), gc=gc, gc_errors=tuple(gc_errors),
                revision=snapshot.commit,
            )
        )  # fmt: skip
        if pushed:
            self._consume_push(pushed)
        clean = not (self.waiting or self.transient or gc_errors or gc.blocked[0]) and not any(
            r.outcome is synccalc.Outcome.FAILED for r in results
        )
        if clean:
            self._note_inputs(snapshot.commit)
        if self.reporter.quiet:
            self._summarize(plan.steps, results, gc, commit=snapshot.commit)

    def _readiness(
        self, step: syncplan.Step, existing: dict[identity.ObjectKey, dict[str, Any]]
    ) -> readiness.Child:
        """How far one object got: as its GitTrackObject's status says when this sync left it
        unchanged or applied it, pending when it was written for an apply task."""
        if step.gto in self.applied:
            return self.applied[step.gto]
        if step.action is syncplan.Action.NOTHING and step.gto in existing:
            return readiness.child(existing[step.gto])
        return readiness.pending(step.body)

    def _summarize(
        self,
        steps: Sequence[syncplan.Step],
        results: Sequence[synccalc.ObjectResult],
        gc: synccalc.GcPlan,
        *,
        commit: str,
    ) -> None:
        """``--events=summary``: one Event saying what this sync changed (none if nothing)."""
        written = {r.gto for r in results if r.outcome is synccalc.Outcome.APPLIED}
        created = sum(1 for s in steps if s.action is syncplan.Action.CREATE and s.gto in written)
        updated = sum(1 for s in steps if s.action is syncplan.Action.UPDATE and s.gto in written)
        deleted = len(gc.delete) + len(gc.release)
        if created or updated or deleted:
            self.reporter.event(conditions.SYNCED, f"Synced {commit[:12]}: {created} created, "
                                f"{updated} updated, {deleted} deleted")  # fmt: skip

    def _inputs(self) -> str:
        settings = self.rt.settings
        shaping = (settings.namespace, settings.ignore_resources, settings.gittrack_mode,
                   settings.clustergittrack_mode, settings.max_file_size)  # fmt: skip
        return syncplan.inputs(
            generation=int(self.gittrack["metadata"].get("generation") or 0),
            settings=shaping, version=faros.__version__,
        )  # fmt: skip

    def _unchanged(self) -> bool:
        """True when nothing a sync depends on moved since the last clean one (same commit on
        the remote, same generation and settings): then no fetch, parse, list or write at all.
        The commit is read with ``git ls-remote``; the watchers' re-check keeps checking the
        children meanwhile."""
        key = identity.synced_key(self._key())
        try:
            (noted,) = self.rt.locks.noted([key])
        except errors.Unreachable:
            return False
        inputs = self._inputs()
        if self.requested or not noted or not noted.startswith(f"{inputs}@"):
            return False
        commit = gitsource.remote_commit(
            self.rt.kube, self.rt.store, self.gittrack,
            allow_plain_http=self.rt.settings.allow_http_credentials,
        )  # fmt: skip
        if commit is None or noted != f"{inputs}@{commit}":
            return False
        logger.debug("sync skipped: nothing changed", extra={"gittrack": self.reporter.label})
        return True

    def _note_inputs(self, commit: str) -> None:
        """Remember the inputs of this clean sync (see ``_unchanged``); best effort."""
        try:
            self.rt.locks.note(identity.synced_key(self._key()), f"{self._inputs()}@{commit}",
                               ttl=UNCHANGED_TTL)  # fmt: skip
        except errors.Unreachable:
            return

    def _key(self) -> identity.ObjectKey:
        return identity.gittrack_key(namespace=self.owner.namespace, name=self.owner.name)

    def _consume_push(self, pushed: str) -> None:
        """Remove the push time this sync carried to the GitTrackObjects, unless a newer push
        replaced it meanwhile (the JSON patch tests it): a later sync without a push must not
        measure from it. Best effort."""
        path = discovery.own(self.owner.kind).path(
            namespace=self.owner.namespace, name=self.owner.name
        )
        try:
            self.rt.kube.request("PATCH", path, body=pushstamp.consume_patch(pushed),
                                 content_type=client.JSON_PATCH)  # fmt: skip
        except kube_errors.ApiError as error:
            logger.info("push time kept", extra={"gittrack": self.reporter.label,
                                                 "error": str(error)})  # fmt: skip

    def _suspended(self) -> bool:
        """``spec.suspend``: fetch, apply and delete nothing; say so once (condition, Event)."""
        if not suspension.is_suspended(self.gittrack):
            return False
        counters = dict.fromkeys(trackstatus.COUNTERS, 0)  # required by the schema
        status: dict[str, Any] = {**counters, **self.previous}
        status["conditions"] = suspension.with_suspension(
            list(status.get("conditions") or []), suspended=True, now=self.now
        )
        status["observedGeneration"] = int(self.gittrack["metadata"].get("generation") or 0)
        status = self._handled(status)
        if trackstatus.status_changed(self.previous or None, status):
            self.reporter.save(status)
            if not suspension.was_suspended(self.previous):
                self.reporter.event(conditions.ControlEvent.SUSPENDED,
                                    "Suspended: no syncs, applies or drift reverts until "
                                    "spec.suspend is false")  # fmt: skip
        return True

    def _resumed(self, status: dict[str, Any]) -> dict[str, Any]:
        """``status`` with Suspended=False when it said True (announced once)."""
        status["conditions"] = suspension.with_suspension(
            list(status.get("conditions") or []), suspended=False, now=self.now
        )
        if suspension.was_suspended(self.previous) and not suspension.was_suspended(status):
            self.reporter.event(conditions.ControlEvent.RESUMED, "Resumed: syncing again")
        return status

    def _held_back(self) -> bool:
        """Apply nothing while a dependency (``spec.dependsOn``) is not Ready; report a cycle.

        Reads each dependency, and theirs, once (at most ``dependencies.MAX_DEPTH``).
        """
        direct = dependencies.refs(self.gittrack)
        if not direct:
            return False
        me = identity.gittrack_key(namespace=self.owner.namespace, name=self.owner.name)
        bodies: dict[identity.ObjectKey, dict[str, Any] | None] = {}
        edges: dict[identity.ObjectKey, list[identity.ObjectKey]] = {me: direct}
        todo = list(direct)
        while todo and len(bodies) < dependencies.MAX_DEPTH:
            key = todo.pop()
            if key in bodies or key == me:
                continue
            path = discovery.own(key.kind).path(namespace=key.namespace, name=key.name)
            try:
                bodies[key] = self.rt.kube.request("GET", path)
            except kube_errors.NotFound:
                bodies[key] = None
            edges[key] = dependencies.refs(bodies[key] or {})
            todo.extend(edges[key])
        loop = dependencies.cycle(me, edges)
        if loop:
            state = dependencies.cycle_readiness(loop)
        else:
            why = dependencies.waiting({key: bodies.get(key) for key in direct})
            if not why:
                return False
            state = dependencies.waiting_readiness(why)
            self.waiting = True
        counters = dict.fromkeys(trackstatus.COUNTERS, 0)  # required by the schema
        status = readiness.with_readiness({**counters, **self.previous}, state, now=self.now)
        status["observedGeneration"] = int(self.gittrack["metadata"].get("generation") or 0)
        status = self._handled(self._resumed(status))
        if trackstatus.status_changed(self.previous or None, status):
            self.reporter.save(status)
        return True

    def _failed(self, error: BaseException) -> None:
        """Remember the first failure the policy calls transient: the sync is retried."""
        verdict = errors.verdict(error)
        with self._guard:  # writes run in parallel
            if not verdict.terminal and self.transient is None:
                self.transient = verdict

    def _policy(self) -> rules.Policy:
        settings = self.rt.settings
        return rules.Policy(
            namespace=settings.namespace,
            ignored_resources=frozenset(settings.ignore_resources),
            clustergittrack_mode=settings.clustergittrack_mode,
        )

    def _kinds(self, objects: list[dict[str, Any]]) -> dict[tuple[str, str], syncplan.Kind | None]:
        kinds: dict[tuple[str, str], syncplan.Kind | None] = {}
        for obj in objects:
            wanted = (str(obj["apiVersion"]), str(obj["kind"]))
            if wanted not in kinds:
                found = self.rt.discovery.resource(*wanted)
                kinds[wanted] = syncplan.Kind(found.plural, found.namespaced) if found else None
        return kinds

    def _prerequisites(
        self,
        objects: list[dict[str, Any]],
        kinds: dict[tuple[str, str], syncplan.Kind | None],
    ) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
        """Namespaces this sync defines that are not Active yet, and kinds its CRDs define
        that are not served yet (only a ClusterGitTrack can apply either)."""
        if self.owner.namespace:
            return frozenset(), frozenset()
        namespaces, defined = syncplan.prerequisites(objects)
        pending = frozenset(ns for ns in namespaces if not self._active(ns))
        unserved = frozenset(
            (api_version.rpartition("/")[0], kind)
            for (api_version, kind), found in kinds.items()
            if found is None and (api_version.rpartition("/")[0], kind) in defined
        )
        return pending, unserved

    def _active(self, namespace: str) -> bool:
        try:
            found = self.rt.kube.request("GET", f"/api/v1/namespaces/{namespace}")
        except kube_errors.NotFound:
            return False
        return bool((found.get("status") or {}).get("phase") == "Active")

    def _existing(
        self,
    ) -> tuple[dict[identity.ObjectKey, dict[str, Any]], list[identity.ObjectKey]]:
        """This GitTrack's GitTrackObjects by key, and the keys of those it controls.

        Read by the owner label, page by page, in the GitTrack's namespace (cluster-wide for a
        ClusterGitTrack): a sync reads what it owns, not every GitTrackObject in the cluster.
        Once, when GitTrackObjects written before the label may exist, the whole scope.
        """
        namespace = self.owner.namespace or self.rt.settings.namespace
        kinds: tuple[str, ...] = (names.GITTRACKOBJECT,)
        if not self.owner.namespace:
            kinds += (names.CLUSTERGITTRACKOBJECT,)
        selector = f"{names.OWNER_LABEL}={self.owner.uid}"
        found = self._listed(kinds, namespace=namespace, label_selector=selector)
        if not syncplan.is_inventory_complete(self.previous, labelled=len(found)):
            found = self._listed(kinds, namespace=namespace, label_selector="")
        owned = [
            key
            for key, body in found.items()
            if rules.is_controlled_by(
                body["metadata"].get("ownerReferences", []), uid=self.owner.uid
            )
        ]
        return found, owned

    def _listed(
        self, kinds: Sequence[str], *, namespace: str, label_selector: str
    ) -> dict[identity.ObjectKey, dict[str, Any]]:
        existing: dict[identity.ObjectKey, dict[str, Any]] = {}
        for kind in kinds:
            for item in reads.list_own(
                self.rt.kube, kind, namespace=namespace, label_selector=label_selector
            ):
                meta = item["metadata"]
                key = identity.gto_key(namespace=meta.get("namespace", ""), name=meta["name"])
                existing[key] = item
        return existing

    def _write_all(self, steps: Sequence[syncplan.Step]) -> list[synccalc.ObjectResult]:
        """Write the GitTrackObjects that need it, ``WRITERS`` at a time; results in order."""
        pending = [step for step in steps if step.action is not syncplan.Action.NOTHING]
        applies_here = "apply" in self.rt.settings.queues  # else the apply workers' work
        self.in_place = applies_here and len(pending) <= IN_PLACE_MAX
        with concurrent.futures.ThreadPoolExecutor(
            max_workers=max(1, min(WRITERS, len(pending))), thread_name_prefix="faros-write"
        ) as pool:
            written = dict(zip(map(id, pending), pool.map(self._write, pending), strict=True))
        return [written[id(step)] if id(step) in written else self._write(step) for step in steps]

    def _write(self, step: syncplan.Step) -> synccalc.ObjectResult:
        """Create or update one GitTrackObject; the result counts it (spec 2.6 steps 5-9)."""
        resource = discovery.own(step.gto.kind)
        name = step.gto.name
        written: dict[str, Any] | None = None
        in_place = self._mark(step)
        try:
            if step.action is syncplan.Action.CREATE:
                self.reporter.event(Reason.CREATE_STARTED, f"Creating child '{name}'")
                try:
                    written = self.rt.kube.request(
                        "POST", resource.path(namespace=step.gto.namespace), body=step.body
                    )
                except kube_errors.AlreadyExists:
                    return self._taken(step)  # not ours to see by label: whose is it?
                self.reporter.event(Reason.CREATE_SUCCESSFUL, f"Created child '{name}'")
            elif step.action is syncplan.Action.UPDATE:
                written = self.rt.kube.request(
                    "PATCH",
                    resource.path(namespace=step.gto.namespace, name=name),
                    body=syncplan.update_patch(step.body, finalizers=step.finalizers),
                    content_type=client.MERGE_PATCH,
                )
                self.reporter.event(Reason.UPDATE_SUCCESSFUL, f"Updated child '{name}'")
        except kube_errors.ApiError as error:
            self._failed(error)
            creating = step.action is syncplan.Action.CREATE
            reason = Reason.CREATE_FAILED if creating else Reason.UPDATE_FAILED
            verb = "create" if creating else "update"
            self.reporter.event(reason, f"Failed to {verb} child '{name}'")
            message = syncevents.write_failure(
                gto=step.gto, creating=creating, error=str(error),
                namespace_missing=isinstance(error, kube_errors.NotFound),
            )  # fmt: skip
            return synccalc.ObjectResult(step.gto, synccalc.Outcome.FAILED, message)
        if in_place and written is not None and recheck.status_need(written) is not None:
            applied = apply.in_place(self.rt, written, owner=self.gittrack)
            with self._guard:
                self.applied[step.gto] = readiness.child(applied.gto)
        in_sync = step.action is syncplan.Action.NOTHING and step.in_sync
        outcome = synccalc.Outcome.IN_SYNC if in_sync else synccalc.Outcome.APPLIED
        return synccalc.ObjectResult(step.gto, outcome)

    def _mark(self, step: syncplan.Step) -> bool:
        """Before writing ``step`` in place, tell the watchers its apply follows in this task
        (``recheck.IN_PLACE``); True when marked, so the apply is done here."""
        if not self.in_place or step.action is syncplan.Action.NOTHING:
            return False
        try:
            self.rt.locks.note(identity.in_place_key(step.gto), recheck.IN_PLACE,
                               ttl=apply.IN_PLACE_TTL)  # fmt: skip
        except errors.Unreachable:
            return False  # the watchers queue its apply task, as for a bigger sync
        return True

    def _taken(self, step: syncplan.Step) -> synccalc.ObjectResult:
        """The GitTrackObject to create exists: update it when this GitTrack controls it
        (written before the owner label), else leave it to its owner (first owner wins)."""
        path = discovery.own(step.gto.kind).path(namespace=step.gto.namespace, name=step.gto.name)
        current: dict[str, Any] = self.rt.kube.request("GET", path)
        check = rules.check_owner(
            owner_references=current["metadata"].get("ownerReferences", []), owner=self.owner
        )
        if not check.decision.allowed:
            mismatch = [(step.gto.namespaced_name, check.event_message(gto_name=step.gto.name))]
            for message in syncevents.new_mismatches(mismatch, previous=self.previous):
                self.reporter.event(Reason.CONTROLLER_MISMATCH, message)
            return synccalc.ObjectResult(step.gto, synccalc.Outcome.IGNORED, check.decision.reason)
        action = syncplan.write_needed(current, step.body)
        return self._write(dataclasses.replace(step, action=action, in_sync=False))

    def _gate(
        self, gc: synccalc.GcPlan, owned: dict[identity.ObjectKey, dict[str, Any]], *, commit: str
    ) -> synccalc.GcPlan:
        """Prune protection and the deletion budget (``faros.core.prune``); a budget stop is
        announced once per commit (when the condition's message changes)."""
        try:
            budget = prune.budget_of(self.gittrack, default=self._default_budget())
        except prune.BudgetError as error:  # bad input: nothing deleted until it is fixed
            return synccalc.GcPlan(waiting=gc.waiting, blocked=(prune.BUDGET_INVALID, str(error)))
        gated = prune.gate(gc, bodies=owned, budget=budget, commit=commit,
                           approval=prune.approved(self.gittrack, commit=commit))  # fmt: skip
        reason, message = gated.blocked
        if reason and not self._stopped_before(commit):
            self.reporter.event(conditions.ControlEvent.DELETION_BUDGET_EXCEEDED, message)
        return gated

    def _default_budget(self) -> prune.Budget | None:
        return prune.parse_budget(self.rt.settings.max_deletions, source="--max-deletions")

    def _stopped_before(self, commit: str) -> bool:
        """True when the previous status already said the budget stopped ``commit``."""
        gc = conditions.GitTrackConditionType.CHILDREN_GARBAGE_COLLECTED
        found = transitions.find(self.previous.get("conditions") or [], gc)
        return (found is not None and found.get("reason") == prune.BUDGET_EXCEEDED
                and commit in str(found.get("message", "")))  # fmt: skip

    def _collect(
        self,
        gc: synccalc.GcPlan,
        existing: dict[identity.ObjectKey, dict[str, Any]],
        *,
        commit: str,
    ) -> list[str]:
        """Delete what the GitTrack no longer names (announcing each), release the children of
        the prune-protected ones, and release what it now ignores."""
        failures: list[str] = []
        kept: set[identity.ObjectKey] = set()
        for key in gc.protect:
            try:
                user = tenancy.identity(
                    self.gittrack, namespace=key.namespace,
                    default_account=self.rt.settings.default_service_account,
                )  # fmt: skip
                tenant = self.rt.kube.impersonating(user) if user else None
                release.release(self.rt, existing[key], self.reporter,
                                why=f"it is no longer in commit {commit}", kube=tenant)  # fmt: skip
            except (kube_errors.ApiError, errors.FarosError) as error:
                kept.add(key)  # its child still holds the owner reference: not deleted now
                self._failed(error)
                failures.append(synccalc.gc_failure(gto=key, error=str(error)))
        doomed = [(key, "Background") for key in gc.delete]
        doomed += [(key, "Orphan") for key in (*gc.release, *gc.protect) if key not in kept]
        for key, propagation in doomed:
            path = discovery.own(key.kind).path(namespace=key.namespace, name=key.name)
            try:
                self.rt.kube.request("DELETE", path, body={"propagationPolicy": propagation})
                logger.info("child deleted", extra={"gto": key.namespaced_name})
                if propagation == "Background":
                    what = prune.label(syncplan.held_child(existing[key]),
                                       fallback=key.namespaced_name)  # fmt: skip
                    release.announce_deletion(self.reporter, what=what, gto=key.name,
                                              commit=commit)  # fmt: skip
            except kube_errors.NotFound:
                continue
            except kube_errors.ApiError as error:
                self._failed(error)
                failures.append(synccalc.gc_failure(gto=key, error=str(error)))
        if failures:
            self.reporter.event(Reason.CLEANUP_FAILED, "Failed to clean-up leftover resources")
        return failures

    def _finish(self, report: trackstatus.SyncReport) -> None:
        status: dict[str, Any] = dict(
            trackstatus.for_gittrack(previous=self.previous or None, report=report, now=self.now)  # type: ignore[arg-type]
        )
        generation = int(self.gittrack["metadata"].get("generation") or 0)
        status["observedGeneration"] = generation
        if report.source_error is None:
            state = readiness.assess(status=status, generation=generation,
                                     children=self.children, waiting=self.waiting_for)  # fmt: skip
        else:
            state = readiness.assess(status=status, generation=generation, children=None)
        status = self._handled(self._resumed(readiness.with_readiness(status, state, now=self.now)))
        if report.source_error is not None:
            self._source_failed(report.source_error)
        if trackstatus.status_changed(self.previous or None, status):
            self.reporter.save(status)

    def _source_failed(self, message: str) -> None:
        """Post CheckoutFailed when the Git error is new (not on every retry of the same one)."""
        spec = self.gittrack.get("spec", {})
        text = syncevents.checkout_failure(message=message, previous=self.previous, spec=spec)
        if text is not None:
            self.reporter.event(Reason.CHECKOUT_FAILED, text)

    def _checkout_events(self) -> None:
        spec = self.gittrack.get("spec", {})
        self.reporter.event(Reason.CHECKOUT_STARTED, syncevents.checkout_text("Checking out", spec))
        self.reporter.event(
            Reason.CHECKOUT_SUCCESSFUL, syncevents.checkout_text("Successfully checked out", spec)
        )
