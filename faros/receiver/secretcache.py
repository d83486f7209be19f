"""Webhook secrets read from Kubernetes Secrets, each Secret cached for ``TTL`` seconds.

Re-read rather than watched: the receiver needs only ``get`` on the few Secrets GitTracks
name (a watch would need ``list`` and ``watch`` on every Secret it may read), and a rotated
secret is used within ``TTL`` seconds. When a re-read fails for another reason than the
Secret being gone or forbidden, the last value read is kept and the read is tried again
after ``RETRY`` seconds, so an API server restart does not refuse deliveries.
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
import time
from collections.abc import Callable, Mapping

from faros.core.webhooks import matching, payloads
from faros.kube import client, errors

logger = logging.getLogger(__name__)

TTL = 10.0
RETRY = 2.0
READ_TIMEOUT = 5.0

Data = dict[str, str] | None
"""A Secret's data, decoded; None when it is missing or not readable."""
Reader = Callable[[str, str], Data]
"""Reads one Secret (namespace, name); raises ``errors.ApiError`` when the API server fails."""


class Secrets:
    """The shared secret of each provider (``--webhook-secret``) and GitTracks' own secrets."""

    def __init__(
        self, read: Reader, *, shared: str, ttl: float = TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.read = read
        namespace, _, name = shared.partition("/")
        self.shared_ref = (namespace, name) if name else None
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[tuple[str, str], tuple[float, Data]] = {}
        self._lock = threading.Lock()

    def shared(self, provider: payloads.Provider) -> str:
        """The provider's shared secret: its key in the ``--webhook-secret`` Secret, or ""."""
        if self.shared_ref is None:
            return ""
        return (self._data(*self.shared_ref) or {}).get(provider.value, "")

    def get(self, ref: matching.SecretRef) -> str:
        """The value of one Secret key ("" when the Secret or the key is missing)."""
        return (self._data(ref.namespace, ref.name) or {}).get(ref.key, "")

    def _data(self, namespace: str, name: str) -> Data:
        now = self.clock()
        with self._lock:
            cached = self._cache.get((namespace, name))
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            data = self.read(namespace, name)
        except errors.ApiError as error:
            logger.warning(
                "cannot read webhook secret, keeping the last value read",
                extra={"secret": f"{namespace}/{name}", "error": str(error)},
            )
            data = cached[1] if cached is not None else None
            now = now - self.ttl + RETRY  # try again soon
        with self._lock:
            self._cache[(namespace, name)] = (now, data)
        return data


def reader(kube: client.Kube) -> Reader:
    """Read Secrets through the API server: None for one that is gone or forbidden."""

    def read(namespace: str, name: str) -> Data:
        path = f"/api/v1/namespaces/{namespace}/secrets/{name}"
        try:
            secret = kube.request("GET", path, timeout=READ_TIMEOUT)
        except (errors.NotFound, errors.Forbidden) as error:
            fields = {"secret": f"{namespace}/{name}", "status": error.status}
            logger.warning("webhook secret not readable", extra=fields)
            return None
        return decode(secret.get("data") or {})

    return read


def decode(data: Mapping[str, object]) -> dict[str, str]:
    """A Secret's ``data`` as text, without the line end a Secret made from a file often has."""
    decoded = {}
    for key, value in data.items():
        try:
            raw = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded[key] = raw.decode("utf-8", "replace").rstrip("\r\n")
    return decoded
