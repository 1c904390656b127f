"""The Search tab with pytest-qt on a qasync loop (fixtures ``loop`` and ``srv`` from
tests/ui/conftest.py): progress, cancel and resume, results, keyword-only, watching."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.core.paths import notes_db, settings_file
from desktop.core.runtime import Session
from desktop.core.secrets import KeyStore
from desktop.core.settings import Settings
from desktop.core.settings_store import SettingsStore
from desktop.core.notes.service import NotesService
from desktop.gui.search.tab import SearchTab
from desktop.core.tasks import TaskRunner
from tests.support.dashscope_server import TEST_KEY, DashScopeServer
from tests.support.qt_async import run, until


def make_notes(root: Path, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"note{i:03d}.md").write_text(f"# Note {i}\n\nSubject {i}, topic {i % 7}.\n", encoding="utf-8")
    (root / "codes.md").write_text("# Errors\n\nE-4012 means the approval failed.\n", encoding="utf-8")
    (root / "travel.txt").write_bytes("差旅报销需要发票。\n".encode("gbk"))


def make_session(notes: Path, srv: DashScopeServer | None) -> Session:
    settings = Settings(
        region="custom", custom_base_url=srv.base_url if srv else "http://127.0.0.1:9/compatible-mode/v1",
        notes_folders=[str(notes)], embedding_dimensions=64,
    )
    keys = KeyStore()
    if srv is not None:
        keys.use_for_session(TEST_KEY)
    session = Session(settings, keys, SettingsStore(settings_file(), settings))
    session.load_key()
    return session


def folder_row(tab: SearchTab, row: int) -> str:
    return tab.folder_list.itemWidget(tab.folder_list.item(row)).text()


def vectors_stored() -> int:
    if not notes_db().exists():
        return 0
    try:
        with sqlite3.connect(notes_db()) as conn:
            return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
    except sqlite3.OperationalError:  # the index run has not created its tables yet
        return 0


def test_index_shows_progress_then_results(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 40)
    srv.embedding_latency = 0.02

    async def scenario() -> None:
        tasks = TaskRunner()
        session = make_session(notes, srv)
        tab = SearchTab(NotesService(session, notes_db()), tasks, watch=False, search_delay_ms=50)
        qtbot.addWidget(tab)
        tab.show()
        finished: list[bool] = []
        tab.index_finished.connect(finished.append)
        seen_values: list[int] = []
        tab.progress_bar.valueChanged.connect(seen_values.append)

        tab.index_button.click()
        assert tab.cancel_button.isEnabled() and not tab.index_button.isEnabled()
        assert tab.progress_bar.isVisible()
        await until(lambda: finished == [True])
        assert seen_values and max(seen_values) == 42  # counted up to every chunk
        assert not tab.progress_bar.isVisible() and not tab.cancel_button.isEnabled()
        await until(lambda: "42 files · 42 chunks" in folder_row(tab, 0))

        shown: list[int] = []
        tab.results_shown.connect(shown.append)
        qtbot.keyClicks(tab.search_box, "E-4012")  # results appear as you type (debounced)
        await until(lambda: bool(shown))
        assert tab.current_path() == str(notes / "codes.md")
        assert not tab.notice_label.isVisible()
        label = tab.result_list.itemWidget(tab.result_list.item(0))
        assert "<b>E-4012</b>" in label.text() and "codes.md" in label.text()

        tab.results.copy_button.click()
        assert QApplication.clipboard().text() == str(notes / "codes.md")
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_cancel_keeps_progress_and_index_now_resumes(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 150)
    srv.embedding_latency = 0.3  # long enough that Cancel always lands mid-run, even on a loaded machine

    async def scenario() -> None:
        tasks = TaskRunner()
        session = make_session(notes, srv)
        tab = SearchTab(NotesService(session, notes_db()), tasks, watch=False)
        qtbot.addWidget(tab)
        finished: list[bool] = []
        tab.index_finished.connect(finished.append)

        tab.index_button.click()
        await until(lambda: vectors_stored() >= 10)
        tab.cancel_button.click()
        await until(lambda: finished == [False])
        assert "Cancelled" in tab.progress_label.text()
        assert tab.index_button.isEnabled() and not tab.cancel_button.isEnabled()
        kept = vectors_stored()
        assert 0 < kept < 152
        sent_before = len(srv.embedding_requests())

        srv.embedding_latency = 0.0
        tab.index_button.click()
        await until(lambda: finished == [False, True])
        resent = sum(len(r) for r in srv.embedding_requests()[sent_before:])
        assert vectors_stored() == 152 and resent == 152 - kept  # nothing embedded twice
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_without_a_key_keyword_search_works_and_says_so(
    qtbot: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 3)

    async def scenario() -> None:
        tasks = TaskRunner()
        session = make_session(notes, None)
        tab = SearchTab(NotesService(session, notes_db()), tasks, watch=False)
        qtbot.addWidget(tab)
        tab.show()
        finished: list[bool] = []
        tab.index_finished.connect(finished.append)
        tab.index_button.click()
        await until(lambda: bool(finished))
        assert "keyword search" in tab.progress_label.text()

        shown: list[int] = []
        tab.results_shown.connect(shown.append)
        tab.search_box.setText("报销")
        tab.search_now()
        await until(lambda: bool(shown))
        assert tab.current_path() == str(notes / "travel.txt")
        assert tab.notice_label.isVisible() and "Keyword search only" in tab.notice_label.text()
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_adding_and_removing_a_folder_saves_settings(
    qtbot: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    from desktop.core import settings as settings_mod

    first, second = tmp_path / "first", tmp_path / "second"
    make_notes(first, 1)
    make_notes(second, 1)

    async def scenario() -> None:
        tasks = TaskRunner()
        session = make_session(first, None)
        tab = SearchTab(NotesService(session, notes_db()), tasks, watch=False)
        qtbot.addWidget(tab)
        changed: list[list[str]] = []
        tab.folders_changed.connect(changed.append)
        finished: list[bool] = []
        tab.index_finished.connect(finished.append)
        tab.add_folder(str(second))
        await until(lambda: bool(finished))
        assert changed == [[str(first), str(second)]] and tab.folder_list.count() == 2
        await until(lambda: settings_mod.load().notes_folders == [str(first), str(second)])
        tab.folder_list.setCurrentRow(0)
        tab.remove_button.click()
        (box,) = [b for b in tab.findChildren(QMessageBox) if b.isVisible()]  # it asks first
        next(b for b in box.buttons() if b.text() == "Remove").click()
        await until(lambda: settings_mod.load().notes_folders == [str(second)])
        assert tab.folder_list.count() == 1
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_changes_on_disk_are_indexed_without_a_click(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 2)

    async def scenario() -> None:
        tasks = TaskRunner()
        session = make_session(notes, srv)
        tab = SearchTab(NotesService(session, notes_db()), tasks, watch=True, watch_debounce=0.1)
        qtbot.addWidget(tab)
        finished: list[bool] = []
        tab.index_finished.connect(finished.append)
        tab.start_index()
        await until(lambda: finished == [True])
        sent = len(srv.embedding_requests())

        (notes / "penguins.md").write_text("# Zoo\n\nThe penguins moved to a new enclosure.\n", encoding="utf-8")
        await until(lambda: len(finished) >= 2 and all(finished))
        assert [r for request in srv.embedding_requests()[sent:] for r in request] == [
            "penguins › Zoo\nThe penguins moved to a new enclosure."]
        shown: list[int] = []
        tab.results_shown.connect(shown.append)
        tab.search_box.setText("enclosure")
        tab.search_now()
        await until(lambda: bool(shown))
        assert tab.current_path() == str(notes / "penguins.md")
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_a_result_on_one_line_says_line_not_lines(
    qtbot: Any, loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    from desktop.core.notes.keywords import Snippet
    from desktop.core.notes.search import SearchHit

    async def scenario() -> None:
        session = make_session(tmp_path, None)
        tab = SearchTab(NotesService(session, notes_db()), TaskRunner(), watch=False)
        qtbot.addWidget(tab)
        for start, end in ((7, 7), (3, 5)):
            tab.results._add_result(SearchHit(chunk_id=start, path=str(tmp_path / "a.md"), folder=str(tmp_path),
                                      heading="", line_start=start, line_end=end,
                                      snippet=Snippet("text", ()), score=0.5, vector_score=None,
                                      keyword_rank=1))
        rows = [tab.result_list.itemWidget(tab.result_list.item(i)) for i in range(tab.result_list.count())]
        texts = [row.text() for row in rows if row is not None]
        assert "line 7 ·" in texts[0] and "lines" not in texts[0]
        assert "lines 3–5 ·" in texts[1]
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())
