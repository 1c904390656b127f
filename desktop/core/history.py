"""Conversations and their messages, kept in SQLite in the data directory.

Writes are small (one row per message, a streaming reply's text updated every few seconds), so
a crash mid-stream loses at most the last few seconds of the unfinished reply. WAL mode keeps
reads from blocking writes.

Schema versions (``PRAGMA user_version``): 1 the first; 2 adds the sources of answers from notes
and what was left out of a request to fit the model's context; 3 keeps the usage of removed
replies; 4 the usage of other models asked for a reply (rerankers).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from desktop.core.ask import Source
from desktop.core.client import Usage
from desktop.core.recovery import DataFile, Recovery, is_corruption, set_aside
from desktop.core.errors import ErrorKind, QwenError
from desktop.core.websearch import WebSource


log = logging.getLogger(__name__)

class Status(StrEnum):
    OK = "ok"
    STREAMING = "streaming"  # only while a reply is arriving; found on start = the app crashed
    STOPPED = "stopped"  # the user pressed Stop; partial text kept
    CUT_OFF = "cut_off"  # the connection dropped or the service failed mid-reply; partial text kept
    ERROR = "error"  # the request failed; the assistant row holds the error
    LENGTH = "length"  # the model hit its output limit
    NO_NOTES = "no_notes"  # a notes question with nothing relevant found: Qwen was not asked


@dataclass(slots=True)
class Message:
    id: int
    conversation_id: int
    role: str  # "user" or "assistant"
    content: str
    reasoning: str = ""
    status: Status = Status.OK
    model: str = ""
    usage: Usage | None = None
    error_kind: str = ""
    error_detail: str = ""
    request_id: str = ""
    created: float = field(default_factory=time.time)
    thinking_seconds: float | None = None
    sources: list[Source] | None = None  # None: not an answer from notes
    omitted_messages: int = 0  # earliest messages left out of the request to fit the context
    omitted_sources: int = 0  # relevant note excerpts that did not fit
    input_limit: int | None = None  # the limit the service named when the request was too long
    edited: float | None = None  # when a question was last changed by Edit and resend
    web_sources: list[WebSource] | None = None  # None: the answer did not search the web


@dataclass(frozen=True, slots=True)
class Conversation:
    id: int
    title: str
    created: float
    updated: float
    message_count: int = 0


_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    reasoning TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'ok',
    model TEXT NOT NULL DEFAULT '',
    usage TEXT,
    error_kind TEXT NOT NULL DEFAULT '',
    error_detail TEXT NOT NULL DEFAULT '',
    request_id TEXT NOT NULL DEFAULT '',
    thinking_seconds REAL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, id);
"""
# Each step takes the database from version (index + 1) to (index + 2).
_MIGRATIONS: tuple[str, ...] = (
    """
    ALTER TABLE messages ADD COLUMN sources TEXT;
    ALTER TABLE messages ADD COLUMN omitted_messages INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN omitted_sources INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE messages ADD COLUMN input_limit INTEGER;
    CREATE INDEX IF NOT EXISTS messages_by_created ON messages(created);
    """,
    # Money spent stays spent: a reply removed by Regenerate, Edit and resend or a deleted
    # conversation keeps counting in the month's total.
    """
    CREATE TABLE IF NOT EXISTS removed_usage (model TEXT NOT NULL, usage TEXT NOT NULL, created REAL NOT NULL);
    CREATE TRIGGER IF NOT EXISTS keep_usage_of_removed_replies BEFORE DELETE ON messages
        WHEN old.usage IS NOT NULL
        BEGIN INSERT INTO removed_usage(model, usage, created) VALUES (old.model, old.usage, old.created); END;
    """,
    "ALTER TABLE messages ADD COLUMN edited REAL; ALTER TABLE messages ADD COLUMN web_sources TEXT;",
    # What other models cost on the way to a reply (reranking the notes found for a question).
    # No foreign key: the money stays spent when the conversation goes.
    """
    CREATE TABLE IF NOT EXISTS service_usage (conversation_id INTEGER NOT NULL, model TEXT NOT NULL,
        usage TEXT NOT NULL, created REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS service_usage_by_conversation ON service_usage(conversation_id);
    """,
)
SCHEMA_VERSION = 1 + len(_MIGRATIONS)


def _statements(script: str) -> Iterator[str]:
    """The statements of ``script`` one by one (a trigger's body keeps its own semicolons)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n\t;"):
                yield pending.strip()
            pending = ""


class HistoryStore:
    """One SQLite connection, used from the thread that created it (the UI / CLI loop thread)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._first_locked(lambda: self._db.execute("PRAGMA journal_mode=WAL"))
        self._first_locked(self._migrate)
        self._recover_interrupted()

    @staticmethod
    def _first_locked(step: Callable[[], object], patience: float = 30.0) -> None:
        """Run ``step``, again while another process holds the file in a way SQLite reports at once
        rather than waiting for (switching a new file to WAL while another migrates it)."""
        deadline = time.monotonic() + patience
        while True:
            try:
                step()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @classmethod
    def open(cls, path: Path) -> tuple[HistoryStore, Recovery | None]:
        """Open the history, or — when the file is damaged (not a database, or pages that fail
        SQLite's check) — set it aside and start a new, empty one, saying so."""
        try:
            store = cls(path)
        except sqlite3.DatabaseError as exc:
            if not is_corruption(exc):
                raise  # locked, read-only, not openable: not damage, nothing to set aside
            reason = str(exc)
        else:
            try:
                problem = store.check()
            except sqlite3.DatabaseError as exc:
                if not is_corruption(exc):
                    store.close()
                    raise
                problem = str(exc)
            if problem is None:
                return store, None
            store.close()
            reason = problem
        log.error("the history database %s is damaged: %s", path, reason)
        kept_at = set_aside(path)
        return cls(path), Recovery(DataFile.HISTORY, kept_at, None, reason)

    def check(self) -> str | None:
        """SQLite's own check of every page (fast for a history: text of a few MB); None when it
        is sound, else what is wrong."""
        rows = [row[0] for row in self._db.execute("PRAGMA quick_check").fetchall()]
        return None if rows == ["ok"] else "; ".join(str(r) for r in rows[:3])

    def _migrate(self) -> None:
        """Bring the schema up to date in one transaction that holds the write lock, so that several
        processes opening a new or older file at once migrate it once (the others wait, then see
        the new version)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise QwenError(ErrorKind.NEWER_DATA, f"{version=} of the history database is newer than this app")
            scripts = ([_SCHEMA] if version == 0 else []) + list(_MIGRATIONS[max(version, 1) - 1:])
            for script in scripts:
                for statement in _statements(script):
                    self._db.execute(statement)
            if version != SCHEMA_VERSION:
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _recover_interrupted(self) -> None:
        """Replies left 'streaming' by a crash keep their text and are marked cut off."""
        self._db.execute("UPDATE messages SET status=? WHERE status=?",
                         (Status.CUT_OFF.value, Status.STREAMING.value))

    # -- conversations ---------------------------------------------------------------------

    def create_conversation(self, title: str = "") -> Conversation:
        now = time.time()
        cur = self._db.execute(
            "INSERT INTO conversations(title, created, updated) VALUES (?, ?, ?)", (title, now, now))
        return Conversation(int(cur.lastrowid or 0), title, now, now)

    def conversations(self) -> list[Conversation]:
        rows = self._db.execute(
            "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id=c.id) AS n "
            "FROM conversations c ORDER BY updated DESC, id DESC").fetchall()
        return [Conversation(r["id"], r["title"], r["created"], r["updated"], r["n"]) for r in rows]

    def conversation(self, conversation_id: int) -> Conversation | None:
        r = self._db.execute("SELECT * FROM conversations WHERE id=?", (conversation_id,)).fetchone()
        return Conversation(r["id"], r["title"], r["created"], r["updated"]) if r else None

    def search_conversations(self, query: str) -> list[Conversation]:
        """Conversations whose title or any message contains ``query`` (case-insensitive for
        Latin letters), most recent first."""
        words = query.split()
        if not words:
            return self.conversations()
        clauses, params = [], []
        for word in words:  # every word, in the title or in some message
            pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            clauses.append("(c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m "
                           "WHERE m.conversation_id=c.id AND m.content LIKE ? ESCAPE '\\'))")
            params += [pattern, pattern]
        rows = self._db.execute(
            "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id=c.id) AS n "
            f"FROM conversations c WHERE {' AND '.join(clauses)} ORDER BY updated DESC, id DESC",
            params).fetchall()
        return [Conversation(r["id"], r["title"], r["created"], r["updated"], r["n"]) for r in rows]

    def latest_conversation(self) -> Conversation | None:
        conversations = self.conversations()
        return conversations[0] if conversations else None

    def rename(self, conversation_id: int, title: str) -> None:
        self._db.execute("UPDATE conversations SET title=? WHERE id=?", (title.strip(), conversation_id))

    def delete_conversation(self, conversation_id: int) -> None:
        self._db.execute("DELETE FROM conversations WHERE id=?", (conversation_id,))

    def _touch(self, conversation_id: int) -> None:
        self._db.execute("UPDATE conversations SET updated=? WHERE id=?", (time.time(), conversation_id))

    # -- messages --------------------------------------------------------------------------

    def add_message(
        self, conversation_id: int, role: str, content: str, *, status: Status = Status.OK,
        model: str = "",
    ) -> Message:
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO messages(conversation_id, role, content, status, model, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, role, content, status.value, model, now))
            self._touch(conversation_id)
        return Message(int(cur.lastrowid or 0), conversation_id, role, content, status=status,
                       model=model, created=now)

    def update_message(self, message: Message) -> None:
        self._db.execute(f"UPDATE messages SET {'=?, '.join(_FIELDS)}=? WHERE id=?",
                         (*_fields(message), message.id))

    def renew_reply(self, message_id: int, model: str) -> Message:
        """Empty a reply to be written again where it stands (the same id keeps its place among
        the later turns); what the old reply cost stays counted in the month's total."""
        with self._tx() as db:
            row = db.execute("SELECT conversation_id, role FROM messages WHERE id=?", (message_id,)).fetchone()
            if row is None or row["role"] != "assistant":
                raise ValueError(f"message {message_id} is not a stored reply")
            now = time.time()
            db.execute("DELETE FROM messages WHERE id=?", (message_id,))  # the trigger keeps its usage
            db.execute("INSERT INTO messages(id, conversation_id, role, content, status, model, created) "
                       "VALUES (?, ?, 'assistant', '', ?, ?, ?)",
                       (message_id, row["conversation_id"], Status.STREAMING.value, model, now))
            self._touch(row["conversation_id"])
        return Message(message_id, row["conversation_id"], "assistant", "", status=Status.STREAMING,
                       model=model, created=now)

    def restore_after(self, conversation_id: int, message_id: int, messages: Sequence[Message]) -> None:
        """Put ``messages`` back after ``message_id`` (in their order, with their times, tokens and
        sources), in place of whatever follows it now: the way back from Edit and resend. Their
        tokens were kept counted when they were removed; they now count through them again."""
        with self._tx() as db:
            db.execute("DELETE FROM messages WHERE conversation_id=? AND id>?", (conversation_id, message_id))
            for m in messages:
                if m.usage is not None:
                    db.execute("DELETE FROM removed_usage WHERE rowid=(SELECT rowid FROM removed_usage "
                               "WHERE model=? AND created=? LIMIT 1)", (m.model, m.created))
                db.execute(f"INSERT INTO messages(conversation_id, role, created, {', '.join(_FIELDS)}) "
                           f"VALUES (?, ?, ?{', ?' * len(_FIELDS)})",
                           (conversation_id, m.role, m.created, *_fields(m)))
            self._touch(conversation_id)

    def set_content(self, message_id: int, content: str, *, edited: float | None = None) -> None:
        """Change a message's text; ``edited``: when the user changed it (None: never, as on Undo)."""
        self._db.execute("UPDATE messages SET content=?, edited=? WHERE id=?", (content, edited, message_id))

    def delete_message(self, message_id: int) -> None:
        self._db.execute("DELETE FROM messages WHERE id=?", (message_id,))

    def delete_messages_after(self, conversation_id: int, message_id: int) -> int:
        """Remove every message of the conversation that came after ``message_id``."""
        with self._tx() as db:
            cur = db.execute("DELETE FROM messages WHERE conversation_id=? AND id>?",
                             (conversation_id, message_id))
            self._touch(conversation_id)
        return cur.rowcount

    def add_service_usage(self, conversation_id: int, model: str, tokens: int) -> None:
        """Count ``tokens`` of another model (a reranker) in the conversation's and month's cost."""
        usage = json.dumps({"prompt_tokens": tokens, "completion_tokens": 0})
        with self._tx() as db:
            db.execute("INSERT INTO service_usage(conversation_id, model, usage, created) VALUES (?, ?, ?, ?)",
                       (conversation_id, model, usage, time.time()))

    def service_usage(self, conversation_id: int) -> list[tuple[str, Usage]]:
        rows = self._db.execute("SELECT model, usage FROM service_usage WHERE conversation_id=?",
                                (conversation_id,)).fetchall()
        return [(r["model"], u) for r in rows if (u := _usage(r["usage"])) is not None]

    def usage_between(self, start: float, end: float | None = None) -> list[tuple[str, Usage]]:
        """(model, usage) of every reply created in [start, end), removed ones included, and of
        the other models asked on the way (rerankers)."""
        rows = self._db.execute(
            "SELECT model, usage FROM messages WHERE usage IS NOT NULL AND created>=? AND created<? "
            "UNION ALL SELECT model, usage FROM removed_usage WHERE created>=? AND created<? "
            "UNION ALL SELECT model, usage FROM service_usage WHERE created>=? AND created<?",
            (start, end if end is not None else float("inf")) * 3).fetchall()
        return [(r["model"], u) for r in rows if (u := _usage(r["usage"])) is not None]

    def messages(self, conversation_id: int) -> list[Message]:
        rows = self._db.execute(
            "SELECT * FROM messages WHERE conversation_id=? ORDER BY id", (conversation_id,)).fetchall()
        return [_message(r) for r in rows]

    def message(self, message_id: int) -> Message | None:
        r = self._db.execute("SELECT * FROM messages WHERE id=?", (message_id,)).fetchone()
        return _message(r) if r else None


_FIELDS = ("content", "reasoning", "status", "model", "usage", "error_kind", "error_detail", "request_id",
           "thinking_seconds", "sources", "omitted_messages", "omitted_sources", "input_limit", "edited",
           "web_sources")


def _fields(message: Message) -> tuple[object, ...]:
    """The values of :data:`_FIELDS` for ``message``, as stored."""
    usage = None
    if message.usage is not None:
        u = message.usage
        usage = json.dumps({"prompt_tokens": u.prompt_tokens, "completion_tokens": u.completion_tokens,
                            "reasoning_tokens": u.reasoning_tokens, "cached_tokens": u.cached_tokens,
                            "searches": u.searches})
    sources = (None if message.sources is None
               else json.dumps([s.to_json() for s in message.sources], ensure_ascii=False))
    web = (None if message.web_sources is None
           else json.dumps([s.to_json() for s in message.web_sources], ensure_ascii=False))
    return (message.content, message.reasoning, message.status.value, message.model, usage,
            message.error_kind, message.error_detail, message.request_id, message.thinking_seconds,
            sources, message.omitted_messages, message.omitted_sources, message.input_limit, message.edited,
            web)


def _usage(raw: str | None) -> Usage | None:
    if not raw:
        return None
    try:
        u = json.loads(raw)
        return Usage(int(u.get("prompt_tokens", 0)), int(u.get("completion_tokens", 0)),
                     int(u.get("reasoning_tokens", 0)), int(u.get("cached_tokens", 0)), int(u.get("searches", 0)))
    except (ValueError, TypeError, AttributeError):
        return None


def _sources(raw: str | None) -> list[Source] | None:
    if raw is None:
        return None
    try:
        return [Source.from_json(s) for s in json.loads(raw)]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def _web_sources(raw: str | None) -> list[WebSource] | None:
    if raw is None:
        return None
    try:
        return [WebSource.from_json(s) for s in json.loads(raw)]
    except (ValueError, TypeError, KeyError, AttributeError):
        return []


def _status(raw: str) -> Status:
    try:
        return Status(raw)
    except ValueError:  # written by a newer version
        return Status.OK


def _message(r: sqlite3.Row) -> Message:
    return Message(
        id=r["id"], conversation_id=r["conversation_id"], role=r["role"], content=r["content"],
        reasoning=r["reasoning"], status=_status(r["status"]), model=r["model"], usage=_usage(r["usage"]),
        error_kind=r["error_kind"], error_detail=r["error_detail"], request_id=r["request_id"],
        created=r["created"], thinking_seconds=r["thinking_seconds"], sources=_sources(r["sources"]),
        omitted_messages=r["omitted_messages"], omitted_sources=r["omitted_sources"],
        input_limit=r["input_limit"], edited=r["edited"], web_sources=_web_sources(r["web_sources"]),
    )
