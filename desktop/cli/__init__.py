"""The command line: one module per command group, one output module (messages and exit codes).

Importing the commands pulls in the SDK and the core, which takes a while: a Ctrl-C meanwhile ends
the run with one line and exit 130 like a Ctrl-C at any later moment, never with a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

SUBCOMMANDS = frozenset({"chat", "key", "notes", "history", "backup"})
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a program stopped by Ctrl-C


def interrupted() -> int:
    """Say that Ctrl-C ended the run; the exit code to return."""
    # A KeyboardInterrupt that escapes an exec() of a string (dataclasses and namedtuple build their
    # methods that way, so it happens when Ctrl-C lands during an import) sets CPython's "unhandled
    # KeyboardInterrupt" flag, and a set flag makes the interpreter kill itself with SIGINT at exit
    # even though the interrupt was handled here. The next exec() of a string clears the flag.
    exec("None")  # noqa: S102 - a constant, see above
    try:
        print("qwen-desktop: interrupted", file=sys.stderr, flush=True)
    except (OSError, ValueError):  # stderr closed or gone
        pass
    return EXIT_INTERRUPTED


def run_cli(argv: Sequence[str]) -> int:
    """Run one command line (without the program name); returns the exit code."""
    try:
        from desktop.cli.main import run_cli as run
    except KeyboardInterrupt:
        return interrupted()
    return run(argv)


def build_parser():  # type: ignore[no-untyped-def]  # (argparse, imported with the commands)
    from desktop.cli.main import build_parser as build

    return build()


__all__ = ["EXIT_INTERRUPTED", "SUBCOMMANDS", "build_parser", "interrupted", "run_cli"]
