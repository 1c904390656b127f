"""The notes database's longer read queries: folder status, skipped entries, pending chunks and
the chunks a search found.

Functions of a connection, called by :class:`desktop.core.notes.store.NoteStore` under its lock.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from desktop.core.notes.reader import SkipReason
from desktop.core.notes.store_records import (
    ChunkInfo,
    FolderStatus,
    PendingChunk,
    SkippedEntry,
    embedding_input,
)

# Chunks carried by a job that has not ended are not "pending": no other run embeds them.
NOT_RESERVED = (
    "NOT EXISTS (SELECT 1 FROM batch_job_chunks m JOIN batch_jobs b ON b.id = m.job_id"
    " WHERE m.chunk_id = c.id AND b.reserved = 1)"
)


def folder_statuses(db: sqlite3.Connection) -> list[FolderStatus]:
    rows = db.execute(
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


def skipped_entries(db: sqlite3.Connection, folder: str | None = None) -> list[SkippedEntry]:
    where, args = ("WHERE fo.path = ?", (folder,)) if folder else ("", ())
    rows = db.execute(
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


def pending_chunks(
    db: sqlite3.Connection, limit: int | None = None, chunk_ids: Sequence[int] | None = None
) -> list[PendingChunk]:
    """Chunks still waiting for a vector, oldest first (all, or those of ``chunk_ids``),
    leaving out those an unfinished offline embedding job carries."""
    sql = (
        "SELECT c.id, fi.path, c.heading, c.text FROM chunks c JOIN files fi ON fi.id = c.file_id"
        " WHERE c.embed_failed = 0 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.chunk_id = c.id)"
        f" AND {NOT_RESERVED}"
    )
    rows: list[tuple[int, str, str, str]] = []
    if chunk_ids is None:
        limit_sql = f" LIMIT {int(limit)}" if limit is not None else ""
        rows = db.execute(sql + " ORDER BY c.id" + limit_sql).fetchall()
    else:
        wanted = sorted(set(chunk_ids))
        for i in range(0, len(wanted), 500):
            part = wanted[i:i + 500]
            marks = ",".join("?" * len(part))
            rows += db.execute(sql + f" AND c.id IN ({marks}) ORDER BY c.id", part).fetchall()
        if limit is not None:
            rows = rows[:limit]
    return [
        PendingChunk(cid, embedding_input(Path(path).name, heading, text), len(text))
        for cid, path, heading, text in rows
    ]


def chunk_infos(db: sqlite3.Connection, chunk_ids: Sequence[int]) -> dict[int, ChunkInfo]:
    if not chunk_ids:
        return {}
    marks = ",".join("?" * len(chunk_ids))
    rows = db.execute(
        f"""
        SELECT c.id, fi.path, fo.path, c.heading, c.line_start, c.line_end, c.text
        FROM chunks c JOIN files fi ON fi.id = c.file_id JOIN folders fo ON fo.id = fi.folder_id
        WHERE c.id IN ({marks})
        """,
        list(chunk_ids),
    ).fetchall()
    return {r[0]: ChunkInfo(*r) for r in rows}


# bm25 ranking costs about a microsecond per matching chunk: a query whose words are in most of a
# large index (two common words, a frequent Chinese pair) would spend 100 ms ranking. Of a phrase
# in more chunks than this, only the newest this many are ranked (finding where they begin is
# cheap: no ranking).
RANK_AT_MOST = 3000
_PHRASE = re.compile(r'"[^"]*"')


def keyword_matches(db: sqlite3.Connection, match: str, limit: int) -> list[int]:
    """Chunk ids matching the FTS5 expression ``match`` (phrases joined by OR), best bm25 first.

    A phrase in more than :data:`RANK_AT_MOST` chunks takes part with its newest that many: words
    in so many chunks tell notes apart little, and the meaning part of a search still covers every
    chunk. Every match of a rarer phrase is ranked, however old.
    """
    at_most = max(RANK_AT_MOST, limit)
    phrases = _PHRASE.findall(match) or [match]
    floors: list[int] = []
    rare: list[str] = []
    for phrase in phrases:
        row = db.execute(
            "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            (phrase, at_most - 1)).fetchone()
        if row is None:
            rare.append(phrase)
        else:
            floors.append(int(row[0]))
    if not floors:  # no phrase is that common: rank every match
        return [cid for cid, _ in _ranked(db, match, limit, "")]
    # At most RANK_AT_MOST matches of each common phrase lie above the highest of their floors.
    ranked = _ranked(db, match, limit, f"AND rowid >= {max(floors)}")
    if rare:
        # The best chunks of the rare phrases anywhere, scored against the whole query.
        older = [cid for cid, _ in _ranked(db, " OR ".join(rare), limit, "")]
        for cid in older:
            ranked.extend(_ranked(db, match, 1, f"AND rowid = {cid}"))
    best: dict[int, float] = {}
    for cid, rank in ranked:
        best.setdefault(cid, rank)
    return [cid for cid, _ in sorted(best.items(), key=lambda x: x[1])[:limit]]


def _ranked(db: sqlite3.Connection, match: str, limit: int, where: str) -> list[tuple[int, float]]:
    rows = db.execute(
        f"SELECT rowid, rank FROM chunks_fts WHERE chunks_fts MATCH ? {where} ORDER BY rank LIMIT ?",
        (match, limit)).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]
