"""Entry point: ``qwen-desktop`` / ``python -m desktop``.

No arguments opens the window; subcommands (chat, key, notes, ...) run the command line without Qt;
``--self-test`` checks the installation. Each face is imported only when it is the one asked for.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--self-test":
        from desktop.selftest import run_self_test

        return run_self_test(args[1:])
    from desktop.cli import SUBCOMMANDS, run_cli

    # A word that is no command (a typo such as "caht") is a usage error, not a reason to open the
    # window; options starting with "-" that the CLI does not know go to Qt (e.g. -style, -platform).
    if args and (args[0] in SUBCOMMANDS or args[0] in {"-h", "--help", "--version"}
                 or not args[0].startswith("-")):
        return run_cli(args)
    from desktop.gui.app import run_app

    return run_app(args)


if __name__ == "__main__":
    sys.exit(main())
