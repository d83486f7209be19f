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

from faros.core import errors, redact

_HEX = re.compile(r"^[0-9a-f]{4,40}$")
# user@host:path with no scheme: git's "scp-like" syntax; host may not contain "/" or ":".
_SCP_LIKE = re.compile(
    r"^(?P<user>[A-Za-z0-9._~-]+@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*|/.+)$"
)
_FORBIDDEN_CHARS = re.compile(r"[\x00-\x20\x7f\\]")
_MAX_PORT = 65535


class Transport(enum.StrEnum):
    """How a repository is reached."""

    HTTPS = "https"
    HTTP = "http"
    SSH = "ssh"
    GIT = "git"
    FILE = "file"


class SourceInputError(errors.Refused):
    """A repository URL or reference that Faros refuses; ``str()`` says why, with no secret."""


@dataclasses.dataclass(frozen=True, slots=True)
class Repository:
    """A validated repository URL."""

    url: str
    transport: Transport


def parse_url(url: str, *, allow_file: bool = False) -> Repository:
    """Accept https, http, ssh, scp-like, git and (when allowed) file URLs; refuse the rest.

    A user or host that starts with ``-`` is refused in every form, also when written
    ``%2d``: git decodes the URL and hands both to ssh, which would read them as options.
    """
    if not url:
        raise SourceInputError("repository URL is empty")
    if url.startswith("-"):
        raise SourceInputError(f"repository {_leading_part(url)} must not start with '-'")
    if _FORBIDDEN_CHARS.search(url):
        raise SourceInputError("repository URL contains whitespace, control or '\\' characters")
    if "::" in url.split("/", 1)[0]:
        raise SourceInputError("repository URL uses a git remote helper ('<helper>::'), refused")
    scheme, separator, _ = url.partition("://")
    if not separator:
        return _parse_scp_like(url, allow_file=allow_file)
    try:
        transport = Transport(scheme.lower())
    except ValueError:
        raise SourceInputError(f"repository URL scheme {scheme!r} is not supported") from None
    if transport is Transport.FILE and not allow_file:
        raise SourceInputError("file:// repository URLs are disabled (flag --allow-file-urls)")
    parts = _split(url)
    if transport is not Transport.FILE and not parts.hostname:
        raise SourceInputError("repository URL has no host")
    _check_not_option(user=parts.username, host=parts.hostname)
    if transport is Transport.FILE and not parts.path.startswith("/"):
        raise SourceInputError("file:// repository URL must name an absolute path")
    return Repository(url=url, transport=transport)


def _leading_part(url: str) -> str:
    """Name what a URL starting with ``-`` starts with: an scp-like user or host, or a URL."""
    if "://" in url or ":" not in url:
        return "URL"
    return "user" if "@" in url.partition(":")[0] else "host"


def _parse_scp_like(url: str, *, allow_file: bool) -> Repository:
    match = _SCP_LIKE.match(url)
    if match is None:
        raise SourceInputError(
            "repository URL must be https://, http://, ssh://, git://, user@host:path"
            + (" or file://" if allow_file else "")
        )
    _check_not_option(user=(match.group("user") or "").removesuffix("@"), host=match.group("host"))
    if match.group("path").startswith("-"):
        raise SourceInputError("repository path must not start with '-'")
    return Repository(url=url, transport=Transport.SSH)


def _split(url: str) -> urllib.parse.SplitResult:
    """Split ``url``, refusing a bad IPv6 literal or port with a message that quotes no secret."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError as problem:
        # urlsplit's own text may quote the userinfo, so the problem is named, never repeated.
        if "IPv6" in str(problem):
            raise _malformed(url, "invalid IPv6 address") from None
        if "NFKC" in str(problem):
            raise _malformed(url, "the host changes under Unicode normalisation") from None
        raise _malformed(url, "it cannot be split into scheme, host and path") from None
    host_port = parts.netloc.rpartition("@")[2]
    if host_port.startswith("["):
        after = host_port.partition("]")[2]
        if after and not after.startswith(":"):
            raise _malformed(url, "unexpected text after the IPv6 address")
        port = after.removeprefix(":")
    else:
        port = host_port.partition(":")[2]
    if port and not (port.isascii() and port.isdigit()):
        raise _malformed(url, "the port is not a number")
    if port and not 0 < int(port) <= _MAX_PORT:
        raise _malformed(url, f"the port is not between 1 and {_MAX_PORT}")
    return parts


def _malformed(url: str, reason: str) -> SourceInputError:
    return SourceInputError(f"repository URL '{redact.url(url)}' is malformed: {reason}")


def _check_not_option(*, user: str | None, host: str | None) -> None:
    """Refuse a user or host that ssh would read as an option, or as more than one name."""
    for part, value in (("user", user), ("host", host)):
        decoded = urllib.parse.unquote(value or "")
        if decoded.startswith("-"):
            raise SourceInputError(f"repository {part} must not start with '-'")
        if _FORBIDDEN_CHARS.search(decoded):
            raise SourceInputError(
                f"repository {part} contains whitespace, control or '\\' characters"
            )


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
