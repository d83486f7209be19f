"""The Faros error tree and the one error policy: what is bad input, what is worth a retry.

::

    FarosError
    ├── InputError          terminal: report (log + condition + Event), do not retry
    │   ├── Refused         (message)                a sub-path, deploy key, URL ... refused
    │   ├── ManifestError   (path, reason)
    │   ├── SourceError     (repository URL redacted, reference, reason)
    │   ├── ObjectError     (object key, reason)     e.g. invalid object, immutable field
    │   └── ConfigError     (flag or variable, value, reason)
    ├── TransientError      retry with capped, jittered backoff
    │   ├── LockLost        (key)
    │   ├── KindNotServed   (apiVersion, kind)       a CRD not established yet
    │   └── Unreachable     (what, reason)           e.g. Redis down
    └── RequestFailure      an API request failed: the status code decides (``verdict``)

Adapters raise these (the Kubernetes adapter's errors are ``RequestFailure``s with the
server's status), tasks and watchers never decide for themselves: they ask
:func:`verdict` whether a failure is terminal and :func:`backoff` how long to wait.
Anything that is not a ``FarosError`` (a socket error, a Redis connection error, a bug) is
transient: retrying cannot make it worse, and it is logged with its traceback.

Each error carries the thing at fault as attributes; ``str()`` is the sentence a user
reads in a condition or an Event, with credentials removed (``faros.core.redact``)
before they are stored, so neither ``repr()`` nor a pickled copy can leak them.
"Ignored" objects are not errors: they are ``faros.core.rules.Decision`` values.
Errors pickle (Celery moves them between processes) although their arguments are
keyword-only.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

from faros.core import identity, redact

MIN_BACKOFF = 1.0
"""Seconds before the first retry of a transient failure."""
MAX_BACKOFF = 60.0
"""Longest wait between two retries (the cap of the doubling)."""
MAX_RETRY_AFTER = 300.0
"""Longest ``Retry-After`` honoured: a server asking for more gets this."""

TERMINAL_STATUSES = frozenset({400, 403, 405, 406, 413, 415, 422})
"""HTTP statuses that mean the request itself is wrong: the same request fails again.

400 and 422 are invalid objects, unknown fields, immutable fields and admission webhook
denials; 403 a request the identity may not make (fixed by someone changing RBAC, which the
periodic re-check notices); 413 an object too large. Every other status (404 of a namespace
or kind that may come, 409, 410, 429, 5xx including a webhook that timed out, 0 for a
connection that broke) is transient.
"""


class FarosError(Exception):
    """Base of every error Faros raises on purpose."""

    def __init__(self, **fields: Any) -> None:
        super().__init__(*fields.values())
        self._fields = fields

    def __reduce__(self) -> tuple[Any, ...]:
        return (functools.partial(type(self), **self._fields), ())


class InputError(FarosError):
    """Bad input (a manifest, a GitTrack, a flag): report it, do not retry."""


class TransientError(FarosError):
    """Something outside Faros failed for now: retry with backoff."""

    retry_after: float | None = None
    """Seconds the failing party asked us to wait (``Retry-After``), when it said."""


class RequestFailure(FarosError):
    """An API request failed with an HTTP ``status`` (0: no response); see :func:`verdict`."""

    status: int = 0
    reason: str = ""
    retry_after: float | None = None


class Refused(InputError):
    """Input refused for the reason ``message`` says (e.g. a sub-path with ``..``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ManifestError(InputError):
    """A file in the repository cannot be turned into Kubernetes objects (spec section 2.5)."""

    def __init__(self, *, path: str, reason: str) -> None:
        super().__init__(path=path, reason=reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"unable to parse '{self.path}': {self.reason}"


class SourceError(InputError):
    """The repository, reference or sub-path of a GitTrack cannot give files (spec 2.9).

    ``reason`` is the FilesFetched message (e.g. ``failed to checkout 'x': unable to
    parse ref x: reference not found``); credentials are removed from it and from ``url``.
    """

    def __init__(self, *, url: str, reference: str, reason: str) -> None:
        self.url = redact.url(url)
        self.reference = reference
        self.reason = redact.message(reason)
        super().__init__(url=self.url, reference=reference, reason=self.reason)

    def __str__(self) -> str:
        return self.reason


class ObjectError(InputError):
    """One object from the repository cannot be managed, e.g. its kind is unknown."""

    def __init__(self, *, key: identity.ObjectKey, reason: str) -> None:
        self.key = key
        self.reason = redact.message(reason)
        super().__init__(key=key, reason=self.reason)

    def __str__(self) -> str:
        return self.reason


class ConfigError(InputError):
    """A flag or environment variable has a value Faros cannot use.

    ``flag`` names the flag or variable ("" when the problem is no single flag's), ``value``
    the value given (None when it does not matter, e.g. two flags contradict each other).
    """

    def __init__(self, *, flag: str, value: str | None, reason: str) -> None:
        self.flag = flag
        self.value = None if value is None else redact.message(value)
        self.reason = redact.message(reason)
        super().__init__(flag=flag, value=self.value, reason=self.reason)

    def __str__(self) -> str:
        text = f"{self.flag}: {self.reason}" if self.flag else self.reason
        return text.replace("\r", "\\r").replace("\n", "\\n")  # always one line


class LockLost(TransientError):
    """Another worker took the lock on ``key`` (a lock key string): stop, write nothing."""

    def __init__(self, *, key: str) -> None:
        super().__init__(key=key)
        self.key = key

    def __str__(self) -> str:
        return f"lost the lock {self.key}; another worker owns it now, nothing was written"


class KindNotServed(TransientError):
    """The API server does not serve ``kind`` in ``api_version`` (yet): wait and retry."""

    def __init__(self, *, api_version: str, kind: str) -> None:
        super().__init__(api_version=api_version, kind=kind)
        self.api_version = api_version
        self.kind = kind

    def __str__(self) -> str:
        return f"the API server does not serve kind {self.kind} in {self.api_version} yet"


class Unreachable(TransientError):
    """A service Faros needs (``what``: e.g. "Redis") did not answer."""

    def __init__(self, *, what: str, reason: str) -> None:
        self.what = what
        self.reason = redact.message(reason)
        super().__init__(what=what, reason=self.reason)

    def __str__(self) -> str:
        return f"{self.what} unreachable: {self.reason}"


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """What to do about a failure: report and wait for new input, or retry."""

    terminal: bool
    retry_after: float | None = None
    """Seconds the server asked for before a retry (transient failures only)."""


def verdict(error: BaseException) -> Verdict:
    """Classify ``error``: the single place where terminal and transient are decided."""
    if isinstance(error, InputError):
        return Verdict(terminal=True)
    if isinstance(error, RequestFailure):
        if error.status in TERMINAL_STATUSES:
            return Verdict(terminal=True)
        return Verdict(terminal=False, retry_after=error.retry_after)
    if isinstance(error, TransientError):
        return Verdict(terminal=False, retry_after=error.retry_after)
    return Verdict(terminal=False)


def backoff(attempt: int, *, jitter: float, retry_after: float | None = None) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    Doubles from ``MIN_BACKOFF`` up to ``MAX_BACKOFF``; ``jitter`` (a number in [0, 1),
    random in production) spreads the wait over its upper half so that objects failing
    together do not retry together. A ``retry_after`` from the server is a floor, capped
    at ``MAX_RETRY_AFTER``.
    """
    ceiling = min(MAX_BACKOFF, MIN_BACKOFF * 2.0 ** max(0, min(attempt, 30)))
    wait = ceiling * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))
    if retry_after is not None and retry_after > 0:
        wait = max(wait, min(retry_after, MAX_RETRY_AFTER))
    return wait
