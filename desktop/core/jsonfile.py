"""The app's small JSON files (settings, prices, learnt model limits): one way to write them.

:func:`write_json` replaces a file atomically and durably: the text goes to a temporary file in the
same directory, is flushed and fsynced, and takes the file's place with :func:`os.replace`; on POSIX
the directory is fsynced too, so the rename itself survives a power cut. Readers therefore see the
old file or the new one, never a half-written one. :func:`read_json` reads one back; each caller
decides what a missing or damaged file means for it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path


def write_json(path: Path, data: object) -> None:
    """Replace ``path`` with ``data`` as UTF-8 JSON, atomically and durably.

    Raises ``TypeError``/``ValueError`` for data that is not JSON (before anything on disk is
    touched) and ``OSError`` when the file cannot be written; either way an existing file keeps its
    content and no temporary file is left behind.
    """
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def read_json(path: Path) -> object:
    """The parsed content of ``path``. Raises ``FileNotFoundError`` when it is missing, ``OSError``
    when it cannot be read and ``ValueError`` when it is not UTF-8 JSON."""
    return json.loads(path.read_text(encoding="utf-8"))


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable. Windows cannot open a directory for this (and makes
    the rename durable itself); some file systems refuse it, which costs durability, not the write."""
    if sys.platform == "win32":
        return
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
