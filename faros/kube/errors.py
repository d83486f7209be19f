"""API errors as our own exceptions, classified by the Kubernetes ``Status`` the server sent.

Library exceptions never escape ``faros.kube``: callers catch these. They are
``faros.core.errors.RequestFailure``s, so whether one is worth a retry is decided where every
failure is decided (``faros.core.errors.verdict``), from the HTTP status; the classes below
only let callers branch on what happened (a missing object, a stale write).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from faros.core import errors as policy


class ApiError(policy.RequestFailure):
    """An API request failed; ``str()`` is the server's message, safe to show a user."""

    def __init__(
        self,
        *,
        status: int,
        reason: str,
        message: str,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            status=status, reason=reason, message=message, body=body, retry_after=retry_after
        )
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


class NotFound(ApiError):
    """404: the object, or its kind, does not exist."""


class Conflict(ApiError):
    """409: a stale resourceVersion, or the object already exists."""


class AlreadyExists(Conflict):
    """409 with reason AlreadyExists."""


class Gone(ApiError):
    """410: a watch or list asked for a resourceVersion that is too old."""


class Invalid(ApiError):
    """422 (or 400): the object or patch is rejected by validation or admission."""


class Forbidden(ApiError):
    """403: the identity may not do this."""


class Unavailable(ApiError):
    """No answer (status 0: network failure, timeout), 429 or 5xx."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: Invalid,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
}


def broken(error: BaseException) -> Unavailable:
    """The error for a request that got no (complete) answer: a transport failure."""
    return Unavailable(status=0, reason="", message=str(error) or type(error).__name__)


def from_response(status: int, data: bytes, headers: Mapping[str, str] | None = None) -> ApiError:
    """Build the error for an HTTP status, its (usually ``Status``) body and its headers."""
    try:
        body = json.loads(data) if data else None
    except ValueError:
        body = None
    reason = str(body.get("reason", "")) if isinstance(body, dict) else ""
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    if not message:
        message = data.decode("utf-8", "replace")[:500] or f"HTTP {status}"
    kind: type[ApiError]
    if status == 409 and reason == "AlreadyExists":
        kind = AlreadyExists
    elif status == 429 or status >= 500:
        kind = Unavailable
    else:
        kind = _BY_STATUS.get(status, ApiError)
    return kind(
        status=status, reason=reason, message=message, body=body,
        retry_after=_retry_after(headers or {}, body),
    )  # fmt: skip


def _retry_after(headers: Mapping[str, str], body: Any) -> float | None:
    """Seconds from a ``Retry-After`` header, or the Status's ``details.retryAfterSeconds``."""
    raw: Any = None
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value
    if raw is None and isinstance(body, dict):
        raw = (body.get("details") or {}).get("retryAfterSeconds")
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None
