"""One spelling per repository, so a push names the repository a GitTrack follows.

A provider's delivery names a repository several ways (``https://host/org/repo.git``,
``git@host:org/repo.git``, ``ssh://git@host:22/org/repo``, a web URL); a GitTrack uses one of
them, perhaps with credentials. :func:`normalise` reduces each to ``host/path``:

- the scheme, user, password and port are dropped: ``git@host:org/repo`` and
  ``https://token@host:8443/org/repo`` name the same repository on the same host;
- the host and path are lower-cased and percent-decoded, a trailing ``/`` and ``.git`` removed:
  GitHub, GitLab, Bitbucket and Azure DevOps ignore the case of names. At worst two
  repositories whose names differ only in case both sync, which changes nothing;
- Azure DevOps: ``https://org@dev.azure.com/org/project/_git/repo``,
  ``git@ssh.dev.azure.com:v3/org/project/repo`` and the older ``org.visualstudio.com`` forms
  all become ``dev.azure.com/org/project/repo``.
"""

from __future__ import annotations

import functools
import re
import urllib.parse

_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?(?P<host>[^/:]+):(?P<path>.+)$")
_AZURE_HOSTS = ("dev.azure.com", "ssh.dev.azure.com", "vs-ssh.visualstudio.com")
_AZURE_SSH_HOSTS = ("ssh.dev.azure.com", "vs-ssh.visualstudio.com")


@functools.lru_cache(maxsize=4096)
def normalise(url: str) -> str | None:
    """Return ``host/path`` for a repository URL, or None when it names no repository."""
    text = url.strip()
    if not text or any(c.isspace() for c in text):
        return None
    if "://" in text:
        try:
            parts = urllib.parse.urlsplit(text)
            host = parts.hostname or ""
        except ValueError:
            return None
        path = parts.path
        if not host and parts.scheme.lower() != "file":
            return None
    else:
        match = _SCP_LIKE.match(text)
        if match is None:
            return None
        host, path = match.group("host"), match.group("path")
    host = host.lower().strip("[]").rstrip(".")
    segments = [s for s in urllib.parse.unquote(path).lower().split("/") if s]
    if segments:
        segments[-1] = segments[-1].removesuffix(".git")
        if not segments[-1]:
            segments.pop()
    if not segments:
        return None
    if host in _AZURE_HOSTS or host.endswith(".visualstudio.com"):
        return _azure(host, segments)
    return "/".join([host, *segments])


def _azure(host: str, segments: list[str]) -> str | None:
    """``dev.azure.com/org/project/repo`` for every Azure DevOps form (https, ssh, legacy)."""
    if host in _AZURE_SSH_HOSTS:
        if segments[0] != "v3" or len(segments) != 4:
            return None
        org, project, repo = segments[1:]
    else:
        if host != "dev.azure.com":  # https://org.visualstudio.com/[DefaultCollection/]...
            segments = [host.removesuffix(".visualstudio.com"), *segments]
            if len(segments) > 1 and segments[1] == "defaultcollection":
                del segments[1]
        if "_git" not in segments:
            return None
        at = segments.index("_git")
        if at + 2 != len(segments) or at not in (1, 2):
            return None
        org, repo = segments[0], segments[-1]
        project = segments[1] if at == 2 else repo  # /org/_git/repo: the project named as the repo
    return f"dev.azure.com/{org}/{project}/{repo}"
