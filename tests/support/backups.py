"""Data to back up, for the backup tests: a varied history, settings, prices and limits."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from desktop.core import paths
from desktop.core.ask import Source
from desktop.core.client import Usage
from desktop.core.history import HistoryStore, Status
from desktop.core.jsonfile import write_json


def fill_data(conversations: int = 5, messages: int = 6) -> None:
    """Conversations in the data folder's history, with every kind of field set; settings,
    prices and model limits beside it."""
    store = HistoryStore(paths.history_db())
    try:
        for c in range(conversations):
            conversation = store.create_conversation(f"会议纪要 {c} — notes")
            for m in range(messages // 2):
                store.add_message(conversation.id, "user", f"问题 {m}: what about 第{m}节?\n```py\nx = {m}\n```")
                reply = store.add_message(conversation.id, "assistant", "", model="qwen-plus")
                reply.content = f"回答 {m} **bold** 🙂 " * 20
                reply.reasoning = "思考…" * 5
                reply.usage = Usage(100 + m, 50 + m, 7, 3)
                reply.status = Status.STOPPED if m == 1 else Status.OK
                reply.thinking_seconds = 1.5
                reply.sources = [Source(1, "/notes/a.md", "A", 3, 9, "摘录")] if m == 2 else None
                reply.request_id = f"req-{c}-{m}"
                store.update_message(reply)
    finally:
        store.close()
    settings = json.loads(paths.settings_file().read_text("utf-8")) if paths.settings_file().exists() else {}
    settings.update({"model": "qwen-max", "system_prompt": "只用中文回答。", "temperature": 1.3,
                     "notes_folders": ["/home/me/notes"], "embedding_dimensions": 512, "language": "zh_CN"})
    write_json(paths.settings_file(), settings)
    write_json(paths.data_dir() / "prices.json", {"currency": "CNY", "models": {"qwen-max": {"input": 2.0, "output": 8.0}}})
    write_json(paths.data_dir() / "model_limits.json", {"models": {"qwen-max": {"input_limit": 30000, "token_ratio": 1.1, "observed": True}}})


def table_rows(db_path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, as stored."""
    db = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {t: db.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
    finally:
        db.close()


def folder_state(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` (logs left out)."""
    state = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "logs" not in path.relative_to(folder).parts:
            state[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def as_older_history(db_path: Path, version: int) -> None:
    """Make the history at ``db_path`` what schema ``version`` had: undo, newest first, what each
    later migration added (its columns, tables, triggers and indexes), then set the version."""
    from desktop.core.history import _MIGRATIONS, _statements

    undo: list[str] = []
    for script in _MIGRATIONS[version - 1:]:
        for statement in _statements(script):
            words = statement.replace("\n", " ").split()
            upper = [w.upper() for w in words]
            if upper[:2] == ["ALTER", "TABLE"] and upper[3:5] == ["ADD", "COLUMN"]:
                undo.append(f"ALTER TABLE {words[2]} DROP COLUMN {words[5].rstrip(';')}")
            elif upper[0] == "CREATE" and upper[1] in ("TABLE", "TRIGGER", "INDEX"):
                name = words[5] if upper[2:5] == ["IF", "NOT", "EXISTS"] else words[2]
                undo.append(f"DROP {upper[1]} IF EXISTS {name.split('(')[0]}")
    db = sqlite3.connect(db_path)
    try:
        for statement in reversed(undo):
            db.execute(statement)
        db.execute(f"PRAGMA user_version={version}")
        db.commit()
    finally:
        db.close()
