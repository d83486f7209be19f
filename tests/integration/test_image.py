"""The container image: the Dockerfile passes hadolint, and its build stage, replayed on this
machine from the Dockerfile's own lines, installs a Faros that starts.

There is no container engine here, so the build stage's COPY and RUN instructions are run
on the host: container paths live under a temporary root, and ``--no-cache-dir`` is dropped
so that pip's cache serves the dependencies (still from PyPI, under ``constraints.txt``).
Replaying the file, rather than repeating its commands, keeps the two from drifting apart.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import faros
from tests.harness import cluster as cluster_harness

REPO = cluster_harness.REPO
DOCKERFILE = REPO / "Dockerfile"
BIN = Path(sys.executable).parent
COMPILERS = {"gcc", "g++", "cc", "clang", "build-essential", "make", "python3-dev"}

# Replaying the build stage takes about half a minute even with pip's cache.
slow = pytest.mark.heavy


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str

    def json_array(self) -> list[str] | None:
        """The arguments of the exec form (``["faros"]``), or None for the shell form."""
        if not self.arguments.startswith("["):
            return None
        words: list[str] = json.loads(self.arguments)
        return words


def stages(text: str) -> list[list[Instruction]]:
    """The Dockerfile's instructions, continuation lines joined, grouped by FROM."""
    found: list[list[Instruction]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        pending = ""
        if keyword.upper() == "FROM":
            found.append([])
        elif not found:
            raise AssertionError(f"instruction before the first FROM: {keyword}")
        found[-1].append(Instruction(keyword.upper(), " ".join(arguments.split())))
    return found


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert not [p for p in patterns if p.startswith("!")], "exceptions are not understood here"
    return patterns


def is_ignored(relative: str, patterns: list[str]) -> bool:
    """True when .dockerignore keeps ``relative`` (or a folder above it) out of the context."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        regex = re.escape(pattern.strip("/")).replace(r"\*\*/", "(.*/)?")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            return True
    return False


def _copy(instruction: Instruction, *, workdir: Path, patterns: list[str]) -> None:
    """COPY from the build context (this checkout), leaving out what .dockerignore excludes."""
    *sources, destination = shlex.split(instruction.arguments)
    assert not [s for s in sources if s.startswith("--")], f"unexpected {instruction}"
    target = workdir / destination
    for source in sources:
        assert not is_ignored(source, patterns), f".dockerignore excludes COPY source {source}"
        path = REPO / source
        if path.is_dir():

            def skip(folder: str, names: list[str]) -> set[str]:
                base = Path(folder).relative_to(REPO).as_posix()
                return {n for n in names if is_ignored(f"{base}/{n}", patterns)}

            shutil.copytree(path, target, ignore=skip, dirs_exist_ok=True)
        elif destination.endswith("/") or len(sources) > 1:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / path.name)
        else:
            shutil.copy2(path, target)


def _in_root(argument: str, root: Path) -> str:
    """Move an absolute container path (also ``--option=/path``) under ``root``."""
    option, equals, value = argument.partition("=")
    if equals and value.startswith("/") and option.startswith("-"):
        return f"{option}={root}{value}"
    return f"{root}{argument}" if argument.startswith("/") else argument


def _run(instruction: Instruction, *, workdir: Path, root: Path) -> None:
    """RUN each ``&&``-joined command of the build stage: python and /opt/venv tools only."""
    words = shlex.split(instruction.arguments)
    commands: list[list[str]] = [[]]
    for word in words:
        if word == "&&":
            commands.append([])
        else:
            commands[-1].append(word)
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    for command in commands:
        program, *arguments = command
        assert program == "python" or program.startswith("/opt/venv/bin/"), (
            f"the test cannot replay {program!r} on the host: {instruction}"
        )
        argv = [sys.executable if program == "python" else _in_root(program, root)]
        for argument in arguments:
            if argument == "--no-cache-dir":
                continue  # the cache keeps the test quick; the packages are the same
            moved = _in_root(argument, root)
            matches = sorted(glob.glob(moved)) if "*" in moved else []
            argv.extend(matches or [moved])
        done = subprocess.run(
            argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        assert done.returncode == 0, f"{shlex.join(command)} failed:\n{done.stdout}{done.stderr}"


@dataclass(frozen=True)
class Built:
    root: Path
    wheel: Path

    @property
    def bin(self) -> Path:
        return self.root / "opt" / "venv" / "bin"

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run a program of the built venv outside the checkout, as in the image."""
        program, *rest = argv
        env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            [str(self.bin / program), *rest],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The build stage replayed: /src, /wheels and /opt/venv under a temporary root."""
    root = tmp_path_factory.mktemp("image")
    build, *_ = stages(DOCKERFILE.read_text())
    patterns = dockerignore_patterns()
    workdir = root
    for instruction in build[1:]:
        if instruction.keyword == "WORKDIR":
            workdir = root / instruction.arguments.lstrip("/")
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            _copy(instruction, workdir=workdir, patterns=patterns)
        elif instruction.keyword == "RUN":
            _run(instruction, workdir=workdir, root=root)
        else:
            raise AssertionError(f"the test does not know how to replay {instruction}")
    wheels = list((root / "wheels").glob("faros-*.whl"))
    assert len(wheels) == 1, wheels
    return Built(root=root, wheel=wheels[0])


def test_hadolint_finds_nothing(tmp_path: Path):
    # A home of its own, so that no user-level hadolint.yaml can switch rules off.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path)}
    done = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(DOCKERFILE)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_final_stage_runs_faros_from_the_venv_as_the_charts_user():
    build, final = stages(DOCKERFILE.read_text())
    assert build[0].arguments.endswith(" AS build"), build[0]
    assert re.fullmatch(r"python:3\.\d+-slim(-\w+)?", final[0].arguments), final[0]
    copies = [i.arguments for i in final if i.keyword == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    assert [i.arguments for i in final if i.keyword == "USER"] == ["65532:65532"]
    entrypoint = [i.json_array() for i in final if i.keyword == "ENTRYPOINT"]
    assert entrypoint == [["faros"]]
    env = " ".join(i.arguments for i in final if i.keyword == "ENV")
    assert 'PATH="/opt/venv/bin:${PATH}"' in env
    installs = " ".join(i.arguments for i in final if i.keyword == "RUN")
    packages = {word.split("=")[0] for word in installs.split() if re.match(r"[a-z0-9.+-]+=", word)}
    assert {"git", "openssh-client"} <= packages
    assert not packages & COMPILERS
    assert "--uid 65532 --gid 65532" in installs


def test_dockerignore_keeps_the_context_to_what_the_build_copies():
    patterns = dockerignore_patterns()
    for path in (".git", ".venv", "tests", "faros/__pycache__/cli.cpython-311.pyc"):
        assert is_ignored(path, patterns), path
    for path in ("pyproject.toml", "constraints.txt", "celeryconfig.py", "faros/cli.py"):
        assert not is_ignored(path, patterns), path


@slow
def test_the_wheel_holds_faros_and_celeryconfig_and_no_tests(built: Built):
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
    assert "celeryconfig.py" in names
    assert {"faros/cli.py", "faros/tasks/app.py", "faros/testing/gomod/kube/go.mod"} <= set(names)
    assert not [n for n in names if n.startswith(("tests/", "helm/", "docs/"))]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


@slow
def test_the_installed_faros_starts(built: Built):
    helped = built.run("faros", "--help")
    assert helped.returncode == 0, helped.stderr
    for command in ("worker", "beat", "watch", "run", "version"):
        assert re.search(rf"^\s+{command}\s", helped.stdout, re.MULTILINE), helped.stdout

    version = built.run("faros", "version")
    assert (version.returncode, version.stdout) == (0, f"faros {faros.__version__}\n")


@slow
def test_celeryconfig_and_the_app_import_from_the_venv_not_the_checkout(built: Built):
    code = "import celeryconfig, faros.tasks.app; print(celeryconfig.__file__, faros.__file__)"
    imported = built.run("python", "-c", code)
    assert imported.returncode == 0, imported.stderr
    site = str(built.root / "opt" / "venv" / "lib")
    assert [path.startswith(site) for path in imported.stdout.split()] == [True, True]


@slow
def test_flower_runs_as_a_celery_subcommand_of_the_app(built: Built):
    # The chart starts Flower from this image as `celery --app=faros.tasks.app flower`.
    helped = built.run("celery", "--app=faros.tasks.app", "flower", "--help")
    assert helped.returncode == 0, helped.stderr
    assert "Usage: celery flower" in helped.stdout
