"""The notes database's schema: its tables, their version, and opening a connection for them.

Every statement of :data:`SCHEMA` is idempotent, so running it on an older database migrates it.
"""

from __future__ import annotations

import sqlite3
import time

SCHEMA_VERSION = 3  # 2: batch_jobs, batch_job_chunks; 3: ocr_pages

SCHEMA = """
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
CREATE TABLE IF NOT EXISTS ocr_pages (
    sha256 TEXT PRIMARY KEY,                -- of the image (a photo, or a PDF page's scan)
    text TEXT NOT NULL,                     -- what qwen-vl-ocr read, as Markdown
    model TEXT NOT NULL,
    created REAL NOT NULL
);
"""


def enable_wal(db: sqlite3.Connection) -> None:
    """Switch to WAL. SQLite answers "database is locked" at once, without waiting, when another
    connection has a new database open at that moment (a second reader, another process): try
    again for a few seconds instead of failing the index run."""
    for attempt in range(60):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 59:
                raise
            time.sleep(0.05)


def schema_version(db: sqlite3.Connection) -> int | None:
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.OperationalError:  # no meta table yet
        return None
    return int(row[0]) if row else None


def create_schema(db: sqlite3.Connection) -> None:
    """Create or migrate every table (inside the caller's write transaction)."""
    for statement in split_sql(SCHEMA):
        db.execute(statement)
    db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('vector_epoch', '0')")
    db.execute(
        "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
    )


def split_sql(script: str) -> list[str]:
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
