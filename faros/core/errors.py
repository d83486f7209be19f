"""The Faros error tree: what went wrong, at fault, and whether retrying can help.

::

    FarosError
    ├── InputError          terminal: report (log + condition + Event), do not retry
    │   ├── ManifestError   (path, reason)
    │   ├── SourceError     (repository URL redacted, reference, reason)
    │   ├── ObjectError     (object key, reason)     e.g. unknown kind, invalid object
    │   └── ConfigError     (flag or variable, value, reason)
    └── TransientError      retry with backoff
        ├── LockLost        (key)
        └── (adapters add theirs: API unavailable or conflict, git fetch timeout ...)

Each error carries the thing at fault as attributes; ``str()`` is the sentence a user
reads in a condition or an Event, with credentials removed (``faros.core.redact``)
before they are stored, so neither ``repr()`` nor a pickled copy can leak them.
"Ignored" objects are not errors: they are ``faros.core.rules.Decision`` values.
Errors pickle (Celery moves them between processes) although their arguments are
keyword-only.
"""

from __future__ import annotations

import functools
from typing import Any

from faros.core import identity, redact


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
    """A flag or environment variable has a value Faros cannot use."""

    def __init__(self, *, flag: str, value: str, reason: str) -> None:
        self.flag = flag
        self.value = redact.message(value)
        self.reason = reason
        super().__init__(flag=flag, value=self.value, reason=reason)

    def __str__(self) -> str:
        return f"invalid value {self.value!r} for {self.flag}: {self.reason}"


class LockLost(TransientError):
    """Another worker took the lock on ``key`` (a lock key string): stop, write nothing."""

    def __init__(self, *, key: str) -> None:
        super().__init__(key=key)
        self.key = key

    def __str__(self) -> str:
        return f"lost the lock {self.key}; another worker owns it now, nothing was written"
