"""Fetch repositories into an on-disk cache and read manifests from a commit, with GitPython.

Each (URL, credentials) pair gets one bare repository under the cache root, so two
GitTracks with different credentials never share what one of them could fetch. Files are
read straight from Git's object store, never from a worktree: symbolic links are not
followed and no path can leave the commit's tree. Every git process runs with an empty
global and system config, a restricted protocol list, no terminal prompt and a timeout.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime
import fcntl
import hashlib
import logging
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import git
from git.objects.fun import tree_entries_from_data

from faros.core import deploykeys, errors, paths, redact, sources
from faros.git import credentials as creds

logger = logging.getLogger(__name__)

_TYPE_BITS = 0o170000
"""The bits of a tree entry's mode that say what it is."""
_SYMLINK_MODE = 0o120000
TREE_MODE = 0o040000
TREES = 1024
"""Trees whose entries a store remembers (see ``Store._entries``)."""
REPOS = 8
"""Repositories a store keeps open at most (see ``Store._repo``)."""
IDLE = 30.0
"""Seconds an unused repository stays open (its two ``git cat-file`` processes hold ~10 MiB)."""
KEEP_OPEN_FILES = 256
"""A repository whose snapshot read more files is closed right after it (see ``Store._repo``)."""
COMMITS = 10_000
"""Resolved references a store remembers (see ``Store._commit``)."""
_ALLOWED_PROTOCOLS = "https:http:ssh:git"
_BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "LC_ALL": "C",
}


class FetchError(errors.FarosError):
    """Git could not fetch or resolve; ``str()`` is the message for the user (redacted)."""

    def __init__(self, message: str) -> None:
        super().__init__(message=message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFetched(FetchError, errors.InputError):
    """The repository, reference or sub-path gives no files as it is (bad input)."""


class FetchUnavailable(FetchError, errors.TransientError):
    """Git timed out or could not reach the server: worth a retry."""


@dataclasses.dataclass(frozen=True, slots=True)
class Snapshot:
    """The manifests under a sub-path at one commit."""

    commit: str
    committed_at: datetime.datetime
    files: list[tuple[str, bytes]]
    refused: dict[str, str]


@dataclasses.dataclass(slots=True)
class _Open:
    """A repository a store keeps open in process ``pid``, last used at ``used`` (monotonic)."""

    pid: int
    repo: git.Repo
    used: float = 0.0
    keep: bool = False
    """Whether to keep it open after this use."""


class Store:
    """A per-process cache of bare repositories on disk (``--repository-dir``)."""

    def __init__(
        self,
        root: Path | None,
        *,
        fetch_timeout: float,
        known_hosts_files: Sequence[Path] = (),
        allow_file: bool = False,
        max_file_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.owned = root is None
        """The cache is this store's own temporary folder, removed by :meth:`close`."""
        self.root = root if root is not None else Path(tempfile.mkdtemp(prefix="faros-repos-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.fetch_timeout = fetch_timeout
        self.known_hosts_files = list(known_hosts_files)
        self.allow_file = allow_file
        self.max_file_bytes = max_file_bytes
        self._trees: collections.OrderedDict[bytes, dict[str, tuple[bytes, int]]] = (
            collections.OrderedDict()
        )
        """Entries of the trees read last; see :meth:`_entries`."""
        self._repos: dict[Path, _Open] = {}
        """Folder -> the repository open in this process; see :meth:`_repo`."""
        self._commits: dict[tuple[Path, str], tuple[int, str]] = {}
        """(folder, reference) -> (fetch stamp, commit); see :meth:`_commit`."""
        self._guard = threading.Lock()

    def close(self) -> None:
        """Close the repositories this process holds open; remove the cache when it is this
        store's own temporary folder."""
        with self._guard:
            held, self._repos = self._repos, {}
        for entry in held.values():
            if entry.pid == os.getpid():
                entry.repo.close()
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)

    def remote_commit(
        self,
        *,
        url: str,
        reference: str,
        credentials: deploykeys.Credentials = deploykeys.NONE,
    ) -> str | None:
        """The commit ``reference`` names on the remote now, without fetching anything
        (``git ls-remote``); a full SHA reference is its own answer; None when it cannot be
        told (the caller then fetches as usual)."""
        self._close_idle()  # the syncs of an unchanged commit come here, and no further
        repository = sources.parse_url(url, allow_file=self.allow_file)
        sources.check_reference(reference)
        if re.fullmatch(r"[0-9a-f]{40}", reference):
            return reference
        protocols = _ALLOWED_PROTOCOLS + (":file" if self.allow_file else "")
        candidates = [f"refs/heads/{reference}", f"refs/tags/{reference}", reference]
        with creds.environment(credentials, known_hosts_files=self.known_hosts_files) as env:
            env = {**_BASE_ENV, **env, "GIT_ALLOW_PROTOCOL": protocols}
            try:
                listed = git.Git().ls_remote(
                    "--end-of-options", repository.url, *candidates, env=env,
                    kill_after_timeout=self.fetch_timeout,
                )  # fmt: skip
            except git.GitCommandError:
                return None
        return _pick(str(listed), candidates)

    def snapshot(
        self,
        *,
        url: str,
        reference: str,
        sub_path: str,
        credentials: deploykeys.Credentials = deploykeys.NONE,
    ) -> Snapshot:
        """Fetch ``url``, resolve ``reference`` and read the manifests under ``sub_path``.

        ``sub_path`` is normalised (``""`` or ``"a/b/"``). Raises ``FetchError`` for URL,
        reference, transport and timeout problems, and ``sources.SourceInputError`` for
        input refused before git ran.
        """
        repository = sources.parse_url(url, allow_file=self.allow_file)
        sources.check_reference(reference)
        protocols = _ALLOWED_PROTOCOLS + (":file" if self.allow_file else "")
        asked = time.time_ns()
        with (
            self._locked(repository.url, credentials) as folder,
            creds.environment(credentials, known_hosts_files=self.known_hosts_files) as env,
        ):
            env = {**_BASE_ENV, **env, "GIT_ALLOW_PROTOCOL": protocols}
            with self._repo(folder) as entry:
                stamp = _last_fetch(folder)
                if stamp < asked:
                    stamp = time.time_ns()
                    self._fetch(entry.repo, repository.url, env)
                    _fetched(folder, started=stamp)
                commit = self._commit(entry.repo, folder, reference, env, stamp=stamp)
                snapshot = self._read(commit, sub_path)
                entry.keep = len(snapshot.files) + len(snapshot.refused) <= KEEP_OPEN_FILES
                return snapshot

    def _fetch(self, repo: git.Repo, url: str, env: dict[str, str]) -> None:
        try:
            repo.git.fetch(
                "--prune",
                "--prune-tags",
                "--force",
                "--tags",
                "--no-write-fetch-head",
                "--end-of-options",
                url,
                "+refs/heads/*:refs/remotes/origin/*",
                env=env,
                kill_after_timeout=self.fetch_timeout,
            )
        except git.GitCommandError as error:
            reason, transient = _explain(error, self.fetch_timeout)
            kind = FetchUnavailable if transient else NotFetched
            raise kind(f"failed to fetch repository '{redact.url(url)}': {reason}") from None

    @contextlib.contextmanager
    def _repo(self, folder: Path) -> Iterator[_Open]:
        """The bare repository in ``folder``, kept open between syncs (with it, the
        ``git cat-file`` processes that read its objects): the syncs of a busy repository
        read their files through pipes instead of starting git processes (about 6 ms of
        CPU each time). Closed once unused for ``IDLE`` seconds (seen at the next snapshot or
        remote check of any repository), when more than ``REPOS`` are open, or right away
        when the caller clears ``keep`` (a big read: ``git cat-file`` then holds many of the
        repository's objects in memory, and starting it is cheap next to the read).

        Called with the folder's lock held, which keeps every other thread (and process)
        from using the repository meanwhile.
        """
        pid = os.getpid()  # a forked pool process must not share its parent's pipes
        with self._guard:
            entry = self._repos.pop(folder, None)
        if entry is None or entry.pid != pid or not (folder / "HEAD").exists():
            if entry is not None and entry.pid == pid:
                entry.repo.close()
            entry = _Open(pid=pid, repo=_open(folder))
            entry.repo.git.update_environment(**_BASE_ENV)
        entry.keep = False  # unless the caller's read went through
        try:
            yield entry
        finally:
            entry.used = time.monotonic()
            if entry.keep:
                with self._guard:
                    self._repos[folder] = entry  # the most recently used is last
            else:
                entry.repo.close()
            self._close_idle()

    def _close_idle(self) -> None:
        """Close the repositories unused for ``IDLE`` seconds and the least recently used
        beyond ``REPOS`` (a repository in use is not in ``_repos`` meanwhile)."""
        pid, now = os.getpid(), time.monotonic()
        with self._guard:
            stale = [key for key, held in self._repos.items()
                     if now - held.used > IDLE or held.pid != pid]  # fmt: skip
            stale += list(self._repos)[: max(0, len(self._repos) - REPOS)]
            closing = [self._repos.pop(key) for key in dict.fromkeys(stale)]
        for held in closing:
            if held.pid == pid:
                held.repo.close()

    def _commit(
        self, repo: git.Repo, folder: Path, reference: str, env: dict[str, str], *, stamp: int
    ) -> git.Commit:
        """``reference`` resolved in ``repo``, remembered until the next fetch into it.

        References move only when a fetch moves them, and each successful fetch starts at a
        new ``stamp`` (``_last_fetch``): the same reference under the same stamp names the
        same commit.
        """
        with self._guard:
            known = self._commits.get((folder, reference))
        if stamp and known is not None and known[0] == stamp:
            return repo.commit(known[1])
        commit = _resolve(repo, reference, env)
        with self._guard:
            if len(self._commits) >= COMMITS:
                self._commits.clear()
            self._commits[(folder, reference)] = (stamp, commit.hexsha)
        return commit

    def _read(self, commit: git.Commit, sub_path: str) -> Snapshot:
        tree: git.Tree = commit.tree
        if sub_path:
            tree = self._subtree(commit, sub_path)
        files: list[tuple[str, bytes]] = []
        refused: dict[str, str] = {}
        for item in tree.traverse():
            if not isinstance(item, git.Blob):
                continue
            path = str(item.path)
            if not paths.is_manifest(path, sub_path=sub_path):
                continue
            if item.mode & _TYPE_BITS == _SYMLINK_MODE:
                refused[path] = "is a symbolic link; Faros does not follow symbolic links"
            elif item.size > self.max_file_bytes:
                refused[path] = (
                    f"file is {item.size} bytes, over the limit of {self.max_file_bytes} bytes"
                )
            else:
                files.append((path, item.data_stream.read()))
        files.sort()
        if not files and not refused:
            raise NotFetched(f"no files for subpath '{sub_path}'")
        return Snapshot(
            commit=commit.hexsha,
            committed_at=commit.committed_datetime.astimezone(datetime.UTC),
            files=files,
            refused=refused,
        )

    def _subtree(self, commit: git.Commit, sub_path: str) -> git.Tree:
        """The folder ``sub_path`` of ``commit``; raise ``NotFetched`` when it is none.

        The folders on the way are read through :meth:`_entries`: a repository of many
        GitTracks (a subPath each) has a root listing them all, which each of their syncs
        would otherwise parse again, in Python, for the same commit.
        """
        binsha, mode = commit.tree.binsha, TREE_MODE
        for name in sub_path.rstrip("/").split("/"):
            found = self._entries(commit.repo, binsha).get(name)
            if found is None:
                raise NotFetched(f"no files for subpath '{sub_path}'")
            binsha, mode = found
            if mode & _TYPE_BITS != TREE_MODE:
                raise NotFetched(f"subpath '{sub_path}' is not a folder")
        return git.Tree(commit.repo, binsha, mode=mode, path=sub_path.rstrip("/"))

    def _entries(self, repo: git.Repo, binsha: bytes) -> dict[str, tuple[bytes, int]]:
        """Name -> (object id, mode) of the entries of the tree ``binsha``; the last
        ``TREES`` trees read are remembered (a tree's id names its content for good)."""
        with self._guard:
            found = self._trees.get(binsha)
            if found is not None:
                self._trees.move_to_end(binsha)
                return found
        data = repo.odb.stream(binsha).read()
        found = {name: (sha, mode) for sha, mode, name in tree_entries_from_data(data)}
        with self._guard:
            self._trees[binsha] = found
            while len(self._trees) > TREES:
                self._trees.popitem(last=False)
        return found

    @contextlib.contextmanager
    def _locked(self, url: str, credentials: deploykeys.Credentials) -> Iterator[Path]:
        key = hashlib.sha256(f"{url}\0{creds.fingerprint(credentials)}".encode()).hexdigest()[:32]
        folder = self.root / key
        with (self.root / f"{key}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield folder
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _pick(listed: str, candidates: Sequence[str]) -> str | None:
    """The commit of the first candidate ref in ``git ls-remote`` output (a tag peeled)."""
    refs: dict[str, str] = {}
    for line in listed.splitlines():
        sha, _, ref = line.partition("\t")
        refs[ref.strip()] = sha.strip()
    for candidate in candidates:
        peeled = refs.get(f"{candidate}^{{}}")
        if peeled or candidate in refs:
            return peeled or refs[candidate]
    return None


FETCHED = "faros-fetch-started"
"""In a cached repository: when its last successful fetch started (ns since the epoch)."""


def _last_fetch(folder: Path) -> int:
    """When the last successful fetch into ``folder`` started (0: never, or unknown).

    A sync that asked for the repository before that moment skips its own fetch: that fetch
    began after the sync did, so it saw the remote as new as the sync needs. Many GitTracks
    of one repository (a subPath each) then share one fetch instead of queueing one each
    behind the repository's lock."""
    try:
        return int((folder / FETCHED).read_text())
    except (OSError, ValueError):
        return 0


def _fetched(folder: Path, *, started: int) -> None:
    with contextlib.suppress(OSError):
        (folder / FETCHED).write_text(str(started))


def _open(folder: Path) -> git.Repo:
    """Open the cached bare repository, re-creating it when missing or broken."""
    if (folder / "HEAD").exists():
        try:
            return git.Repo(folder)
        except (git.InvalidGitRepositoryError, git.NoSuchPathError):
            logger.warning("re-creating broken repository cache", extra={"path": str(folder)})
            shutil.rmtree(folder, ignore_errors=True)
    repo = git.Repo.init(folder, bare=True)
    with repo.config_writer() as config:
        config.set_value("gc", "auto", "0")
        config.set_value("core", "hooksPath", "/dev/null")
    return repo


def _resolve(repo: git.Repo, reference: str, env: dict[str, str]) -> git.Commit:
    """Resolve a branch, tag, ref path or (abbreviated) commit SHA to a commit."""
    candidates = [f"refs/remotes/origin/{reference}", f"refs/tags/{reference}", reference]
    if sources.is_commit_id(reference):
        candidates.insert(0, reference)
    for candidate in candidates:
        try:
            sha = repo.git.rev_parse(
                "--verify", "--quiet", "--end-of-options", f"{candidate}^{{commit}}", env=env
            )
        except git.GitCommandError:
            continue
        return repo.commit(sha)
    raise NotFetched(f"failed to checkout '{reference}': reference not found")


_UNREACHABLE = (
    "could not resolve host",
    "connection refused",
    "connection timed out",
    "connection reset",
    "operation timed out",
    "network is unreachable",
    "no route to host",
    "the remote end hung up unexpectedly",
    "early eof",
    "returned error: 5",
    "gnutls_handshake",
    "ssl_connect",
    "temporary failure in name resolution",
)
"""git messages (lower case) of a server that did not answer: transient, unlike a missing
repository, a refused key or a wrong password."""


def _explain(error: git.GitCommandError, timeout: float) -> tuple[str, bool]:
    """The useful line of git's stderr, redacted, or a timeout message; and whether the
    failure is transient (a timeout or a server out of reach)."""
    text = str(error.stderr or "").strip()
    if "did not complete in" in str(error) or error.status in (-9, 137):
        return f"timed out after {timeout:g}s", True
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line.removeprefix("stderr: ").strip("'") for line in lines]
    noise = ("Please make sure", "and the repository exists", "hint:", "Warning: Permanently")
    useful = [line for line in lines if not line.startswith(noise)][-3:]
    transient = any(marker in text.lower() for marker in _UNREACHABLE)
    return redact.message("; ".join(useful) or f"git exited with status {error.status}"), transient
