"""Bare Git repositories on disk, built from dicts of files, for tests to serve.

Runs the git CLI (argument lists, no shell) with a fixed identity and clock and with
the user's and system's Git configuration switched off, so it works on a machine with
no Git configuration at all. Commits are written with plumbing straight into the bare
repository: there is never a working tree to clean up. It never touches the network.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

__all__ = [
    "Executable",
    "FileContent",
    "Files",
    "GitError",
    "Repo",
    "Symlink",
    "git_env",
    "import_bare",
    "make_repo",
    "repo_from_tarball",
]

AUTHOR_NAME = "Faros Test"
AUTHOR_EMAIL = "faros-test@example.invalid"
#: Commit n of a repository is dated FIRST_COMMIT_DATE + n minutes unless told otherwise.
FIRST_COMMIT_DATE = datetime(2024, 1, 1, tzinfo=UTC)

_MODE_FILE = "100644"
_MODE_EXECUTABLE = "100755"
_MODE_SYMLINK = "120000"


@dataclass(frozen=True, slots=True)
class Symlink:
    """A symbolic link in a commit; `target` is stored as is (may point anywhere)."""

    target: str


@dataclass(frozen=True, slots=True)
class Executable:
    """A regular file with the executable bit (mode 100755)."""

    content: str | bytes


#: A file's content in a commit: text (UTF-8), bytes, a symlink, an executable file,
#: or None to delete that path (a file, or a directory with everything under it).
FileContent = str | bytes | Symlink | Executable | None
Files = Mapping[str, FileContent]


class GitError(RuntimeError):
    """A git command failed; the message holds the command and its stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stderr: str) -> None:
        self.args_ = list(args)
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"git {' '.join(args)} exited {returncode}: {stderr.strip()}")


def git_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return an environment for git: no inherited GIT_*, no global/system config.

    Git never prompts for anything in this environment (GIT_TERMINAL_PROMPT=0, no
    askpass programs), and its messages are in English (LC_ALL=C).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("GIT_") and key not in {"SSH_ASKPASS", "SSH_AUTH_SOCK"}
    }
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        LC_ALL="C",
        GIT_AUTHOR_NAME=AUTHOR_NAME,
        GIT_AUTHOR_EMAIL=AUTHOR_EMAIL,
        GIT_COMMITTER_NAME=AUTHOR_NAME,
        GIT_COMMITTER_EMAIL=AUTHOR_EMAIL,
    )
    if extra:
        env.update(extra)
    return env


def _run_git(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
) -> bytes:
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=git_env(env),
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        check=False,
        timeout=60,
    )
    if proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode(errors="replace"))
    return proc.stdout


def _normalise_path(path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or not pure.parts or any(p in {"", ".", ".."} for p in pure.parts):
        raise ValueError(f"not a relative path inside a repository: {path!r}")
    return pure.as_posix()


class Repo:
    """A bare repository under a served root, with helpers to change its history.

    `path` is the bare repository (`<root>/<name>`, name ending in `.git`); `name` is
    its path relative to `root`, which is what a server puts in its URLs. `commits`
    lists the SHAs made through this object (for an imported repository: the history of
    its default branch), oldest first.
    """

    __slots__ = ("_commits", "branch", "name", "path", "root")

    def __init__(self, *, root: Path, name: str, branch: str, commits: Sequence[str] = ()):
        self.root = root
        self.name = name
        self.path = root / name
        self.branch = branch
        self._commits = list(commits)

    def __repr__(self) -> str:
        return f"Repo({str(self.path)!r}, branch={self.branch!r})"

    @property
    def commits(self) -> list[str]:
        return list(self._commits)

    def git(self, *args: str, stdin: bytes | None = None) -> str:
        """Run `git <args>` in this bare repository and return its stdout as text."""
        return _run_git(["--git-dir", str(self.path), *args], stdin=stdin).decode()

    def _git_bytes(
        self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> bytes:
        return _run_git(["--git-dir", str(self.path), *args], stdin=stdin, env=env)

    def rev_parse(self, rev: str) -> str:
        """Return the commit SHA that `rev` (branch, tag, SHA, `HEAD~1` …) names."""
        return self.git("rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}").strip()

    def head(self, branch: str | None = None) -> str | None:
        """Return the tip of `branch` (default: the default branch), None if it has none."""
        ref = f"refs/heads/{branch or self.branch}"
        try:
            return self.git("rev-parse", "--verify", "--quiet", ref).strip()
        except GitError:
            return None

    def log(self, rev: str | None = None) -> list[str]:
        """Return the SHAs reachable from `rev` (default: the default branch), oldest first."""
        out = self.git("rev-list", "--reverse", "--topo-order", rev or self.branch, "--")
        return out.split()

    def files(self, rev: str | None = None) -> list[str]:
        """Return the paths in the tree of `rev` (default: the default branch), sorted."""
        args = ["ls-tree", "-r", "-z", "--name-only", "--full-tree", rev or self.branch]
        out = self._git_bytes(*args)
        return sorted(p.decode() for p in out.split(b"\0") if p)

    def read(self, path: str, rev: str | None = None) -> bytes:
        """Return the content of `path` at `rev` (default: the default branch)."""
        return self._git_bytes("cat-file", "blob", f"{rev or self.branch}:{path}")

    def refs(self) -> dict[str, str]:
        """Return every ref (`refs/heads/…`, `refs/tags/…`) and the object it points to."""
        out = self.git("for-each-ref", "--format=%(refname) %(objectname)")
        refs: dict[str, str] = {}
        for line in out.splitlines():
            ref, sha = line.split(" ", 1)
            refs[ref] = sha
        return refs

    def commit(
        self,
        files: Files,
        *,
        message: str | None = None,
        branch: str | None = None,
        replace: bool = False,
        date: datetime | None = None,
    ) -> str:
        """Commit changes to `files` on top of `branch` (default: the default branch).

        Paths not named keep their content unless `replace` is true, in which case the
        commit holds exactly `files`. A branch that does not exist yet starts with this
        commit as its root. Returns the new commit's SHA.
        """
        branch = branch or self.branch
        parent = self.head(branch)
        entries = {} if parent is None or replace else self._tree_entries(parent)
        for raw_path, content in files.items():
            self._apply(entries, _normalise_path(raw_path), content)
        tree = self._write_tree(entries)
        when = date or FIRST_COMMIT_DATE + timedelta(minutes=len(self._commits))
        stamp = f"@{int(when.timestamp())} +0000"
        parents = [] if parent is None else ["-p", parent]
        sha = (
            self._git_bytes(
                "commit-tree",
                tree,
                *parents,
                "-m",
                message or f"commit {len(self._commits) + 1}",
                env={"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp},
            )
            .decode()
            .strip()
        )
        old = parent or "0" * 40
        self.git("update-ref", "-m", "commit", f"refs/heads/{branch}", sha, old)
        self._commits.append(sha)
        return sha

    def create_branch(self, name: str, rev: str | None = None) -> str:
        """Create branch `name` at `rev` (default: the default branch's tip); return its SHA."""
        sha = self.rev_parse(rev or self.branch)
        self.git("update-ref", f"refs/heads/{name}", sha, "0" * 40)
        return sha

    def move_branch(self, name: str, rev: str) -> str:
        """Point branch `name` at `rev`, also backwards (a force-push); return its SHA."""
        sha = self.rev_parse(rev)
        self.git("update-ref", f"refs/heads/{name}", sha)
        return sha

    def delete_branch(self, name: str) -> None:
        self.git("update-ref", "-d", f"refs/heads/{name}")

    def tag(self, name: str, rev: str | None = None, *, message: str | None = None) -> str:
        """Tag `rev` (default: the default branch's tip), annotated if `message` is given."""
        sha = self.rev_parse(rev or self.branch)
        if message is None:
            self.git("update-ref", f"refs/tags/{name}", sha, "0" * 40)
        else:
            self.git("tag", "-a", "-m", message, name, sha)
        return sha

    def delete_tag(self, name: str) -> None:
        self.git("update-ref", "-d", f"refs/tags/{name}")

    def _tree_entries(self, rev: str) -> dict[str, tuple[str, str]]:
        out = self._git_bytes("ls-tree", "-r", "-z", "--full-tree", rev)
        entries: dict[str, tuple[str, str]] = {}
        for record in out.split(b"\0"):
            if record:
                meta, path = record.decode().split("\t", 1)
                mode, _type, sha = meta.split(" ")
                entries[path] = (mode, sha)
        return entries

    def _apply(self, entries: dict[str, tuple[str, str]], path: str, content: FileContent) -> None:
        below = [p for p in entries if p.startswith(path + "/")]
        if content is None:
            if path not in entries and not below:
                raise ValueError(f"cannot delete {path!r}: no such file or directory")
            for p in [path, *below]:
                entries.pop(p, None)
            return
        # A file replaces a directory of the same name, and the other way round.
        for p in below:
            del entries[p]
        parts = PurePosixPath(path).parents
        for parent in parts:
            entries.pop(parent.as_posix(), None)
        entries[path] = self._blob(content)

    def _blob(self, content: str | bytes | Symlink | Executable) -> tuple[str, str]:
        mode = _MODE_FILE
        if isinstance(content, Symlink):
            mode, content = _MODE_SYMLINK, content.target
        elif isinstance(content, Executable):
            mode, content = _MODE_EXECUTABLE, content.content
        data = content.encode() if isinstance(content, str) else content
        return mode, self._git_bytes("hash-object", "-w", "--stdin", stdin=data).decode().strip()

    def _write_tree(self, entries: Mapping[str, tuple[str, str]]) -> str:
        with tempfile.TemporaryDirectory(prefix="faros-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            listing = b"".join(
                f"{mode} {sha}\t{path}".encode() + b"\0"
                for path, (mode, sha) in sorted(entries.items())
            )
            self._git_bytes("update-index", "-z", "--index-info", stdin=listing, env=env)
            return self._git_bytes("write-tree", env=env).decode().strip()


def _bare_name(name: str) -> str:
    name = _normalise_path(name)
    return name if name.endswith(".git") else f"{name}.git"


def _init_bare(root: Path, name: str, branch: str) -> Repo:
    name = _bare_name(name)
    path = root / name
    if path.exists():
        raise FileExistsError(f"repository already exists: {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _run_git(["init", "--quiet", "--bare", f"--initial-branch={branch}", str(path)])
    return Repo(root=root, name=name, branch=branch)


def make_repo(
    root: Path,
    name: str,
    commits: Sequence[Files],
    *,
    branch: str = "master",
    tags: Mapping[str, int] | None = None,
) -> Repo:
    """Create bare repository `<root>/<name>.git` with one commit per dict of files.

    Each dict changes the previous commit's tree (see `Repo.commit`). `tags` maps a
    lightweight tag name to the index of the commit it points to.
    """
    repo = _init_bare(root, name, branch)
    for files in commits:
        repo.commit(files)
    for tag, index in (tags or {}).items():
        repo.tag(tag, repo.commits[index])
    return repo


def import_bare(source: Path, root: Path, name: str) -> Repo:
    """Copy the repository at `source` (bare or not) to a new bare `<root>/<name>.git`.

    Branches and tags are copied; the default branch is the one `source`'s HEAD names.
    """
    name = _bare_name(name)
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    clone = ["clone", "--quiet", "--bare", "--no-hardlinks", "--", str(source), str(path)]
    _run_git(["-c", f"safe.directory={source}", *clone])
    head = _run_git(["--git-dir", str(path), "symbolic-ref", "--short", "HEAD"]).decode().strip()
    history = _run_git(["--git-dir", str(path), "rev-list", "--reverse", "--topo-order", head])
    return Repo(root=root, name=name, branch=head, commits=history.decode().split())


def _find_repository(top: Path) -> Path:
    candidates = [top, *(p for p in top.iterdir() if p.is_dir())]
    for candidate in candidates:
        if (candidate / ".git").is_dir():
            return candidate
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    raise FileNotFoundError(f"no Git repository at the top of the archive unpacked in {top}")


def repo_from_tarball(
    tgz: Path,
    root: Path,
    name: str = "faros-fixture",
    *,
    tags: Mapping[str, str] | None = None,
) -> Repo:
    """Unpack a tarball holding a repository (bare, or a work tree with `.git`) and
    serve a bare copy of it as `<root>/<name>.git`; SHAs are kept as they are.

    `tags` maps a lightweight tag name to a revision to tag (e.g. an upstream short SHA).
    The unpacked archive is deleted before returning.
    """
    with tempfile.TemporaryDirectory(prefix="faros-tarball-") as tmp:
        with tarfile.open(tgz) as archive:
            # The "data" filter refuses paths leaving tmp and drops the archive's owners
            # (which would otherwise trip Git's safe.directory check when run as root).
            archive.extractall(tmp, filter="data")
        repo = import_bare(_find_repository(Path(tmp)), root, name)
    for tag, rev in (tags or {}).items():
        repo.tag(tag, rev)
    return repo
