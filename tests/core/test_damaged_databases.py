"""Damaged databases: the history and the notes index are set aside (never deleted), replaced by
working ones, and the user is told — in the core, the command line and the window."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.cli import run_cli
from desktop.core.history import HistoryStore
from desktop.core.paths import history_db, notes_db
from desktop.core.recovery import DataFile
from tests.support.dashscope_server import DashScopeServer

GARBAGE = b"this is not a database at all \x00\xff" * 200


def damage_pages(path: Path, keep: int = 1) -> None:
    """Overwrite every page after the first ``keep`` with garbage, leaving the header readable."""
    with sqlite3.connect(path) as conn:
        page = int(conn.execute("PRAGMA page_size").fetchone()[0])
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = path.stat().st_size
    with path.open("r+b") as out:
        out.seek(page * keep)
        out.write((b"\xde\xad\xbe\xef" * (page // 4)) * ((size - page * keep) // page))


def fill_history(path: Path, conversations: int = 30) -> None:
    store = HistoryStore(path)
    for i in range(conversations):
        conversation = store.create_conversation(f"conversation {i}")
        for j in range(10):
            store.add_message(conversation.id, "user", f"question {j} " + "words " * 200)
    store.close()


@pytest.mark.parametrize("damage", ["header", "pages"])
def test_a_damaged_history_is_set_aside_and_a_new_one_started(data_dir: Path, damage: str) -> None:
    path = history_db()
    if damage == "header":
        path.write_bytes(GARBAGE)
    else:
        fill_history(path)
        damage_pages(path)
    damaged_bytes = path.read_bytes()
    store, recovery = HistoryStore.open(path)
    try:
        assert recovery is not None and recovery.file is DataFile.HISTORY and recovery.kept_at is not None
        assert recovery.kept_at.read_bytes() == damaged_bytes  # kept exactly as it was
        conversation = store.create_conversation("after")
        store.add_message(conversation.id, "user", "still saved")
        assert [m.content for m in store.messages(conversation.id)] == ["still saved"]
    finally:
        store.close()
    again, second = HistoryStore.open(path)  # the new file is sound: nothing to recover next time
    again.close()
    assert second is None


def test_chat_on_the_command_line_keeps_the_question_despite_a_damaged_history(
    service_env: DashScopeServer, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_history(history_db())
    damage_pages(history_db())
    assert run_cli(["chat", "Is my question kept?"]) == 0
    captured = capsys.readouterr()
    assert "conversation history was damaged" in captured.err and "Traceback" not in captured.err
    store, recovery = HistoryStore.open(history_db())
    try:
        assert recovery is None
        latest = store.latest_conversation()
        assert latest is not None
        assert [m.content for m in store.messages(latest.id)][0] == "Is my question kept?"
    finally:
        store.close()


def write_notes(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(40):
        (folder / f"n{i}.md").write_text(f"# Note {i}\n\nThe quokka count of site {i}. " + "filler " * 300,
                                         encoding="utf-8")


@pytest.mark.parametrize("damage", ["header", "pages"])
def test_a_damaged_notes_index_is_reported_then_rebuilt_on_the_command_line(
    service_env: DashScopeServer, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    damage: str,
) -> None:
    notes = tmp_path / "notes"
    write_notes(notes)
    assert run_cli(["notes", "add", str(notes)]) == 0
    if damage == "header":
        notes_db().write_bytes(GARBAGE)
    else:
        assert run_cli(["notes", "index", "--now"]) == 0
        damage_pages(notes_db())
    damaged_bytes = notes_db().read_bytes()
    capsys.readouterr()
    assert run_cli(["notes", "index", "--now"]) == 1
    err = capsys.readouterr().err
    assert "notes index is damaged" in err and "--rebuild" in err and "Traceback" not in err
    assert notes_db().read_bytes() == damaged_bytes  # not touched without being asked

    assert run_cli(["notes", "index", "--now", "--rebuild"]) == 0
    err = capsys.readouterr().err
    kept = [p for p in data_dir.glob(notes_db().name + ".broken-*") if not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and kept[0].read_bytes() == damaged_bytes and str(kept[0]) in err
    assert run_cli(["notes", "search", "quokka site 7", "-k", "1"]) == 0
    assert "n7.md" in capsys.readouterr().out
