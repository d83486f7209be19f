"""Real Git servers on loopback serving one directory of bare repositories.

Four transports, each a context manager that starts on a free 127.0.0.1 port, waits
until it accepts connections, logs to a file in its own temporary directory and, on
stop, ends only the process it started (its session: SIGTERM, wait, SIGKILL) and
removes that directory:

- `FileServer`: `file://` URLs, nothing runs;
- `GitDaemon`: `git daemon`, `git://` URLs, anonymous read;
- `HttpGitServer`: smart HTTP through `git http-backend` as a CGI behind basic auth,
  run by a threaded HTTP server in this process; it records every request;
- `SshGitServer`: OpenSSH's sshd with its own host key, accepting one generated deploy
  key for the current OS user.

Every server serves the same root, so one repository can be cloned over all of them
(`GitServers`, `serve_all`). The servers only read: pushes are not enabled.

One module past the usual size on purpose: the four servers share their life cycle
and are used together; the HTTP and SSH servers are the candidates for a split.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hmac
import os
import pwd
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import traceback
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import IO, ClassVar, Self
from urllib.parse import unquote, urlsplit

from tests.harness import processes
from tests.harness.gitrepos import Repo

__all__ = [
    "FileServer",
    "GitDaemon",
    "GitServer",
    "GitServers",
    "HttpGitServer",
    "HttpRequest",
    "ServerError",
    "SshGitServer",
    "Transport",
    "serve_all",
]

HOST = "127.0.0.1"
SSHD = "/usr/sbin/sshd"  # absolute: sshd re-executes itself and refuses a relative path
PRIVSEP_DIR = Path("/run/sshd")
START_TIMEOUT = 15.0
_START_ATTEMPTS = 3  # a free port may be taken between choosing it and binding it


class Transport(StrEnum):
    FILE = "file"
    GIT = "git"
    HTTP = "http"
    SSH = "ssh"


class ServerError(RuntimeError):
    """A test server could not start; the message ends with its log's last lines."""


class GitServer:
    """What every server has: a root, URLs for repositories under it, start and stop."""

    transport: ClassVar[Transport]

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.workdir: Path | None = None

    def url(self, repo: Repo | str) -> str:
        """Return the URL of `repo` (a `Repo` under this root, or its path relative to it)."""
        raise NotImplementedError

    def start(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=f"faros-git-{self.transport}-"))

    def stop(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def log_path(self) -> Path:
        return self._workdir() / f"{self.transport}.log"

    def log_text(self) -> str:
        """Return the server's log so far ('' once stopped)."""
        if self.workdir is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def _workdir(self) -> Path:
        if self.workdir is None:
            raise ServerError(f"{type(self).__name__} is not running")
        return self.workdir

    def _relative_name(self, repo: Repo | str) -> str:
        if isinstance(repo, str):
            return repo.strip("/")
        if repo.root.resolve() != self.root:
            raise ValueError(f"{repo!r} is not under the served root {self.root}")
        return repo.name


class FileServer(GitServer):
    """`file://` URLs of the bare repositories; nothing to run."""

    transport = Transport.FILE

    def url(self, repo: Repo | str) -> str:
        return (self.root / self._relative_name(repo)).as_uri()


class _ProcessServer(GitServer):
    """A server that is one subprocess listening on `port`."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The PID of the server process (its session leader), None when stopped."""
        return None if self._process is None else self._process.pid

    def _command(self, port: int) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        super().start()
        try:
            self._prepare()
            self._start_process()
            self._started()
        except BaseException:
            self.stop()
            raise

    def _prepare(self) -> None:
        """Write what the process needs before it starts (in `workdir`)."""

    def _started(self) -> None:
        """Write what depends on the port once the process listens."""

    def _start_process(self) -> None:
        for _attempt in range(_START_ATTEMPTS):
            port = processes.free_port()
            process = processes.spawn(self._command(port), log=self.log_path, cwd=self.workdir)
            self._process = process
            if _wait_listening(port, process):
                self.port = port
                return
            processes.stop(process)
            self._process = None
        raise ServerError(
            f"{type(self).__name__} did not start; log:\n{processes.tail(self.log_path)}"
        )

    def stop(self) -> None:
        if self._process is not None:
            processes.stop(self._process)
            self._process = None
        self.port = 0
        super().stop()


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> bool:
    """Return True once `port` accepts connections, False if `process` exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return True
        time.sleep(0.05)
    return False


def _git_exec_path() -> Path:
    out = subprocess.run(["git", "--exec-path"], capture_output=True, check=True, text=True)
    return Path(out.stdout.strip())


class GitDaemon(_ProcessServer):
    """`git daemon` exporting every repository under the root: `git://127.0.0.1:PORT/x.git`."""

    transport = Transport.GIT

    def _command(self, port: int) -> list[str]:
        # git-daemon itself rather than `git daemon`, which would run it as a grandchild.
        return [
            str(_git_exec_path() / "git-daemon"),
            f"--base-path={self.root}",
            "--export-all",
            f"--listen={HOST}",
            f"--port={port}",
            "--reuseaddr",
            "--informative-errors",
            "--log-destination=stderr",
            "--verbose",
        ]

    def url(self, repo: Repo | str) -> str:
        return f"git://{HOST}:{self.port}/{self._relative_name(repo)}"


@dataclass(frozen=True, slots=True)
class _Response:
    """An HTTP answer not yet sent: status, reason, headers and body."""

    status: int
    reason: str | None
    headers: list[tuple[str, str]]
    payload: bytes


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request the HTTP server answered."""

    method: str
    path: str
    query: str
    user: str | None  # the user name presented, right or wrong
    authorized: bool
    status: int
    command: str | None  # upload-pack command: "fetch", "ls-refs" (protocol v2) …

    @property
    def is_fetch(self) -> bool:
        """True for a request asking for objects (`git-upload-pack` command `fetch`)."""
        return self.command == "fetch"


class HttpGitServer(GitServer):
    """Smart HTTP (`git http-backend`) behind basic auth: `http://127.0.0.1:PORT/x.git`.

    Requests without the right `username:password` (the password is random unless
    given) get 401 and a `WWW-Authenticate` challenge; every request is recorded in
    `requests`, so a test can tell whether anything was fetched.
    """

    transport = Transport.HTTP

    def __init__(self, root: Path, *, username: str = "faros", password: str | None = None) -> None:
        super().__init__(root)
        self.username = username
        self.password = password or secrets.token_urlsafe(16)
        self.port = 0
        self._server: _BackendServer | None = None
        self._thread: threading.Thread | None = None

    def url(self, repo: Repo | str) -> str:
        return f"http://{HOST}:{self.port}/{self._relative_name(repo)}"

    @property
    def requests(self) -> list[HttpRequest]:
        """Every request answered since start or the last `clear_requests`, in order."""
        if self._server is None:
            return []
        with self._server.lock:
            return list(self._server.recorded)

    def clear_requests(self) -> None:
        if self._server is not None:
            with self._server.lock:
                self._server.recorded.clear()

    def start(self) -> None:
        super().start()
        try:
            server = _BackendServer(
                (HOST, 0),
                root=self.root,
                credentials=(self.username, self.password),
                workdir=self._workdir(),
                log_path=self.log_path,
            )
        except BaseException:
            super().stop()
            raise
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"git-http-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()  # joins the request threads
            self._server.log.close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.port = 0
        super().stop()


class _BackendServer(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() waits for every connection to be closed
    block_on_close = True

    def __init__(
        self,
        address: tuple[str, int],
        *,
        root: Path,
        credentials: tuple[str, str],
        workdir: Path,
        log_path: Path,
    ) -> None:
        self.root = root
        self.credentials = credentials
        self.workdir = workdir
        self.backend = str(_git_exec_path() / "git-http-backend")
        self.lock = threading.Lock()
        self.recorded: list[HttpRequest] = []
        super().__init__(address, _BackendHandler)
        self.log: IO[str] = log_path.open("a", encoding="utf-8")

    def write_log(self, text: str) -> None:
        with self.lock:
            self.log.write(text if text.endswith("\n") else text + "\n")
            self.log.flush()

    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up mid-response is not our failure; keep it out of stderr.
        self.write_log(f"error serving {client_address}:\n{traceback.format_exc()}")


class _BackendHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as git expects from a real server
    timeout = 10  # an idle keep-alive connection must not hold stop() for long
    server: _BackendServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: object) -> None:
        self.server.write_log(f"{self.address_string()} {format % args}")

    def _serve(self) -> None:
        body = self._read_body()
        user, authorized = self._authenticate()
        url = urlsplit(self.path)
        if authorized:
            response = self._run_backend(unquote(url.path), url.query, user or "", body)
        else:
            challenge = ("WWW-Authenticate", 'Basic realm="faros-test", charset="UTF-8"')
            response = _Response(401, None, [challenge, ("Content-Type", "text/plain")], b"")
        record = HttpRequest(
            method=self.command,
            path=unquote(url.path),
            query=url.query,
            user=user,
            authorized=authorized,
            status=response.status,
            command=self._upload_pack_command(url.path, body),
        )
        # Recorded before the answer leaves: a client that has read its answer finds its
        # request in `requests`.
        with self.server.lock:
            self.server.recorded.append(record)
        self._send(response)

    def _send(self, response: _Response) -> None:
        self.send_response(response.status, response.reason)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.payload)))
        self.end_headers()
        self.wfile.write(response.payload)

    def _upload_pack_command(self, path: str, body: bytes) -> str | None:
        """Return what a POST to git-upload-pack asks for, read from its first pkt-line."""
        if self.command != "POST" or not path.endswith("/git-upload-pack"):
            return None
        if "version=2" not in self.headers.get("Git-Protocol", ""):
            return "fetch"  # protocol v0/v1 only POSTs to upload-pack to fetch
        with contextlib.suppress(OSError, EOFError, zlib.error):
            if self.headers.get("Content-Encoding", "").lower() in {"gzip", "x-gzip"}:
                body = gzip.decompress(body)
        try:
            first = body[4 : int(body[:4], 16)]
        except ValueError:
            return None
        if not first.startswith(b"command="):
            return None
        return first.removeprefix(b"command=").strip().decode(errors="replace")

    def _authenticate(self) -> tuple[str | None, bool]:
        scheme, _, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None, False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, False
        user, _, password = decoded.partition(":")
        want_user, want_password = self.server.credentials
        user_ok = hmac.compare_digest(user.encode(), want_user.encode())
        password_ok = hmac.compare_digest(password.encode(), want_password.encode())
        return user, user_ok and password_ok

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size = int(self.rfile.readline(65537).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self.rfile.readline(65537) not in {b"\r\n", b"\n", b""}:
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk

    def _run_backend(self, path: str, query: str, user: str, body: bytes) -> _Response:
        env = {
            "PATH": os.environ.get("PATH", os.defpath),
            "HOME": str(self.server.workdir),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_PROJECT_ROOT": str(self.server.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": self.request_version,
            "REQUEST_METHOD": self.command,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_USER": user,
            "REMOTE_ADDR": self.client_address[0],
            "AUTH_TYPE": "Basic",
        }
        if encoding := self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = encoding
        if protocol := self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = env["HTTP_GIT_PROTOCOL"] = protocol
        proc = subprocess.run(
            [self.server.backend], input=body, capture_output=True, env=env, timeout=120
        )
        if proc.stderr:
            self.server.write_log(proc.stderr.decode(errors="replace"))
        return _cgi_response(proc.stdout)


def _cgi_response(output: bytes) -> _Response:
    """The HTTP answer `git http-backend` wrote as CGI output."""
    head, sep, payload = output.partition(b"\r\n\r\n")
    if not sep:
        head, sep, payload = output.partition(b"\n\n")
    if not sep:
        message = b"git http-backend gave no CGI headers"
        return _Response(502, None, [("Content-Type", "text/plain")], message)
    status, reason = 200, "OK"
    headers: list[tuple[str, str]] = []
    for line in head.decode("latin-1").splitlines():
        name, _, value = line.partition(":")
        if name.lower() == "status":
            code, _, reason = value.strip().partition(" ")
            status = int(code)
        elif name.lower() != "content-length":
            headers.append((name.strip(), value.strip()))
    return _Response(status, reason or None, headers, payload)


class SshGitServer(_ProcessServer):
    """OpenSSH sshd accepting one deploy key for the current user.

    URLs are `ssh://USER@127.0.0.1:PORT/<absolute path>`. `private_key` is the deploy
    key, `known_hosts` holds the server's host key for `[127.0.0.1]:PORT`;
    `wrong_known_hosts` holds another key for the same host, and `unauthorized_key` is
    a key the server does not accept.
    """

    transport = Transport.SSH

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.user = pwd.getpwuid(os.geteuid()).pw_name

    def url(self, repo: Repo | str) -> str:
        return f"ssh://{self.user}@{HOST}:{self.port}{self.root / self._relative_name(repo)}"

    @property
    def private_key(self) -> Path:
        return self._workdir() / "deploy_key"

    @property
    def unauthorized_key(self) -> Path:
        return self._workdir() / "unauthorized_key"

    @property
    def known_hosts(self) -> Path:
        return self._workdir() / "known_hosts"

    @property
    def wrong_known_hosts(self) -> Path:
        return self._workdir() / "wrong_known_hosts"

    def ssh_command(
        self, *, private_key: Path | None = None, known_hosts: Path | None = None
    ) -> str:
        """Return a `GIT_SSH_COMMAND` that never prompts and checks the host key strictly.

        Defaults: the deploy key and the right known_hosts file. Nothing of the user's
        own SSH configuration, agent or known hosts is used.
        """
        options = {
            "IdentitiesOnly": "yes",
            "IdentityAgent": "none",
            "BatchMode": "yes",
            "StrictHostKeyChecking": "yes",
            "UserKnownHostsFile": str(known_hosts or self.known_hosts),
            "GlobalKnownHostsFile": os.devnull,
            "ConnectTimeout": "10",
        }
        args = ["ssh", "-F", os.devnull, "-i", str(private_key or self.private_key)]
        for option, value in options.items():
            args += ["-o", f"{option}={value}"]
        return shlex.join(args)

    def _prepare(self) -> None:
        if os.geteuid() == 0:
            _ensure_privsep_dir()
        workdir = self._workdir()
        for name in ("host_key", "other_host_key", "deploy_key", "unauthorized_key"):
            _keygen(workdir / name, comment=f"faros-test-{name}")
        deploy_pub = (workdir / "deploy_key.pub").read_text().strip()
        # `restrict`: no pty, no forwarding: all a deploy key needs is to run git.
        (workdir / "authorized_keys").write_text(f"restrict {deploy_pub}\n")

    def _started(self) -> None:
        workdir = self._workdir()
        pairs = (("host_key", self.known_hosts), ("other_host_key", self.wrong_known_hosts))
        for key, path in pairs:
            key_type, blob = (workdir / f"{key}.pub").read_text().split()[:2]
            path.write_text(f"[{HOST}]:{self.port} {key_type} {blob}\n")

    def _command(self, port: int) -> list[str]:
        workdir = self._workdir()
        config = workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"ListenAddress {HOST}:{port}",
                    f'HostKey "{workdir / "host_key"}"',
                    f'PidFile "{workdir / "sshd.pid"}"',
                    f'AuthorizedKeysFile "{workdir / "authorized_keys"}"',
                    f"AllowUsers {self.user}",
                    "AuthenticationMethods publickey",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "StrictModes no",
                    "UsePAM no",
                    "UseDNS no",
                    "PrintMotd no",
                    "AcceptEnv GIT_PROTOCOL",  # lets git speak protocol v2 over SSH
                    "LogLevel VERBOSE",
                    "",
                ]
            )
        )
        return [SSHD, "-D", "-e", "-f", str(config)]


def _keygen(path: Path, *, comment: str) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    path.chmod(0o600)


def _ensure_privsep_dir() -> None:
    """sshd started as root refuses to run without its privilege-separation directory."""
    if PRIVSEP_DIR.is_dir():
        return
    try:
        PRIVSEP_DIR.mkdir(mode=0o755, parents=True)
    except OSError as exc:
        raise ServerError(
            f"sshd run as root needs the privilege-separation directory {PRIVSEP_DIR}, "
            f"which is missing and cannot be created ({exc}); create it: "
            f"mkdir -m 0755 {PRIVSEP_DIR}"
        ) from exc


@dataclass(frozen=True, slots=True)
class GitServers:
    """One server per transport, all serving `root`."""

    root: Path
    file: FileServer
    daemon: GitDaemon
    http: HttpGitServer
    ssh: SshGitServer

    def server(self, transport: Transport) -> GitServer:
        servers: dict[Transport, GitServer] = {
            Transport.FILE: self.file,
            Transport.GIT: self.daemon,
            Transport.HTTP: self.http,
            Transport.SSH: self.ssh,
        }
        return servers[transport]

    def url(self, repo: Repo | str, transport: Transport) -> str:
        return self.server(transport).url(repo)

    def urls(self, repo: Repo | str) -> dict[Transport, str]:
        """Return the URL of `repo` on every transport."""
        return {transport: self.url(repo, transport) for transport in Transport}


@contextlib.contextmanager
def serve_all(
    root: Path, *, username: str = "faros", password: str | None = None
) -> Iterator[GitServers]:
    """Start all four servers on `root`; stop them all on exit."""
    with contextlib.ExitStack() as stack:
        yield GitServers(
            root=root.resolve(),
            file=stack.enter_context(FileServer(root)),
            daemon=stack.enter_context(GitDaemon(root)),
            http=stack.enter_context(HttpGitServer(root, username=username, password=password)),
            ssh=stack.enter_context(SshGitServer(root)),
        )
