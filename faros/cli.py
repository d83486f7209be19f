"""The ``faros`` command: read the settings, set up logging, run the command.

Exit codes: 0 done (also ``--help`` and ``version``), 2 bad command line or environment
(one line on stderr), 3 the command is not implemented yet (run).
"""

import logging
import os
import sys
from collections.abc import Sequence

import faros
from faros import config, logs

logger = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NOT_IMPLEMENTED = 3


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``faros`` with ``argv`` (default: the process's arguments); return the exit code."""
    try:
        command, settings = config.parse(sys.argv[1:] if argv is None else argv, os.environ)
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
    if command is config.Command.WORKER:
        from faros.tasks import worker

        return worker.run(settings)
    if command is config.Command.BEAT:
        from faros.beat import command as beat

        return beat.run(settings)
    if command is config.Command.WATCH:
        from faros.watchers import command as watch

        return watch.run(settings)
    print(
        f"faros: the {command} command is not implemented yet; it lands with the issue "
        '"Distributed runtime". Nothing was started.',
        file=sys.stderr,
    )
    return EXIT_NOT_IMPLEMENTED
