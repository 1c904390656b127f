"""The reading half of an index run: compare a scan with the store, then read and chunk files.

Plain functions that block (file reads, hashing, parsing): the indexer runs them on its reading
pool. Nothing here touches the store or the network.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.core.notes.chunker import chunk_text
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


def read_file(found: FoundFile, state: FileState | None, max_file_size: int) -> FileChange:
    """Read and chunk one file, or say why not. Never raises for a bad file."""
    path = Path(found.path)
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_file_size + 1)
    except OSError as exc:
        return SkippedFile(found.path, SkipReason.UNREADABLE, exc.strerror or type(exc).__name__,
                           found.size, found.mtime_ns)
    if len(data) > max_file_size:
        return SkippedFile(found.path, SkipReason.TOO_LARGE, "", found.size, found.mtime_ns)
    digest = file_sha256(data)
    if state is not None and state.sha256 == digest:
        return TouchedFile(found.path, found.size, found.mtime_ns)
    try:
        note = extract_text(path, data)
    except NoteUnreadable as exc:
        return SkippedFile(found.path, exc.reason, exc.detail, found.size, found.mtime_ns, digest)
    chunks = tuple(chunk_text(note.text, note.kind))
    return IndexedFile(found.path, found.size, found.mtime_ns, digest, note.encoding, chunks)


def read_files(
    files: Sequence[tuple[FoundFile, FileState | None]], max_file_size: int
) -> list[FileChange]:
    return [read_file(f, state, max_file_size) for f, state in files]


@dataclass(slots=True)
class FolderPlan:
    folder_id: int
    scan: ScanResult
    to_read: list[tuple[FoundFile, FileState | None]]
    direct: list[FileChange]  # skips found by the scanner, removals
    unchanged: int


def plan_folder(
    folder_id: int, scan: ScanResult, states: dict[str, FileState]
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
            and state.reason != SkipReason.TOO_LARGE.value  # the size limit may have been raised
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
