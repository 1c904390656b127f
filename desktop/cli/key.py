"""``qwen-desktop key set|status|delete``: the API key in the system keyring (never in argv)."""

from __future__ import annotations

import argparse
import sys

from desktop.cli.output import EXIT_AUTH, EXIT_OK, EXIT_USAGE, fail
from desktop.core.secrets import KeyringUnavailable, KeySource, KeyStore, backend_is_usable, mask_key


def run_key(args: argparse.Namespace) -> int:
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
