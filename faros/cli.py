"""The ``faros`` command: read the settings, set up logging, run the command.

Exit codes: 0 done (also ``--help`` and ``version``), 1 cannot start (e.g. no usable
kubeconfig; one line on stderr), 2 bad command line or environment (one line on stderr).
"""

import logging
import os
import sys
from collections.abc import Sequence

import faros
from faros import config, logs
from faros.kube import client

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FAILURE = 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``faros`` with ``argv`` (default: the process's arguments); return the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("status", "sync", "suspend", "resume", "diff"):
        from faros import ctl  # the commands for people (docs/cli.md)

        return ctl.main(argv)
    if argv and argv[0] == "dev":
        from faros import dev  # a local control plane and the example (docs/cli.md)

        return dev.main(argv[1:])
    try:
        command, settings = config.parse(argv, os.environ)
    except config.HelpRequested as request:
        sys.stdout.write(request.text)
        return EXIT_OK
    except config.ConfigError as error:
        print(f"faros: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if command is config.Command.VERSION:
        print(f"faros {faros.__version__}")
        return EXIT_OK
    logs.configure(level=settings.log_level, as_json=settings.log_format is config.LogFormat.JSON)
    for warning in settings.warnings:
        logger.warning(warning)  # a fixed sentence per flag, so still a constant message
    try:
        return _run(command, settings)
    except client.ConnectError as error:
        print(f"faros: error: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _run(command: config.Command, settings: config.Settings) -> int:
    if command is config.Command.WORKER:
        from faros.tasks import worker

        return worker.run(settings)
    if command is config.Command.BEAT:
        from faros.beat import command as beat

        return beat.run(settings)
    if command is config.Command.WATCH:
        from faros.watchers import command as watch

        return watch.run(settings)
    if command is config.Command.RECEIVER:
        from faros.receiver import command as receiver

        return receiver.run(settings)
    from faros.watchers import embedded

    return embedded.run(settings)
