"""Start and stop the test servers' processes: free ports, own sessions, stop by PID."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import subprocess
import threading
from pathlib import Path


def free_port() -> int:
    """A loopback TCP port that was free a moment ago, below the kernel's ephemeral range.

    A port the kernel handed out (``bind`` to port 0) comes from the range it also gives
    every outgoing connection: between this call and the server's own bind, a client
    connection of any process could take it ("Address already in use"). Ports below that
    range are only ever taken by an explicit bind; none is handed out twice by this process.
    """
    low = _ephemeral_low()
    for _ in range(1000):
        port = random.randrange(max(1024, low - PORTS), low)  # noqa: S311
        with _handed_guard:
            if port in _handed:
                continue
            _handed.add(port)  # reserved before the check: two threads never get it both
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # taken by another process: stays reserved, never tried again
        return port
    raise RuntimeError(f"no free loopback port below {low}")


PORTS = 12000
"""How many ports below the ephemeral range ``free_port`` picks from."""
_handed: set[int] = set()
_handed_guard = threading.Lock()


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range (Linux's default when unknown)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def spawn(
    command: list[str], *, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``command`` in its own session with stdout and stderr appended to ``log``."""
    with log.open("ab") as sink:
        return subprocess.Popen(
            command,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM the process group we started, wait, SIGKILL if needed, and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=timeout)


def tail(path: Path, lines: int = 20) -> str:
    """The last lines of a log file, or an empty string when there is none."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
