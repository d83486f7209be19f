"""Whose identity writes a GitTrack's children (ours): its service account, impersonated.

- A GitTrack's ``spec.serviceAccountName`` names a service account in its own namespace;
- a ClusterGitTrack's ``spec.serviceAccountRef`` names one by namespace and name (on a
  GitTrack the namespace, when given, must be its own);
- without either, ``--default-service-account`` (when set) names one in the GitTrack's own
  namespace (the lock-down mode of a multi-tenant cluster); a ClusterGitTrack without a
  reference, and any GitTrack when the flag is not set, write with the controller's identity.

Every request that reads or writes a child then carries ``Impersonate-User:
system:serviceaccount:<namespace>:<name>``: the API server authorises it as that account, so a
GitTrack can do no more than its account could by hand. The controller's own identity still
reads and writes GitTracks, GitTrackObjects, Events and deployKey Secrets, and watches.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from faros.api import names
from faros.core import errors

PREFIX = "system:serviceaccount:"
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")


class TenancyError(errors.Refused):
    """A service account reference that cannot be used; ``str()`` names the field."""


def user(namespace: str, name: str) -> str:
    """The user name of a service account, as the API server authenticates it."""
    return f"{PREFIX}{namespace}:{name}"


def identity(
    gittrack: Mapping[str, Any] | None, *, namespace: str, default_account: str = ""
) -> str:
    """The user that writes the children of a GitTrack (or ClusterGitTrack) ``gittrack``; ""
    for the controller's own identity. ``namespace`` is the GitTrackObject's, used when no
    GitTrack owns it (a GitTrackObject written by hand gets the default account too).

    Raises:
        TenancyError: a name or namespace is not a valid Kubernetes name, or a GitTrack names
            an account in another namespace.
    """
    spec = (gittrack or {}).get("spec") or {}
    kind = str((gittrack or {}).get("kind") or names.GITTRACK)
    own = str(((gittrack or {}).get("metadata") or {}).get("namespace") or namespace)
    name = spec.get("serviceAccountName")
    ref = spec.get("serviceAccountRef")
    if name:
        return user(_checked(own, "namespace"), _checked(name, "spec.serviceAccountName"))
    if isinstance(ref, Mapping) and ref.get("name"):
        where = str(ref.get("namespace") or "")
        if kind == names.GITTRACK and where and where != own:
            raise TenancyError(
                f"spec.serviceAccountRef.namespace {where!r} must be the GitTrack's own "
                f"namespace {own!r} or empty"
            )
        if not where and not own:
            raise TenancyError("spec.serviceAccountRef.namespace is required on a ClusterGitTrack")
        return user(_checked(where or own, "spec.serviceAccountRef.namespace"),
                    _checked(ref["name"], "spec.serviceAccountRef.name"))  # fmt: skip
    if default_account and own and kind == names.GITTRACK:
        return user(own, default_account)
    return ""


def _checked(value: object, field: str) -> str:
    text = str(value)
    if not _NAME.fullmatch(text):
        raise TenancyError(f"{field} {text!r} is not a valid name (lower-case letters, digits, "
                           "'-' and '.')")  # fmt: skip
    return text
