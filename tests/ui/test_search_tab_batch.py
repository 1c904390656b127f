"""Batch mode in the Search tab (pytest-qt on a qasync loop, the loopback server): the Now / Batch
choice with costs, the list of pending jobs, cancel, and jobs of an earlier session imported at
start-up."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from desktop.core.client import ConnectionConfig, QwenClient
from desktop.core.notes.batch import BatchConfig, BatchIndexer, PollSchedule
from desktop.core.notes.index import IndexConfig, Indexer
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

FAST_POLL = BatchConfig(poll=PollSchedule(first=0.02, running_min=0.02, maximum=0.05, scale=1.0))


def make_notes(root: Path, count: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (root / f"note{i:03d}.md").write_text(f"# Note {i}\n\nSubject {i}, topic {i % 7}.\n", encoding="utf-8")
    (root / "codes.md").write_text("# Errors\n\nE-4012 means the approval failed.\n", encoding="utf-8")


def make_session(notes: Path, srv: DashScopeServer, **settings: Any) -> Session:
    keys = KeyStore()
    keys.use_for_session(TEST_KEY)
    values = Settings(region="custom", custom_base_url=srv.base_url, notes_folders=[str(notes)],
                      embedding_dimensions=64, **settings)
    session = Session(values, keys, SettingsStore(settings_file(), values))
    session.load_key()
    return session


def vectors_stored() -> int:
    with sqlite3.connect(notes_db()) as conn:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


def cell(tab: SearchTab, row: int, column: int) -> str:
    item = tab.jobs_table.item(row, column)
    return item.text() if item is not None else ""


def test_batch_mode_is_offered_with_costs_then_imported(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 11)
    srv.batch_advance_on_get = False

    async def scenario() -> None:
        session = make_session(notes, srv, batch_threshold_chunks=5)
        tab = SearchTab(NotesService(session, notes_db(), FAST_POLL), TaskRunner(), watch=False, search_delay_ms=10)
        qtbot.addWidget(tab)
        tab.show()
        assert not tab.jobs_box.isVisible()

        tab.index_button.click()
        await until(lambda: tab.large_run_dialog is not None and tab.large_run_dialog.isVisible())
        dialog = tab.large_run_dialog
        assert dialog is not None
        assert "12 parts" in dialog.text()
        assert dialog.batch_button.text().startswith("Batch mode (cheaper, may take from minutes to hours)")
        assert "CNY" in dialog.batch_button.text() and dialog.now_button.text().startswith("Now: about CNY")
        dialog.batch_button.click()

        await until(lambda: tab.jobs_table.rowCount() == 1 and tab.jobs_box.isVisible())
        assert "Sent 12 parts in 1 batch jobs" in tab.progress_label.text()
        assert cell(tab, 0, 0) == "Waiting in the queue" and cell(tab, 0, 1) == "12"
        assert cell(tab, 0, 2) == "0 of 2" and cell(tab, 0, 3) == "just now"
        assert srv.embedding_requests() == [] and len(srv.batches) == 1
        assert not tab.cancel_job_button.isEnabled()  # nothing selected yet

        srv.advance_jobs(3)  # the service finishes the job: the tab polls and imports it
        await until(lambda: not tab.jobs_box.isVisible())
        await until(lambda: "Batch results imported: 12 parts." in tab.progress_label.text())
        assert vectors_stored() == 12 and srv.embedding_requests() == []

        shown: list[int] = []
        tab.results_shown.connect(shown.append)
        tab.search_box.setText("approval failed")
        tab.search_now()
        await until(lambda: bool(shown))
        assert tab.current_path() == str(notes / "codes.md") and not tab.notice_label.isVisible()
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_cancel_a_job_from_the_list(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 6)
    srv.batch_advance_on_get = False

    async def scenario() -> None:
        session = make_session(notes, srv, batch_threshold_chunks=3)
        tab = SearchTab(NotesService(session, notes_db(), FAST_POLL), TaskRunner(), watch=False)
        qtbot.addWidget(tab)
        tab.show()
        tab.start_index()
        await until(lambda: tab.large_run_dialog is not None and tab.large_run_dialog.isVisible())
        assert tab.large_run_dialog is not None
        tab.large_run_dialog.batch_button.click()
        await until(lambda: tab.jobs_table.rowCount() == 1)

        tab.jobs_table.selectRow(0)
        assert tab.cancel_job_button.isEnabled()
        tab.cancel_job_button.click()
        await until(lambda: bool(srv.batches) and srv.batches[0].cancel_requested)
        await until(lambda: "being cancelled" in tab.jobs_label.text())
        await until(lambda: cell(tab, 0, 0) == "Cancelling")
        srv.advance_jobs(1)  # the service confirms
        await until(lambda: "A batch job was cancelled" in tab.progress_label.text())
        assert not tab.jobs_box.isVisible()
        assert vectors_stored() == 0 and srv.embedding_requests() == []
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_jobs_of_an_earlier_session_are_listed_and_imported_at_start(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 4)
    srv.batch_advance_on_get = False

    async def earlier_session() -> None:  # the app sent a job, then was closed
        client = QwenClient(ConnectionConfig(base_url=srv.base_url, api_key=TEST_KEY, proxy_mode="none"))
        indexer = await Indexer.open(notes_db(), IndexConfig(dimensions=64), client)
        await indexer.prepare([str(notes)])
        await BatchIndexer(indexer).submit()
        await indexer.close()
        await client.aclose()

    async def scenario() -> None:
        await earlier_session()
        session = make_session(notes, srv)
        tab = SearchTab(NotesService(session, notes_db(), FAST_POLL), TaskRunner(), watch=False)  # start-up
        qtbot.addWidget(tab)
        tab.show()
        finished: list[bool] = []
        tab.index_finished.connect(finished.append)
        await until(lambda: tab.jobs_table.rowCount() == 1 and tab.jobs_box.isVisible())
        assert cell(tab, 0, 1) == "5"
        tab.start_index()  # what the main window does at start: the job's parts are not re-sent
        await until(lambda: finished == [True])
        assert srv.embedding_requests() == []

        srv.advance_jobs(3)
        await until(lambda: not tab.jobs_box.isVisible() and vectors_stored() == 5)
        assert srv.embedding_requests() == []
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_index_built_offline_says_which_model_searches_use(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    notes = tmp_path / "notes"
    make_notes(notes, 6)

    async def scenario() -> None:
        session = make_session(notes, srv, embedding_model="text-embedding-async-v2",
                               batch_threshold_chunks=3)
        tab = SearchTab(NotesService(session, notes_db(), FAST_POLL), TaskRunner(), watch=False)
        qtbot.addWidget(tab)
        tab.show()
        tab.start_index()
        await until(lambda: tab.large_run_dialog is not None and tab.large_run_dialog.isVisible())
        assert tab.large_run_dialog is not None
        button = tab.large_run_dialog.batch_button
        assert button.text().startswith("Batch mode (may take from minutes to hours)")  # not cheaper
        button.click()
        await until(lambda: vectors_stored() == 7 and not tab.jobs_box.isVisible())
        await until(lambda: tab.index_model_label.isVisible())
        text = tab.index_model_label.text()
        assert "text-embedding-async-v2 (1536 dimensions)" in text and "text-embedding-v2" in text
        assert srv.native_tasks and srv.native_tasks[0].status == "SUCCEEDED"
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())


def test_batch_mode_not_available_asks_before_indexing_at_the_live_price(
    qtbot: Any, loop: asyncio.AbstractEventLoop, srv: DashScopeServer, tmp_path: Path
) -> None:
    from PySide6.QtWidgets import QMessageBox

    notes = tmp_path / "notes"
    make_notes(notes, 6)
    srv.batch_unsupported_models = {"text-embedding-v4"}

    async def scenario() -> None:
        session = make_session(notes, srv, batch_threshold_chunks=3)
        tab = SearchTab(NotesService(session, notes_db(), FAST_POLL), TaskRunner(), watch=False)
        qtbot.addWidget(tab)
        tab.show()
        tab.start_batch()
        await until(lambda: tab.index_panel.live_box is not None and tab.index_panel.live_box.isVisible())
        box = tab.index_panel.live_box
        assert box is not None and "twice the batch price" in box.text()
        assert srv.embedding_requests() == []  # nothing is sent before the answer
        box.done(QMessageBox.StandardButton.Yes)
        await until(lambda: not tab.is_indexing() and vectors_stored() == 7)
        assert tab.progress_label.text() == "Up to date"
        await tab.aclose()
        await tab.notes.aclose()
        await session.aclose()

    run(loop, scenario())
