"""Log records during a command go to the command line's log file, whole (their traceback too);
errors also give one plain line on stderr naming that file. A traceback never reaches the terminal,
and a warning (a setting ignored, a keyring that stores nothing) does not add to the command's own
lines: what failed is said by the command itself, with its exit code."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from desktop.cli.output import append_to_log
from desktop.core.errors import redact


class _OneLineHandler(logging.Handler):
    """WARNING and up: the full record to the log file; ERROR and up: one line to stderr too."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            where = append_to_log(self.format(record) + "\n")
            if record.levelno < logging.ERROR:
                return
            first = (redact(record.getMessage()).strip().splitlines() or [""])[0]
            more = f" (details in {where})" if where is not None else ""
            print(f"qwen-desktop: {record.levelname.lower()}: {first}{more}", file=sys.stderr)
        except Exception:  # noqa: BLE001, S110 - logging must never end a command, nor print a
            pass  # traceback (what Handler.handleError would do)


@contextlib.contextmanager
def cli_logging() -> Iterator[None]:
    """For the length of a command, warnings and errors are logged through :class:`_OneLineHandler`
    (the root logger's level stays as it is: WARNING unless someone lowered it)."""
    root = logging.getLogger()
    handler = _OneLineHandler()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
