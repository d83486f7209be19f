"""Strip credentials from repository URLs and from free text before anyone can read them.

Every message that may contain a URL or a Git error passes through here (house style
9.9): status conditions, Events, log lines, exceptions and metric labels. The
original controller leaked credentials embedded in repository URLs into the
``repository`` label of ``faros_gittrack_time_to_deploy_seconds`` (spec section 5,
[QUIRK]); we never do.

What is removed:

- ``https://user:password@host/...`` and every other scheme: the whole userinfo
  (``https://host/...``), including a user-only token (``https://TOKEN@host``);
- ``ssh://user:password@host/...``: the password only; the SSH user (``git``) is
  not a secret and says which account is used (``ssh://git@host/...``).

scp-like SSH addresses (``git@host:org/repo``) cannot carry a password and are kept.
"""

from __future__ import annotations

import re

# scheme://userinfo@ - the userinfo runs to the last "@" before the path or any whitespace,
# as git reads it, so a password holding a raw "@" is removed whole. Over-matching (an "@"
# in a query string of a URL without a path) only removes more than needed, never less.
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*)://(?P<userinfo>[^\s/]*)@")
_SSH_SCHEMES = frozenset({"ssh", "git+ssh", "ssh+git"})


def url(text: str) -> str:
    """Return the URL ``text`` without its credentials (see the module docstring)."""
    return message(text)


def message(text: str) -> str:
    """Return ``text`` with the credentials of every URL in it removed.

    Works on free text such as a Git error (``fatal: unable to access
    'https://user:token@host/repo/': ...``) as well as on a bare URL.
    """
    return _USERINFO.sub(_strip, text)


def _strip(match: re.Match[str]) -> str:
    scheme = match.group("scheme")
    if scheme.lower() in _SSH_SCHEMES:
        user = match.group("userinfo").split(":", 1)[0]
        if user:
            return f"{scheme}://{user}@"
    return f"{scheme}://"
