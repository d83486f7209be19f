"""Validate a GitTrack's repository URL and reference before any git process sees them.

Both come from untrusted input (the GitTrack spec). Git reads some URL forms as commands
(``ext::sh -c ...``, ``fd::``) and any argument that starts with ``-`` as an option
(``--upload-pack=...``), so only plain transport URLs and plain reference names pass.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import urllib.parse

_HEX = re.compile(r"^[0-9a-f]{4,40}$")
# user@host:path with no scheme: git's "scp-like" syntax; host may not contain "/" or ":".
_SCP_LIKE = re.compile(
    r"^(?P<user>[A-Za-z0-9._~-]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*|/.+)$"
)
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


class Transport(enum.StrEnum):
    """How a repository is reached."""

    HTTPS = "https"
    HTTP = "http"
    SSH = "ssh"
    GIT = "git"
    FILE = "file"


class SourceInputError(ValueError):
    """A repository URL or reference that Faros refuses; ``str()`` says why, with no secret."""


@dataclasses.dataclass(frozen=True, slots=True)
class Repository:
    """A validated repository URL."""

    url: str
    transport: Transport


def parse_url(url: str, *, allow_file: bool = False) -> Repository:
    """Accept https, http, ssh, scp-like, git and (when allowed) file URLs; refuse the rest."""
    if not url:
        raise SourceInputError("repository URL is empty")
    if url.startswith("-"):
        raise SourceInputError("repository URL must not start with '-'")
    if _FORBIDDEN_CHARS.search(url):
        raise SourceInputError("repository URL contains whitespace, control or '\\' characters")
    if "::" in url.split("/", 1)[0]:
        raise SourceInputError("repository URL uses a git remote helper ('<helper>::'), refused")
    scheme, separator, _ = url.partition("://")
    if not separator:
        match = _SCP_LIKE.match(url)
        if match is None:
            raise SourceInputError(
                "repository URL must be https://, http://, ssh://, git://, user@host:path"
                + (" or file://" if allow_file else "")
            )
        if match.group("path").startswith("-"):
            raise SourceInputError("repository path must not start with '-'")
        return Repository(url=url, transport=Transport.SSH)
    try:
        transport = Transport(scheme.lower())
    except ValueError:
        raise SourceInputError(f"repository URL scheme {scheme!r} is not supported") from None
    if transport is Transport.FILE and not allow_file:
        raise SourceInputError("file:// repository URLs are disabled (flag --allow-file-urls)")
    parts = urllib.parse.urlsplit(url)
    if transport is not Transport.FILE and not parts.hostname:
        raise SourceInputError("repository URL has no host")
    if (parts.hostname or "").startswith("-"):
        raise SourceInputError("repository host must not start with '-'")
    if transport is Transport.FILE and not parts.path.startswith("/"):
        raise SourceInputError("file:// repository URL must name an absolute path")
    return Repository(url=url, transport=transport)


def check_reference(reference: str) -> str:
    """Return ``reference`` when it is a plain branch, tag, ref path or commit SHA."""
    if not reference:
        raise SourceInputError("reference is empty")
    if reference.startswith("-"):
        raise SourceInputError("reference must not start with '-'")
    if (
        _FORBIDDEN_CHARS.search(reference)
        or any(c in reference for c in "~^:?*[")
        or ".." in reference
        or "@{" in reference
        or reference.endswith((".", "/", ".lock"))
        or "//" in reference
        or reference.startswith("/")
    ):
        raise SourceInputError(f"reference {reference!r} is not a valid Git reference name")
    return reference


def is_commit_id(reference: str) -> bool:
    """True when the reference looks like a full or abbreviated commit SHA (4-40 hex digits)."""
    return _HEX.match(reference) is not None
