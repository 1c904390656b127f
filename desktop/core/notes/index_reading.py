"""The reading half of an index run: compare a scan with the store, then read and chunk files.

Plain functions that block (file reads, hashing, parsing): the indexer runs them on its reading
pool. Nothing here touches the store or the network. Only regular files are opened (a FIFO with a
note's name would block the open, a device would never end), and the open and read of one file
are bounded by a timeout (a stuck network share) and by the run's ``stop`` flag (Cancel, Ctrl-C):
see :mod:`~desktop.core.notes.bounded`.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.core.notes.bounded import CallTimedOut, call_bounded
from desktop.core.notes.chunker import chunk_text
from desktop.core.notes.degenerate import is_degenerate
from desktop.core.notes.reader import NoteUnreadable, SkipReason, extract_text, file_sha256
from desktop.core.notes.scanner import FoundFile, ScanResult
from desktop.core.notes.store_records import (
    FileChange,
    FileState,
    IndexedFile,
    RemovedFile,
    SkippedFile,
    TouchedFile,
)


READ_TIMEOUT = 30.0  # seconds for the open and read of one file (20 MB on a slow share fits)
# Skips worth another try although the file did not change: the limit may have been raised, the
# share may answer again.
RETRIED_REASONS = frozenset({SkipReason.TOO_LARGE.value, SkipReason.TIMED_OUT.value})

# Opening a FIFO without a writer blocks unless O_NONBLOCK; Windows has neither FIFOs in folders
# nor the flag, and is checked with a stat before the open instead.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_OPEN_FLAGS = os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def read_bytes(path: str, limit: int) -> bytes:
    """Up to ``limit`` bytes of the regular file ``path``; NoteUnreadable(NOT_A_FILE) for anything
    else (a FIFO, a device), which is never read from. Blocking: see :func:`read_file`."""
    if not _NONBLOCK and not stat.S_ISREG(os.stat(path).st_mode):
        raise NoteUnreadable(SkipReason.NOT_A_FILE)
    fd = os.open(path, _OPEN_FLAGS)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # what was opened, not what the scan saw
            raise NoteUnreadable(SkipReason.NOT_A_FILE)
        with open(fd, "rb", closefd=False) as fh:
            return fh.read(limit)
    finally:
        os.close(fd)


def read_file(found: FoundFile, state: FileState | None, max_file_size: int, *,
              timeout: float | None = READ_TIMEOUT, stop: threading.Event | None = None,
              ocr_texts: Mapping[str, str] | None = None) -> FileChange:
    """Read and chunk one file, or say why not. Never raises for a bad file; raises
    :class:`~desktop.core.notes.bounded.CallCancelled` once ``stop`` is set."""
    path = Path(found.path)
    try:
        data = call_bounded(lambda: read_bytes(found.path, max_file_size + 1), timeout=timeout, stop=stop)
    except NoteUnreadable as exc:
        return SkippedFile(found.path, exc.reason, exc.detail, found.size, found.mtime_ns)
    except CallTimedOut as exc:
        return SkippedFile(found.path, SkipReason.TIMED_OUT, str(exc), found.size, found.mtime_ns)
    except OSError as exc:
        return SkippedFile(found.path, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__,
                           found.size, found.mtime_ns)
    if len(data) > max_file_size:
        return SkippedFile(found.path, SkipReason.TOO_LARGE, "", found.size, found.mtime_ns)
    digest = file_sha256(data)
    # (With OCR on, a file planned for reading is read although unchanged: its scans may be read now.)
    if state is not None and state.sha256 == digest and ocr_texts is None:
        return TouchedFile(found.path, found.size, found.mtime_ns)
    try:
        note = extract_text(path, data, ocr_texts)
    except NoteUnreadable as exc:
        return SkippedFile(found.path, exc.reason, exc.detail, found.size, found.mtime_ns, digest)
    chunks = tuple(chunk_text(note.text, note.kind))
    meaningful = tuple(c for c in chunks if not is_degenerate(c.text))
    if chunks and not meaningful:
        return SkippedFile(found.path, SkipReason.NO_MEANING, "", found.size, found.mtime_ns, digest)
    chunks = meaningful
    return IndexedFile(found.path, found.size, found.mtime_ns, digest, note.encoding, chunks)


def read_files(
    files: Sequence[tuple[FoundFile, FileState | None]], max_file_size: int, *,
    timeout: float | None = READ_TIMEOUT, stop: threading.Event | None = None,
    ocr_texts: Mapping[str, str] | None = None,
) -> list[FileChange]:
    return [read_file(f, state, max_file_size, timeout=timeout, stop=stop, ocr_texts=ocr_texts)
            for f, state in files]


@dataclass(slots=True)
class FolderPlan:
    folder_id: int
    scan: ScanResult
    to_read: list[tuple[FoundFile, FileState | None]]
    direct: list[FileChange]  # skips found by the scanner, removals
    unchanged: int


def plan_folder(
    folder_id: int, scan: ScanResult, states: dict[str, FileState], *, ocr: bool = False,
    reread: Collection[str] = (),
) -> FolderPlan:
    """Compare a scan with what is stored: what to read, what to drop, what is unchanged."""
    to_read: list[tuple[FoundFile, FileState | None]] = []
    direct: list[FileChange] = []
    unchanged = 0
    seen: set[str] = set()
    for found in scan.files:
        seen.add(found.path)
        state = states.get(found.path)
        if (
            state is not None
            and state.size == found.size
            and state.mtime_ns == found.mtime_ns
            and state.reason not in RETRIED_REASONS
            and not (ocr and state.reason == SkipReason.NO_TEXT.value)  # its scans may be read now
            and found.path not in reread
        ):
            unchanged += 1
            continue
        to_read.append((found, state))
    for skip in scan.skipped:
        if skip.is_dir:
            continue
        seen.add(skip.path)
        state = states.get(skip.path)
        if (
            state is not None
            and state.status == "skipped"
            and state.size == skip.size
            and state.mtime_ns == skip.mtime_ns
        ):
            continue
        direct.append(SkippedFile(skip.path, skip.reason, skip.detail, skip.size, skip.mtime_ns))
    if not scan.missing:
        # A folder that is gone (unplugged drive) keeps its index until it is removed by the user.
        direct.extend(RemovedFile(p) for p in states if p not in seen)
    return FolderPlan(folder_id, scan, to_read, direct, unchanged)


def nested_folders(folder: str, folders: Sequence[str]) -> list[str]:
    """The folders of ``folders`` inside ``folder`` (their own scan covers them)."""
    prefix = folder.rstrip(os.sep) + os.sep
    return [f for f in folders if f != folder and f.startswith(prefix)]


def normalise_folder(path: str | Path) -> str:
    return os.path.abspath(os.path.expanduser(str(path)))
