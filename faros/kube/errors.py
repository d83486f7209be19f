"""API errors as our own exceptions, classified by the Kubernetes ``Status`` the server sent.

Library exceptions never escape ``faros.kube``: callers catch these.
"""

from __future__ import annotations

import json
from typing import Any


class ApiError(Exception):
    """An API request failed; ``str()`` is the server's message, safe to show a user."""

    def __init__(self, *, status: int, reason: str, message: str, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.body = body


class NotFound(ApiError):
    """404: the object, or its kind, does not exist."""


class Conflict(ApiError):
    """409: a stale resourceVersion, or the object already exists."""


class AlreadyExists(Conflict):
    """409 with reason AlreadyExists."""


class Gone(ApiError):
    """410: a watch or list asked for a resourceVersion that is too old."""


class Invalid(ApiError):
    """422 (or 400): the object or patch is rejected by validation; terminal for this input."""


class Forbidden(ApiError):
    """403: the service account may not do this."""


class Unavailable(ApiError):
    """Network failure, 429 or 5xx: transient, retry with backoff."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: Invalid,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
}


def from_response(status: int, data: bytes) -> ApiError:
    """Build the error for an HTTP status and its (usually ``Status``) body."""
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
    return kind(status=status, reason=reason, message=message, body=body)
