"""The command-line face of the same core: no Qt is imported here.

Exit codes: 0 success, 1 other failure, 2 usage, 3 key/auth, 4 service or network (after retries).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from desktop import __version__
from desktop.core import paths
from desktop.core import settings as settings_mod
from desktop.core.ask import Source, no_notes_message
from desktop.core.chat import ChatOptions, ChatService, ContextPrepared, RetryWaiting, TurnEnded
from desktop.core.client import ContentDelta, QwenClient, ReasoningDelta
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.history import HistoryStore, Status
from desktop.core.secrets import KeySource, KeyStore, KeyringUnavailable, backend_is_usable, mask_key

SUBCOMMANDS = {"chat", "key", "notes", "history", "--self-test"}

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_AUTH, EXIT_SERVICE = 0, 1, 2, 3, 4

_AUTH_KINDS = {ErrorKind.NO_KEY, ErrorKind.AUTH, ErrorKind.ARREARAGE, ErrorKind.ACCESS_DENIED,
               ErrorKind.FREE_QUOTA, ErrorKind.KEYRING}
_SERVICE_KINDS = {ErrorKind.RATE_LIMITED, ErrorKind.QUOTA_THROTTLED, ErrorKind.SERVICE_DOWN,
                  ErrorKind.NETWORK, ErrorKind.PROXY, ErrorKind.TIMEOUT, ErrorKind.CUT_OFF}


def exit_code_for(error: QwenError) -> int:
    if error.kind in _AUTH_KINDS:
        return EXIT_AUTH
    if error.kind in _SERVICE_KINDS:
        return EXIT_SERVICE
    return EXIT_FAIL


def fail(message: str, code: int) -> int:
    print(f"qwen-desktop: {message}", file=sys.stderr)
    return code


def error_line(error: QwenError) -> str:
    extra = f" ({error.detail})" if error.detail and error.kind not in (ErrorKind.NO_KEY,) else ""
    rid = f" [request id {error.request_id}]" if error.request_id else ""
    return f"{error.message}{extra}{rid}"


# ---- chat ------------------------------------------------------------------------------------


def _read_prompt(args: argparse.Namespace) -> str | None:
    if args.prompt and args.prompt != ["-"]:
        return " ".join(args.prompt)
    if sys.stdin.isatty() and not args.prompt:
        return None
    return sys.stdin.read()


async def _chat(args: argparse.Namespace) -> int:
    from desktop.core.runtime import connection_config

    settings = settings_mod.load()
    prompt = _read_prompt(args)
    if prompt is None or not prompt.strip():
        return fail("nothing to ask: give a PROMPT or pipe text on stdin", EXIT_USAGE)
    options = ChatOptions(
        model=args.model or settings.model,
        system_prompt=settings.system_prompt if args.system is None else args.system,
        temperature=settings.temperature,
        thinking=settings.thinking if args.thinking is None else args.thinking,
        use_notes=args.notes,
    )
    if args.notes and not settings.notes_folders:
        return fail("no notes folders: add one with 'qwen-desktop notes add DIR', then run "
                    "'qwen-desktop notes index'", EXIT_USAGE)
    try:
        config = connection_config(settings, KeyStore().get())
    except QwenError as error:
        return fail(error_line(error), exit_code_for(error))
    history = HistoryStore(paths.history_db())
    service = ChatService(history)
    conversation = history.create_conversation()
    service.add_user_message(conversation.id, prompt)
    out, err = sys.stdout, sys.stderr
    ended_with_text = True
    sources: tuple[Source, ...] = ()
    searcher = None
    try:
        async with QwenClient(config) as client:
            retriever = None
            if args.notes:
                from desktop.core.ask import SearcherRetriever
                from desktop.core.notes.search import Searcher

                searcher = await Searcher.open(paths.notes_db(), client)
                retriever = SearcherRetriever(searcher)
            async for event in service.run_turn(client, conversation.id, options, retriever=retriever):
                if isinstance(event, ContextPrepared):
                    sources = event.sources or ()
                    _report_context(event, err)
                elif isinstance(event, ContentDelta):
                    out.write(event.text)
                    out.flush()
                    ended_with_text = event.text.endswith("\n")
                elif isinstance(event, ReasoningDelta) and args.show_thinking:
                    err.write(event.text)
                    err.flush()
                elif isinstance(event, RetryWaiting):
                    print(f"qwen-desktop: {event.error.message} Retrying in {event.seconds:.0f} s "
                          f"(attempt {event.attempt})…", file=err)
                elif isinstance(event, TurnEnded):
                    if event.message.status is Status.NO_NOTES:
                        print(no_notes_message(prompt), file=out)
                        return EXIT_OK
                    if not ended_with_text:
                        out.write("\n")
                        out.flush()
                    if event.error is not None:
                        return fail(error_line(event.error), exit_code_for(event.error))
                    if sources:
                        print_sources(sources, out)
    finally:
        if searcher is not None:
            await searcher.close()
        history.close()
    return EXIT_OK


def _report_context(event: ContextPrepared, err: Any) -> None:
    if event.input_limit:
        print(f"qwen-desktop: the model accepts at most {event.input_limit:,} tokens; "
              "sending a shorter request.", file=err)
    if event.omitted_messages:
        print(f"qwen-desktop: {event.omitted_messages} earlier messages were left out to fit the "
              "model's context.", file=err)
    if event.omitted_sources:
        print(f"qwen-desktop: {event.omitted_sources} relevant note excerpts did not fit into the "
              "model's context and were left out.", file=err)


def print_sources(sources: Sequence[Source], out: Any) -> None:
    """The numbered sources after an answer from notes: path and heading."""
    out.write("\nSources:\n")
    for source in sources:
        heading = f" — {source.heading}" if source.heading else ""
        out.write(f"[{source.number}] {source.path}{heading}\n")
    out.flush()


# ---- key -------------------------------------------------------------------------------------


def _key(args: argparse.Namespace) -> int:
    store = KeyStore()
    if args.key_command == "set":
        if sys.stdin.isatty():
            import getpass

            key = getpass.getpass("DashScope API key (input hidden): ")
        else:
            key = sys.stdin.readline()
        key = key.strip()
        if not key:
            return fail("no key given on stdin", EXIT_USAGE)
        try:
            store.save(key)
        except KeyringUnavailable:
            return fail("no system keyring is available, so the key was not stored. "
                        "Set DASHSCOPE_API_KEY in the environment instead.", EXIT_AUTH)
        print(f"Key {mask_key(key)} saved in the system keyring.")
        return EXIT_OK
    if args.key_command == "delete":
        if not backend_is_usable():
            return fail("no system keyring is available, so no key is stored there", EXIT_AUTH)
        try:
            store.delete()
        except KeyringUnavailable:
            return fail("the system keyring is not available", EXIT_AUTH)
        print("Key deleted from the system keyring.")
        return EXIT_OK
    key = store.get()
    if key is None:
        print("none: no API key is set. Store one with 'qwen-desktop key set' "
              "or set DASHSCOPE_API_KEY.")
        return EXIT_AUTH
    where = {KeySource.ENVIRONMENT: "environment (DASHSCOPE_API_KEY)", KeySource.KEYRING: "keyring",
             KeySource.SESSION: "session"}[key.source]
    print(f"{where}: {mask_key(key.value)}")
    return EXIT_OK


# ---- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qwen-desktop",
        description="Chat with Qwen and search your notes. Without a command, opens the window.",
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
    chat.add_argument("--notes", action="store_true",
                      help="answer from your indexed notes, then list the sources it cites")
    chat.set_defaults(func=lambda a: asyncio.run(_chat(a)))

    key = sub.add_parser("key", help="manage the API key in the system keyring")
    key_sub = key.add_subparsers(dest="key_command", metavar="ACTION", required=True)
    key_sub.add_parser("set", help="read the key from stdin and store it in the keyring")
    key_sub.add_parser("status", help="where the key comes from (environment / keyring / none)")
    key_sub.add_parser("delete", help="remove the key from the keyring")
    key.set_defaults(func=_key)

    try:
        from desktop.notes_cli import add_notes_parser
    except ImportError:  # the notes feature is optional in a partial checkout
        pass
    else:
        add_notes_parser(sub)
    try:
        from desktop.history_cli import add_history_parser
    except ImportError:
        pass
    else:
        add_history_parser(sub)
    return parser


def run_cli(argv: Sequence[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if argv and argv[0] == "--self-test":
        from desktop.selftest import run_self_test

        return run_self_test(list(argv[1:]))
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
    except KeyboardInterrupt:
        return 130
    except QwenError as error:
        return fail(error_line(error), exit_code_for(error))
