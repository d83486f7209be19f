"""Start the webhook receiver inside a process: ``faros receiver``, or ``faros run`` when
given ``--webhook-bind-address``.

It matches pushes against the GitTracks a watch of the process already holds (``cached``):
``faros receiver`` its own (``trackwatch``), ``faros run`` the watchers' own caches, so no
second watch and no LIST per delivery.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from faros import config
from faros.api import names
from faros.core import identity
from faros.core.webhooks import matching, pushstamp
from faros.kube import client, discovery, errors
from faros.receiver import endpoint, intake, secretcache

logger = logging.getLogger(__name__)


def start(
    settings: config.Settings, *, kube: client.Kube, dispatcher: intake.Dispatcher,
    cached: intake.Tracks, ready: Callable[[], bool], stop: threading.Event,
) -> endpoint.Server | None:  # fmt: skip
    """Serve ``/hook/<provider>`` and ``/healthz`` on ``--webhook-bind-address`` until ``stop``
    is set; None (nothing served) when the address is ``0``."""
    if settings.webhook_bind_address == "0":
        return None
    deliveries = intake.Intake(
        tracks=cached,
        secrets=secretcache.Secrets(secretcache.reader(kube), shared=settings.webhook_secret),
        dispatcher=dispatcher,
        stamp=lambda key, stamp: _stamp(kube, key, stamp),
        scope=matching.Scope(
            gittracks=settings.gittrack_mode is not names.GitTrackMode.DISABLED,
            cluster_mode=settings.clustergittrack_mode,
            namespace=settings.namespace,
        ),
        replay_window=settings.webhook_replay_window.total_seconds(),
        rate=settings.webhook_rate_limit,
    )
    server = endpoint.serve(
        settings.webhook_bind_address, deliveries=deliveries,
        max_body=settings.webhook_max_body_size, healthy=ready,
    )  # fmt: skip

    def stop_serving() -> None:
        stop.wait()
        server.shutdown()
        server.server_close()

    threading.Thread(target=stop_serving, name="faros-webhooks-stop", daemon=True).start()
    where = {"address": settings.webhook_bind_address, "port": server.port}
    logger.info("webhook receiver listening", extra=where)
    return server


def _stamp(kube: client.Kube, key: identity.ObjectKey, stamp: str) -> None:
    """Write the push time on a GitTrack (a metadata-only merge patch: its generation, and so
    the watchers, do not move); a failure only costs the latency sample, never the sync."""
    path = discovery.own(key.kind).path(namespace=key.namespace, name=key.name)
    try:
        kube.request(
            "PATCH", path, body=pushstamp.merge_patch(stamp), content_type=client.MERGE_PATCH,
            timeout=secretcache.READ_TIMEOUT,
        )  # fmt: skip
    except errors.ApiError as error:
        fields = {"gittrack": key.namespaced_name, "error": str(error)}
        logger.warning("cannot stamp the push time on a GitTrack", extra=fields)
