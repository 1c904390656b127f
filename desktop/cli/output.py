"""What every command prints when it fails, and the exit code it returns: one place for both.

Exit codes: 0 success, 1 other failure, 2 usage, 3 key/auth, 4 service or network (after retries),
and 4 for an unexpected error too (one plain line naming the log that keeps the traceback).
"""

from __future__ import annotations

import logging
import sys
import traceback

from desktop.core import paths
from desktop.core.errors import ErrorKind, QwenError, exit_code

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_AUTH, EXIT_SERVICE = 0, 1, 2, 3, 4

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
    """An error nobody classified: the traceback goes to the log, the user gets one line."""
    try:
        log_file = paths.log_dir() / "qwen-desktop-cli.log"
        with log_file.open("a", encoding="utf-8") as out:
            out.write("".join(traceback.format_exception(exc)))
        where = f" (details in {log_file})"
    except OSError:
        where = ""
    return fail(f"unexpected error: {type(exc).__name__}{where}", EXIT_SERVICE)
