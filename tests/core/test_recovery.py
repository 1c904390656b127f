"""A damaged settings file: set aside, recovered from the last good copy or from defaults, said in
both faces, and never a reason to drop the index of a folder the damaged file listed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop.cli import run_cli
from desktop.core import settings as settings_mod
from desktop.core.appcontext import AppContext
from desktop.core.notes.service import RunMode, RunResult
from desktop.core.paths import notes_db, settings_file
from desktop.core.settings import Settings
from tests.support.dashscope_server import DashScopeServer


def files_indexed() -> set[str]:
    with sqlite3.connect(notes_db()) as conn:
        return {row[0] for row in conn.execute("SELECT path FROM files")}


async def test_no_index_is_dropped_because_the_settings_failed_to_load(
    service_env: DashScopeServer, tmp_path: Path, data_dir: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.md").write_text("# A\n\nThe zanzibar procedure.\n", encoding="utf-8")
    (second / "b.md").write_text("# B\n\nThe kilimanjaro procedure.\n", encoding="utf-8")
    settings_mod.save(Settings(embedding_dimensions=64, notes_folders=[str(first)]))
    context = AppContext.create()
    await context.session.refresh_key()
    assert (await context.notes.index(mode=RunMode.LIVE)).result is RunResult.DONE
    await context.aclose()

    settings_file().write_text("{damaged", encoding="utf-8")
    settings_mod.last_good_file(settings_file()).unlink()  # no good copy either: defaults
    context = AppContext.create()
    try:
        await context.session.refresh_key()
        recovery = context.settings_recovery
        assert recovery is not None and recovery.restored_from is None and context.notes.folders == []
        context.session.settings = context.session.settings.replace(embedding_dimensions=64)
        context.notes.add_folder(second)
        assert (await context.notes.index(mode=RunMode.LIVE)).result is RunResult.DONE
        # The folder the damaged file listed keeps its index: adding it back costs nothing.
        assert files_indexed() == {str(first / "a.md"), str(second / "b.md")}
        hits = (await context.notes.search("zanzibar", keyword_only=True)).hits
        assert [h.path for h in hits] == [str(first / "a.md")]
    finally:
        await context.aclose()
    # The recovered settings were written back: the next start finds a good file.
    assert settings_mod.load_with_recovery()[1] is None
    assert settings_mod.load().notes_folders == [str(second)]


def test_the_command_line_says_the_settings_were_recovered(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_mod.save(Settings(model="qwen-max"))
    settings_file().write_text("[1, 2]", encoding="utf-8")
    assert run_cli(["notes", "list"]) == 0
    err = capsys.readouterr().err
    assert "settings file was damaged; using the settings last saved" in err
    kept = list(data_dir.glob("settings.json.broken-*"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "[1, 2]" and str(kept[0]) in err
    assert settings_mod.load().model == "qwen-max"
