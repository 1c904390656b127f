"""The command line: one module per command group, one output module (messages and exit codes)."""

from desktop.cli.main import SUBCOMMANDS, build_parser, run_cli

__all__ = ["SUBCOMMANDS", "build_parser", "run_cli"]
