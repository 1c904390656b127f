"""Writing files and their chunks into the notes database (inside the store's write transaction).

Functions of a connection, called by :meth:`desktop.core.notes.store.NoteStore.apply` under its
lock and transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from desktop.core.notes.keywords import fts_document
from desktop.core.notes.store_records import (
    HEADING_SEPARATOR,
    FileChange,
    IndexedFile,
    RemovedFile,
    SkippedFile,
    TouchedFile,
    text_hash,
)


def apply_changes(
    db: sqlite3.Connection, folder_id: int, changes: Iterable[FileChange], now: float
) -> int:
    """Store a batch of file changes; returns how many vectors were kept for unchanged chunks."""
    reused = 0
    for change in changes:
        if isinstance(change, IndexedFile):
            reused += _put_indexed(db, folder_id, change, now)
        elif isinstance(change, TouchedFile):
            db.execute(
                "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                (change.size, change.mtime_ns, change.path),
            )
        elif isinstance(change, SkippedFile):
            db.execute("DELETE FROM chunks WHERE file_id = "
                       "(SELECT id FROM files WHERE path = ?)", (change.path,))
            _upsert_file(
                db, folder_id, change.path, change.size, change.mtime_ns, change.sha256,
                "skipped", change.reason.value, change.detail, None, 0, now,
            )
        elif isinstance(change, RemovedFile):
            db.execute("DELETE FROM files WHERE path = ?", (change.path,))
    return reused


def _upsert_file(
    db: sqlite3.Connection, folder_id: int, path: str, size: int, mtime_ns: int,
    sha256: str | None, status: str, reason: str | None, detail: str | None,
    encoding: str | None, chunk_count: int, now: float,
) -> int:
    db.execute(
        """
        INSERT INTO files(folder_id, path, size, mtime_ns, sha256, status, reason, detail,
                          encoding, chunk_count, indexed_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(path) DO UPDATE SET folder_id = excluded.folder_id, size = excluded.size,
            mtime_ns = excluded.mtime_ns, sha256 = excluded.sha256, status = excluded.status,
            reason = excluded.reason, detail = excluded.detail, encoding = excluded.encoding,
            chunk_count = excluded.chunk_count, indexed_at = excluded.indexed_at
        """,
        (folder_id, path, size, mtime_ns, sha256, status, reason, detail, encoding,
         chunk_count, now),
    )
    return int(db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()[0])


def _put_indexed(db: sqlite3.Connection, folder_id: int, f: IndexedFile, now: float) -> int:
    # Vectors of chunks whose text did not change are kept: editing one paragraph of a long
    # note re-embeds only the chunks around it.
    old: dict[str, bytes] = {}
    for h, vec in db.execute(
        "SELECT c.text_hash, v.vec FROM chunks c JOIN files fi ON fi.id = c.file_id "
        "JOIN vectors v ON v.chunk_id = c.id WHERE fi.path = ?", (f.path,)
    ):
        old[h] = vec
    db.execute("DELETE FROM chunks WHERE file_id = (SELECT id FROM files WHERE path = ?)",
               (f.path,))
    file_id = _upsert_file(
        db, folder_id, f.path, f.size, f.mtime_ns, f.sha256, "ok", None, None, f.encoding,
        len(f.chunks), now,
    )
    name = Path(f.path).name
    reused = 0
    for chunk in f.chunks:
        heading = HEADING_SEPARATOR.join(chunk.heading)
        h = text_hash(heading, chunk.text)
        cur = db.execute(
            "INSERT INTO chunks(file_id, ordinal, heading, line_start, line_end, text, text_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (file_id, chunk.ordinal, heading, chunk.line_start, chunk.line_end, chunk.text, h),
        )
        chunk_id = cur.lastrowid
        db.execute(
            "INSERT INTO chunks_fts(rowid, body) VALUES (?, ?)",
            (chunk_id, fts_document(f"{name}\n{heading}\n{chunk.text}")),
        )
        if (vec := old.pop(h, None)) is not None:
            db.execute("INSERT INTO vectors(chunk_id, vec) VALUES (?, ?)", (chunk_id, vec))
            reused += 1
    return reused
