"""What every command prints when it fails, and the exit code it returns: one place for both.

Exit codes: 0 success, 1 the request or setup was refused as it stands (a large run needing --now or
--batch, no such conversation, moderation, unknown model, bad URL...), 2 usage, 3 key/auth,
4 service or network (after retries), and 4 for an unexpected error too (one plain line naming the
log that keeps the traceback); 130 interrupted (Ctrl-C), 141 stdout closed early (``| head``).
Which error kind exits with which code is decided in desktop.core.errors (one table).
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
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT): one line "interrupted"
EXIT_OUTPUT_CLOSED = 141  # stdout closed early, as when piped into head (128 + SIGPIPE): no line
LOG_NAME = "qwen-desktop-cli.log"
LOG_LIMIT = 1_000_000  # bytes; past it the log becomes LOG_NAME.1 (the one older copy kept)

log = logging.getLogger("desktop.cli")


def exit_code_for(error: QwenError) -> int:
    return exit_code(error.kind)


def fail(message: str, code: int) -> int:
    try:
        print(f"qwen-desktop: {message}", file=sys.stderr)
    except (OSError, ValueError):  # stderr closed: the exit code still tells
        pass
    return code


def error_line(error: QwenError) -> str:
    """The explanation with what the service said (or at least its HTTP status) and the request id."""
    detail = error.detail or (f"HTTP {error.status}" if error.status is not None else "")
    detail = " ".join(detail.split())  # one line, whatever line breaks the server put in
    extra = f" ({detail})" if detail and error.kind is not ErrorKind.NO_KEY else ""
    rid = f" [request id {error.request_id}]" if error.request_id else ""
    return f"{error.message}{extra}{rid}"


def fail_with(error: QwenError) -> int:
    return fail(error_line(error), exit_code_for(error))


def unexpected(exc: BaseException) -> int:
    """An error nobody classified: the traceback goes to the log, the user gets one line.

    The log is the owner's only, bounded in size, and keeps no key or password (redacted)."""
    log_file = append_to_log("".join(traceback.format_exception(exc)))
    where = f" (details in {log_file})" if log_file is not None else ""
    return fail(f"unexpected error: {type(exc).__name__}{where}", EXIT_SERVICE)


def append_to_log(text: str) -> Path | None:
    """Add ``text`` (redacted) to the command line's log; its path, or None if it cannot be written."""
    try:
        log_file = paths.log_dir() / LOG_NAME
        _rotate_if_full(log_file)
        with paths.open_private(log_file) as out:
            out.write(redact(text))
    except OSError:
        return None
    return log_file


def output_closed() -> int:
    """stdout was closed before the output ended (``| head``): stop quietly. What is still buffered
    goes to the null device, so that Python's own flush at exit does not fail with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's capture)
        pass
    return EXIT_OUTPUT_CLOSED


def _rotate_if_full(log_file: Path) -> None:
    try:
        full = log_file.stat().st_size >= LOG_LIMIT
    except FileNotFoundError:
        return
    if full:
        os.replace(log_file, log_file.with_name(log_file.name + ".1"))
