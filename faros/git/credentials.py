"""Hand credentials to git without a command line, a URL or a log line ever holding them.

An SSH key is written 0600 into a private 0700 temp folder and removed after the git call;
host keys are checked strictly against the given known_hosts files. HTTP basic auth goes
through a GIT_ASKPASS script that reads the values from the git process's environment.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from faros.core.deploykeys import Credentials

_ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$FAROS_GIT_USERNAME" ;;
  *) printf '%s\\n' "$FAROS_GIT_PASSWORD" ;;
esac
"""


def fingerprint(credentials: Credentials) -> str:
    """A stable digest of the credentials, to key a cache without storing them."""
    digest = hashlib.sha256()
    parts = (
        credentials.ssh_key,
        credentials.known_hosts,
        credentials.username,
        credentials.password,
    )
    for part in parts:
        value = part.encode() if isinstance(part, str) else (part or b"")
        digest.update(len(value).to_bytes(8, "big") + value)
    return digest.hexdigest()


@contextlib.contextmanager
def environment(
    credentials: Credentials, *, known_hosts_files: Sequence[Path] = ()
) -> Iterator[dict[str, str]]:
    """Yield the environment variables a git process needs for these credentials."""
    with tempfile.TemporaryDirectory(prefix="faros-git-cred-") as scratch:
        folder = Path(scratch)
        folder.chmod(0o700)
        env = {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": _write(folder / "askpass", _ASKPASS.encode(), mode=0o700),
            "SSH_ASKPASS": "",
            "FAROS_GIT_USERNAME": credentials.username or "",
            "FAROS_GIT_PASSWORD": credentials.password or "",
        }
        hosts = list(known_hosts_files)
        if credentials.known_hosts:
            hosts.insert(0, Path(_write(folder / "known_hosts", credentials.known_hosts)))
        known = " ".join(str(path) for path in hosts or [Path(os.devnull)])
        ssh = [
            "ssh",
            "-F", "/dev/null",
            "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=" + known,
            "-o", "GlobalKnownHostsFile=/dev/null",
            "-o", "ConnectTimeout=20",
        ]  # fmt: skip
        if credentials.ssh_key:
            key = (
                credentials.ssh_key
                if credentials.ssh_key.endswith(b"\n")
                else credentials.ssh_key + b"\n"
            )
            ssh += ["-o", "IdentitiesOnly=yes", "-i", _write(folder / "id", key)]
        env["GIT_SSH_COMMAND"] = shlex.join(ssh)
        env["GIT_SSH_VARIANT"] = "ssh"
        yield env


def _write(path: Path, data: bytes, *, mode: int = 0o600) -> str:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return str(path)
