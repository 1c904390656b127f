"""Several processes opening a new or an older history at once migrate it once, without errors
(the command line's runs start together; so do a window and a CLI command)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from desktop.core.history import SCHEMA_VERSION, HistoryStore

VERSION_1 = """
    CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL, updated REAL NOT NULL);
    CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL
        REFERENCES conversations(id) ON DELETE CASCADE, role TEXT NOT NULL,
        content TEXT NOT NULL DEFAULT '', reasoning TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'ok', model TEXT NOT NULL DEFAULT '', usage TEXT,
        error_kind TEXT NOT NULL DEFAULT '', error_detail TEXT NOT NULL DEFAULT '',
        request_id TEXT NOT NULL DEFAULT '', thinking_seconds REAL, created REAL NOT NULL);
    INSERT INTO conversations VALUES (1, 'old one', 1, 1);
    INSERT INTO messages(conversation_id, role, content, created) VALUES (1, 'user', 'hi', 1);
    PRAGMA user_version=1;
"""


@pytest.mark.parametrize("start", ["new", "version 1"])
def test_many_openers_at_once_migrate_once(tmp_path: Path, start: str) -> None:
    path = tmp_path / "history.sqlite3"
    if start == "version 1":
        with sqlite3.connect(path) as db:
            db.executescript(VERSION_1)
    errors: list[BaseException] = []
    gate = threading.Barrier(4)

    def open_it() -> None:
        try:
            gate.wait()
            HistoryStore(path).close()
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    store = HistoryStore(path)
    try:
        assert store._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        columns = [row[1] for row in store._db.execute("PRAGMA table_info(messages)")]
        assert columns.count("edited") == 1 and columns.count("sources") == 1
        if start == "version 1":
            (message,) = store.messages(1)
            assert message.content == "hi" and message.edited is None
    finally:
        store.close()
