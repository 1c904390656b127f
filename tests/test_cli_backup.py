"""``qwen-desktop backup create|list|restore`` (in-process, real files)."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from desktop.cli import run_cli
from desktop.core import paths
from tests.support.backups import fill_data, folder_state, table_rows
from tests.support.dashscope_server import TEST_KEY, DashScopeServer
from tests.support.notes import write_notes

KEY = "sk-FAKE-cli-backup-key-not-real"


def test_create_list_and_restore(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHSCOPE_API_KEY", KEY)
    assert run_cli(["backup", "list"]) == 0
    assert capsys.readouterr().out.startswith("No backups yet in ")
    fill_data(conversations=4)
    rows = table_rows(paths.history_db())

    assert run_cli(["backup", "create"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Backed up 4 conversations (24 messages) to ") and "backups" in out
    assert run_cli(["backup", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["kind"], r["conversations"], r["messages"], r["with_index"]) for r in listed] == [
        ("manual", 4, 24, False)]
    backup = Path(listed[0]["file"])
    assert listed[0]["size"] == backup.stat().st_size

    exported = tmp_path / "move to new pc.zip"
    assert run_cli(["backup", "create", "-o", str(exported)]) == 0
    assert f"to {exported}" in capsys.readouterr().out
    with zipfile.ZipFile(exported) as zf:
        assert all(KEY.encode() not in zf.read(n) for n in zf.namelist())

    shutil.rmtree(data_dir)  # the new computer
    paths.data_dir()
    before = folder_state(data_dir)
    assert run_cli(["backup", "restore", str(exported)]) == 2  # without --yes: only what would change
    out = capsys.readouterr().out
    assert "holds 4 conversations (24 messages)" in out and "your conversations: 0 now" in out
    assert "Run again with --yes" in out
    assert folder_state(data_dir) == before

    assert run_cli(["backup", "restore", str(exported), "--yes"]) == 0
    assert "Restored 4 conversations." in capsys.readouterr().out
    assert table_rows(paths.history_db()) == rows
    assert json.loads(paths.settings_file().read_text("utf-8"))["model"] == "qwen-max"
    assert run_cli(["history", "list", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 4


def test_refused_files_say_why_and_exit_1(data_dir: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    fill_data(conversations=1)
    assert run_cli(["backup", "create", "-o", str(tmp_path / "b.zip")]) == 0
    before = folder_state(data_dir)
    text = tmp_path / "minutes.txt"
    text.write_text("not a backup", "utf-8")
    for args in (["backup", "restore", str(text)], ["backup", "restore", str(text), "--yes"]):
        assert run_cli(args) == 1
        assert capsys.readouterr().err == (
            "qwen-desktop: This file is not a Qwen Desktop backup. Nothing was changed.\n")
    raw = (tmp_path / "b.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(raw[:-200])
    assert run_cli(["backup", "restore", str(tmp_path / "cut.zip"), "--yes"]) == 1
    assert "incomplete" in capsys.readouterr().err
    assert folder_state(data_dir) == before


def test_with_index_includes_the_notes_index(service_env: DashScopeServer, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes"
    write_notes(notes)
    assert run_cli(["notes", "add", str(notes)]) == 0
    assert run_cli(["notes", "index"]) == 0  # embedded by the loopback server
    capsys.readouterr()
    assert run_cli(["backup", "create", "--with-index", "-o", str(tmp_path / "all.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        assert "notes.sqlite3" in zf.namelist()
        assert all(TEST_KEY.encode() not in zf.read(n) for n in zf.namelist())
    assert run_cli(["backup", "create", "-o", str(tmp_path / "small.zip")]) == 0
    with zipfile.ZipFile(tmp_path / "small.zip") as zf:
        assert "notes.sqlite3" not in zf.namelist()
