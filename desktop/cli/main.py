"""The command-line face of the same core: the parser and the dispatch. No Qt is imported here."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from desktop import __version__
from desktop.cli import SUBCOMMANDS, interrupted
from desktop.cli.backup import add_backup_parser
from desktop.cli.chat import run_chat
from desktop.cli.history import add_history_parser
from desktop.cli.key import run_key
from desktop.cli.notes import add_notes_parser
from desktop.cli.logs import cli_logging
from desktop.cli.output import EXIT_USAGE, fail_with, output_closed, unexpected
from desktop.cli.terminal import safe_streams
from desktop.core.errors import QwenError

__all__ = ["SUBCOMMANDS", "build_parser", "run_cli"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qwen-desktop",
        description="Chat with Qwen and search your notes. Without a command, opens the window.",
        epilog="qwen-desktop --self-test checks this installation.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    chat = sub.add_parser("chat", help="ask Qwen and stream the answer to stdout")
    chat.add_argument("prompt", nargs="*", help="the question; '-' or nothing reads stdin")
    chat.add_argument("--model", "-m", help="model id, e.g. qwen-plus")
    chat.add_argument("--system", "-s", help="system prompt (default: the one in Settings)")
    thinking = chat.add_mutually_exclusive_group()
    thinking.add_argument("--thinking", dest="thinking", action="store_true", default=None,
                          help="deep thinking on (models that support it)")
    thinking.add_argument("--no-thinking", dest="thinking", action="store_false",
                          help="deep thinking off")
    chat.add_argument("--show-thinking", action="store_true",
                      help="print the model's reasoning to stderr")
    chat.add_argument("--web", action="store_true",
                      help="let Qwen search the web, then list the pages it cites ([n] Title — URL)")
    chat.add_argument("--notes", action="store_true",
                      help="answer from your indexed notes, then list the sources it cites")
    chat.set_defaults(func=lambda a: asyncio.run(run_chat(a)))

    key = sub.add_parser("key", help="manage the API key in the system keyring")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    key_sub.add_parser("set", help="read the key from stdin and store it in the keyring")
    key_sub.add_parser("status", help="where the key comes from (environment / keyring / none)")
    key_sub.add_parser("delete", help="remove the key from the keyring")
    key.set_defaults(func=run_key)

    add_notes_parser(sub)
    add_history_parser(sub)
    add_backup_parser(sub)
    return parser


def run_cli(argv: Sequence[str]) -> int:
    """Run one command: its output written through the terminal-safe streams, log records as plain
    lines, and whatever happens, one plain line on stderr and an exit code (never a traceback)."""
    with safe_streams(), cli_logging():
        try:
            return _dispatch(argv)
        except KeyboardInterrupt:
            return interrupted()
        except BrokenPipeError:
            return output_closed()


def _dispatch(argv: Sequence[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except QwenError as error:
        return fail_with(error)
    except Exception as exc:  # noqa: BLE001 - never a traceback or a hang: one line, the log, exit 4
        return unexpected(exc)
