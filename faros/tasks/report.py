"""Tell users what a reconcile did: log line, status condition and Event from one call.

A :class:`Reporter` belongs to one run of a task on one object (a GitTrack or a
GitTrackObject, cluster-scoped or not). Conditions are collected in memory and the status
is written once, at the end, only when it changed (house style rules 4 and 6); an Event is
posted only when the condition it goes with changed, so a problem is reported once, not on
every retry or re-check. Status goes through the ``status`` subresource; a spec edit that
raced us (409) is answered by writing the same status over the fresh object.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from faros.api import conditions, types
from faros.core import redact, transitions
from faros.kube import client, discovery, errors, events

logger = logging.getLogger(__name__)


QUIET = frozenset({
    conditions.EventReason.CREATE_STARTED,
    conditions.EventReason.CREATE_SUCCESSFUL,
    conditions.EventReason.UPDATE_SUCCESSFUL,
})  # fmt: skip
"""The per-object success Events that ``--events=summary`` does not post."""


class Reporter:
    """The one way a task reports about ``involved`` (a raw GitTrack or GitTrackObject)."""

    def __init__(
        self,
        kube: client.Kube,
        involved: dict[str, Any],
        *,
        events_namespace: str,
        now: datetime.datetime,
        quiet: bool = False,
    ) -> None:
        self.kube = kube
        self.quiet = quiet
        """``--events=summary``: the per-object success Events are logged, not posted."""
        self.involved = involved
        self.now = now
        meta = involved["metadata"]
        self.namespace = str(meta.get("namespace", ""))
        self.name = str(meta["name"])
        self.events_namespace = self.namespace or events_namespace
        self.previous: dict[str, Any] = dict(involved.get("status") or {})
        self.conditions: list[types.Condition] = list(self.previous.get("conditions", []))
        self.written: dict[str, Any] | None = None
        """The status :meth:`save` wrote last (None: none written)."""

    @property
    def label(self) -> str:
        """``namespace/name``, or ``name`` when cluster-scoped, for log lines."""
        return f"{self.namespace}/{self.name}" if self.namespace else self.name

    def event(
        self, reason: conditions.EventReason | str, message: str, *, always: bool = False
    ) -> None:
        """Log ``message`` and post it as an Event of its reason's type (aggregated).

        A per-object success Event is only logged when ``quiet``, unless ``always``.
        """
        kind = conditions.EventType.NORMAL  # ``Synced`` and other own reasons: Normal
        if isinstance(reason, conditions.EventReason):
            kind = conditions.EVENT_TYPES[reason]
        elif isinstance(reason, conditions.ControlEvent):
            kind = conditions.CONTROL_EVENT_TYPES[reason]
        message = redact.message(message)
        level = logging.WARNING if kind is conditions.EventType.WARNING else logging.INFO
        if self.quiet and not always and reason in QUIET:
            logger.debug(message, extra={"object": self.label, "reason": str(reason)})
            return
        logger.log(level, message, extra={"object": self.label, "reason": str(reason)})
        events.post(
            self.kube, involved=self.involved, namespace=self.events_namespace, kind=kind,
            reason=reason, message=message, now=self.now,
        )  # fmt: skip

    def condition(
        self,
        condition_type: str,
        *,
        status: conditions.ConditionStatus,
        reason: str,
        message: str,
        event: tuple[conditions.EventReason | conditions.ControlEvent, str] | None = None,
    ) -> bool:
        """Set one condition (written by :meth:`save`); True when it says something new.

        Only then is ``event`` (reason, message) posted, and the change logged.
        """
        message = redact.message(message)
        new = transitions.set_condition(
            self.conditions, condition_type=condition_type, status=status, reason=reason,
            message=message, now=self.now,
        )  # fmt: skip
        changed = transitions.without_update_times(new) != transitions.without_update_times(
            self.conditions
        )
        self.conditions = new
        if changed and event is not None:
            self.event(*event)
        elif changed and message:
            logger.warning(message, extra={"object": self.label, "reason": reason})
        return changed

    def save(self, status: dict[str, Any]) -> None:
        """Write ``status`` through the status subresource (the caller knows it changed).

        The object may be gone meanwhile: then there is nothing to report on.
        """
        resource = discovery.own(str(self.involved["kind"]))
        path = resource.path(namespace=self.namespace, name=self.name, subresource="status")
        try:
            try:
                self.kube.request("PUT", path, body={**self.involved, "status": status})
            except errors.Conflict:
                fresh = self.kube.request("GET", path)  # a spec edit raced us: status still holds
                self.kube.request("PUT", path, body={**fresh, "status": status})
        except errors.NotFound:
            logger.info("object gone before its status was written", extra={"object": self.label})
            return
        self.written = status
