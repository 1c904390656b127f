"""The values the notes store takes and gives: file changes, folder status, chunks, the model.

Frozen, and free of SQL, so the index run and the faces can use them without the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from desktop.core.notes.chunker import Chunk
from desktop.core.notes.reader import SkipReason

HEADING_SEPARATOR = " › "


def embedding_input(file_name: str, heading: str, text: str) -> str:
    """What is sent to the embedding model for a chunk: where it sits, then the text."""
    title = Path(file_name).stem
    context = f"{title}{HEADING_SEPARATOR}{heading}" if heading else title
    return f"{context}\n{text}"


def text_hash(heading: str, text: str) -> str:
    return hashlib.sha1(f"{heading}\x00{text}".encode()).hexdigest()


# ---- values -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileState:
    size: int
    mtime_ns: int
    sha256: str | None
    status: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class IndexedFile:
    """A file read and chunked: replaces whatever was stored for the path."""
    path: str
    size: int
    mtime_ns: int
    sha256: str
    encoding: str
    chunks: tuple[Chunk, ...]


@dataclass(frozen=True, slots=True)
class TouchedFile:
    """A file whose size or mtime changed but whose content did not."""
    path: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class SkippedFile:
    path: str
    reason: SkipReason
    detail: str
    size: int
    mtime_ns: int
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class RemovedFile:
    path: str


FileChange = IndexedFile | TouchedFile | SkippedFile | RemovedFile


@dataclass(frozen=True, slots=True)
class SkippedEntry:
    path: str
    reason: SkipReason
    detail: str
    is_dir: bool


@dataclass(frozen=True, slots=True)
class FolderStatus:
    path: str
    files: int
    chunks: int
    embedded: int
    skipped: int
    last_indexed_at: float | None
    missing: bool


@dataclass(frozen=True, slots=True)
class PendingChunk:
    id: int
    input: str  # the text for the embedding model
    chars: int


@dataclass(frozen=True, slots=True)
class ChunkInfo:
    id: int
    path: str
    folder: str
    heading: str
    line_start: int
    line_end: int
    text: str


@dataclass(frozen=True, slots=True)
class IndexModel:
    model: str
    dimensions: int
