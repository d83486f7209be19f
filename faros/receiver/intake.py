"""One delivery, from its bytes to queued syncs: verify, match, de-duplicate, stamp, queue.

The order keeps unauthenticated senders from learning anything: a delivery is verified
against the provider's shared secret, else against the own secret (``spec.webhookSecretRef``)
of each GitTrack following a repository it names; one that verifies against neither is 401,
whatever it names. A verified delivery is answered with the same body whether it woke
GitTracks or none. A delivery id seen within the replay window is answered 200 and queues
nothing. Pings and other events are answered 200 and ignored.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from faros import metrics
from faros.api import names
from faros.core import errors, identity
from faros.core.webhooks import guards, matching, payloads, pushstamp, signatures

logger = logging.getLogger(__name__)

BURST_SECONDS = 5
"""A client's bucket holds this many seconds' worth of requests."""
_SAFE_ID = re.compile(r"[^A-Za-z0-9._:{}-]")


class Dispatcher(Protocol):
    """Queues a sync of a GitTrack, de-duplicated (``faros.tasks.dispatch``, or in-process)."""

    def sync(self, key: identity.ObjectKey) -> bool: ...


class SecretSource(Protocol):
    """Where the secrets are (``faros.receiver.secretcache.Secrets``)."""

    def shared(self, provider: payloads.Provider) -> str: ...

    def get(self, ref: matching.SecretRef) -> str: ...


Tracks = Callable[[str], Iterable[Mapping[str, Any]]]
"""Every object of one kind (GitTrack, ClusterGitTrack) as a watch last saw it."""
Stamp = Callable[[identity.ObjectKey, str], None]
"""Writes the ``faros.pusher.com/pushed-at`` annotation on a GitTrack."""


@dataclasses.dataclass(frozen=True, slots=True)
class Answer:
    """What the receiver answers: status, JSON body, and the ``result`` label of the metric."""

    status: int
    body: dict[str, Any]
    result: str
    retry_after: int = 0


ACCEPTED = {"accepted": True}
UNAUTHORIZED = Answer(401, {"error": "unauthorized"}, "unauthorized")
MALFORMED = Answer(400, {"error": "malformed payload"}, "malformed")
UNAVAILABLE = Answer(503, {"error": "cannot queue now, retry later"}, "unavailable")


class Intake:
    """Handles deliveries for one process; thread-safe."""

    def __init__(
        self, *, tracks: Tracks, secrets: SecretSource, dispatcher: Dispatcher, stamp: Stamp,
        scope: matching.Scope, replay_window: float, rate: float,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC),
    ) -> None:  # fmt: skip
        self.tracks = tracks
        self.secrets = secrets
        self.dispatcher = dispatcher
        self.stamp = stamp
        self.scope = scope
        self.clock = clock
        self.wall = wall
        self.replays = guards.ReplayWindow(window=replay_window)
        self.limiter = guards.RateLimiter(rate=rate, burst=rate * BURST_SECONDS)
        self._lock = threading.Lock()

    def admit(self, client: str) -> int:
        """0 when ``client`` (a peer address) may send a delivery now, else seconds to wait."""
        with self._lock:
            return self.limiter.take(client, now=self.clock())

    def handle(
        self, provider: payloads.Provider, *, headers: Mapping[str, str], body: bytes
    ) -> Answer:
        """Verify and act on one delivery (``headers`` by lower-case name)."""
        shared = signatures.verify(
            provider, headers=headers, body=body, secret=self.secrets.shared(provider)
        )
        try:
            event = payloads.parse(provider, headers=headers, body=body)
        except payloads.PayloadError as problem:
            reason = str(problem) if shared else "no secret verifies it"
            logger.info("webhook delivery refused", extra={"provider": str(provider),
                                                           "reason": reason})  # fmt: skip
            return MALFORMED if shared else UNAUTHORIZED
        fields = {"provider": str(provider), "delivery": _SAFE_ID.sub("?", event.delivery[:80])}
        accepted = self._verified(provider, event, headers=headers, body=body, shared=shared)
        if not shared and not accepted:
            logger.info(
                "webhook delivery refused", extra=fields | {"reason": "no secret verifies it"}
            )
            return UNAUTHORIZED
        replay = f"{provider}:{event.delivery}" if event.delivery else ""
        with self._lock:
            fresh = self.replays.claim(replay, now=self.clock())
        if not fresh:
            logger.info("webhook delivery replayed, ignored", extra=fields)
            return Answer(200, ACCEPTED, "replayed")
        if event.kind is not payloads.Kind.PUSH:
            logger.info("webhook event ignored", extra=fields | {"event": str(event.kind)})
            return Answer(200, ACCEPTED, "ping" if event.kind is payloads.Kind.PING else "ignored")
        woken = [c.key for c in accepted if matching.is_woken(c.reference, event.changes)]
        try:
            queued = self._queue(woken)
        except errors.Unreachable as error:
            with self._lock:
                self.replays.release(replay)  # let the provider's redelivery through
            logger.warning("webhook push not queued", extra=fields | {"error": str(error)})
            return UNAVAILABLE
        metrics.WEBHOOK_SYNCS_QUEUED.labels(provider=str(provider)).inc(queued)
        logger.info(
            "webhook push accepted",
            extra=fields | {"matched": len(woken), "queued": queued},
        )
        return Answer(200, ACCEPTED, "accepted")

    def _verified(
        self, provider: payloads.Provider, event: payloads.Event, *, headers: Mapping[str, str],
        body: bytes, shared: bool,
    ) -> list[matching.Candidate]:  # fmt: skip
        """The GitTracks following a repository ``event`` names that the delivery is accepted
        for: all of them with the shared secret, else those whose own secret it proves."""
        kinds = []
        if self.scope.gittracks:
            kinds.append(names.GITTRACK)
        if self.scope.cluster_mode is not names.ClusterGitTrackMode.DISABLED:
            kinds.append(names.CLUSTERGITTRACK)
        tracks = [track for kind in kinds for track in self.tracks(kind)]
        found = matching.candidates(tracks, repositories=event.repositories, scope=self.scope)
        if shared:
            return found
        proven: dict[str, bool] = {}
        accepted = []
        for candidate in found:
            secret = self.secrets.get(candidate.secret) if candidate.secret else ""
            if secret and secret not in proven:
                proven[secret] = signatures.verify(
                    provider, headers=headers, body=body, secret=secret
                )
            if secret and proven[secret]:
                accepted.append(candidate)
        return accepted

    def _queue(self, keys: list[identity.ObjectKey]) -> int:
        """Stamp each GitTrack with the push time, then queue its sync; how many were queued
        (a sync already pending is not queued twice, and takes the stamp as well)."""
        stamp = pushstamp.value(self.wall())
        queued = 0
        for key in keys:
            self.stamp(key, stamp)
            queued += bool(self.dispatcher.sync(key))
        return queued
