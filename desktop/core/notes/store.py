"""The notes index on disk: one SQLite file (WAL) in the data directory.

Tables: folders; files (path, size, mtime, SHA-256, status, skip reason); chunks (text, heading,
line range); vectors (normalised float32 blobs, with an ever-growing ``seq`` so a searcher can load
only what is new); an FTS5 keyword index; meta (embedding model, dimensions, schema version); and
the offline embedding jobs with the chunks each one carries (see :mod:`desktop.core.notes.jobs`).

Every method is blocking and takes the store's lock: call them from an executor, one thread at a
time per store. Readers that must not wait behind a long write (search) open their own store —
WAL lets them read while an index run writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from desktop.core.notes.chunker import Chunk
from desktop.core.notes.keywords import fts_document
from desktop.core.notes.reader import SkipReason

SCHEMA_VERSION = 2  # 2: batch_jobs, batch_job_chunks

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS folders (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    added_at REAL NOT NULL,
    last_indexed_at REAL,
    missing INTEGER NOT NULL DEFAULT 0,
    ignored_files INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT,
    status TEXT NOT NULL,              -- 'ok' or 'skipped'
    reason TEXT,
    detail TEXT,
    encoding TEXT,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    indexed_at REAL
);
CREATE INDEX IF NOT EXISTS files_folder ON files(folder_id);
CREATE TABLE IF NOT EXISTS skipped_dirs (
    folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS skipped_dirs_folder ON skipped_dirs(folder_id);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    heading TEXT NOT NULL,
    line_start INTEGER NOT NULL,
    line_end INTEGER NOT NULL,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    embed_failed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE TABLE IF NOT EXISTS vectors (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id INTEGER NOT NULL UNIQUE REFERENCES chunks(id) ON DELETE CASCADE,
    vec BLOB NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(body, tokenize='unicode61 remove_diacritics 2');
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    DELETE FROM chunks_fts WHERE rowid = old.id;
END;
CREATE TRIGGER IF NOT EXISTS vectors_epoch AFTER DELETE ON vectors BEGIN
    UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vector_epoch';
END;
CREATE TABLE IF NOT EXISTS batch_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    interface TEXT NOT NULL,                -- 'openai' (Batch API) or 'native' (async task API)
    model TEXT NOT NULL,
    dimensions INTEGER NOT NULL,
    status TEXT NOT NULL,
    remote_id TEXT,                         -- batch id / task id, once the service has it
    input_ref TEXT,                         -- uploaded file id / oss:// URL
    output_ref TEXT,                        -- output file id / result URL
    error_ref TEXT,                         -- error file id
    lines INTEGER NOT NULL,
    chunks INTEGER NOT NULL,
    lines_done INTEGER NOT NULL DEFAULT 0,
    lines_failed INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 1,    -- its chunks stay out of other runs until it ends
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    attempt INTEGER NOT NULL DEFAULT 1,     -- 2 for a job that retries lines of a previous one
    vectors_saved INTEGER NOT NULL DEFAULT 0,
    results_dropped INTEGER NOT NULL DEFAULT 0,
    message TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS batch_job_chunks (
    job_id INTEGER NOT NULL REFERENCES batch_jobs(id) ON DELETE CASCADE,
    line INTEGER NOT NULL,
    position INTEGER NOT NULL,
    chunk_id INTEGER NOT NULL,              -- no foreign key: a chunk may go while its job runs
    PRIMARY KEY (job_id, line, position)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batch_job_chunks_chunk ON batch_job_chunks(chunk_id);
"""

# Chunks carried by a job that has not ended are not "pending": no other run embeds them.
_NOT_RESERVED = (
    "NOT EXISTS (SELECT 1 FROM batch_job_chunks m JOIN batch_jobs b ON b.id = m.job_id"
    " WHERE m.chunk_id = c.id AND b.reserved = 1)"
)

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


class NoteStore:
    """The notes index. Thread-safe through one lock; blocking — use from an executor."""

    def _enable_wal(self) -> None:
        """Switch to WAL. SQLite answers "database is locked" at once, without waiting, when another
        connection has a new database open at that moment (a second reader, another process): try
        again for a few seconds instead of failing the index run."""
        for attempt in range(60):
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 59:
                    raise
                time.sleep(0.05)

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=30.0
        )
        self._enable_wal()
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA temp_store=MEMORY")
        if self._schema_version() == SCHEMA_VERSION:
            return  # no write lock needed: a reader never waits behind a running index
        with self._lock, self._transaction():
            for statement in _split_sql(_SCHEMA):  # every statement is idempotent: also migrates
                self._db.execute(statement)
            self._db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('vector_epoch', '0')")
            self._set_meta("schema_version", str(SCHEMA_VERSION))

    def _schema_version(self) -> int | None:
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:  # no meta table yet
            return None
        return int(row[0]) if row else None

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
        return row[0] if row else None

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

    def reset_vectors(self, model: str, dimensions: int) -> None:
        """Forget every vector (a model or dimension change) so the next run re-embeds all."""
        with self._lock, self._transaction():
            self._db.execute("DELETE FROM vectors")
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
            rows = self._db.execute(
                """
                SELECT f.path, f.last_indexed_at, f.missing,
                    (SELECT count(*) FROM files WHERE folder_id = f.id AND status = 'ok'),
                    (SELECT count(*) FROM files WHERE folder_id = f.id AND status = 'skipped')
                      + (SELECT count(*) FROM skipped_dirs WHERE folder_id = f.id),
                    (SELECT count(*) FROM chunks c JOIN files fi ON fi.id = c.file_id
                      WHERE fi.folder_id = f.id),
                    (SELECT count(*) FROM vectors v JOIN chunks c ON c.id = v.chunk_id
                      JOIN files fi ON fi.id = c.file_id WHERE fi.folder_id = f.id)
                FROM folders f ORDER BY f.path
                """
            ).fetchall()
        return [
            FolderStatus(path, files, chunks, embedded, skipped, last, bool(missing))
            for path, last, missing, files, skipped, chunks, embedded in rows
        ]

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
        where, args = ("WHERE fo.path = ?", (folder,)) if folder else ("", ())
        with self._lock:
            rows = self._db.execute(
                f"""
                SELECT fi.path, fi.reason, coalesce(fi.detail, ''), 0 FROM files fi
                  JOIN folders fo ON fo.id = fi.folder_id {where}
                  {'AND' if where else 'WHERE'} fi.status = 'skipped'
                UNION ALL
                SELECT s.path, s.reason, coalesce(s.detail, ''), 1 FROM skipped_dirs s
                  JOIN folders fo ON fo.id = s.folder_id {where}
                ORDER BY 1
                """,
                args * 2,
            ).fetchall()
        return [SkippedEntry(p, SkipReason(r), d, bool(is_dir)) for p, r, d, is_dir in rows]

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
        reused = 0
        now = time.time()
        with self._lock, self._transaction():
            for change in changes:
                if isinstance(change, IndexedFile):
                    reused += self._put_indexed(folder_id, change, now)
                elif isinstance(change, TouchedFile):
                    self._db.execute(
                        "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                        (change.size, change.mtime_ns, change.path),
                    )
                elif isinstance(change, SkippedFile):
                    self._db.execute("DELETE FROM chunks WHERE file_id = "
                                     "(SELECT id FROM files WHERE path = ?)", (change.path,))
                    self._upsert_file(
                        folder_id, change.path, change.size, change.mtime_ns, change.sha256,
                        "skipped", change.reason.value, change.detail, None, 0, now,
                    )
                elif isinstance(change, RemovedFile):
                    self._db.execute("DELETE FROM files WHERE path = ?", (change.path,))
        return reused

    def _upsert_file(
        self, folder_id: int, path: str, size: int, mtime_ns: int, sha256: str | None,
        status: str, reason: str | None, detail: str | None, encoding: str | None,
        chunk_count: int, now: float,
    ) -> int:
        self._db.execute(
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
        return int(self._db.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()[0])

    def _put_indexed(self, folder_id: int, f: IndexedFile, now: float) -> int:
        db = self._db
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
        file_id = self._upsert_file(
            folder_id, f.path, f.size, f.mtime_ns, f.sha256, "ok", None, None, f.encoding,
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

    # ---- chunks and vectors ----

    def pending_chunks(
        self, limit: int | None = None, chunk_ids: Sequence[int] | None = None
    ) -> list[PendingChunk]:
        """Chunks still waiting for a vector, oldest first (all, or those of ``chunk_ids``),
        leaving out those an unfinished offline embedding job carries."""
        sql = (
            "SELECT c.id, fi.path, c.heading, c.text FROM chunks c JOIN files fi ON fi.id = c.file_id"
            " WHERE c.embed_failed = 0 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.chunk_id = c.id)"
            f" AND {_NOT_RESERVED}"
        )
        rows: list[tuple[int, str, str, str]] = []
        with self._lock:
            if chunk_ids is None:
                limit_sql = f" LIMIT {int(limit)}" if limit is not None else ""
                rows = self._db.execute(sql + " ORDER BY c.id" + limit_sql).fetchall()
            else:
                wanted = sorted(set(chunk_ids))
                for i in range(0, len(wanted), 500):
                    part = wanted[i:i + 500]
                    marks = ",".join("?" * len(part))
                    rows += self._db.execute(sql + f" AND c.id IN ({marks}) ORDER BY c.id", part).fetchall()
                if limit is not None:
                    rows = rows[:limit]
        return [
            PendingChunk(cid, embedding_input(Path(path).name, heading, text), len(text))
            for cid, path, heading, text in rows
        ]

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

    def keyword_search(self, match: str, limit: int) -> list[int]:
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rank LIMIT ?",
                    (match, limit),
                ).fetchall()
            except sqlite3.OperationalError:
                return []  # a query FTS5 cannot parse finds nothing rather than failing
        return [r[0] for r in rows]

    def chunk_infos(self, chunk_ids: Sequence[int]) -> dict[int, ChunkInfo]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._db.execute(
                f"""
                SELECT c.id, fi.path, fo.path, c.heading, c.line_start, c.line_end, c.text
                FROM chunks c JOIN files fi ON fi.id = c.file_id JOIN folders fo ON fo.id = fi.folder_id
                WHERE c.id IN ({marks})
                """,
                list(chunk_ids),
            ).fetchall()
        return {r[0]: ChunkInfo(*r) for r in rows}

    def counts(self) -> tuple[int, int, int]:
        """(indexed files, chunks, vectors)."""
        with self._lock:
            files = self._db.execute("SELECT count(*) FROM files WHERE status = 'ok'").fetchone()[0]
            chunks = self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]
            vectors = self._db.execute("SELECT count(*) FROM vectors").fetchone()[0]
        return int(files), int(chunks), int(vectors)


def _split_sql(script: str) -> list[str]:
    """Statements of the schema script (triggers contain ';' inside BEGIN … END)."""
    statements: list[str] = []
    buffer: list[str] = []
    for line in script.strip().splitlines():
        buffer.append(line)
        joined = "\n".join(buffer).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            statements.append(joined)
            buffer = []
    return statements
