"""Run the `faros` command line: ``python -m faros``."""

from faros import cli

raise SystemExit(cli.main())
