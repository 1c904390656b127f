"""Text from outside (replies, reasoning, server messages, note names, titles) printed without its
control sequences, on a terminal and in pipes alike.

A reply or a file name can hold escape sequences that a terminal obeys: OSC 52 writes the clipboard,
OSC 0 sets the window title, OSC 8 makes hidden links, ``ESC [ 2 J`` / ``ESC c`` clear the screen, a
lone carriage return overwrites a line, and bidi overrides reorder what is shown. The command line
prints every byte through :class:`SafeStream` (``run_cli`` installs it over stdout and stderr), which
replaces each such character on its own with a visible stand-in, so a sequence split across two
streamed deltas is neutralised too. Newlines, tabs and ordinary Unicode (Chinese, emoji) stay.
Files the command line writes (``history export -o FILE``) keep the text as it is.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

# C0 controls except \t and \n, DEL, C1 controls, and the bidi embeddings, overrides and isolates.
_UNSAFE = re.compile("(?P<crlf>\r(?=\n))|[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # json escapes C0 itself
REPLACEMENT = "\ufffd"


def _stand_in(match: re.Match[str]) -> str:
    if match.group("crlf"):  # a CR before LF moves nothing on a terminal: keep the line break only
        return ""
    code = ord(match.group(0))
    if code < 0x20:
        return "^" + chr(code + 0x40)  # caret notation: ESC is ^[, BEL is ^G, a lone CR is ^M
    if code == 0x7F:
        return "^?"
    return REPLACEMENT


def terminal_safe(text: str) -> str:
    """``text`` with every control character except newline and tab made visible and harmless."""
    return _UNSAFE.sub(_stand_in, text)


def json_text(value: Any) -> str:
    """``value`` as indented JSON that is safe on a terminal and loses nothing: JSON escapes C0
    controls by itself; DEL, C1 controls and bidi controls are written as ``\\uXXXX`` too."""
    text = json.dumps(value, ensure_ascii=False, indent=2)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class SafeStream:
    """A text stream that writes through :func:`terminal_safe`; everything else is the wrapped
    stream's (``isatty``, ``fileno``, ``encoding``, ...)."""

    def __init__(self, stream: TextIO) -> None:
        self.raw = stream

    def write(self, text: str) -> int:
        self.raw.write(terminal_safe(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        self.raw.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def write_control(stream: TextIO, text: str) -> None:
    """Write our own control characters (the progress line's carriage return) unchanged."""
    raw = stream.raw if isinstance(stream, SafeStream) else stream
    raw.write(text)


@contextlib.contextmanager
def safe_streams() -> Iterator[None]:
    """For the length of a command, stdout and stderr write through :class:`SafeStream`."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, SafeStream):
        sys.stdout = SafeStream(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, SafeStream):
        sys.stderr = SafeStream(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
