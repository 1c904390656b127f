"""What every command prints when it fails, and the exit code it returns: one place for both.

Exit codes: 0 success, 1 other failure, 2 usage, 3 key/auth, 4 service or network (after retries),
and 4 for an unexpected error too (one plain line naming the log that keeps the traceback).
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from pathlib import Path

from desktop.core import paths
from desktop.core.errors import ErrorKind, QwenError, exit_code, redact

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_AUTH, EXIT_SERVICE = 0, 1, 2, 3, 4
LOG_NAME = "qwen-desktop-cli.log"
LOG_LIMIT = 1_000_000  # bytes; past it the log becomes LOG_NAME.1 (the one older copy kept)

log = logging.getLogger("desktop.cli")


def exit_code_for(error: QwenError) -> int:
    return exit_code(error.kind)


def fail(message: str, code: int) -> int:
    print(f"qwen-desktop: {message}", file=sys.stderr)
    return code


def error_line(error: QwenError) -> str:
    extra = f" ({error.detail})" if error.detail and error.kind is not ErrorKind.NO_KEY else ""
    rid = f" [request id {error.request_id}]" if error.request_id else ""
    return f"{error.message}{extra}{rid}"


def fail_with(error: QwenError) -> int:
    return fail(error_line(error), exit_code_for(error))


def unexpected(exc: BaseException) -> int:
    """An error nobody classified: the traceback goes to the log, the user gets one line.

    The log is the owner's only, bounded in size, and keeps no key or password (redacted)."""
    try:
        log_file = paths.log_dir() / LOG_NAME
        _rotate_if_full(log_file)
        with paths.open_private(log_file) as out:
            out.write(redact("".join(traceback.format_exception(exc))))
        where = f" (details in {log_file})"
    except OSError:
        where = ""
    return fail(f"unexpected error: {type(exc).__name__}{where}", EXIT_SERVICE)


def _rotate_if_full(log_file: Path) -> None:
    try:
        full = log_file.stat().st_size >= LOG_LIMIT
    except FileNotFoundError:
        return
    if full:
        os.replace(log_file, log_file.with_name(log_file.name + ".1"))
