"""The ``faros`` command line as a user meets it: exit codes, output, one-line errors."""

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

import faros
from faros import cli, config

PROCESS_COMMANDS = ["worker", "beat", "watch", "run", "receiver"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Run with no Faros, Celery or kubeconfig variables from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("FAROS_") or name in ("KUBECONFIG", "CELERY_BROKER_URL"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def restore_logging():
    """Undo what ``faros`` sets up on the root logger, so other tests see the usual setup."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.parametrize("argv", [["--version"], ["version"]], ids=["flag", "command"])
def test_version_is_printed(argv, capsys):
    assert cli.main(argv) == 0
    out, err = capsys.readouterr()
    assert (out, err) == (f"faros {faros.__version__}\n", "")


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["worker", "--fetch-timeout", "abc"],
         "faros: error: --fetch-timeout: invalid duration 'abc' (expected e.g. 30s, 5m, 1h30m)"),
        (["beat", "--sync-period=0"],
         "faros: error: --sync-period: duration '0' must be greater than 0"),
        (["run", "--bogus"], "faros: error: --bogus: unknown flag"),
        ([], "faros: error: missing command (expected one of worker, beat, watch, run, receiver, "
         "version)"),
        (["watch", "--namespace=a"],
         'faros: error: --namespace: Cannot run with namespace "a" and clustergittrack-mode '
         "enabled"),
        (["worker", "--namespace=a\nb"], "faros: error: --namespace: invalid namespace 'a\\nb'"),
    ],
    ids=["bad-duration", "zero-period", "unknown-flag", "no-command", "combination", "newline"],
)  # fmt: skip
def test_error_is_one_line_on_stderr_and_exit_code_2(argv, line, capsys):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(line)


def test_bad_environment_variable_is_named(monkeypatch, capsys):
    monkeypatch.setenv("FAROS_GITTRACK_MODE", "sometimes")
    assert cli.main(["worker"]) == 2
    assert capsys.readouterr().err == (
        "faros: error: FAROS_GITTRACK_MODE: invalid value 'sometimes' "
        "(expected one of Disabled, Enabled)\n"
    )


@pytest.mark.parametrize("argv", [["--help"], ["-h"]], ids=["long", "short"])
def test_top_level_help_lists_the_commands(argv, capsys):
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    for command in config.Command:
        assert command in out


@pytest.mark.parametrize("command", PROCESS_COMMANDS)
def test_command_help_lists_every_flag_with_default_and_variable(command, capsys):
    assert cli.main([command, "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # undo argparse's line wrapping
    for option in config.options(config.Command(command)):
        assert option.flag in out
        assert option.env in out
    for shown in ("default: 30s", "default: 5m", "default: Enabled", "default: :8080"):
        assert shown in out


def test_run_without_a_usable_kubeconfig_fails_with_one_line(capsys, tmp_path):
    missing = tmp_path / "nope"

    assert cli.main(["run", f"--kubeconfig={missing}"]) == 1

    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith(f"faros: error: cannot load the Kubernetes configuration ({missing})")


def test_leader_election_flags_are_logged_as_ignored(capsys):
    argv = ["run", "--leader-election", "--leader-election-id=faros", "--kubeconfig=/nonexistent"]
    assert cli.main(argv) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3
    assert "level=warning" in lines[0]
    assert (
        'msg="--leader-election ignored: per-object Redis locks replace leader election"'
        in (lines[0])
    )
    assert "--leader-election-id ignored" in lines[1]


def test_json_log_format(capsys):
    assert cli.main(["run", "--log-format=json", "--leader-election=true",
                     "--kubeconfig=/nonexistent"]) == 1  # fmt: skip
    record = json.loads(capsys.readouterr().err.splitlines()[0])
    assert record["level"] == "warning"
    assert record["logger"] == "faros.cli"
    assert record["msg"].startswith("--leader-election ignored")


def test_module_and_console_script_run_as_programs():
    script = Path(sys.executable).parent / "faros"
    for program in ([sys.executable, "-m", "faros"], [str(script)]):
        result = subprocess.run(
            [*program, "--help"], capture_output=True, text=True, timeout=60, check=False
        )
        assert (result.returncode, result.stderr) == (0, ""), program
        assert "worker" in result.stdout
        result = subprocess.run(
            [*program, "worker", "--sync-period=soon"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, program
        assert result.stderr.startswith("faros: error: --sync-period: invalid duration 'soon'")
