"""``qwen-desktop key set|status|delete``: the API key in the system keyring (never in argv)."""

from __future__ import annotations

import argparse
import sys

from desktop.cli.output import EXIT_AUTH, EXIT_OK, EXIT_USAGE, error_line, fail
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.secrets import (
    MAX_KEY_LENGTH,
    KeyringUnavailable,
    KeySource,
    KeyStore,
    backend_is_usable,
    clean_key,
    mask_key,
)

# One line of stdin is read, at most this many bytes: `key set < /dev/zero` must end, not eat memory.
STDIN_LIMIT = 4 * MAX_KEY_LENGTH


class _StdinRefused(Exception):
    pass


def _read_stdin_line() -> str:
    """The first line of stdin, bounded; UTF-8 (a byte order mark is dropped)."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text-only stdin (embedded use): bounded too
        text = sys.stdin.readline(STDIN_LIMIT + 1)
        if len(text) > STDIN_LIMIT:
            raise _StdinRefused(f"the key on stdin is too long (more than {STDIN_LIMIT} characters)")
        return text
    raw = stream.readline(STDIN_LIMIT + 1)
    if len(raw) > STDIN_LIMIT:
        raise _StdinRefused(f"the key on stdin is too long (more than {STDIN_LIMIT} bytes on one line)")
    try:
        return str(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise _StdinRefused("the key on stdin is not text (UTF-8)") from None


def run_key(args: argparse.Namespace) -> int:
    store = KeyStore()
    if args.key_command == "set":
        try:
            if sys.stdin.isatty():
                import getpass

                typed = getpass.getpass("DashScope API key (input hidden): ")
            else:
                typed = _read_stdin_line()
        except _StdinRefused as refused:
            return fail(str(refused), EXIT_USAGE)
        try:
            key = clean_key(typed)
        except QwenError as error:
            if error.kind is ErrorKind.NO_KEY:
                return fail("no key given on stdin", EXIT_USAGE)
            return fail(error_line(error), EXIT_USAGE)
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
