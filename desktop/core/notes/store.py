"""The notes index on disk: one SQLite file (WAL) in the data directory.

Tables: folders; files (path, size, mtime, SHA-256, status, skip reason); chunks (text, heading,
line range); vectors (normalised float32 blobs, with an ever-growing ``seq`` so a searcher can load
only what is new); an FTS5 keyword index; meta (embedding model, dimensions, schema version); and
the offline embedding jobs with the chunks each one carries (see :mod:`desktop.core.notes.jobs`).
The schema is in :mod:`~desktop.core.notes.store_schema`, the values in
:mod:`~desktop.core.notes.store_records`, file writes in :mod:`~desktop.core.notes.store_writes`
and the longer queries in :mod:`~desktop.core.notes.store_queries`.

Every method is blocking and takes the store's lock: call them from an executor, one thread at a
time per store. Readers that must not wait behind a long write (search) open their own store —
WAL lets them read while an index run writes.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Self

from desktop.core.notes import store_queries
from desktop.core.notes.store_records import (
    ChunkInfo,
    FileChange,
    FileState,
    FolderStatus,
    IndexModel,
    PendingChunk,
    SkippedEntry,
)
from desktop.core.notes.store_schema import SCHEMA_VERSION, create_schema, enable_wal, schema_version
from desktop.core.notes.store_writes import apply_changes

# The values the faces import from here, next to the store that gives them.
__all__ = ["FolderStatus", "IndexModel", "NoteStore", "SkippedEntry"]


class NoteStore:
    """The notes index. Thread-safe through one lock; blocking — use from an executor."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        enable_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA temp_store=MEMORY")
        if schema_version(self._db) == SCHEMA_VERSION:
            return  # no write lock needed: a reader never waits behind a running index
        with self._lock, self._transaction():
            create_schema(self._db)

    def quick_check(self) -> list[str]:
        """SQLite's check of every page: ``["ok"]`` when the database is sound (reads the whole file)."""
        return [str(row[0]) for row in self._db.execute("PRAGMA quick_check").fetchall()]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- plumbing ----

    class _Tx:
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def __enter__(self) -> sqlite3.Connection:
            self.db.execute("BEGIN IMMEDIATE")
            return self.db

        def __exit__(self, exc_type: object, *rest: object) -> None:
            self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")

    def _transaction(self) -> NoteStore._Tx:
        return NoteStore._Tx(self._db)

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection, under the store's lock (for companion tables such as the jobs)."""
        with self._lock:
            yield self._db

    @contextlib.contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one write transaction, under the store's lock."""
        with self._lock, self._transaction() as db:
            yield db

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # ---- embedding model ----

    def index_model(self) -> IndexModel | None:
        with self._lock:
            model, dims = self._meta("embedding_model"), self._meta("embedding_dimensions")
        if not model or not dims:
            return None
        return IndexModel(model, int(dims))

    def set_index_model(self, model: str, dimensions: int) -> None:
        with self._lock, self._transaction():
            self._set_meta("embedding_model", model)
            self._set_meta("embedding_dimensions", str(dimensions))

    def embedding_endpoint(self) -> str | None:
        """Which endpoint made the vectors ("native" or "compatible"; None: not chosen yet)."""
        with self._lock:
            return self._meta("embedding_endpoint")

    def set_embedding_endpoint(self, endpoint: str) -> None:
        with self._lock, self._transaction():
            self._set_meta("embedding_endpoint", endpoint)

    def reset_vectors(self, model: str, dimensions: int) -> None:
        """Forget every vector (a model or dimension change) so the next run re-embeds all."""
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM vectors")
            self._db.execute("DELETE FROM meta WHERE key = 'embedding_endpoint'")
            self._db.execute("UPDATE chunks SET embed_failed = 0 WHERE embed_failed != 0")
            self._set_meta("embedding_model", model)
            self._set_meta("embedding_dimensions", str(dimensions))

    def vector_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    # ---- folders ----

    def add_folder(self, path: str) -> int:
        with self._lock, self._transaction():
            self._db.execute(
                "INSERT OR IGNORE INTO folders(path, added_at) VALUES (?, ?)", (path, time.time())
            )
            return int(self._db.execute("SELECT id FROM folders WHERE path = ?", (path,)).fetchone()[0])

    def remove_folder(self, path: str) -> bool:
        with self._lock, self._transaction():
            cur = self._db.execute("DELETE FROM folders WHERE path = ?", (path,))
            return cur.rowcount > 0

    def folder_paths(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._db.execute("SELECT path FROM folders ORDER BY path")]

    def folder_statuses(self) -> list[FolderStatus]:
        with self._lock:
            return store_queries.folder_statuses(self._db)

    def finish_folder_scan(
        self, folder_id: int, skipped_dirs: Sequence[SkippedEntry], *, ignored: int, missing: bool
    ) -> None:
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM skipped_dirs WHERE folder_id = ?", (folder_id,))
            self._db.executemany(
                "INSERT INTO skipped_dirs(folder_id, path, reason, detail) VALUES (?, ?, ?, ?)",
                [(folder_id, s.path, s.reason.value, s.detail) for s in skipped_dirs],
            )
            self._db.execute(
                "UPDATE folders SET missing = ?, ignored_files = ? WHERE id = ?",
                (int(missing), ignored, folder_id),
            )

    def mark_folder_indexed(self, folder_id: int, when: float | None = None) -> None:
        with self._lock, self._transaction():
            self._db.execute(
                "UPDATE folders SET last_indexed_at = ? WHERE id = ?", (when or time.time(), folder_id)
            )

    def skipped(self, folder: str | None = None) -> list[SkippedEntry]:
        with self._lock:
            return store_queries.skipped_entries(self._db, folder)

    def skipped_file_count(self, folder_ids: Sequence[int]) -> int:
        marks = ",".join("?" * len(folder_ids)) or "NULL"
        with self._lock:
            return int(self._db.execute(
                f"SELECT count(*) FROM files WHERE status = 'skipped' AND folder_id IN ({marks})",
                list(folder_ids),
            ).fetchone()[0])

    # ---- files ----

    def file_states(self, folder_id: int) -> dict[str, FileState]:
        with self._lock:
            rows = self._db.execute(
                "SELECT path, size, mtime_ns, sha256, status, reason FROM files WHERE folder_id = ?",
                (folder_id,),
            ).fetchall()
        return {p: FileState(s, m, h, st, r) for p, s, m, h, st, r in rows}

    def apply(self, folder_id: int, changes: Iterable[FileChange]) -> int:
        """Store a batch of file changes in one transaction; returns vectors reused."""
        now = time.time()
        with self._lock, self._transaction():
            return apply_changes(self._db, folder_id, changes, now)

    # ---- chunks and vectors ----

    def pending_chunks(
        self, limit: int | None = None, chunk_ids: Sequence[int] | None = None
    ) -> list[PendingChunk]:
        """Chunks still waiting for a vector, oldest first (all, or those of ``chunk_ids``),
        leaving out those an unfinished offline embedding job carries."""
        with self._lock:
            return store_queries.pending_chunks(self._db, limit, chunk_ids)

    def save_vectors(self, items: Sequence[tuple[int, bytes]], *, keep_existing: bool = False) -> int:
        """Store vectors for chunks that still exist (a chunk may vanish while it is embedded);
        with ``keep_existing``, a chunk that already has a vector keeps it."""
        verb = "INSERT OR IGNORE" if keep_existing else "INSERT OR REPLACE"
        with self._lock, self._transaction():
            before = self._db.total_changes
            self._db.executemany(
                f"{verb} INTO vectors(chunk_id, vec) "
                "SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?1)",
                items,
            )
            return self._db.total_changes - before

    def mark_embed_failed(self, chunk_ids: Sequence[int]) -> None:
        with self._lock, self._transaction():
            self._db.executemany(
                "UPDATE chunks SET embed_failed = 1 WHERE id = ?", [(i,) for i in chunk_ids]
            )

    def vector_epoch(self) -> int:
        with self._lock:
            return int(self._meta("vector_epoch") or 0)

    def iter_vectors(self, after_seq: int = 0, batch: int = 4096) -> Iterator[list[tuple[int, int, bytes]]]:
        """(seq, chunk_id, blob) rows with ``seq > after_seq``, in batches, in seq order."""
        last = after_seq
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT seq, chunk_id, vec FROM vectors WHERE seq > ? ORDER BY seq LIMIT ?",
                    (last, batch),
                ).fetchall()
            if not rows:
                return
            yield rows
            last = rows[-1][0]

    def vectors_of(self, chunk_ids: Sequence[int]) -> list[tuple[int, bytes]]:
        """(chunk_id, full-precision blob) of those of ``chunk_ids`` that have a vector."""
        marks = ",".join("?" * len(chunk_ids))
        if not marks:
            return []
        with self._lock:
            rows = self._db.execute(
                f"SELECT chunk_id, vec FROM vectors WHERE chunk_id IN ({marks})", list(chunk_ids)
            ).fetchall()
        return [(int(cid), bytes(blob)) for cid, blob in rows]

    def keyword_search(self, match: str, limit: int) -> list[int]:
        with self._lock:
            try:
                return store_queries.keyword_matches(self._db, match, limit)
            except sqlite3.OperationalError:
                return []  # a query FTS5 cannot parse finds nothing rather than failing

    def chunk_infos(self, chunk_ids: Sequence[int]) -> dict[int, ChunkInfo]:
        with self._lock:
            return store_queries.chunk_infos(self._db, chunk_ids)

    def counts(self) -> tuple[int, int, int]:
        """(indexed files, chunks, vectors)."""
        with self._lock:
            files = self._db.execute("SELECT count(*) FROM files WHERE status = 'ok'").fetchone()[0]
            chunks = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
            vectors = self._db.execute("SELECT count(*) FROM vectors").fetchone()[0]
        return int(files), int(chunks), int(vectors)
